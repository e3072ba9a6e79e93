"""Ranks of true values among posterior draws, PIT values and uniformity tests.

Array functions only (NumPy in, NumPy out): the campaign (:mod:`.campaign`)
finds the arrays, these functions compute on them.

The rank of a true value ``t`` among ``L`` draws ``x_1..x_L`` is

    rank = #{x_s < t} + U,   U uniform on {0, 1, ..., #{x_s == t}}

so that ties (discrete quantities, or a draw that equals the truth) are broken
at random and the rank stays uniform on {0, ..., L} under a calibrated
posterior (Talts et al. 2018, sec. 4.1). Draws are pooled over *all* chains
and first thinned to near-independent draws: SBC's uniformity holds for
independent draws, and autocorrelated draws give ranks that are over-dispersed
(too many extremes) even when inference is right.

Thinning rule (:func:`thin_factor`): ``k = max(1, ceil(N / ESS_min))`` where
``N = chains * draws`` and ``ESS_min`` is the smallest bulk ESS over the
quantities of the fit; every chain keeps draws ``0, k, 2k, ...`` so that the
pooled number of draws ``L = chains * ceil(draws / k)`` is about ``N / k``,
at most about ``ESS_min`` (rounding up ``k`` errs towards fewer, less
correlated draws).

PIT values ``(rank + V) / (L + 1)`` with ``V ~ Uniform(0, 1)`` put simulations
with different ``L`` on one continuous scale; they are uniform on (0, 1)
exactly when the ranks are uniform. The uniformity test is arviz-stats'
``pot_c`` (pointwise order tests combined by the Cauchy combination).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = [
    "pit_values",
    "rank_statistics",
    "thin_draws",
    "thin_factor",
    "uniformity_pvalues",
]


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def _check_draws(name: str, draws: object) -> np.ndarray:
    arr = np.asarray(draws)
    if arr.ndim < 2:
        raise ValueError(f"{name} must be shaped (chain, draw, ...), got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one chain and one draw, got {arr.shape}")
    return arr


def thin_factor(ess_min: float, n_chains: int, n_draws: int) -> int:
    """The thinning step ``k`` that leaves about ``ess_min`` pooled draws.

    Parameters
    ----------
    ess_min : float
        The smallest bulk ESS of the fit (over all its scalar quantities). A
        non-finite value (a constant quantity) is ignored: no thinning.
    n_chains, n_draws : int
        Chains and draws per chain.

    Returns
    -------
    int
        ``max(1, ceil(n_chains * n_draws / ess_min))``, at most ``n_draws``.
    """
    if not math.isfinite(ess_min) or ess_min <= 0:
        return 1
    k = math.ceil(n_chains * n_draws / ess_min)
    return int(min(max(k, 1), n_draws))


def thin_draws(draws: np.ndarray, thin: int) -> np.ndarray:
    """Every chain's draws 0, thin, 2*thin, ... pooled: (chain, draw, ...) -> (L, ...)."""
    arr = _check_draws("draws", draws)
    if isinstance(thin, bool) or not isinstance(thin, int | np.integer) or thin < 1:
        raise ValueError(f"thin must be a positive integer, got {thin!r}")
    kept = arr[:, ::thin]
    return kept.reshape(-1, *arr.shape[2:])


def rank_statistics(
    truth: np.ndarray | float,
    draws: np.ndarray,
    *,
    thin: int = 1,
    rng: np.random.Generator,
) -> tuple[np.ndarray, int]:
    """Ranks of true values among posterior draws pooled over all chains.

    Parameters
    ----------
    truth : array_like, shape (...)
        The true value of each quantity (scalar, or any trailing shape).
    draws : array_like, shape (chain, draw, ...)
        Posterior draws of the same quantities; the trailing shape must equal
        ``truth``'s.
    thin : int, default 1
        Keep every ``thin``-th draw of each chain (:func:`thin_factor` chooses
        it from the ESS).
    rng : numpy.random.Generator
        Breaks ties at random.

    Returns
    -------
    ranks : ndarray of int64, shape (...)
        ``#{draw < truth} + U{0..#{draw == truth}}``, in ``0..L``.
    n_draws : int
        ``L``, the number of pooled draws after thinning.
    """
    rng = _check_rng(rng)
    truth = np.asarray(truth)
    arr = _check_draws("draws", draws)
    if arr.shape[2:] != truth.shape:
        raise ValueError(
            f"draws' trailing shape {arr.shape[2:]} must equal truth's shape {truth.shape}"
        )
    if not np.all(np.isfinite(truth)):
        raise ValueError("truth holds non-finite values; a rank is undefined")
    pooled = thin_draws(arr, thin)
    below = np.sum(pooled < truth, axis=0)
    ties = np.sum(pooled == truth, axis=0)
    # U{0..ties}: integers() draws from [0, ties + 1)
    extra = rng.integers(0, ties + 1) if truth.ndim else int(rng.integers(0, int(ties) + 1))
    return np.asarray(below + extra, dtype=np.int64), int(pooled.shape[0])


