"""``probgen compare DATA.csv --target COL``: contenders on the same splits of any CSV.

The task follows the target column (``--task auto``): a numeric, non-boolean
target is a *regression* target when it holds a non-integer number, or when its
integer values take more than ``--max-classes`` distinct values; anything else
(text, booleans, integers with few distinct values) is a *classification*
target. ``--task`` overrides the rule: forcing classification on a target with
non-integer numbers or too many classes, or regression on a non-numeric one, is
refused. Classification uses repeated stratified splits, regression plain
repeated random splits (ShuffleSplit); every contender sees the same splits.

Features are the other columns: numbers as they are, booleans and text or
categorical columns dummy-coded by name (:func:`probgen.data.encode_table`, the
encoding every probgen fit uses). Writes ``results.csv`` (one row per contender,
split, training size and missing fraction), PNG figures, and prints a summary.
Nothing heavy is imported at module level (``probgen --help`` stays fast).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HELP = "compare classifiers or regressors on a CSV with a target column (same splits)"
DESCRIPTION = (
    "Fit every contender on the same repeated train/test splits of DATA (a CSV with a "
    "target column; stratified for classification), optionally over nested training "
    "sizes (learning curves) and with test features hidden (missing-feature curves); "
    "write results.csv and PNG figures to --out and print a summary. The task follows "
    "the target: numbers with a non-integer value or more than --max-classes distinct "
    "values are a regression target, anything else class labels (--task overrides). "
    "Classification metrics: accuracy, log loss (= -mean log predictive density of the "
    "test labels), multiclass Brier score, expected calibration error (10 equal-width "
    "bins, top-label). Regression metrics: RMSE and the coverage of central 90% "
    "predictive intervals (contenders with predictive draws). Fit and predict time "
    "for both. Not `probgen ppc`/LOO: this refits on held-out splits."
)

EXIT_OK, EXIT_USAGE = 0, 2


def _number(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    # "10" is a count of examples, "0.5" a fraction of the training set
    return int(value) if value.is_integer() and value > 1 else value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``compare`` subcommand's arguments."""
    from probgen.studies.contenders import (
        CONTENDERS,
        COUNT_CONTENDERS,
        DEFAULT_CONTENDERS,
        REGRESSION_CONTENDERS,
    )

    parser.add_argument("data", metavar="DATA", help="a CSV file with a header row")
    parser.add_argument(
        "--target", required=True, help="the column to predict (class labels or a number)"
    )
    parser.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="auto: regression for a numeric target with a non-integer value or "
        "more than --max-classes distinct values, classification otherwise",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        metavar="NAME",
        help="contenders (default: "
        + " ".join(DEFAULT_CONTENDERS["classification"])
        + " for classification, "
        + " ".join(DEFAULT_CONTENDERS["regression"])
        + " for regression). Classification: "
        + "; ".join(f"{k}: {v[1]}" for k, v in CONTENDERS.items())
        + ". Regression: "
        + "; ".join(f"{k}: {v[1]}" for k, v in REGRESSION_CONTENDERS.items())
        + f". {', '.join(sorted(COUNT_CONTENDERS))} need non-negative integer targets",
    )
    parser.add_argument(
        "--train-sizes",
        nargs="+",
        type=_number,
        default=None,
        metavar="N",
        help="training-set sizes for learning curves: counts (10) or fractions of the "
        "training set (0.5); default: the whole training set",
    )
    parser.add_argument("--splits", type=int, default=10, help="random train/test splits")
    parser.add_argument("--test-size", type=float, default=0.25, help="test share of the data")
    parser.add_argument(
        "--missing",
        nargs="+",
        type=float,
        default=None,
        metavar="F",
        help="fractions of test features to hide (e.g. 0 0.2 0.5)",
    )
    parser.add_argument(
        "--min-per-class", type=int, default=2, help="least examples per class (classification)"
    )
    parser.add_argument(
        "--max-classes",
        type=int,
        default=20,
        help="most classes of a class-label target; an integer target with more distinct "
        "values is a regression target under --task auto",
    )
    parser.add_argument("--out", default=None, help="output directory (default: compare-DATA)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the splits and contenders")
    parser.add_argument("--n-jobs", type=int, default=1, help="worker processes (joblib loky)")
    parser.add_argument("--backend", default="numpyro", help="Bayesian contenders' backend")
    parser.add_argument("--chains", type=int, default=2, help="Bayesian contenders' chains")
    parser.add_argument("--draws", type=int, default=300, help="Bayesian contenders' draws")
    parser.add_argument("--warmup", type=int, default=300, help="Bayesian contenders' warm-up")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def target_task(labels: Any, task: str, max_classes: int, name: str = "target") -> str:
    """The task of a target column: ``"classification"`` or ``"regression"``.

    Under ``task="auto"`` a numeric, non-boolean column is a regression target when
    it holds a non-integer number or more than ``max_classes`` distinct values;
    anything else is class labels. An explicit ``task`` is checked against the
    column instead.

    Raises
    ------
    DataError
        ``task="classification"`` on non-integer numbers or on more than
        ``max_classes`` classes, ``task="regression"`` on a non-numeric or boolean
        column, or a column with a single value.
    """
    import numpy as np
    import pandas as pd

    from probgen.errors import DataError

    if task not in ("auto", "classification", "regression"):
        raise DataError(f"task must be auto, classification or regression, got {task!r}")
    numeric = pd.api.types.is_numeric_dtype(labels.dtype) and not pd.api.types.is_bool_dtype(
        labels.dtype
    )
    n_distinct = labels.nunique()
    if n_distinct < 2:
        raise DataError(f"target column {name!r} has a single value; nothing to compare")
    integral = numeric and bool(np.all(np.mod(labels.to_numpy(dtype=float), 1) == 0))
    if task == "auto":
        task = (
            "regression"
            if numeric and (not integral or n_distinct > max_classes)
            else ("classification")
        )
    if task == "regression":
        if not numeric:
            raise DataError(
                f"target column {name!r} is not numeric ({labels.dtype}): --task regression "
                "needs numbers; drop --task to compare classifiers"
            )
        return task
    if numeric and not integral:
        raise DataError(
            f"target column {name!r} holds non-integer numbers: class labels must be text, "
            "booleans or integers; use --task regression (or auto) for a real target"
        )
    if n_distinct > max_classes:
        raise DataError(
            f"target column {name!r} has {n_distinct} distinct values, more than "
            f"--max-classes {max_classes}: is it really a class label? (--task auto treats "
            "such a numeric target as a regression target)"
        )
    return task


