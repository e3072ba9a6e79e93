"""Can this fit be trusted? One call, a structured verdict and a readable report.

The numbers come from arviz-stats (``diagnose`` for divergences, tree depth and
E-BFMI; ``summary`` for R-hat, bulk/tail ESS and MCSE); this module only
applies thresholds and words the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import xarray as xr


@dataclass(frozen=True)
class Check:
    """One diagnostic: its worst value against its threshold."""

    name: str
    passed: bool
    value: float
    threshold: float
    detail: str


@dataclass
class Verdict:
    """The diagnostics of one fit.

    Attributes
    ----------
    ok : bool
        True when every check passed.
    checks : list of Check
    table : pandas.DataFrame
        Per-parameter mean, sd, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat.
    """

    ok: bool
    checks: list[Check]
    table: pd.DataFrame = field(repr=False)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checks": [c.__dict__ for c in self.checks],
        }

    def report(self) -> str:
        head = (
            "TRUSTWORTHY: every diagnostic passed"
            if self.ok
            else (f"NOT TRUSTWORTHY: {len(self.failed)} of {len(self.checks)} diagnostics failed")
        )
        lines = [head]
        for c in self.checks:
            lines.append(f"  [{'ok' if c.passed else 'FAIL'}] {c.name:<12} {c.detail}")
        return "\n".join(lines)

    __str__ = report


def _worst(table: pd.DataFrame, column: str, largest: bool) -> tuple[float, str]:
    col = table[column].astype(float)
    idx = col.idxmax() if largest else col.idxmin()
    return float(col[idx]), str(idx)


def diagnose(
    fit: xr.DataTree,
    *,
    var_names: list[str] | None = None,
    rhat_max: float = 1.01,
    ess_min: float | None = None,
    bfmi_min: float = 0.3,
    max_divergences: int = 0,
    max_treedepth_fraction: float = 0.0,
    mcse_rel_max: float = 0.1,
) -> Verdict:
    """Judge whether a fit can be trusted.

    Parameters
    ----------
    fit : DataTree
        Needs ``posterior`` and ``sample_stats`` (diverging, energy,
        reached_max_treedepth).
    var_names : list of str, optional
        Posterior variables to check; default all.
    rhat_max : float
        Largest acceptable rank-normalized split R-hat (Vehtari et al. 2021).
    ess_min : float, optional
        Smallest acceptable bulk and tail ESS; default 100 per chain.
    bfmi_min : float
        Smallest acceptable E-BFMI of any chain.
    max_divergences : int
        Largest acceptable number of divergent transitions after warm-up.
    max_treedepth_fraction : float
        Largest acceptable fraction of transitions that hit the maximum tree depth.
    mcse_rel_max : float
        Largest acceptable MCSE of the mean relative to the posterior sd.

    Returns
    -------
    Verdict
    """
    import arviz_stats

    if not isinstance(fit, xr.DataTree) or "posterior" not in fit.children:
        raise ValueError("diagnose needs a DataTree with a posterior group (a probgen fit)")
    n_chains = fit["posterior"].dataset.sizes["chain"]
    n_draws = fit["posterior"].dataset.sizes["draw"]
    ess_min = 100.0 * n_chains if ess_min is None else float(ess_min)
    table = arviz_stats.summary(fit, var_names=var_names, kind="all", round_to="none")
    _, info = arviz_stats.diagnose(
        fit,
        var_names=var_names,
        rhat_max=rhat_max,
        ess_threshold=ess_min,
        bfmi_threshold=bfmi_min,
        show_diagnostics=False,
        return_diagnostics=True,
    )
    checks: list[Check] = []
    total = n_chains * n_draws

    div = info.get("divergent")
    if div is not None:
        n = int(div["n_divergent"])
        checks.append(
            Check(
                "divergences",
                n <= max_divergences,
                n,
                max_divergences,
                f"{n} of {total} transitions diverged (max {max_divergences})",
            )
        )
    depth = info.get("treedepth")
    if depth is not None:
        frac = int(depth["n_max"]) / total
        checks.append(
            Check(
                "tree_depth",
                frac <= max_treedepth_fraction,
                frac,
                max_treedepth_fraction,
                f"{int(depth['n_max'])} of {total} transitions hit the maximum tree depth",
            )
        )
    bfmi = info.get("bfmi")
    if bfmi is not None:
        values = [float(v) for v in bfmi["bfmi_values"]]
        low = min(values)
        checks.append(
            Check(
                "e_bfmi",
                low >= bfmi_min,
                low,
                bfmi_min,
                f"lowest E-BFMI {low:.2f} (min {bfmi_min}) over {len(values)} chains",
            )
        )
    value, where = _worst(table, "r_hat", largest=True)
    checks.append(
        Check(
            "r_hat",
            value <= rhat_max,
            value,
            rhat_max,
            f"largest R-hat {value:.4f} at {where} (max {rhat_max})",
        )
    )
    for column, label in (("ess_bulk", "bulk ESS"), ("ess_tail", "tail ESS")):
        value, where = _worst(table, column, largest=False)
        checks.append(
            Check(
                column,
                value >= ess_min,
                value,
                ess_min,
                f"smallest {label} {value:.0f} at {where} (min {ess_min:.0f})",
            )
        )
    rel = (table["mcse_mean"].astype(float) / table["sd"].astype(float)).fillna(0.0)
    worst = str(rel.idxmax())
    checks.append(
        Check(
            "mcse",
            float(rel.max()) <= mcse_rel_max,
            float(rel.max()),
            mcse_rel_max,
            f"largest MCSE/sd {float(rel.max()):.3f} at {worst} (max {mcse_rel_max})",
        )
    )
    return Verdict(ok=all(c.passed for c in checks), checks=checks, table=table)
