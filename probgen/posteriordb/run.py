"""Fitting a posteriordb posterior with its zoo model and checking it against the reference.

A reference check passes only when the fit is trustworthy
(:func:`probgen.diagnose`) **and** every parameter agrees with the reference
draws (:func:`~probgen.posteriordb.compare.compare`). The diagnostics gate is
not redundant with the comparison: a stuck chain inflates the fit's MCSE, and
the comparison alone would then be judged against the broken fit's own
uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from probgen.diagnostics import Verdict, diagnose
from probgen.posteriordb.adapters import get_adapter
from probgen.posteriordb.compare import DEFAULT_Z, ESS_MIN_PER_CHAIN, compare
from probgen.posteriordb.database import PosteriorDatabase

#: exit codes of ``probgen reference`` (as in :mod:`probgen.cli`)
EXIT_OK, EXIT_FAIL, EXIT_NO_REFERENCE = 0, 1, 2


@dataclass
class ReferenceResult:
    """A fit of one posteriordb posterior, its diagnostics and, when shipped, its comparison.

    Attributes
    ----------
    posterior : str
    fit : xarray.DataTree
    draws : dict
        The fit's draws under the reference's flat names.
    table : pandas.DataFrame or None
        :func:`~probgen.posteriordb.compare.compare`'s table; None when the
        database has no reference draws for this posterior.
    z : float
    verdict : Verdict
        ``probgen.diagnose(fit)``; computed from ``fit`` when not given.
    """

    posterior: str
    fit: xr.DataTree = field(repr=False)
    draws: dict[str, np.ndarray] = field(repr=False)
    table: pd.DataFrame | None = field(default=None, repr=False)
    z: float = DEFAULT_Z
    verdict: Verdict | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.verdict is None:
            self.verdict = diagnose(self.fit)

    @property
    def has_reference(self) -> bool:
        return self.table is not None

    @property
    def trustworthy(self) -> bool:
        """The fit's diagnostics all passed."""
        return bool(self.verdict.ok)

    @property
    def reference_passed(self) -> bool:
        """Every parameter agrees with the reference (False without a reference)."""
        return self.table is not None and bool(self.table["passed"].all())

    @property
    def passed(self) -> bool:
        """A reference to compare with, a trustworthy fit, and every parameter within |z|."""
        return self.trustworthy and self.reference_passed

    @property
    def failed_diagnostics(self) -> list[str]:
        return [c.name for c in self.verdict.failed]

    @property
    def exit_code(self) -> int:
        """``probgen reference``'s exit status.

        0 pass; 1 an untrustworthy fit (with or without a reference) or a failed
        comparison; 2 no reference draws and a trustworthy fit (nothing was
        checked against a reference, but nothing is known to be wrong).
        """
        if not self.trustworthy:
            return EXIT_FAIL
        if not self.has_reference:
            return EXIT_NO_REFERENCE
        return EXIT_OK if self.passed else EXIT_FAIL

    def reasons(self) -> list[str]:
        """Why the check did not pass (empty when it passed)."""
        out = []
        if not self.trustworthy:
            failed = self.verdict.failed
            # a verdict is also not ok when a check could not be computed (one chain)
            unknown = [c for c in self.verdict.checks if c.passed is None]
            parts = [f"{c.name} ({c.detail})" for c in failed]
            parts += [f"{c.name} not computed ({c.detail})" for c in unknown]
            out.append(
                f"the fit is {'not trustworthy' if failed else 'not verified'}: " + ", ".join(parts)
            )
        if self.table is None:
            out.append("no reference draws to compare with")
        elif not self.reference_passed:
            bad = [str(n) for n, ok in self.table["passed"].items() if not ok]
            out.append(
                f"{len(bad)} of {len(self.table)} parameters outside |z| <= {self.z:g}: "
                + ", ".join(bad)
            )
        return out

    def report(self) -> str:
        if self.table is None:
            head = f"{self.posterior}: no reference draws to compare with"
            if not self.trustworthy:
                head += f"; FAIL: {self.reasons()[0]}"
            return "\n".join([head, self.verdict.report()])
        t = self.table
        n_fail = int((~t["passed"]).sum())
        head = (
            f"{self.posterior}: {'PASS' if self.passed else 'FAIL'} "
            f"({len(t) - n_fail} of {len(t)} parameters within |z| <= {self.z:g}; "
            f"fit {'trustworthy' if self.trustworthy else 'NOT trustworthy'})"
        )
        cols = ["mean_fit", "mean_ref", "sd_fit", "sd_ref", "z_mean", "z_sd"]
        body = t[cols].to_string(float_format=lambda v: f"{v:.4g}")
        marks = "\n".join(
            f"  {name}: FAIL" for name, ok in zip(t.index, t["passed"], strict=True) if not ok
        )
        capped = [str(n) for n, c in t["capped"].items() if c] if "capped" in t else []
        note = (
            "  the fit's MCSE exceeded that of a fit with the minimum acceptable ESS for "
            f"{', '.join(capped)}: the tolerance used the capped MCSE"
            if capped
            else ""
        )
        why = "\n".join(f"FAIL: {r}" for r in self.reasons())
        return "\n".join(filter(None, [head, body, marks, note, self.verdict.report(), why]))


