"""Fitting a posteriordb posterior with its zoo model and checking it against the reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from probgen.posteriordb.adapters import get_adapter
from probgen.posteriordb.compare import DEFAULT_Z, compare
from probgen.posteriordb.database import PosteriorDatabase


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
    database = db if isinstance(db, PosteriorDatabase) else PosteriorDatabase.open(db)
    data = adapter.data(database.load_data(database.data_name(posterior)))
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
    reference = reference_for(database, posterior)
    if reference is not None:
        table = compare(flat, database.load_reference(reference), z=z)
    return ReferenceResult(posterior, fit, flat, table, z)


def reference_for(database: PosteriorDatabase, posterior: str) -> str | None:
    """The posterior whose reference draws in ``database`` apply to ``posterior``, or None.

    The database's own record wins (a clone's ``reference_posterior_name``);
    else the adapter's (e.g. centered eight schools -> non-centered).
    """
    for name in (posterior, get_adapter(posterior).reference_name):
        if database.has_reference(name):
            return name
    return None
