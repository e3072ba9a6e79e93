"""SBC results: tables, p-values, verdict, plots and one netCDF file.

File layout (one DataTree, written atomically after every batch):

* root attrs: what identifies the campaign (model, configuration, simulator,
  backend, seed, settings, data fingerprint, test quantities), the variables'
  dims (``sbc_var_dims``) and the quantity names in order (``sbc_quantities``);
* ``prior_sbc``: PIT values ``(rank + V) / (L + 1)`` of every variable with its
  own dims, shaped (chain=1, draw=simulation, ...), plus the test quantities:
  the group :func:`arviz_plots.plot_ecdf_pit` reads (NaN for failed simulations);
* ``ranks``: ``rank`` (simulation, quantity) and ``n_draws`` (simulation);
* ``diagnostics``: per simulation ``divergences``, ``max_rhat``,
  ``min_ess_bulk``, ``thin``, ``ok`` and ``error`` ("" when none).

Verdict: the campaign passes when the smallest uniformity p-value over the Q
quantities is at least ``alpha / Q`` (Bonferroni: family-wise level ``alpha``,
default 0.01), computed over every simulation that produced ranks (fits that
failed their diagnostics included: leaving them out could hide a
miscalibration the diagnostics happen to flag); the p-values without them are
reported beside (:meth:`SBCResult.summary`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from probgen.calibration.campaign import SimulationResult, quantity_names, simulation_seeds
from probgen.calibration.ranks import pit_values, uniformity_pvalues

__all__ = ["SBCResult", "SBCVerdict", "load_sbc", "write_sbc"]

_DIAG = ("divergences", "max_rhat", "min_ess_bulk", "thin", "ok")
_NAME = re.compile(r"^(?P<var>[^\[]+)(\[(?P<idx>[0-9,]+)\])?$")


@dataclass(frozen=True)
class SBCVerdict:
    """Did inference pass SBC?

    Attributes
    ----------
    ok : bool
        The smallest p-value is at least ``alpha / n_quantities`` and no
        simulation errored.
    min_p_value : float
    worst : str
        The quantity with the smallest p-value.
    alpha : float
        Family-wise level; each quantity is tested at ``alpha / n_quantities``.
    n_quantities, n_simulations, n_errors, n_failed_diagnostics : int
    """

    ok: bool
    min_p_value: float
    worst: str
    alpha: float
    n_quantities: int
    n_simulations: int
    n_errors: int
    n_failed_diagnostics: int

    def __str__(self) -> str:
        head = "SBC PASSED" if self.ok else "SBC FAILED"
        text = (
            f"{head}: smallest uniformity p-value {self.min_p_value:.3g} ({self.worst}) vs "
            f"{self.alpha:g}/{self.n_quantities} = {self.alpha / max(self.n_quantities, 1):.3g} "
            f"(Bonferroni), {self.n_simulations} simulations"
        )
        if self.n_failed_diagnostics:
            text += f"; {self.n_failed_diagnostics} fits failed their diagnostics"
        if self.n_errors:
            text += f"; {self.n_errors} simulations raised (see .diagnostics['error'])"
        return text


class SBCResult:
    """The simulations of a campaign, with tables, p-values, verdict, plots and file I/O.

    Parameters
    ----------
    results : list of SimulationResult
    attrs : dict
        The campaign's identity (:func:`probgen.calibration.campaign.campaign_attrs`).
    var_dims : dict
        The fitted model's variables and their dims.
    quantities : iterable of str
        Test quantity names (in order, after the variables).
    """

    def __init__(
        self,
        results: list[SimulationResult],
        attrs: Mapping[str, str],
        var_dims: Mapping[str, tuple[str, ...]],
        quantities: Any,
    ):
        self.results = sorted(results, key=lambda r: r.index)
        self.attrs = dict(attrs)
        self.var_dims = {k: tuple(v) for k, v in var_dims.items()}
        self.test_quantities = list(quantities)
        self.seed = int(self.attrs.get("sbc_seed", 0))
        self.names = self._names()

    def _names(self) -> list[str]:
        stored = self.attrs.get("sbc_quantities")
        if stored:
            return json.loads(stored)
        shapes: dict[str, tuple[int, ...]] = {}
        for r in self.results:
            for name in r.ranks:
                m = _NAME.match(name)
                if m and m["var"] in self.var_dims and m["idx"]:
                    idx = tuple(int(i) + 1 for i in m["idx"].split(","))
                    old = shapes.get(m["var"], (0,) * len(idx))
                    shapes[m["var"]] = tuple(max(a, b) for a, b in zip(old, idx, strict=True))
        names = []
        for var, dims in self.var_dims.items():
            names += quantity_names(var, shapes.get(var, ()) if dims else ())
        return names + self.test_quantities

    # ----------------------------------------------------------------- tables
    @property
    def index(self) -> pd.Index:
        return pd.Index([r.index for r in self.results], name="simulation")

    @property
    def ranks(self) -> pd.DataFrame:
        """Ranks, one row per simulation and one column per quantity (<NA> on error)."""
        rows = [[r.ranks.get(n, pd.NA) for n in self.names] for r in self.results]
        return pd.DataFrame(rows, index=self.index, columns=self.names, dtype="Int64")

    @property
    def n_draws(self) -> pd.Series:
        """``L`` per simulation (0 on error)."""
        return pd.Series([r.n_draws for r in self.results], index=self.index, name="n_draws")

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Per simulation: n_draws, divergences, max_rhat, min_ess_bulk, thin, ok, error."""
        rows = []
        for r in self.results:
            d = r.diagnostics
            rows.append(
                {
                    "n_draws": r.n_draws,
                    "divergences": d.get("divergences", -1),
                    "max_rhat": d.get("max_rhat", np.nan),
                    "min_ess_bulk": d.get("min_ess_bulk", np.nan),
                    "thin": d.get("thin", 0),
                    "ok": bool(d.get("ok", False)) and r.error is None,
                    "error": r.error or "",
                }
            )
        return pd.DataFrame(rows, index=self.index)

    @property
    def pit(self) -> pd.DataFrame:
        """PIT values ``(rank + V)/(L + 1)``, V seeded from (seed, simulation); NaN on error."""
        out = np.full((len(self.results), len(self.names)), np.nan)
        for i, r in enumerate(self.results):
            if r.error is not None or not r.ranks:
                continue
            rng = np.random.default_rng(simulation_seeds(self.seed, r.index)[3])
            ranks = np.array([r.ranks[n] for n in self.names], dtype=np.int64)
            out[i] = pit_values(ranks, r.n_draws, rng)
        return pd.DataFrame(out, index=self.index, columns=self.names)

    def summary(self, exclude_failed: bool | None = None) -> pd.DataFrame:
        """Uniformity p-values (arviz-stats' ``pot_c``) per quantity.

        Parameters
        ----------
        exclude_failed : bool or None
            None (default): both columns, ``p_value`` over every simulation with
            ranks and ``p_value_ok`` over the fits that passed their diagnostics
            (with their counts ``n`` and ``n_ok``); True or False: only one.
        """
        if exclude_failed not in (None, True, False):
            raise TypeError(f"exclude_failed must be None, True or False, got {exclude_failed!r}")
        pit = self.pit
        ok = self.diagnostics["ok"].to_numpy(dtype=bool)
        has = np.isfinite(pit.to_numpy()).all(axis=1)

        def column(mask):
            if mask.sum() == 0:
                return np.full(len(self.names), np.nan)
            return np.asarray(uniformity_pvalues(pit.to_numpy()[mask]))

        table = pd.DataFrame(index=pd.Index(self.names, name="quantity"))
        if exclude_failed in (None, False):
            table["n"] = int(has.sum())
            table["p_value"] = column(has)
        if exclude_failed in (None, True):
            table["n_ok"] = int((has & ok).sum())
            table["p_value_ok"] = column(has & ok)
        return table

    def verdict_at(self, alpha: float = 0.01) -> SBCVerdict:
        """The verdict at family-wise level ``alpha`` (Bonferroni over quantities)."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
        p = self.summary(exclude_failed=False)["p_value"]
        diag = self.diagnostics
        n_err = int((diag["error"] != "").sum())
        n_sim = len(self.results) - n_err
        finite = p.dropna()
        min_p = float(finite.min()) if len(finite) else float("nan")
        worst = str(finite.idxmin()) if len(finite) else ""
        q = len(self.names)
        ok = bool(len(finite) == q and min_p >= alpha / q and n_err == 0 and n_sim > 0)
        return SBCVerdict(
            ok,
            min_p,
            worst,
            alpha,
            q,
            n_sim,
            n_err,
            int((~diag["ok"] & (diag["error"] == "")).sum()),
        )

    @property
    def verdict(self) -> SBCVerdict:
        """:meth:`verdict_at` with alpha = 0.01."""
        return self.verdict_at(0.01)

    def __repr__(self) -> str:
        return (
            f"SBCResult({self.attrs.get('sbc_model', '?')}, backend="
            f"{self.attrs.get('sbc_backend', '?')}, {len(self.results)} simulations)\n"
            f"{self.verdict}"
        )

    # -------------------------------------------------------------- DataTree
    def _shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for name in self.names:
            m = _NAME.match(name)
            if m is None or m["var"] not in self.var_dims:
                continue
            if m["idx"] is None:
                shapes[m["var"]] = ()
                continue
            idx = tuple(int(i) + 1 for i in m["idx"].split(","))
            old = shapes.get(m["var"], (0,) * len(idx))
            shapes[m["var"]] = tuple(max(a, b) for a, b in zip(old, idx, strict=True))
        return shapes

    def to_datatree(self) -> xr.DataTree:
        """One DataTree: ``prior_sbc`` (PIT values), ``ranks``, ``diagnostics`` (see module)."""
        sims = [r.index for r in self.results]
        pit = self.pit
        prior: dict[str, Any] = {}
        # positions as labels: arviz-plots selects along every dim by coordinate
        dim_coords: dict[str, Any] = {"chain": [0], "draw": sims}
        for var, shape in self._shapes().items():
            cols = quantity_names(var, shape)
            values = pit[cols].to_numpy().reshape(1, len(sims), *shape)
            prior[var] = (("chain", "draw", *self.var_dims[var]), values)
            dim_coords.update(
                {d: np.arange(n) for d, n in zip(self.var_dims[var], shape, strict=True)}
            )
        for q in self.test_quantities:
            prior[q] = (("chain", "draw"), pit[q].to_numpy()[None])
        ranks = self.ranks.to_numpy(dtype=float, na_value=np.nan)
        diag = self.diagnostics
        attrs = {
            **self.attrs,
            "sbc_var_dims": json.dumps(self.var_dims),
            "sbc_quantities": json.dumps(self.names),
            "sbc_test_quantities_order": json.dumps(self.test_quantities),
        }
        return xr.DataTree.from_dict(
            {
                "/": xr.Dataset(attrs=attrs),
                "prior_sbc": xr.Dataset(prior, coords=dim_coords),
                "ranks": xr.Dataset(
                    {
                        # float: NaN marks a failed simulation (integers otherwise)
                        "rank": (("simulation", "quantity"), ranks),
                        "n_draws": ("simulation", self.n_draws.to_numpy()),
                    },
                    coords={"simulation": sims, "quantity": self.names},
                ),
                "diagnostics": xr.Dataset(
                    {
                        "divergences": ("simulation", diag["divergences"].to_numpy(np.int64)),
                        "max_rhat": ("simulation", diag["max_rhat"].to_numpy(float)),
                        "min_ess_bulk": ("simulation", diag["min_ess_bulk"].to_numpy(float)),
                        "thin": ("simulation", diag["thin"].to_numpy(np.int64)),
                        "ok": ("simulation", diag["ok"].to_numpy(bool)),
                        "error": ("simulation", diag["error"].to_numpy(str)),
                    },
                    coords={"simulation": sims},
                ),
            }
        )

    # ----------------------------------------------------------------- plots
    def plot(self, path: str | os.PathLike, *, backend: str = "matplotlib") -> list[Path]:
        """PIT-ECDF differences and rank histograms, as PNG.

        * ``path``: arviz_plots' ``plot_ecdf_pit`` on ``prior_sbc`` (PIT values,
          its default ``pot_c`` method: the p-value per quantity and the points
          that drive it highlighted).
        * ``<stem>_ranks.png``: per quantity the rank histogram (PIT values in 20
          bins, with the 99% binomial band of one bin of a uniform histogram)
          and the PIT-ECDF difference with its 99% *simultaneous* band
          (arviz_stats' ``ecdf_utils.ecdf_pit``, simulated, seed 0). arviz_plots'
          own band (``method="envelope"``, deprecated there) fails on
          arviz-plots 1.3.2, hence this panel.

        Returns
        -------
        list of Path
            The files written.
        """
        path = Path(path)
        if path.suffix.lower() != ".png":
            raise ValueError(f"path must end in .png, got {str(path)!r}")
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from arviz_plots import plot_ecdf_pit
        from arviz_stats.ecdf_utils import ecdf_pit
        from scipy import stats

        pit = self.pit.dropna()
        n = len(pit)
        if n < 2:
            raise ValueError(f"plotting needs at least 2 simulations with ranks, got {n}")
        dt = self.to_datatree()
        path.parent.mkdir(parents=True, exist_ok=True)
        pc = plot_ecdf_pit(dt, group="prior_sbc", backend=backend)
        pc.savefig(str(path))
        plt.close("all")

        bins, cols = 20, 4
        rows = max(1, -(-len(self.names) // cols))
        fig, axes = plt.subplots(2 * rows, cols, figsize=(3 * cols, 4.2 * rows), squeeze=False)
        lo, hi = stats.binom.ppf([0.005, 0.995], n, 1 / bins)
        x, _, lower, upper = ecdf_pit(
            np.linspace(0, 1, n), 0.99, n_simulations=1000, rng=np.random.default_rng(0)
        )
        for k, name in enumerate(self.names):
            top, bottom = axes[2 * (k // cols), k % cols], axes[2 * (k // cols) + 1, k % cols]
            top.axhspan(lo, hi, color="0.85")
            top.axhline(n / bins, color="0.5", lw=0.8)
            top.hist(pit[name], bins=bins, range=(0, 1), color="C0", edgecolor="white")
            top.set_title(name, fontsize=8)
            top.set_yticks([])
            values = np.sort(pit[name].to_numpy())
            ecdf = np.searchsorted(values, x, side="right") / n
            bottom.fill_between(x, lower - x, upper - x, color="0.85", step="mid")
            bottom.axhline(0, color="0.5", lw=0.8)
            bottom.step(x, ecdf - x, where="mid", color="C0")
            bottom.tick_params(labelsize=7)
        for k in range(len(self.names), rows * cols):
            axes[2 * (k // cols), k % cols].set_axis_off()
            axes[2 * (k // cols) + 1, k % cols].set_axis_off()
        fig.suptitle(
            f"SBC: rank histograms and PIT-ECDF differences, {n} simulations, 99% bands",
            fontsize=9,
        )
        fig.tight_layout()
        ranks_path = path.with_name(f"{path.stem}_ranks.png")
        fig.savefig(ranks_path, dpi=90)
        plt.close(fig)
        return [path, ranks_path]


# -------------------------------------------------------------------- files
def write_sbc(
    path: str | os.PathLike,
    results: list[SimulationResult],
    attrs: Mapping[str, str],
    var_dims: Mapping[str, tuple[str, ...]],
    quantities: Any,
) -> Path:
    """Write a campaign's results to ``path`` atomically (temporary file, then rename)."""
    from probgen.results import write_netcdf_atomic

    path = Path(path)
    if path.suffix.lower() not in (".nc", ".netcdf", ".h5"):
        # checked before building the tree: a wrong name fails fast
        raise ValueError(f"SBC files are netCDF: path must end in .nc, got {str(path)!r}")
    dt = SBCResult(results, attrs, var_dims, quantities).to_datatree()
    return write_netcdf_atomic(dt, path, what="SBC")


def load_sbc(path: str | os.PathLike) -> SBCResult:
    """Read a campaign written by :func:`probgen.calibration.campaign.sbc` (``out=``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no SBC file at {str(path)!r}")
    with xr.open_datatree(path, engine="h5netcdf") as dt:
        dt = dt.load()
    if "ranks" not in dt.children or "diagnostics" not in dt.children:
        raise ValueError(f"{str(path)!r} is not an SBC file (no ranks/diagnostics groups)")
    attrs = {k: str(v) for k, v in dt.attrs.items()}
    names = json.loads(attrs["sbc_quantities"])
    var_dims = {k: tuple(v) for k, v in json.loads(attrs["sbc_var_dims"]).items()}
    tests = json.loads(attrs["sbc_test_quantities_order"])
    ranks = dt["ranks"].dataset
    diag = dt["diagnostics"].dataset
    seed = int(attrs["sbc_seed"])
    results = []
    for i, sim in enumerate(ranks["simulation"].values.tolist()):
        error = str(diag["error"].values[i]) or None
        row = ranks["rank"].values[i]
        results.append(
            SimulationResult(
                index=int(sim),
                seed=seed,
                ranks={}
                if error
                else {n: int(v) for n, v in zip(names, row, strict=True) if np.isfinite(v)},
                n_draws=int(ranks["n_draws"].values[i]),
                diagnostics={}
                if error
                else {
                    "divergences": int(diag["divergences"].values[i]),
                    "max_rhat": float(diag["max_rhat"].values[i]),
                    "min_ess_bulk": float(diag["min_ess_bulk"].values[i]),
                    "thin": int(diag["thin"].values[i]),
                    "ok": bool(diag["ok"].values[i]),
                },
                error=error,
            )
        )
    return SBCResult(results, attrs, var_dims, tests)
