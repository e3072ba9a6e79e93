"""Comparing draws with reference draws, parameter by parameter.

Arrays first: :func:`compare` takes two mappings of flat name to (chain, draw)
arrays and returns a table; it knows nothing of models or databases.

Per scalar parameter, following the posteriordb README
(``|mean_fit - mean_ref| <= z * sqrt(mcse_fit**2 + sd_ref**2 / ess_ref)``):

* the mean passes when ``|mean_fit - mean_ref| <= z * sqrt(m_fit**2 + mcse_mean_ref**2)``;
* the sd passes when ``|sd_fit - sd_ref| <= z * sqrt(s_fit**2 + mcse_sd_ref**2)``;

where the reference's MCSEs (of the mean: ``sd_ref / sqrt(ess_ref)``; of the
sd) are computed by arviz-stats from the reference draws, and the fit's MCSEs
``m_fit``, ``s_fit`` are its own arviz-stats MCSEs **capped** at what a fit
with ``ess_min`` effective draws of the reference posterior would have:

* ``m_fit = min(mcse_mean_fit, sd_ref / sqrt(ess_min))``;
* ``s_fit = min(mcse_sd_fit, sqrt(m4_ref - sd_ref**4) / (2 * sd_ref * sqrt(ess_min)))``,
  the large-sample standard error of a sample sd from ``ess_min`` independent
  draws (``m4_ref`` the reference's fourth central moment; for a normal it is
  ``sd_ref / sqrt(2 * ess_min)``).

Why the cap: a broken fit (a stuck chain, a chain in another mode) has a tiny
ESS and therefore a huge MCSE, and a z-score divided by that MCSE passes
anything. A fit that the diagnostics accept has ESS >= ``ess_min`` (the
verdict's own threshold, 100 per chain by default), so its MCSE is at most the
cap; a fit that claims more is one the verdict rejects, and the comparison must
not reward it with a wider tolerance. With the cap the tolerance is bounded by
``z * sqrt(sd_ref**2 / ess_min + mcse_mean_ref**2)`` (for the mean) however
badly the fit mixed, and the cap is taken from the *reference* sd so a fit
cannot widen it by being too wide either. For a healthy fit the cap is inert
(its MCSE is already below it), so good fits are judged exactly as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

DEFAULT_Z = 4.5

#: diagnose's default smallest acceptable bulk/tail ESS, per chain
ESS_MIN_PER_CHAIN = 100.0


def draws_to_json(flat: Mapping[str, np.ndarray], path: str | Path) -> None:
    """Write draws in the reference's own format: a list of chains of {name: draws}."""
    n_chains = next(iter(flat.values())).shape[0]
    chains = [{k: np.asarray(v[c]).tolist() for k, v in flat.items()} for c in range(n_chains)]
    Path(path).write_text(json.dumps(chains))


def _mcse(flat: Mapping[str, np.ndarray], method: str) -> dict[str, float]:
    import arviz_stats

    ds = xr.Dataset({k: (("chain", "draw"), np.asarray(v)) for k, v in flat.items()})
    out = arviz_stats.mcse(ds, method=method)
    return {k: float(out[k]) for k in flat}


def _check_draws(arg: str, flat: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every value a finite (chain, draw) float array, all of the same shape."""
    if not isinstance(flat, Mapping) or not flat:
        raise ValueError(f"{arg} must be a non-empty mapping of name -> (chain, draw) array")
    out: dict[str, np.ndarray] = {}
    shape = None
    for name, value in flat.items():
        arr = np.asarray(value, dtype=float)
        if arr.ndim != 2 or arr.shape[1] < 4:
            raise ValueError(
                f"{arg}[{name!r}] must be a (chain, draw) array with at least 4 draws, "
                f"got shape {arr.shape}"
            )
        if shape is not None and arr.shape != shape:
            raise ValueError(f"{arg}[{name!r}] has shape {arr.shape}, the other parameters {shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{arg}[{name!r}] has non-finite draws")
        shape = arr.shape
        out[name] = arr
    return out


def sd_mcse_cap(reference: np.ndarray, ess_min: float) -> float:
    """Standard error of a sample sd from ``ess_min`` independent draws of ``reference``.

    ``sqrt(m4 - sd**4) / (2 * sd * sqrt(ess_min))`` (delta method on the
    sample variance), with the central moments taken from the reference draws.
    """
    x = np.ravel(reference)
    centred = x - x.mean()
    var = float(np.mean(centred**2))
    m4 = float(np.mean(centred**4))
    if var <= 0.0:
        return 0.0
    return math.sqrt(max(m4 - var**2, 0.0)) / (2.0 * math.sqrt(var) * math.sqrt(ess_min))


def compare(
    fit: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    *,
    z: float = DEFAULT_Z,
    ess_min: float | None = None,
) -> pd.DataFrame:
    """Per-parameter comparison table (every reference parameter, none skipped).

    Parameters
    ----------
    fit, reference : mapping of str to array
        Flat parameter name -> (chain, draw) draws. Every reference parameter
        must be in ``fit``; extra fit parameters are not compared.
    z : float
        Largest |z| of the differences of means and of sds that passes.
    ess_min : float, optional
        The ESS a trustworthy fit is required to have; the fit's MCSEs are
        capped at what a fit with this ESS would have (see the module
        docstring). Default 100 per chain of ``fit``, as :func:`probgen.diagnose`.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter: ``mean_fit``, ``mean_ref``, ``sd_fit``, ``sd_ref``;
        ``mcse_mean_fit`` / ``mcse_sd_fit`` (the fit's own MCSEs),
        ``mcse_mean`` / ``mcse_sd`` (the combined standard errors used),
        ``tol_mean`` / ``tol_sd`` (``z`` times those), ``capped`` (the fit's
        MCSE of the mean or sd exceeded its cap), ``z_mean``, ``z_sd`` and
        ``passed``.
    """
    if isinstance(z, bool) or not isinstance(z, int | float) or not z > 0:
        raise ValueError(f"z must be a number > 0, got {z!r}")
    fit = _check_draws("fit", fit)
    reference = _check_draws("reference", reference)
    missing = sorted(set(reference) - set(fit))
    if missing:
        raise KeyError(f"the fit has no draws for reference parameter(s) {missing}")
    names = list(reference)
    fit = {n: fit[n] for n in names}
    n_chains = next(iter(fit.values())).shape[0]
    if ess_min is None:
        ess_min = ESS_MIN_PER_CHAIN * n_chains
    if isinstance(ess_min, bool) or not isinstance(ess_min, int | float) or not ess_min > 0:
        raise ValueError(f"ess_min must be a number > 0, got {ess_min!r}")
    mm_f, mm_r = _mcse(fit, "mean"), _mcse(reference, "mean")
    ms_f, ms_r = _mcse(fit, "sd"), _mcse(reference, "sd")
    rows = []
    for n in names:
        mf, mr = float(np.mean(fit[n])), float(np.mean(reference[n]))
        sf, sr = float(np.std(fit[n], ddof=1)), float(np.std(reference[n], ddof=1))
        cap_mean = sr / math.sqrt(ess_min)
        cap_sd = sd_mcse_cap(reference[n], ess_min)
        # a NaN MCSE (e.g. a constant fit) counts as "unbounded": take the cap
        used_mean = cap_mean if not mm_f[n] <= cap_mean else mm_f[n]
        used_sd = cap_sd if not ms_f[n] <= cap_sd else ms_f[n]
        se_mean = float(np.hypot(used_mean, mm_r[n]))
        se_sd = float(np.hypot(used_sd, ms_r[n]))
        z_mean = (mf - mr) / se_mean if se_mean > 0 else (0.0 if mf == mr else math.inf)
        z_sd = (sf - sr) / se_sd if se_sd > 0 else (0.0 if sf == sr else math.inf)
        rows.append(
            {
                "parameter": n,
                "mean_fit": mf,
                "mean_ref": mr,
                "sd_fit": sf,
                "sd_ref": sr,
                "mcse_mean_fit": mm_f[n],
                "mcse_sd_fit": ms_f[n],
                "mcse_mean": se_mean,
                "mcse_sd": se_sd,
                "tol_mean": z * se_mean,
                "tol_sd": z * se_sd,
                "capped": bool(used_mean != mm_f[n] or used_sd != ms_f[n]),
                "z_mean": float(z_mean),
                "z_sd": float(z_sd),
                "passed": bool(abs(z_mean) <= z and abs(z_sd) <= z),
            }
        )
    return pd.DataFrame(rows).set_index("parameter")
