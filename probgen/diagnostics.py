"""Can this fit be trusted? One call, a structured verdict and a readable report.

The numbers come from arviz-stats (``diagnose`` for divergences, tree depth and
E-BFMI; ``summary`` for R-hat, bulk/tail ESS and MCSE); this module only
applies thresholds and words the result.
"""

from __future__ import annotations

import html
import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: the order in which failed checks choose the warning's suggestion: the most
#: specific cause first (divergences and E-BFMI point at the geometry, which more
#: draws do not fix; R-hat and ESS are often their symptoms)
_PRIORITY = ("divergences", "e_bfmi", "tree_depth", "r_hat", "ess_bulk", "ess_tail", "mcse")


@dataclass(frozen=True)
class Check:
    """One diagnostic: its worst value against its threshold.

    Attributes
    ----------
    name : str
    passed : bool or None
        None when the check could not be computed (``detail`` says why, e.g.
        R-hat with one chain): neither passed nor failed.
    value : float or None
        The worst value over the variables; None when not computed.
    threshold : float
    detail : str
        The result in words.
    """

    name: str
    passed: bool | None
    value: float | None
    threshold: float
    detail: str

    @property
    def computed(self) -> bool:
        return self.passed is not None

    @property
    def status(self) -> str:
        """``"ok"``, ``"FAIL"`` or ``"n/a"`` (not computed)."""
        return "n/a" if self.passed is None else ("ok" if self.passed else "FAIL")