def load_table(
    path: str, target: str, max_classes: int, task: str = "auto"
) -> tuple[Any, Any, list[str], str]:
    """``(X, y, feature names, task)`` from a CSV; raises ``DataError`` / ``ValueError``.

    ``task`` is resolved by :func:`target_task`; ``y`` is float for regression,
    and for classification the labels as strings (text targets) or numbers.
    """
    import pandas as pd

    from probgen.data import encode_table, read_data_file
    from probgen.errors import DataError

    if Path(path).suffix.lower() != ".csv":
        raise DataError(f"data file {path!r} must be a .csv file with a target column")
    frame = read_data_file(path)["__table__"]
    if target not in frame.columns:
        raise DataError(
            f"target column {target!r} is not in {path!r}; its columns are {list(frame.columns)}"
        )
    labels = frame[target]
    if labels.isna().any():
        rows = [str(i) for i in frame.index[labels.isna()][:5]]
        raise DataError(f"target column {target!r} has missing values (rows {', '.join(rows)})")
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise DataError(f"{path!r} has no feature column besides the target {target!r}")
    kind = target_task(labels, task, max_classes, target)
    X, encoding = encode_table(features, what=f"{path!r}")
    numeric = pd.api.types.is_numeric_dtype(labels.dtype) and not pd.api.types.is_bool_dtype(
        labels.dtype
    )
    if kind == "regression":
        y = labels.to_numpy(dtype=float)
    else:
        y = labels.astype(str).to_numpy() if not numeric else labels.to_numpy()
    return X, y, encoding.features, kind


def _summary_regression(results: Any) -> str:
    import numpy as np

    size = int(results["train_size"].max())
    full = results[(results["train_size"] == size) & (results["missing_fraction"] == 0)]
    med = full.groupby("contender", sort=False)[["rmse", "coverage90"]].median()
    fit = full.groupby("contender", sort=False)["fit_time"].mean()
    lines = [
        f"{results['split'].nunique()} splits, n_test={int(full['n_test'].iloc[0])}; medians "
        f"at {size} training examples (cover90: share of test targets inside the central "
        "90% predictive interval, - without predictive draws):",
        f"{'contender':28s} {'RMSE':>10s} {'cover90':>8s} {'fit s':>8s}",
    ]
    for name, row in med.iterrows():
        cover = "-" if np.isnan(row["coverage90"]) else f"{row['coverage90']:.3f}"
        lines.append(f"{name:28s} {row['rmse']:10.4g} {cover:>8s} {fit[name]:8.3f}")
    sizes = sorted(results["train_size"].unique())
    if len(sizes) > 1:
        curve = (
            results[results["missing_fraction"] == 0]
            .groupby(["contender", "train_size"])["rmse"]
            .median()
            .unstack()
        )
        best = curve.idxmin(axis=0)
        lines.append(
            "lowest median RMSE by training size: "
            + ", ".join(f"{int(s)}: {best[s]}" for s in sizes if not np.isnan(curve[s]).all())
        )
    return "\n".join(lines)