def run_reference(
    posterior: str,
    db: str | Path | PosteriorDatabase | None = None,
    *,
    backend: str = "numpyro",
    sampler: str | None = None,
    chains: int = 4,
    draws: int | None = None,
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
    db : path or PosteriorDatabase, optional
        Posterior database; default :func:`default_db`.
    backend, sampler, chains, draws, warmup, seed, progress
        As for :func:`probgen.sample`.
    z : float
        Largest |z| for a parameter's mean and sd to pass.
    **sampler_overrides
        E.g. ``target_accept=0.99``; they win over the adapter's settings.

    Returns
    -------
    ReferenceResult
        With the fit's verdict (:func:`probgen.diagnose`, default thresholds)
        and ``table`` None when ``db`` has no reference draws for it. The
        comparison caps the fit's MCSE at that of a fit with the verdict's
        minimum ESS (100 per chain).
    """
    import probgen
    from probgen.registry import get_model

    adapter = get_adapter(posterior)
    database = db if isinstance(db, PosteriorDatabase) else PosteriorDatabase.open(db)
    data = adapter.data(database.load_data(database.data_name(posterior)))
    model = get_model(adapter.model, **adapter.config)
    settings = {**adapter.sampler, **{k: v for k, v in sampler_overrides.items() if v is not None}}
    # check=False: the verdict is computed once below and carried in the result
    fit = probgen.sample(
        model,
        data,
        backend=backend,
        sampler=sampler,
        chains=chains,
        draws=draws,
        warmup=warmup,
        seed=seed,
        progress=progress,
        check=False,
        **settings,
    )
    n_chains = int(fit["posterior"].dataset.sizes["chain"])
    ess_min = ESS_MIN_PER_CHAIN * n_chains
    verdict = diagnose(fit, ess_min=ess_min)
    flat = adapter.flat_draws(fit["posterior"].dataset)
    table = None
    reference = reference_for(database, posterior)
    if reference is not None:
        table = compare(flat, database.load_reference(reference), z=z, ess_min=ess_min)
    return ReferenceResult(posterior, fit, flat, table, z, verdict)


def reference_for(database: PosteriorDatabase, posterior: str) -> str | None:
    """The posterior whose reference draws in ``database`` apply to ``posterior``, or None.

    The database's own record wins (a clone's ``reference_posterior_name``);
    else the adapter's (e.g. centered eight schools -> non-centered).
    """
    for name in (posterior, get_adapter(posterior).reference_name):
        if database.has_reference(name):
            return name
    return None
