"""Scores of predicted class probabilities: NumPy arrays in, numbers out.

Conventions shared by every function here:

* ``y_true`` holds integer class codes ``0 .. K-1`` (the harness encodes labels
  once, so every contender sees the same codes);
* ``proba`` is ``(n, K)``, one row per example, rows summing to 1; a 1-D ``proba``
  is read as the probability of class 1 of a binary problem (scikit-learn's
  ``y_prob`` convention for calibration curves).

Calibration (:func:`reliability_curve`, :func:`expected_calibration_error`) is
*top-label* for a 2-D ``proba``: the confidence is the largest probability of a
row and the outcome is whether its arg-max is the true class; for a 1-D ``proba``
the confidence is that probability and the outcome is ``y_true == 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Strategy = Literal["uniform", "quantile"]


def _check(y_true, proba, *, allow_1d: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(codes, proba)``; a clear error names the argument at fault."""
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"y_true must be 1-D class codes, got shape {y.shape}")
    if p.ndim not in ((1, 2) if allow_1d else (2,)):
        raise ValueError(
            f"proba must be (n, n_classes){' or (n,)' if allow_1d else ''}, got {p.shape}"
        )
    if p.shape[0] != y.shape[0]:
        raise ValueError(f"y_true has {y.shape[0]} examples but proba has {p.shape[0]} rows")
    if y.shape[0] == 0:
        raise ValueError("y_true is empty: no examples to score")
    integral = np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)
    if not integral and (not np.issubdtype(y.dtype, np.floating) or np.any(np.mod(y, 1) != 0)):
        raise ValueError(f"y_true must hold integer class codes 0..K-1, got dtype {y.dtype}")
    y = y.astype(np.int64)
    n_classes = 2 if p.ndim == 1 else p.shape[1]
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"y_true holds codes {y.min()}..{y.max()} but proba has {n_classes} classes "
            f"(codes 0..{n_classes - 1})"
        )
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("proba must hold finite probabilities in [0, 1]")
    if p.ndim == 2 and not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        worst = int(np.argmax(np.abs(p.sum(axis=1) - 1)))
        raise ValueError(f"proba's rows must sum to 1 (row {worst} sums to {p[worst].sum():.6g})")
    return y, p


def _two_columns(p: np.ndarray) -> np.ndarray:
    return np.column_stack([1 - p, p]) if p.ndim == 1 else p


def accuracy(y_true, proba) -> float:
    """Share of examples whose most probable class is the true one (ties: lowest code)."""
    y, p = _check(y_true, proba)
    return float(np.mean(np.argmax(_two_columns(p), axis=1) == y))


def log_loss(y_true, proba, *, eps: float | None = None) -> float:
    """Mean negative log probability of the true class.

    ``-log_loss`` is the mean log predictive density of the test labels: for a
    Bayesian estimator whose ``proba`` is the posterior-predictive probability
    (averaged over draws) it is the test-set ELPD divided by ``n``, so the harness
    reports this one number for every contender.

    Parameters
    ----------
    y_true, proba
        See the module docstring.
    eps : float, optional
        Probabilities are clipped to ``[eps, 1]`` before the log, as scikit-learn's
        ``log_loss`` does, so that one zero probability gives a large finite loss
        rather than infinity; default: the float64 machine epsilon (scikit-learn's
        default), which makes a zero cost ``-log(2.2e-16) = 36``.
    """
    y, p = _check(y_true, proba)
    p = _two_columns(p)
    eps = np.finfo(np.float64).eps if eps is None else float(eps)
    picked = np.clip(p[np.arange(y.size), y], eps, 1.0)
    return float(-np.mean(np.log(picked)))