def _summary(results: Any) -> str:
    import numpy as np

    size = int(results["train_size"].max())
    full = results[(results["train_size"] == size) & (results["missing_fraction"] == 0)]
    med = full.groupby("contender", sort=False)[["accuracy", "log_loss", "brier", "ece"]].median()
    fit = full.groupby("contender", sort=False)["fit_time"].mean()
    lines = [
        f"{results['split'].nunique()} splits, n_test={int(full['n_test'].iloc[0])}; medians "
        f"at {size} training examples:",
        f"{'contender':28s} {'accuracy':>9s} {'log loss':>9s} {'Brier':>7s} {'ECE':>7s} {'fit s':>8s}",
    ]
    for name, row in med.iterrows():
        lines.append(
            f"{name:28s} {row['accuracy']:9.3f} {row['log_loss']:9.3f} {row['brier']:7.3f} "
            f"{row['ece']:7.3f} {fit[name]:8.3f}"
        )
    sizes = sorted(results["train_size"].unique())
    if len(sizes) > 1:
        curve = (
            results[results["missing_fraction"] == 0]
            .groupby(["contender", "train_size"])["accuracy"]
            .median()
            .unstack()
        )
        best = curve.idxmax(axis=0)
        lines.append(
            "best median accuracy by training size: "
            + ", ".join(f"{int(s)}: {best[s]}" for s in sizes if not np.isnan(curve[s]).all())
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``probgen compare``; 0 on success, 2 on bad input."""
    import numpy as np

    from probgen.errors import ProbgenError

    for name in ("splits", "min_per_class", "max_classes", "n_jobs", "chains", "draws"):
        if getattr(args, name) < 1:
            return _usage(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 < args.test_size < 1:
        return _usage(f"--test-size must be a fraction in (0, 1), got {args.test_size}")
    try:
        from probgen.studies.contenders import (
            COUNT_CONTENDERS,
            DEFAULT_CONTENDERS,
            SamplerSettings,
            make_contenders,
        )

        X, y, _, task = load_table(args.data, args.target, args.max_classes, args.task)
        names = list(dict.fromkeys(args.models or DEFAULT_CONTENDERS[task]))
        counts = [n for n in names if n in COUNT_CONTENDERS]
        if task == "regression" and counts and not (np.all(y >= 0) and np.all(np.mod(y, 1) == 0)):
            raise ValueError(
                f"contender(s) {counts} model counts, but target column {args.target!r} is "
                "not a non-negative integer; choose other --models"
            )
        settings = SamplerSettings(
            backend=args.backend, chains=args.chains, draws=args.draws, warmup=args.warmup
        )
        contenders = make_contenders(names, settings, task)
        from probgen.studies.harness import compare_models, save_results

        results, preds = compare_models(
            contenders,
            X,
            y,
            train_sizes=args.train_sizes,
            n_splits=args.splits,
            test_size=args.test_size,
            seed=args.seed,
            min_per_class=args.min_per_class,
            missing_fractions=args.missing,
            progress=not args.no_progress,
            n_jobs=args.n_jobs,
            # explicit: an integer regression target would look "multiclass" to the
            # harness's own auto rule (scikit-learn's type_of_target)
            task=task,
            return_predictions=True,
        )
    except (ProbgenError, ValueError, TypeError, ImportError, FileNotFoundError) as exc:
        return _usage(str(exc))
    out = Path(args.out) if args.out else Path(f"compare-{Path(args.data).stem}")
    from probgen.studies import plots

    # regression has no class probabilities (no reliability diagram); coverage is
    # drawn only when some contender gave predictive draws
    if task == "classification":
        metrics: tuple[str, ...] = ("accuracy", "log_loss")
    else:
        metrics = ("rmse", "coverage90") if results["coverage90"].notna().any() else ("rmse",)
    written = [save_results(results, out / "results.csv")]
    if results["train_size"].nunique() > 1:
        plots.plot_learning_curves(results, metrics, path=out / "learning_curves.png")
        written.append(out / "learning_curves.png")
    if results["missing_fraction"].nunique() > 1:
        plots.plot_missing_features(results, metrics, path=out / "missing_features.png")
        written.append(out / "missing_features.png")
    if task == "classification":
        plots.plot_reliability(preds, path=out / "reliability.png")
        written.append(out / "reliability.png")
    print(_summary(results) if task == "classification" else _summary_regression(results))
    print("wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK
