"""Comparing draws with reference draws, parameter by parameter.

Arrays first: :func:`compare` takes two mappings of flat name to (chain, draw)
arrays and returns a table; it knows nothing of models or databases.

Per scalar parameter (posteriordb README): the mean passes when
``|mean_fit - mean_ref| <= z * sqrt(mcse_mean_fit**2 + mcse_mean_ref**2)`` and
the sd passes when ``|sd_fit - sd_ref| <= z * sqrt(mcse_sd_fit**2 + mcse_sd_ref**2)``;
every MCSE is computed by arviz-stats from the draws themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

DEFAULT_Z = 4.5


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


def compare(
    fit: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray], *, z: float = DEFAULT_Z
) -> pd.DataFrame:
    """Per-parameter comparison table (every reference parameter, none skipped).

    Columns: mean/sd of fit and reference, their MCSEs, z-scores of the
    differences of means and sds, and ``passed``.
    """
    missing = sorted(set(reference) - set(fit))
    if missing:
        raise KeyError(f"the fit has no draws for reference parameter(s) {missing}")
    names = list(reference)
    fit = {n: fit[n] for n in names}
    mm_f, mm_r = _mcse(fit, "mean"), _mcse(reference, "mean")
    ms_f, ms_r = _mcse(fit, "sd"), _mcse(reference, "sd")
    rows = []
    for n in names:
        mf, mr = float(np.mean(fit[n])), float(np.mean(reference[n]))
        sf, sr = float(np.std(fit[n], ddof=1)), float(np.std(reference[n], ddof=1))
        z_mean = (mf - mr) / np.hypot(mm_f[n], mm_r[n])
        z_sd = (sf - sr) / np.hypot(ms_f[n], ms_r[n])
        rows.append(
            {
                "parameter": n,
                "mean_fit": mf,
                "mean_ref": mr,
                "sd_fit": sf,
                "sd_ref": sr,
                "mcse_mean": float(np.hypot(mm_f[n], mm_r[n])),
                "mcse_sd": float(np.hypot(ms_f[n], ms_r[n])),
                "z_mean": float(z_mean),
                "z_sd": float(z_sd),
                "passed": bool(abs(z_mean) <= z and abs(z_sd) <= z),
            }
        )
    return pd.DataFrame(rows).set_index("parameter")
