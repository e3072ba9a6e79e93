"""Checking fits against posteriordb's gold-standard reference draws.

Layout of a posterior database directory (as ``../shared/posteriordb``)::

    DIR/data/<data_name>.json              Stan-layout data
    DIR/reference/<posterior>.json.zip     list of chains, each {flat name: draws}

A posterior is ``<data_name>-<model_name>``. The zoo's adapters
(``models/posteriordb.py``) map its data to a model's inputs and the model's
natural-scale variables to the reference's flat names (``theta[1]``, 1-based).

The comparison, per scalar parameter (posteriordb README): the mean passes when
``|mean_fit - mean_ref| <= z * sqrt(mcse_mean_fit**2 + mcse_mean_ref**2)`` and
the sd passes when ``|sd_fit - sd_ref| <= z * sqrt(mcse_sd_fit**2 + mcse_sd_ref**2)``;
every MCSE is computed by arviz-stats from the draws themselves.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from probgen.errors import UnknownNameError

DEFAULT_Z = 4.5


def default_db() -> Path | None:
    """``PROBGEN_POSTERIORDB``, else a ``shared/posteriordb`` beside the checkout."""
    env = os.environ.get("PROBGEN_POSTERIORDB")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[1]
    for cand in (
        here.parent / "shared" / "posteriordb",
        Path.cwd().parent / "shared" / "posteriordb",
    ):
        if cand.is_dir():
            return cand
    return None


# ------------------------------------------------------------------ adapters
def stan_flatten(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Flatten (chain, draw, ...) arrays to Stan's flat names, 1-based, row-major."""
    out: dict[str, np.ndarray] = {}
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.ndim == 2:
            out[name] = arr
            continue
        for idx in np.ndindex(*arr.shape[2:]):
            out[f"{name}[{','.join(str(i + 1) for i in idx)}]"] = arr[
                (slice(None), slice(None), *idx)
            ]
    return out


def _identity_names(posterior: xr.Dataset, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return stan_flatten({n: posterior[n].values for n in names})


@dataclass(frozen=True)
class PosteriorAdapter:
    """How one posteriordb posterior maps onto a zoo model.

    Attributes
    ----------
    posterior : str
        ``<data_name>-<model_name>``.
    model : str
        Zoo registry name; ``config`` its constructor arguments.
    data : callable
        Stan-layout data dict -> the model's data dict (transformations such as
        logs, interactions or centering happen here, never in the data files).
    params : callable or tuple of str
        Posterior Dataset -> {flat reference name: (chain, draw) array}; a tuple
        of variable names means "these variables, Stan-flattened, as named".
    sampler : dict
        Settings this posterior needs (justified in the model's docstring).
    reference : str, optional
        Another posterior whose reference draws are for the same density
        (e.g. the centered and non-centered eight schools).
    """

    posterior: str
    model: str
    data: Callable[[dict[str, Any]], dict[str, Any]]
    params: Callable[[xr.Dataset], dict[str, np.ndarray]] | tuple[str, ...]
    config: dict[str, Any] = field(default_factory=dict)
    sampler: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None

    @property
    def reference_name(self) -> str:
        """The posterior whose reference draws apply (the same target density)."""
        return self.reference or self.posterior

    @property
    def data_name(self) -> str:
        return self.posterior.split("-", 1)[0]

    def flat_draws(self, posterior: xr.Dataset) -> dict[str, np.ndarray]:
        if callable(self.params):
            return self.params(posterior)
        return _identity_names(posterior, self.params)


def adapters() -> dict[str, PosteriorAdapter]:
    import importlib

    return dict(importlib.import_module("models.posteriordb").ADAPTERS)


def get_adapter(posterior: str) -> PosteriorAdapter:
    table = adapters()
    if posterior not in table:
        raise UnknownNameError(
            f"unknown posterior {posterior!r}; supported: {', '.join(sorted(table))}"
        )
    return table[posterior]


# ---------------------------------------------------------------------- files
def load_data(db: str | Path, data_name: str) -> dict[str, Any]:
    path = Path(db) / "data" / f"{data_name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no data file {str(path)!r} in the posterior database")
    return json.loads(path.read_text())


def reference_path(db: str | Path, posterior: str) -> Path:
    return Path(db) / "reference" / f"{posterior}.json.zip"


