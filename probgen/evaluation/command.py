"""``probgen ppc FIT.nc --out DIR``: the posterior predictive check report of a saved fit.

Dispatched from :mod:`probgen.cli` (``COMMAND_MODULES``). Imports nothing heavy
at module level so that ``probgen --help`` stays fast.

Exit codes: 0 the report is written; 1 with ``--strict``, the report is
written but the fit is not shown trustworthy or a check flags a misfit; 2 bad
input (a missing file, a file that is not a probgen fit, a fit without a
posterior, an unknown statistic, an output folder that exists).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

HELP = "write a posterior predictive check report (HTML, CSV, PNG) for a saved fit"

DESCRIPTION = (
    "Check a saved fit (`probgen fit --out FIT.nc`) against its data: posterior "
    "predictive test statistics with p-values, PSIS-LOO with Pareto k, LOO-PIT, and "
    "the arviz-plots pictures (generated beside real images for image models), "
    "written as a folder with index.html, ppc.csv, loo.csv, loo_pit.csv and PNGs."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``ppc`` subcommand's arguments."""
    parser.add_argument("fit", metavar="FIT", help="a fit saved by probgen (.nc)")
    parser.add_argument("--out", required=True, metavar="DIR", help="the report folder to write")
    parser.add_argument(
        "--statistics",
        nargs="+",
        default=None,
        metavar="NAME",
        help="test statistics by name (default: each variable's defaults); built-ins: "
        "mean sd q05 q25 q50 q75 q95 min max prop_zero acf1 row_mean_sd, and for "
        "the generative classifiers class_prop class_mean",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the replicated data and the pictures"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing non-empty report folder",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when the fit is not shown trustworthy or a check flags a misfit",
    )


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def load_checked_fit(path: str):
    """Read ``path`` as a probgen fit with a posterior, or raise ValueError saying why."""
    import xarray as xr

    from probgen.results import load_fit

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no fit file at {path!r}")
    if p.is_dir():
        raise ValueError(f"{path!r} is a folder, not a fit file (.nc)")
    try:
        fit = load_fit(p)
    except Exception as exc:  # h5py/netCDF raise many kinds for a non-netCDF file
        raise ValueError(
            f"{path!r} is not a netCDF fit file ({type(exc).__name__}: {exc}); "
            "save fits with `probgen fit --out FIT.nc` or probgen.save_fit"
        ) from None
    if not isinstance(fit, xr.DataTree) or "probgen_model" not in fit.attrs:
        raise ValueError(
            f"{path!r} is a netCDF file but not a probgen fit (no 'probgen_model' attribute)"
        )
    if "posterior" not in fit.children:
        kind = (
            "a prior predictive sample"
            if "prior_predictive" in fit.children
            else f"a file with groups {list(fit.children)}"
        )
        raise ValueError(
            f"{path!r} has no posterior group (it is {kind}); `probgen ppc` checks a "
            "fitted model: save one with `probgen fit --out FIT.nc`"
        )
    return fit


def run(args: argparse.Namespace) -> int:
    """Write the report; print where it is and one verdict line per check."""
    try:
        fit = load_checked_fit(args.fit)
    except (FileNotFoundError, ValueError) as exc:
        return _error(str(exc))
    from probgen.evaluation.ppc import resolve_statistics
    from probgen.evaluation.report import check_out, write_report

    try:
        # refused here, before the (possibly long) predictive draws
        resolve_statistics(args.statistics)
        check_out(args.out, args.overwrite)
    except (FileExistsError, ValueError, TypeError) as exc:
        return _error(str(exc))
    report = write_report(
        fit, args.out, statistics=args.statistics, seed=args.seed, overwrite=args.overwrite
    )
    return print_summary(report, strict=args.strict)


def print_summary(report, *, strict: bool = False) -> int:
    """Print a written report's location, verdicts and problems; the exit code."""
    print(f"wrote the posterior predictive check report to {report.path}/index.html")
    headline = report.diagnostics.splitlines()[0] if report.diagnostics else ""
    print(f"diagnostics: {headline}")
    for line in report.verdict_lines:
        print(f"  {line}")
    for problem in report.problems:
        print(f"not computed: {problem}")
    if report.flagged:
        print(f"{len(report.flagged)} check(s) flag a misfit")
    if strict and (not report.trustworthy or report.flagged):
        return EXIT_FAIL
    return EXIT_OK