def pit_values(
    ranks: np.ndarray | int, n_draws: np.ndarray | int, rng: np.random.Generator
) -> np.ndarray:
    """PIT values ``(rank + V) / (L + 1)``, ``V ~ Uniform(0, 1)``, from integer ranks.

    Parameters
    ----------
    ranks : array_like of int
        Ranks in ``0..L``.
    n_draws : int or array_like of int
        ``L`` for each rank (broadcast against ``ranks``).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of float
        Values in (0, 1), uniform when the ranks are uniform on {0..L}.
    """
    rng = _check_rng(rng)
    ranks = np.asarray(ranks)
    n = np.asarray(n_draws)
    if not np.issubdtype(ranks.dtype, np.integer):
        raise TypeError(f"ranks must be integers, got dtype {ranks.dtype}")
    if not np.issubdtype(n.dtype, np.integer) or np.any(n < 1):
        raise ValueError(f"n_draws must be positive integers, got {n_draws!r}")
    if np.any(ranks < 0) or np.any(ranks > n):
        raise ValueError("ranks must lie in 0..n_draws")
    v = rng.uniform(size=np.broadcast_shapes(ranks.shape, n.shape))
    return (ranks + v) / (n + 1)


def uniformity_pvalues(
    values: np.ndarray | Mapping[str, np.ndarray],
    *,
    n_draws: np.ndarray | int | None = None,
    rng: np.random.Generator | None = None,
    method: str = "pot_c",
) -> np.ndarray | dict[str, float]:
    """p-values of arviz-stats' uniformity test, one per quantity.

    Parameters
    ----------
    values : array_like, shape (simulation, ...) or mapping of name to (simulation,)
        PIT values in [0, 1]; or integer ranks when ``n_draws`` is given (then
        turned into PIT values with :func:`pit_values`, which needs ``rng``).
        Non-finite values (failed simulations) are left out of the test.
    n_draws : int or array_like, optional
        ``L`` per simulation (shape (simulation,) or broadcastable), for ranks.
    rng : numpy.random.Generator, optional
        Needed with ``n_draws``.
    method : {"pot_c", "prit_c", "piet_c"}
        arviz-stats' test (``pot_c``: the default, Beta-based order tests).

    Returns
    -------
    ndarray or dict
        The p-value per trailing index (or per name for a mapping); NaN when a
        quantity has no finite value.
    """
    from arviz_stats.base import array_stats

    if isinstance(values, Mapping):
        return {
            name: float(uniformity_pvalues(v, n_draws=n_draws, rng=rng, method=method))
            for name, v in values.items()
        }
    arr = np.asarray(values)
    if arr.ndim < 1 or arr.shape[0] < 1:
        raise ValueError(f"values must be shaped (simulation, ...), got shape {arr.shape}")
    if n_draws is not None:
        if rng is None:
            raise ValueError("rng is needed to turn ranks into PIT values (n_draws given)")
        n = np.asarray(n_draws)
        n = n.reshape(n.shape + (1,) * (arr.ndim - n.ndim)) if n.ndim else n
        arr = pit_values(arr, n, rng)
    else:
        arr = arr.astype(float)
        finite = arr[np.isfinite(arr)]
        if np.any((finite < 0) | (finite > 1)):
            raise ValueError(
                "values must be PIT values in [0, 1]; pass n_draws= (and rng=) for integer ranks"
            )
    # arviz-stats reduces the last axis: move the simulation axis there
    p, _, _ = array_stats.uniformity_test(np.moveaxis(arr, 0, -1), axis=-1, method=method)
    return np.asarray(p, dtype=float)