def load_reference(db: str | Path, posterior: str) -> dict[str, np.ndarray]:
    """Reference draws as {flat name: (chain, draw) array}."""
    path = reference_path(db, posterior)
    if not path.exists():
        raise FileNotFoundError(f"no reference draws {str(path)!r}")
    with zipfile.ZipFile(path) as zf:
        chains = json.loads(zf.read(zf.namelist()[0]))
    names = list(chains[0])
    return {n: np.asarray([c[n] for c in chains], dtype=float) for n in names}


def draws_to_json(flat: Mapping[str, np.ndarray], path: str | Path) -> None:
    """Write draws in the reference's own format: a list of chains of {name: draws}."""
    n_chains = next(iter(flat.values())).shape[0]
    chains = [{k: np.asarray(v[c]).tolist() for k, v in flat.items()} for c in range(n_chains)]
    Path(path).write_text(json.dumps(chains))


# ----------------------------------------------------------------- comparison
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


# ------------------------------------------------------------------- running
@dataclass
class ReferenceResult:
    """A fit of one posteriordb posterior and, when shipped, its comparison."""

    posterior: str
    fit: xr.DataTree = field(repr=False)
    draws: dict[str, np.ndarray] = field(repr=False)
    table: pd.DataFrame | None = field(default=None, repr=False)
    z: float = DEFAULT_Z

    @property
    def has_reference(self) -> bool:
        return self.table is not None

    @property
    def passed(self) -> bool:
        return self.table is not None and bool(self.table["passed"].all())

    def report(self) -> str:
        if self.table is None:
            return f"{self.posterior}: no reference draws to compare with"
        t = self.table
        n_fail = int((~t["passed"]).sum())
        head = (
            f"{self.posterior}: {'PASS' if n_fail == 0 else 'FAIL'} "
            f"({len(t) - n_fail} of {len(t)} parameters within |z| <= {self.z:g})"
        )
        cols = ["mean_fit", "mean_ref", "sd_fit", "sd_ref", "z_mean", "z_sd"]
        body = t[cols].to_string(float_format=lambda v: f"{v:.4g}")
        marks = "\n".join(
            f"  {name}: FAIL" for name, ok in zip(t.index, t["passed"], strict=True) if not ok
        )
        return "\n".join(filter(None, [head, body, marks]))


def run_reference(
    posterior: str,
    db: str | Path | None = None,
    *,
    backend: str = "numpyro",
    sampler: str | None = None,
    chains: int = 4,
    draws: int = 1000,
    warmup: int = 1000,
    seed: int = 0,
    z: float = DEFAULT_Z,
    progress: bool = False,
    **sampler_overrides: Any,
) -> ReferenceResult:
    """Fit a posteriordb posterior with its zoo model and compare with the reference.

    Parameters
    ----------
    posterior : str
        ``<data_name>-<model_name>`` (see ``probgen reference --list``).
    db : path, optional
        Posterior database directory; default :func:`default_db`.
    backend, sampler, chains, draws, warmup, seed, progress
        As for :func:`probgen.sample`.
    z : float
        Largest |z| for a parameter's mean and sd to pass.
    **sampler_overrides
        E.g. ``target_accept=0.99``; they win over the adapter's settings.

    Returns
    -------
    ReferenceResult
        With ``table`` None when ``db`` has no reference draws for it.
    """
    from probgen.inference import sample
    from probgen.registry import get_model

    adapter = get_adapter(posterior)
    db = Path(db) if db is not None else default_db()
    if db is None or not Path(db).is_dir():
        raise FileNotFoundError(
            f"posterior database directory {str(db)!r} not found; pass db= (or --db)"
        )
    data = adapter.data(load_data(db, adapter.data_name))
    model = get_model(adapter.model, **adapter.config)
    settings = {**adapter.sampler, **{k: v for k, v in sampler_overrides.items() if v is not None}}
    fit = sample(
        model,
        data,
        backend=backend,
        sampler=sampler,
        chains=chains,
        draws=draws,
        warmup=warmup,
        seed=seed,
        progress=progress,
        **settings,
    )
    flat = adapter.flat_draws(fit["posterior"].dataset)
    table = None
    if reference_path(db, adapter.reference_name).exists():
        table = compare(flat, load_reference(db, adapter.reference_name), z=z)
    return ReferenceResult(posterior, fit, flat, table, z)