@dataclass
class Verdict:
    """The diagnostics of one fit.

    Attributes
    ----------
    ok : bool
        True only when every check was computed and passed. A check that could
        not be computed (R-hat needs two chains) makes ``ok`` False although
        nothing failed: the fit has not been shown trustworthy, which is what
        ``ok`` promises. ``failed`` and ``not_computed`` tell the two apart, and
        the report heads such a verdict "NOT VERIFIED" rather than "NOT
        TRUSTWORTHY".
    checks : list of Check
    table : pandas.DataFrame
        Per-parameter mean, sd, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat.
    settings : dict
        The fit's sampler settings and model configuration, as far as its
        attributes record them; used to word the suggestion.
    """

    ok: bool
    checks: list[Check]
    table: pd.DataFrame = field(repr=False)
    settings: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def failed(self) -> list[Check]:
        """Checks that were computed and failed."""
        return [c for c in self.checks if c.passed is not None and not c.passed]

    @property
    def not_computed(self) -> list[Check]:
        """Checks that could not be computed (neither passed nor failed)."""
        return [c for c in self.checks if c.passed is None]

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checks": [{**c.__dict__, "status": c.status} for c in self.checks],
        }

    def headline(self) -> str:
        """The verdict in one line: TRUSTWORTHY, NOT TRUSTWORTHY or NOT VERIFIED."""
        if self.ok:
            return "TRUSTWORTHY: every diagnostic passed"
        skipped = f"; {len(self.not_computed)} could not be computed" if self.not_computed else ""
        if self.failed:
            return (
                f"NOT TRUSTWORTHY: {len(self.failed)} of {len(self.checks)} diagnostics "
                f"failed{skipped}"
            )
        return f"NOT VERIFIED: every computed diagnostic passed{skipped}"

    def report(self) -> str:
        """The full report: headline, one line per check, and what to try."""
        lines = [self.headline()]
        for c in self.checks:
            lines.append(f"  [{c.status}] {c.name:<12} {c.detail}")
        if not self.ok:
            lines.append(f"Try: {self.suggestion()}")
        return "\n".join(lines)

    __str__ = report

    def suggestion(self) -> str:
        """One concrete thing to try, chosen from what failed (empty when ok).

        Divergences: the non-centered form where the model has a ``centered``
        configuration that is on, else a higher ``target_accept`` (named);
        low E-BFMI: reparameterize; tree depth: a higher ``max_tree_depth`` or
        ``dense_mass=True``; R-hat, ESS or MCSE: more draws and warm-up (named);
        R-hat not computed: more chains.
        """
        if self.ok:
            return ""
        names = {c.name for c in self.failed}
        first = next((n for n in _PRIORITY if n in names), None)
        s = self.settings
        config = s.get("config", {})
        centered = config.get("centered") is True
        if first == "divergences":
            accept = s.get("target_accept")
            if accept is None:  # not a probgen fit: nothing to compare with
                raise_accept = "raise target_accept (e.g. to 0.95)"
            else:
                accept = float(accept)
                higher = 0.95 if accept < 0.95 else 0.99
                raise_accept = f"raise target_accept to {higher} (it was {accept:g})"
            if centered:
                return f"the non-centered form (config centered=False), or {raise_accept}"
            if accept is not None and accept >= 0.99:
                return f"reparameterize the model: it still diverges at target_accept={accept:g}"
            return raise_accept
        if first == "e_bfmi":
            if centered:
                return "the non-centered form (config centered=False): E-BFMI is low"
            return "reparameterize the model (low E-BFMI: momentum resampling explores slowly)"
        if first == "tree_depth":
            depth = s.get("max_tree_depth")
            deeper = (
                "raise max_tree_depth (e.g. to 12)"
                if depth is None
                else f"raise max_tree_depth to {int(depth) + 2} (it was {int(depth)})"
            )
            return deeper + ("" if s.get("dense_mass") else " or set dense_mass=True")
        if first is not None:  # r_hat, ESS or MCSE: the chains are too short
            draws, warmup = s.get("draws"), s.get("warmup")
            if draws is None or warmup is None:
                return "run longer: more draws and warm-up (e.g. twice as many)"
            return (
                f"run longer: draws={2 * int(draws)}, warmup={2 * int(warmup)} "
                f"(it was {int(draws)} and {int(warmup)})"
            )
        if any(c.name == "r_hat" for c in self.not_computed):
            return "run at least 2 chains (e.g. chains=4) so that R-hat can be computed"
        return "see the report: probgen.diagnose(fit)"

    def warning_message(self, model: str) -> str:
        """The short warning ``probgen.sample`` issues: what failed, what to try.

        Two lines: the verdict's word (NOT TRUSTWORTHY or NOT VERIFIED) with the
        check that chose the suggestion and the names of the other failures,
        then the suggestion and where the full report is.
        """
        if self.ok:
            return f"{model} fit TRUSTWORTHY: every diagnostic passed"
        skipped = ", ".join(
            f"{c.name} ({c.detail.removeprefix('not computed: ')})" for c in self.not_computed
        )
        if self.failed:
            worst = next(c for n in _PRIORITY for c in self.failed if c.name == n)
            others = [c.name for c in self.failed if c is not worst]
            head = f"{model} fit NOT TRUSTWORTHY: {worst.name}: {worst.detail}"
            if others:
                head += f"; also failed: {', '.join(others)}"
            if skipped:
                head += f"; not computed: {skipped}"
        else:
            head = f"{model} fit NOT VERIFIED: not computed: {skipped}"
        return f"{head}.\nTry: {self.suggestion()}. Full report: probgen.diagnose(fit)"

    def _repr_html_(self) -> str:
        """A table of the checks for Jupyter."""
        colours = {"ok": "#1a7f37", "FAIL": "#cf222e", "n/a": "#9a6700"}
        rows = "".join(
            "<tr>"
            f"<td>{html.escape(c.name)}</td>"
            f'<td style="color:{colours[c.status]};font-weight:bold">'
            f"{'pass' if c.passed else 'FAIL' if c.passed is False else 'not computed'}</td>"
            f"<td>{'' if c.value is None else f'{c.value:.4g}'}</td>"
            f"<td>{c.threshold:g}</td>"
            f"<td>{html.escape(c.detail)}</td>"
            "</tr>"
            for c in self.checks
        )
        suggestion = "" if self.ok else f"<p>Try: {html.escape(self.suggestion())}</p>"
        return (
            f"<div><p><b>{html.escape(self.headline())}</b></p>"
            "<table><thead><tr><th>check</th><th>result</th><th>worst value</th>"
            "<th>threshold</th><th>detail</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{suggestion}</div>"
        )


def _worst(table: pd.DataFrame, column: str, largest: bool) -> tuple[float, str] | None:
    """Worst value of a column and its row; None when it is undefined everywhere."""
    col = table[column].astype(float)
    if col.isna().all():
        return None
    idx = col.idxmax() if largest else col.idxmin()
    return float(col[idx]), str(idx)


