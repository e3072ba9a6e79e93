"""Robustness sweep: every posteriordb posterior x backend x seed, as a markdown table.

Each fit is ``probgen.posteriordb.run_reference`` (the zoo model of the
posterior, the adapter's sampler settings), judged by the reference draws when
the database has them and always by ``probgen.diagnose``. One row per fit::

    posterior | backend | seed | reference | failed diagnostics | divergences |
    stuck chains | max R-hat | min bulk ESS | wall s | note

``reference`` is ``pass`` (trustworthy fit and every parameter within |z|),
``FAIL`` or ``no ref``. Rows are appended to the output as each fit ends (an
interrupted sweep keeps its rows); a fit that raises is recorded as ``error``
with its message and the sweep goes on. A summary line closes the file.

A chain is **stuck** (see :func:`stuck_chains`) when any of

* ``frozen``: for most of the run it does not move: at least half of its
  transitions leave every parameter unchanged, or every parameter's sd within
  the chain is under 1% of its sd in the other chains;
* ``max-depth``: at least half of its transitions hit the maximum tree depth;
* ``R-hat``: it alone explains a bad R-hat: with 3 or more chains, the largest
  R-hat over parameters exceeds 1.05 and drops to 1.01 or less when this one
  chain is left out.

Usage::

    python scripts/robustness.py --db ../shared/posteriordb            # everything, 5 seeds
    python scripts/robustness.py --posteriors eight_schools-eight_schools_noncentered \\
        arK-arK --seeds 1 --out /tmp/ROBUSTNESS.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import warnings
from pathlib import Path

# Before JAX starts (probgen sets up the CPU devices at import): float64, as the tests.
os.environ.setdefault("PROBGEN_PRECISION", "float64")

import numpy as np
import xarray as xr

import probgen
from probgen.posteriordb import PosteriorDatabase, adapters, run_reference

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("numpyro", "pymc")

#: stuck-chain thresholds (see the module docstring)
FROZEN_FRACTION = 0.5
FROZEN_SD_RATIO = 0.01
MAX_DEPTH_FRACTION = 0.5
RHAT_BAD = 1.05
RHAT_GOOD = 1.01

COLUMNS = (
    "posterior",
    "backend",
    "seed",
    "reference",
    "failed diagnostics",
    "divergences",
    "stuck chains",
    "max R-hat",
    "min bulk ESS",
    "wall s",
    "note",
)


def _draw_matrix(posterior: xr.Dataset) -> np.ndarray:
    """Every posterior variable's scalars as a (chain, draw, P) array."""
    parts = []
    for var in posterior.data_vars.values():
        arr = var.transpose("chain", "draw", ...).values.astype(float)
        parts.append(arr.reshape(arr.shape[0], arr.shape[1], -1))
    return np.concatenate(parts, axis=-1)


def _max_rhat(x: np.ndarray) -> float:
    import arviz_stats

    ds = xr.Dataset({"x": (("chain", "draw", "p"), x)})
    return float(np.nanmax(arviz_stats.rhat(ds)["x"].values))


def stuck_chains(fit: xr.DataTree) -> dict[int, list[str]]:
    """Chains that are stuck, with the reasons: ``{chain index: [reason, ...]}``.

    Parameters
    ----------
    fit : xarray.DataTree
        A probgen fit (``posterior`` and ``sample_stats`` groups).

    Returns
    -------
    dict
        Only the stuck chains; reasons among ``frozen``, ``max-depth``, ``R-hat``.
    """
    x = _draw_matrix(fit["posterior"].dataset)
    n_chains = x.shape[0]
    out: dict[int, list[str]] = {}

    def flag(c: int, reason: str) -> None:
        out.setdefault(c, []).append(reason)

    for c in range(n_chains):
        unchanged = np.all(np.diff(x[c], axis=0) == 0, axis=-1).mean()
        others = np.delete(x, c, axis=0).reshape(-1, x.shape[-1])
        sd_others = others.std(axis=0) if n_chains > 1 else np.full(x.shape[-1], np.inf)
        tiny = np.all(x[c].std(axis=0) < FROZEN_SD_RATIO * sd_others)
        if unchanged >= FROZEN_FRACTION or (n_chains > 1 and tiny):
            flag(c, "frozen")
    stats = fit["sample_stats"].dataset if "sample_stats" in fit.children else None
    if stats is not None and "reached_max_treedepth" in stats:
        depth = stats["reached_max_treedepth"].transpose("chain", "draw").values
        for c in range(n_chains):
            if depth[c].mean() >= MAX_DEPTH_FRACTION:
                flag(c, "max-depth")
    if n_chains >= 3 and _max_rhat(x) > RHAT_BAD:
        for c in range(n_chains):
            if _max_rhat(np.delete(x, c, axis=0)) <= RHAT_GOOD:
                flag(c, "R-hat")
    return out


def _number(check, fmt: str) -> str:
    """A check's worst value, or n/a when the check is absent or was not computed."""
    value = None if check is None else check.value
    return "n/a" if value is None else format(value, fmt)


def _cell(value: object) -> str:
    return str(value).replace("|", r"\|").replace("\n", " ")


def _row(values: dict[str, object]) -> str:
    return "| " + " | ".join(_cell(values.get(c, "")) for c in COLUMNS) + " |\n"


