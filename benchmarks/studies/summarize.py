"""Print the figures README.md quotes, from the CSVs run_studies.py wrote.

.venv/bin/python benchmarks/studies/summarize.py > benchmarks/studies/summary.md
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"


def md(frame: pd.DataFrame, index: bool = True) -> str:
    """A DataFrame as a Markdown table (no tabulate dependency)."""
    frame = frame.reset_index() if index else frame
    cols = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        lines.append(
            "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
        )
    return "\n".join(lines)


def crossing(res: pd.DataFrame, gen: str, disc: str, metric: str, higher_better: bool) -> str:
    """The smallest training size from which the discriminative contender's median is
    at least as good as the generative one's at every larger size."""
    med = (
        res[res["missing_fraction"] == 0]
        .groupby(["contender", "train_size"])[metric]
        .median()
        .unstack(0)
    )
    sign = 1 if higher_better else -1
    better = sign * (med[disc] - med[gen]) >= 0
    sizes = list(med.index)
    for i, size in enumerate(sizes):
        if better.iloc[i:].all():
            return "from the start" if i == 0 else f"at n={size}"
    return "never"


def table(res: pd.DataFrame, metrics: list[str], sizes: list[int] | None = None) -> str:
    frame = res[res["missing_fraction"] == 0]
    if sizes is not None:
        frame = frame[frame["train_size"].isin(sizes)]
    med = frame.groupby(["train_size", "contender"], sort=False)[metrics].median().unstack(1)
    return md(med)


def learning() -> None:
    print("## Learning curves (median over splits)\n")
    for path in sorted(RESULTS.glob("learning_sklearn_*.csv")):
        res = pd.read_csv(path)
        name = path.stem.removeprefix("learning_sklearn_")
        sizes = sorted(res["train_size"].unique())
        print(f"### {name} (scikit-learn, {res['split'].nunique()} splits)\n")
        print(
            table(
                res, ["accuracy", "log_loss", "ece"], [sizes[0], sizes[len(sizes) // 2], sizes[-1]]
            )
        )
        for metric, hb in (("accuracy", True), ("log_loss", False), ("ece", False)):
            print(
                f"\n- logistic at least as good as GaussianNB in {metric}: "
                f"{crossing(res, 'gaussian_nb', 'logistic', metric, hb)}"
            )
        print()
    for path in sorted(RESULTS.glob("learning_bayes_*.csv")):
        res = pd.read_csv(path)
        name = path.stem.removeprefix("learning_bayes_")
        print(f"### {name} (with Bayesian contenders, {res['split'].nunique()} splits)\n")
        print(table(res, ["accuracy", "log_loss", "ece"]))
        for disc in ("logistic", "logistic_regression"):
            if disc in set(res["contender"]):
                for metric, hb in (("accuracy", True), ("log_loss", False)):
                    print(
                        f"\n- {disc} at least as good as gaussian_naive_bayes in {metric}: "
                        f"{crossing(res, 'gaussian_naive_bayes', disc, metric, hb)}"
                    )
        fit = res.groupby("contender")["fit_time"].agg(["median", "sum"]).round(3)
        print("\nfit time (s): \n")
        print(md(fit))
        print()


def missing() -> None:
    print("## Missing features at test time (whole training set; median over splits)\n")
    for path in sorted(RESULTS.glob("missing_*.csv")):
        res = pd.read_csv(path)
        name = path.stem.removeprefix("missing_")
        print(f"### {name} ({res['split'].nunique()} splits)\n")
        med = res.groupby(["missing_fraction", "contender"])[["accuracy", "log_loss"]].median()
        print(md(med.unstack(1)))
        print()


def augment() -> None:
    print("## Augmentation (median over splits)\n")
    for path in sorted(RESULTS.glob("augment_*.csv")):
        res = pd.read_csv(path)
        name = path.stem.removeprefix("augment_")
        print(f"### {name} ({res['split'].nunique()} splits)\n")
        print(table(res, ["accuracy", "log_loss"]))
        # paired gain over splits, per size
        acc = res.pivot_table(index=["train_size", "split"], columns="contender", values="accuracy")
        for aug in [c for c in acc.columns if c.startswith("logistic +")]:
            d = (acc[aug] - acc["logistic (real rows)"]).groupby(level=0)
            print(
                f"\n- {aug} minus real rows only, accuracy (mean ± se over splits): "
                + "; ".join(
                    f"n={s}: {g.mean():+.3f} ± {g.std(ddof=1) / np.sqrt(len(g)):.3f}" for s, g in d
                )
            )
        print()


def speed() -> None:
    path = RESULTS / "speed.csv"
    if path.exists():
        print("## Speed\n")
        print(md(pd.read_csv(path), index=False))


if __name__ == "__main__":
    learning()
    missing()
    augment()
    speed()