def _settings(fit: xr.DataTree) -> dict[str, Any]:
    """Sampler settings and model configuration recorded in a fit's attributes."""
    attrs = dict(fit.attrs)
    try:
        config = json.loads(attrs.get("probgen_config", "{}"))
    except (TypeError, ValueError):
        config = {}
    keep = ("target_accept", "max_tree_depth", "dense_mass", "draws", "warmup", "chains")
    out: dict[str, Any] = {k: attrs[k] for k in keep if k in attrs}
    out["config"] = config if isinstance(config, dict) else {}
    if "probgen_model" in attrs:
        out["model"] = attrs["probgen_model"]
    return out


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
    with warnings.catch_warnings():
        # a constant variable (a fixed deterministic) has 0/0 R-hat and ESS; arviz
        # warns from its own files, and the NaN it gives is handled below
        for message in ("invalid value encountered", "divide by zero encountered"):
            warnings.filterwarnings("ignore", message, RuntimeWarning)
        table = arviz_stats.summary(fit, var_names=var_names, kind="all", round_to="none")
    # the sampler's own statistics (cheap; R-hat and ESS come from the table
    # above, so nothing is computed twice)
    info = _sampler_stats(fit)
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
                f"lowest E-BFMI {low:.2f} (min {bfmi_min}) over {len(values)} chain(s)",
            )
        )
    if n_chains < 2:
        # split R-hat compares chains; with one arviz gives NaN for every variable
        checks.append(Check("r_hat", None, None, rhat_max, "not computed: needs >= 2 chains"))
    else:
        checks.append(_check(table, "r_hat", "largest R-hat", rhat_max, largest=True))
    for column, label in (("ess_bulk", "smallest bulk ESS"), ("ess_tail", "smallest tail ESS")):
        checks.append(_check(table, column, label, ess_min, largest=False))
    # 0/0 for a constant variable (a fixed deterministic): no Monte Carlo error
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
    return Verdict(
        ok=all(c.passed is not None and c.passed for c in checks),
        checks=checks,
        table=table,
        settings=_settings(fit),
    )


def _check(
    table: pd.DataFrame, column: str, label: str, threshold: float, *, largest: bool
) -> Check:
    """A threshold check on the worst value of one summary column."""
    worst = _worst(table, column, largest=largest)
    if worst is None:
        return Check(
            column,
            None,
            None,
            threshold,
            f"not computed: {label[label.index(' ') + 1 :]} is undefined for every variable",
        )
    value, where = worst
    passed = bool(value <= threshold if largest else value >= threshold)
    bound = "max" if largest else "min"
    shown = f"{value:.4f}" if column == "r_hat" else f"{value:.0f}"
    limit = f"{threshold}" if column == "r_hat" else f"{threshold:.0f}"
    return Check(column, passed, value, threshold, f"{label} {shown} at {where} ({bound} {limit})")


def _sampler_stats(fit: xr.DataTree) -> dict:
    """Divergences, max-tree-depth hits and E-BFMI per chain, from ``sample_stats``.

    E-BFMI of a chain is sum(diff(E)**2) / sum((E - mean(E))**2) over its energies
    E (Betancourt 2016), as arviz-stats computes it.
    """
    if "sample_stats" not in fit.children:
        return {}
    ss = fit["sample_stats"].dataset
    info: dict = {}
    if "diverging" in ss:
        info["divergent"] = {"n_divergent": int(np.asarray(ss["diverging"]).sum())}
    if "reached_max_treedepth" in ss:
        info["treedepth"] = {"n_max": int(np.asarray(ss["reached_max_treedepth"]).sum())}
    if "energy" in ss:
        energy = np.asarray(ss["energy"].transpose("chain", "draw", ...), dtype=float)
        energy = energy.reshape(energy.shape[0], energy.shape[1])
        num = np.sum(np.diff(energy, axis=1) ** 2, axis=1)
        den = np.sum((energy - energy.mean(axis=1, keepdims=True)) ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            info["bfmi"] = {"bfmi_values": (num / den).tolist()}
    return info
