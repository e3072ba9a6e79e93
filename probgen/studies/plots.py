"""Figures of a comparison: learning curves, reliability diagrams, missing-feature curves.

Each function takes the tidy frames :func:`probgen.studies.harness.compare_models`
returns and gives a matplotlib ``Figure`` drawn on an Agg canvas (no pyplot, so
the user's global backend is left alone); with ``path`` it is also saved as PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from probgen.studies.metrics import reliability_curve

#: how each metric is labelled on an axis
METRIC_LABELS = {
    "accuracy": "test accuracy",
    "log_loss": "test log loss (= -mean log predictive density)",
    "brier": "test Brier score (multiclass)",
    "ece": "expected calibration error (10 bins)",
    "rmse": "test RMSE",
    "coverage90": "coverage of 90% intervals",
    "fit_time": "fit time (s)",
}


def _figure(ncols: int = 1, *, width: float = 5.5, height: float = 4.0) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _save(fig: Any, path: str | Path | None) -> None:
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)


def _check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a DataFrame from compare_models, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; pass compare_models' results")


def _band(
    ax: Any, frame: pd.DataFrame, x: str, metric: str, label: str, band: tuple[float, float]
) -> None:
    g = frame.groupby(x)[metric]
    xs = np.asarray(sorted(frame[x].unique()), dtype=float)
    med = g.median().reindex(xs).to_numpy()
    lo = g.quantile(band[0]).reindex(xs).to_numpy()
    hi = g.quantile(band[1]).reindex(xs).to_numpy()
    (line,) = ax.plot(xs, med, marker="o", ms=3, label=label)
    ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)


def plot_learning_curves(
    results: pd.DataFrame,
    metrics: Sequence[str] = ("accuracy", "log_loss"),
    *,
    missing_fraction: float = 0.0,
    band: tuple[float, float] = (0.1, 0.9),
    title: str | None = None,
    path: str | Path | None = None,
) -> Any:
    """Metric against training-set size: the median over splits and a band.

    Parameters
    ----------
    results : DataFrame
        From :func:`compare_models`.
    metrics : sequence of str
        One panel each.
    missing_fraction : float
        Which rows to draw (default: the complete test features).
    band : (float, float)
        Quantiles over splits that bound the shaded band (default 10%-90%).
    title : str, optional
    path : path, optional
        Save a PNG there.

    Returns
    -------
    matplotlib.figure.Figure
        Log x axis, one line per contender.
    """
    _check_columns(results, ["contender", "train_size", "missing_fraction", *metrics], "results")
    frame = results[np.isclose(results["missing_fraction"], missing_fraction)]
    if frame.empty:
        raise ValueError(f"results have no rows with missing_fraction={missing_fraction}")
    fig, axes = _figure(len(metrics))
    for ax, metric in zip(axes, metrics, strict=True):
        for name, sub in frame.groupby("contender", sort=False):
            _band(ax, sub, "train_size", metric, str(name), band)
        ax.set_xscale("log")
        ax.set_xlabel("training examples")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_missing_features(
    results: pd.DataFrame,
    metrics: Sequence[str] = ("accuracy", "log_loss"),
    *,
    train_size: int | None = None,
    band: tuple[float, float] = (0.1, 0.9),
    title: str | None = None,
    path: str | Path | None = None,
) -> Any:
    """Metric against the fraction of test features hidden (median and band over splits).

    ``train_size``: which training size to draw (default: the largest).
    """
    _check_columns(results, ["contender", "train_size", "missing_fraction", *metrics], "results")
    size = int(results["train_size"].max()) if train_size is None else int(train_size)
    frame = results[results["train_size"] == size]
    if frame.empty:
        raise ValueError(f"results have no rows with train_size={size}")
    fig, axes = _figure(len(metrics))
    for ax, metric in zip(axes, metrics, strict=True):
        for name, sub in frame.groupby("contender", sort=False):
            _band(ax, sub, "missing_fraction", metric, str(name), band)
        ax.set_xlabel("fraction of test features missing")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_reliability(
    predictions: pd.DataFrame,
    *,
    train_size: int | None = None,
    missing_fraction: float = 0.0,
    n_bins: int = 10,
    title: str | None = None,
    path: str | Path | None = None,
) -> Any:
    """Reliability diagram (top-label), test predictions pooled over splits.

    Parameters
    ----------
    predictions : DataFrame
        The second frame of ``compare_models(..., return_predictions=True)``.
    train_size : int, optional
        Default: the largest.
    missing_fraction : float
    n_bins : int
        Equal-width bins on [0, 1].

    Returns
    -------
    matplotlib.figure.Figure
        Observed accuracy against mean confidence per bin, a marker's area
        proportional to the bin's count; the diagonal is perfect calibration.
        The legend gives each contender's ECE of the pooled predictions.
    """
    _check_columns(
        predictions, ["contender", "train_size", "missing_fraction", "y_true", "p0"], "predictions"
    )
    size = int(predictions["train_size"].max()) if train_size is None else int(train_size)
    frame = predictions[
        (predictions["train_size"] == size)
        & np.isclose(predictions["missing_fraction"], missing_fraction)
    ]
    if frame.empty:
        raise ValueError(f"predictions have no rows with train_size={size}")
    pcols = [c for c in frame.columns if c.startswith("p") and c[1:].isdigit()]
    fig, axes = _figure(1, width=5.0, height=4.6)
    ax = axes[0]
    ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1)
    for name, sub in frame.groupby("contender", sort=False):
        y = sub["y_true"].to_numpy(dtype=np.int64)
        p = sub[pcols].to_numpy(dtype=np.float64)
        curve = reliability_curve(y, p, n_bins=n_bins)
        weights = curve.count / curve.count.sum()
        ece = float(np.sum(weights * np.abs(curve.frequency - curve.confidence)))
        (line,) = ax.plot(
            curve.confidence, curve.frequency, lw=1.2, label=f"{name} (ECE {ece:.3f})"
        )
        ax.scatter(curve.confidence, curve.frequency, s=8 + 200 * weights, color=line.get_color())
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (top-label probability)")
    ax.set_ylabel("observed accuracy")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or f"reliability, {size} training examples", fontsize=10)
    _save(fig, path)
    return fig
