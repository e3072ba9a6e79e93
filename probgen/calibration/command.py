"""``probgen sbc MODEL``: simulation-based calibration of a zoo model.

Runs :func:`probgen.calibration.campaign.sbc` (locally, or on Dask with
``--scheduler``), writes the campaign to a netCDF file as batches finish (a
second run with the same arguments and ``--out`` resumes it), optionally draws
the PIT-ECDF and rank-histogram plot, then prints the uniformity p-values per
quantity and the verdict.

Nothing heavy is imported at module level: ``probgen --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "simulation-based calibration: is inference right for this model?"
DESCRIPTION = (
    "Simulation-based calibration (Talts et al. 2018): draw parameters from the prior, "
    "simulate a data set, fit it, and rank each true value among its posterior draws; "
    "the ranks are uniform exactly when inference is right. Prints the uniformity "
    "p-value of every quantity (with and without the fits that failed their "
    "diagnostics) and a verdict. The campaign is written to --out as it runs: run the "
    "same command again to resume an interrupted one."
)

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``probgen sbc`` options (the parser's ``formatter_class`` shows defaults)."""
    parser.add_argument("model", metavar="MODEL", help="a zoo model name (`probgen models`)")
    parser.add_argument("--backend", default="numpyro", help="numpyro or pymc")
    parser.add_argument(
        "--simulations",
        type=_positive_int,
        default=100,
        metavar="N",
        help="number of simulated data sets (fits)",
    )
    parser.add_argument(
        "--draws",
        type=_positive_int,
        default=None,
        help="kept draws per chain of each fit (default: 500)",
    )
    parser.add_argument(
        "--chains", type=_positive_int, default=2, help="chains of each fit (pooled for ranks)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="warm-up draws per chain of each fit (default: the same as --draws)",
    )
    parser.add_argument("--seed", type=int, default=0, help="campaign seed (non-negative)")
    parser.add_argument(
        "--config",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="model configuration, read as the types the model declares "
        "(`probgen describe MODEL` lists the keys)",
    )
    parser.add_argument(
        "--simulate-with",
        nargs="*",
        default=None,
        metavar="KEY=VALUE",
        help="simulate the data sets from the same model with this configuration "
        "instead (checks that SBC has power to see a mismatch)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="the campaign's netCDF file, written as batches finish and resumed when it "
        "exists (default: MODEL_sbc.nc). Checked before anything runs",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        help="simulations per batch (one compiled program / one Dask task)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="local|ADDRESS",
        help="run on Dask: 'local' for a local cluster, or a scheduler address such "
        "as tcp://host:8786 (needs `pip install probgen[dask]`)",
    )
    parser.add_argument("--plot", default=None, metavar="PNG", help="save the SBC plot here")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when SBC flags the model (a quantity fails the uniformity test)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress")


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _check_plot_path(plot: str) -> Path:
    """``--plot`` must be a .png in a directory that exists and can be written."""
    import os

    path = Path(plot)
    if path.suffix.lower() != ".png":
        raise ValueError(f"--plot must end in .png, got {plot!r}")
    parent = path.parent
    if not parent.is_dir():
        raise ValueError(f"--plot {plot!r}: its directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--plot {plot!r}: cannot write in {str(parent)!r}")
    return path


def run(args: argparse.Namespace) -> int:
    """Run the campaign, save it, print p-values and verdict; the exit code."""
    from probgen.cli import prepare_out, remove_dirs
    from probgen.config import parse_config
    from probgen.registry import get_model_class

    if args.seed < 0:
        return _usage(f"--seed must be a non-negative integer, got {args.seed}")
    if args.backend not in ("numpyro", "pymc"):
        return _usage(f"--backend must be numpyro or pymc, got {args.backend!r}")
    if args.warmup is not None and args.warmup < 0:
        return _usage(f"--warmup must be a non-negative integer, got {args.warmup}")
    # everything that can be checked is checked before the first simulation
    cls = get_model_class(args.model)
    model = cls(**parse_config(cls, args.config))
    simulate_with = None
    if args.simulate_with is not None:
        simulate_with = cls(**parse_config(cls, args.simulate_with))
    if args.scheduler is not None:
        from probgen.calibration.distributed import import_distributed

        import_distributed()  # the missing extra, named, before anything runs
    plot = _check_plot_path(args.plot) if args.plot else None
    out = Path(args.out) if args.out else Path(f"{model.name}_sbc.nc")
    created = prepare_out(out)

    from probgen.calibration.campaign import sbc

    kwargs = {
        "backend": args.backend,
        "num_simulations": args.simulations,
        "seed": args.seed,
        "simulate_with": simulate_with,
        "out": out,
        "scheduler": args.scheduler,
        "progress": not args.no_progress,
        "chains": args.chains,
    }
    if args.draws is not None:
        kwargs["draws"] = args.draws
    if args.warmup is not None:
        kwargs["warmup"] = args.warmup
    if args.batch_size is not None:
        kwargs["batch_size"] = args.batch_size
    try:
        result = sbc(model, **kwargs)
    except BaseException:
        if not out.exists():
            remove_dirs(created)
        raise
    print(f"\nsaved the SBC campaign to {out}")
    if plot is not None:
        result.plot(plot)
        print(f"saved the SBC plot to {plot}")
    print(_report(result, model))
    if args.strict and not _passed(result):
        return EXIT_FAIL
    return EXIT_OK


def _report(result, model) -> str:
    """The p-value table (with and without failed fits) and the verdict, as text."""
    import pandas as pd

    table = result.summary()
    lines = [f"\nSBC of {model!r}: uniformity p-values per quantity"]
    with pd.option_context("display.max_rows", None, "display.width", 120):
        lines.append(table.to_string())
    lines.append("")
    lines.append(str(result.verdict))
    return "\n".join(lines)


def _passed(result) -> bool:
    verdict = result.verdict
    return bool(getattr(verdict, "ok", verdict))
