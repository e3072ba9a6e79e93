"""Generative versus discriminative on real data: the four studies of issue 10.

    .venv/bin/python benchmarks/studies/run_studies.py learning missing augment speed

Writes ``benchmarks/studies/results/<study>_<part>.csv`` (tidy, one row per
contender, split, training size and missing fraction) and
``benchmarks/studies/figures/*.png``; prints what it ran and what it cost. The
numbers quoted in README.md come from these files (``summarize.py`` prints them).

Sampler settings of the Bayesian contenders: NumPyro, 2 chains x 300 draws after
300 warm-up, diagnostics not checked per fit (a study is hundreds of fits on 2
shared CPU cores). scikit-learn's GaussianNB / LogisticRegression carry the
many-split parts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from probgen.studies import datasets, plots
from probgen.studies.contenders import SamplerSettings, make_contenders
from probgen.studies.harness import compare_models, save_results

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
FIGURES = HERE / "figures"
SETTINGS = SamplerSettings(chains=2, draws=300, warmup=300)
BINARY = {"breast_cancer", "wells", "ovarian"}


def _sizes(ds: datasets.Dataset, n_sizes: int, test_size: float = 0.25) -> list[int]:
    """A geometric grid from 2 examples per class to the whole training set."""
    k = len(np.unique(ds.y))
    n_train = int(np.floor(len(ds.y) * (1 - test_size)))
    grid = np.geomspace(2 * k, n_train, n_sizes)
    return sorted({int(np.rint(g)) for g in grid} | {n_train})


def _log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def _save(df: pd.DataFrame, name: str) -> None:
    save_results(df, RESULTS / f"{name}.csv")


# ----------------------------------------------------------------- learning curves


def learning(args) -> None:
    """Learning curves (and calibration: reliability diagrams, ECE by training size)."""
    # part 1: scikit-learn's GaussianNB vs LogisticRegression, many splits
    for name in args.datasets or ("iris", "wine", "breast_cancer", "digits", "wells", "ovarian"):
        ds = datasets.load(name)
        start = time.perf_counter()
        res, preds = compare_models(
            make_contenders(["gaussian_nb", "logistic"]),
            ds.X,
            ds.y,
            train_sizes=_sizes(ds, args.sizes),
            n_splits=args.splits,
            seed=0,
            progress=False,
            return_predictions=True,
        )
        res["dataset"] = name
        _save(res, f"learning_sklearn_{name}")
        plots.plot_learning_curves(
            res,
            ("accuracy", "log_loss"),
            title=f"{name}: scikit-learn, {args.splits} splits",
            path=FIGURES / f"learning_sklearn_{name}.png",
        )
        plots.plot_reliability(
            preds,
            train_size=int(res["train_size"].min()) if name != "ovarian" else None,
            title=f"{name}: smallest training size",
            path=FIGURES / f"reliability_small_{name}.png",
        )
        plots.plot_reliability(
            preds,
            title=f"{name}: whole training set",
            path=FIGURES / f"reliability_full_{name}.png",
        )
        _log(f"learning sklearn {ds.describe()}: {time.perf_counter() - start:.1f} s")
    # part 2: the Bayesian contenders beside them, fewer splits and sizes
    if args.skip_bayes:
        return
    for name in args.bayes_datasets or ("iris", "wine", "breast_cancer", "wells"):
        ds = datasets.load(name)
        names = ["gaussian_nb", "logistic", "gaussian_naive_bayes"]
        if name in BINARY:
            names.append("logistic_regression")
        start = time.perf_counter()
        res, preds = compare_models(
            make_contenders(names, SETTINGS),
            ds.X,
            ds.y,
            train_sizes=_sizes(ds, args.bayes_sizes),
            n_splits=args.bayes_splits,
            seed=0,
            progress=False,
            return_predictions=True,
        )
        res["dataset"] = name
        _save(res, f"learning_bayes_{name}")
        plots.plot_learning_curves(
            res,
            ("accuracy", "log_loss", "ece"),
            title=f"{name}: with Bayesian contenders, {args.bayes_splits} splits",
            path=FIGURES / f"learning_bayes_{name}.png",
        )
        plots.plot_reliability(
            preds,
            train_size=int(res["train_size"].min()),
            title=f"{name}: smallest training size",
            path=FIGURES / f"reliability_bayes_small_{name}.png",
        )
        plots.plot_reliability(
            preds,
            title=f"{name}: whole training set",
            path=FIGURES / f"reliability_bayes_full_{name}.png",
        )
        _log(f"learning bayes {name}: {time.perf_counter() - start:.1f} s")


# ----------------------------------------------------------------- missing features


def missing(args) -> None:
    """Test features hidden: Bayesian naive Bayes marginalizes, the others impute."""
    fractions = [0.0, 0.1, 0.25, 0.5, 0.75]
    for name in args.bayes_datasets or ("iris", "wine", "breast_cancer", "wells"):
        ds = datasets.load(name)
        names = ["gaussian_naive_bayes", "gaussian_nb", "logistic", "logistic_iterative"]
        start = time.perf_counter()
        res = compare_models(
            make_contenders(names, SETTINGS),
            ds.X,
            ds.y,
            n_splits=args.bayes_splits,
            missing_fractions=fractions,
            seed=1,
            progress=False,
        )
        res["dataset"] = name
        _save(res, f"missing_{name}")
        plots.plot_missing_features(
            res,
            ("accuracy", "log_loss"),
            title=f"{name}: test features missing",
            path=FIGURES / f"missing_{name}.png",
        )
        _log(f"missing {name}: {time.perf_counter() - start:.1f} s")


# ----------------------------------------------------------------- augmentation


def augment(args) -> None:
    """Logistic regression on a small real training set, with and without rows drawn
    from a Bayesian naive Bayes fitted to the same small set."""
    from sklearn.linear_model import LogisticRegression

    from probgen.estimators import GaussianNaiveBayes
    from probgen.studies.augment import AugmentedClassifier

    gen = GaussianNaiveBayes(**SETTINGS.kwargs())
    lr = LogisticRegression(max_iter=2000)
    for name in args.bayes_datasets or ("iris", "wine", "breast_cancer", "wells"):
        ds = datasets.load(name)
        k = len(np.unique(ds.y))
        contenders = {
            "logistic (real rows)": AugmentedClassifier(gen, lr, n_synthetic=0),
            "logistic + 200 generated": AugmentedClassifier(gen, lr, n_synthetic=200),
            "logistic + 1000 generated": AugmentedClassifier(gen, lr, n_synthetic=1000),
            "gaussian_naive_bayes": make_contenders(["gaussian_naive_bayes"], SETTINGS)[
                "gaussian_naive_bayes"
            ],
        }
        start = time.perf_counter()
        res = compare_models(
            contenders,
            ds.X,
            ds.y,
            train_sizes=[2 * k, 8 * k, 32 * k],
            n_splits=args.bayes_splits,
            seed=2,
            progress=False,
        )
        res["dataset"] = name
        _save(res, f"augment_{name}")
        plots.plot_learning_curves(
            res,
            ("accuracy", "log_loss"),
            title=f"{name}: augmentation by generated rows",
            path=FIGURES / f"augment_{name}.png",
        )
        _log(f"augment {name}: {time.perf_counter() - start:.1f} s")


# ----------------------------------------------------------------- speed


def speed(args) -> None:
    """Fits per second: a plain loop that compiles every fit, the harness in one
    process (compiled programs reused per shape), and the harness on 2 processes."""
    from probgen.backends import numpyro as npb
    from probgen.estimators import GaussianNaiveBayes
    from probgen.studies.harness import stratified_splits

    ds = datasets.load("iris")
    X = (ds.X - ds.X.mean(0)) / ds.X.std(0)
    n = args.speed_fits
    splits = stratified_splits(ds.y, n_splits=n, test_size=0.25, seed=0)
    rows = []

    def plain(clear: bool) -> float:
        start = time.perf_counter()
        for s, (train, _) in enumerate(splits):
            if clear:
                npb.clear_cache()
            GaussianNaiveBayes(**SETTINGS.kwargs(), random_state=s).fit(X[train], ds.y[train])
        return time.perf_counter() - start

    for label, clear in (
        ("plain loop, compile every fit", True),
        ("plain loop, cached programs", False),
    ):
        npb.clear_cache()
        secs = plain(clear)
        rows.append({"how": label, "fits": n, "seconds": secs})
        _log(f"speed {label}: {n / secs:.2f} fits/s")
    for jobs in (1, 2):
        npb.clear_cache()
        start = time.perf_counter()
        compare_models(
            make_contenders(["gaussian_naive_bayes"], SETTINGS),
            ds.X,
            ds.y,
            n_splits=n,
            progress=False,
            n_jobs=jobs,
        )
        secs = time.perf_counter() - start
        rows.append({"how": f"compare_models, n_jobs={jobs}", "fits": n, "seconds": secs})
        _log(f"speed n_jobs={jobs}: {n / secs:.2f} fits/s")
    df = pd.DataFrame(rows)
    df["fits_per_second"] = df["fits"] / df["seconds"]
    df["machine"] = f"{os.cpu_count()} CPU cores (shared), {sys.platform}"
    _save(df, "speed")
    print(df.to_string(index=False))


STUDIES = {"learning": learning, "missing": missing, "augment": augment, "speed": speed}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="+", choices=[*STUDIES, "all"])
    parser.add_argument("--splits", type=int, default=50, help="splits of the scikit-learn parts")
    parser.add_argument("--bayes-splits", type=int, default=5, help="splits with Bayesian fits")
    parser.add_argument("--speed-fits", type=int, default=20)
    parser.add_argument("--sizes", type=int, default=9, help="learning-curve sizes (sklearn)")
    parser.add_argument("--bayes-sizes", type=int, default=5, help="sizes with Bayesian fits")
    parser.add_argument("--datasets", nargs="+", default=None, help="scikit-learn parts' data")
    parser.add_argument("--bayes-datasets", nargs="+", default=None, help="Bayesian parts' data")
    parser.add_argument("--skip-bayes", action="store_true", help="learning: scikit-learn only")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    FIGURES.mkdir(parents=True, exist_ok=True)
    names = list(STUDIES) if "all" in args.studies else args.studies
    warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
    for name in names:
        start = time.perf_counter()
        STUDIES[name](args)
        _log(f"== {name} done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