def fit_row(posterior: str, backend: str, seed: int, db, args) -> dict[str, object]:
    """Run one fit and describe it as a table row (an error is a row too)."""
    row: dict[str, object] = {"posterior": posterior, "backend": backend, "seed": seed}
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the row says what matters
            result = run_reference(
                posterior,
                db,
                backend=backend,
                chains=args.chains,
                draws=args.draws,
                warmup=args.warmup,
                seed=seed,
            )
        checks = {c.name: c for c in result.verdict.checks}
        stuck = stuck_chains(result.fit)
        n_params = "" if result.table is None else len(result.table)
        n_bad = 0 if result.table is None else int((~result.table["passed"]).sum())
        if not result.has_reference:
            reference = "no ref"
        elif result.passed:
            reference = "pass"
        else:
            reference = "FAIL" + (f" ({n_bad}/{n_params} params)" if n_bad else "")
        row.update(
            {
                "reference": reference,
                "failed diagnostics": ", ".join(result.failed_diagnostics) or "-",
                "divergences": _number(checks.get("divergences"), ".0f"),
                "stuck chains": "; ".join(f"{c}: {'+'.join(r)}" for c, r in stuck.items()) or "-",
                "max R-hat": _number(checks.get("r_hat"), ".3f"),
                "min bulk ESS": _number(checks.get("ess_bulk"), ".0f"),
            }
        )
        row["_ok"] = reference
        row["_stuck"] = bool(stuck)
        row["_trusted"] = result.trustworthy
    except Exception as exc:  # record it and go on: one bad fit must not end the sweep
        row.update({"reference": "error", "note": f"{type(exc).__name__}: {exc}"[:300]})
        row["_ok"] = "error"
    row["wall s"] = f"{time.perf_counter() - start:.1f}"
    return row


def _header(args, db: PosteriorDatabase, posteriors, backends, seeds) -> str:
    import jax
    import pymc

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    argv = " ".join(sys.argv[1:])
    return (
        "# Robustness sweep: posteriordb posteriors x backends x seeds\n\n"
        f"Produced by `python scripts/robustness.py {argv}` on {now}.\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, probgen "
        f"{probgen.__version__}, jax {jax.__version__}, pymc {pymc.__version__}, "
        f"precision {probgen.get_precision()}.\n\n"
        f"Database: `{db.root}`. Settings: {args.chains} chains, {args.warmup} warm-up + "
        f"{args.draws} draws, each posterior's adapter settings, PyMC's own NUTS for pymc. "
        f"Posteriors: {len(posteriors)}; backends: {', '.join(backends)}; seeds: "
        f"{', '.join(map(str, seeds))}.\n\n"
        "`reference`: `pass` = trustworthy fit (`probgen.diagnose`) and every parameter's "
        "mean and sd within |z| <= 4.5 of the reference (fit MCSE capped at that of a fit "
        "with ESS 100 per chain); `FAIL`; `no ref` = no reference draws in the database "
        "(then only the diagnostics judge). A stuck chain: `frozen` (>= 50% of transitions "
        "move no parameter, or its sd < 1% of the other chains' for every parameter), "
        "`max-depth` (>= 50% of its transitions at the maximum tree depth) or `R-hat` "
        "(max R-hat > 1.05 and <= 1.01 without that chain). Chains are numbered from 0.\n\n"
        "| " + " | ".join(COLUMNS) + " |\n" + "|" + "---|" * len(COLUMNS) + "\n"
    )


def _summary(rows: list[dict[str, object]], wall: float) -> str:
    n = len(rows)
    kinds = [str(r.get("_ok", "error")) for r in rows]
    passed = sum(k == "pass" for k in kinds)
    failed = sum(k.startswith("FAIL") for k in kinds)
    noref = [r for r in rows if r.get("_ok") == "no ref"]
    errors = sum(k == "error" for k in kinds)
    untrusted = sum(not r.get("_trusted", True) for r in noref)
    stuck = sum(bool(r.get("_stuck")) for r in rows)
    return (
        f"\n**Summary:** {n} fits: {passed} pass, {failed} fail the reference, "
        f"{len(noref)} without reference ({untrusted} of them untrustworthy), {errors} "
        f"errors; {stuck} fits with a stuck chain; {wall / 60:.1f} min in all.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default=os.environ.get("PROBGEN_POSTERIORDB", str(ROOT.parent / "shared" / "posteriordb")),
        help="posterior database (clone or flat); default $PROBGEN_POSTERIORDB or "
        "../shared/posteriordb",
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--posteriors", nargs="+", help="default: every adapter")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "ROBUSTNESS.md"))
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=1000)
    args = parser.parse_args(argv)
    for name in ("seeds", "chains", "draws", "warmup"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")

    db = PosteriorDatabase.open(args.db)
    table = adapters()
    posteriors = args.posteriors or sorted(table)
    unknown = [p for p in posteriors if p not in table]
    if unknown:
        parser.error(f"unknown posterior(s) {unknown}; known: {', '.join(sorted(table))}")
    seeds = list(range(args.seeds))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_header(args, db, posteriors, args.backends, seeds))

    rows: list[dict[str, object]] = []
    start = time.perf_counter()
    for posterior in posteriors:
        for backend in args.backends:
            for seed in seeds:
                row = fit_row(posterior, backend, seed, db, args)
                rows.append(row)
                with out.open("a") as fh:  # row by row: an interrupted sweep keeps its rows
                    fh.write(_row(row))
                print(_row(row), end="", flush=True)
    summary = _summary(rows, time.perf_counter() - start)
    with out.open("a") as fh:
        fh.write(summary)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