def brier_score(y_true, proba) -> float:
    """Multiclass Brier score: mean over examples of ``sum_k (p_k - [y == k])^2``.

    It ranges over ``[0, 2]``. For a binary problem it is twice the binary form
    ``mean((p_1 - y)^2)`` (scikit-learn's ``brier_score_loss`` with
    ``scale_by_half=False`` gives this multiclass form).
    """
    y, p = _check(y_true, proba)
    p = _two_columns(p)
    onehot = np.zeros_like(p)
    onehot[np.arange(y.size), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


@dataclass(frozen=True)
class ReliabilityCurve:
    """Binned confidence against observed frequency.

    Attributes
    ----------
    edges : ndarray
        ``n_bins + 1`` bin edges; bins are ``[e0, e1], (e1, e2], ...`` (right-closed,
        as scikit-learn's ``calibration_curve``).
    confidence : ndarray
        Mean confidence in each non-empty bin.
    frequency : ndarray
        Observed frequency of the outcome in each non-empty bin.
    count : ndarray
        Examples in each non-empty bin.
    """

    edges: np.ndarray
    confidence: np.ndarray
    frequency: np.ndarray
    count: np.ndarray


def _confidence_outcome(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if p.ndim == 1:
        return p, (y == 1).astype(np.float64)
    top = np.argmax(p, axis=1)
    return p[np.arange(y.size), top], (top == y).astype(np.float64)


def reliability_curve(
    y_true, proba, *, n_bins: int = 10, strategy: Strategy = "uniform"
) -> ReliabilityCurve:
    """Reliability (calibration) curve of predicted probabilities.

    Parameters
    ----------
    y_true, proba
        See the module docstring (top-label for 2-D ``proba``).
    n_bins : int
        Number of bins.
    strategy : {"uniform", "quantile"}
        ``"uniform"``: equal-width bins on ``[0, 1]``; ``"quantile"``: edges at the
        confidences' quantiles, so bins hold about equal numbers of examples.

    Returns
    -------
    ReliabilityCurve
        Empty bins are left out.
    """
    if not isinstance(n_bins, int | np.integer) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    y, p = _check(y_true, proba)
    conf, outcome = _confidence_outcome(y, p)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.percentile(conf, np.linspace(0, 100, n_bins + 1))
    # right-closed bins, the first one closed on both sides (scikit-learn's choice)
    which = np.searchsorted(edges[1:-1], conf)
    count = np.bincount(which, minlength=n_bins).astype(np.float64)
    sum_conf = np.bincount(which, weights=conf, minlength=n_bins)
    sum_out = np.bincount(which, weights=outcome, minlength=n_bins)
    keep = count > 0
    return ReliabilityCurve(
        edges=edges,
        confidence=sum_conf[keep] / count[keep],
        frequency=sum_out[keep] / count[keep],
        count=count[keep].astype(np.int64),
    )


def expected_calibration_error(
    y_true, proba, n_bins: int = 10, strategy: Strategy = "uniform"
) -> float:
    """Expected calibration error: ``sum_b (n_b / n) |frequency_b - confidence_b|``.

    Binned as :func:`reliability_curve` (default: 10 equal-width, right-closed
    bins on ``[0, 1]``); top-label for 2-D ``proba``. Binning biases the estimate
    upwards for small test sets (a perfectly calibrated model has an ECE of order
    ``sqrt(n_bins / n)``), so compare ECEs only at the same test size.
    """
    curve = reliability_curve(y_true, proba, n_bins=n_bins, strategy=strategy)
    weights = curve.count / curve.count.sum()
    return float(np.sum(weights * np.abs(curve.frequency - curve.confidence)))


def classification_scores(y_true, proba, *, n_bins: int = 10) -> dict[str, float]:
    """Accuracy, log loss, Brier score and ECE (10 uniform bins) at once."""
    return {
        "accuracy": accuracy(y_true, proba),
        "log_loss": log_loss(y_true, proba),
        "brier": brier_score(y_true, proba),
        "ece": expected_calibration_error(y_true, proba, n_bins=n_bins),
    }


def regression_scores(y_true, mean, draws=None, *, level: float = 0.9) -> dict[str, float]:
    """RMSE of ``mean``; with predictive ``draws`` ``(S, n)`` also interval coverage.

    Coverage is the share of ``y_true`` inside the central ``level`` interval of the
    draws (equal-tailed quantiles); ``NaN`` when no draws are given.
    """
    y = np.asarray(y_true, dtype=np.float64)
    m = np.asarray(mean, dtype=np.float64)
    if y.ndim != 1 or m.shape != y.shape:
        raise ValueError(f"y_true and mean must be 1-D of one length, got {y.shape} and {m.shape}")
    out = {"rmse": float(np.sqrt(np.mean((y - m) ** 2))), "coverage90": float("nan")}
    if draws is not None:
        d = np.asarray(draws, dtype=np.float64)
        if d.ndim != 2 or d.shape[1] != y.size:
            raise ValueError(f"draws must be (n_draws, {y.size}), got {d.shape}")
        lo, hi = np.quantile(d, [(1 - level) / 2, (1 + level) / 2], axis=0)
        out["coverage90"] = float(np.mean((y >= lo) & (y <= hi)))
    return out
