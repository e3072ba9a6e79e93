"""The ``probgen`` command line: list, describe, fit and check models.

Exit codes: 0 success; 1 a fit not shown trustworthy under ``--strict`` (a
failed or uncomputed check, or diagnostics that could not run) or a failed
reference comparison; 2 bad input (unknown names, bad data, bad configuration,
bad arguments, an ``--out`` that cannot be written) or an unknown posterior /
missing reference.

``fit`` checks everything it can before sampling, saves the fit before printing
anything about it, and never loses a finished fit to a failure afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, except where there is none to show (None, a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


def _sampler_help() -> str:
    from probgen.backends.samplers import SAMPLERS

    return "the samplers (--backend B --sampler S, written B/S): " + "; ".join(
        f"{s.backend}/{s.name}: {s.runs}" for s in SAMPLERS
    )


def _add_sampling_args(p: argparse.ArgumentParser) -> None:
    from probgen.backends.samplers import BACKENDS, samplers_of

    defaults = ", ".join(f"{b}: {samplers_of(b)[0].name}" for b in BACKENDS)
    p.add_argument("--backend", default="numpyro", help=f"one of {', '.join(BACKENDS)}")
    p.add_argument(
        "--sampler",
        default=None,
        help=f"the backend's default when omitted ({defaults}); {_sampler_help()}",
    )
    p.add_argument("--chains", type=int, default=4, help="number of chains")
    p.add_argument(
        "--draws",
        type=int,
        default=None,
        help="kept draws per chain (default: the model's sampler_defaults, else 1000)",
    )
    p.add_argument("--warmup", type=int, default=1000, help="warm-up (tuning) draws per chain")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument(
        "--target-accept",
        type=float,
        default=None,
        help="NUTS target acceptance (default: the model's sampler_defaults, else 0.8)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _parser() -> argparse.ArgumentParser:
    from probgen.registry import list_models

    parser = argparse.ArgumentParser(
        prog="probgen",
        description="Bayesian generative models sampled with NUTS on NumPyro or PyMC.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("models", help="list the zoo: name, family, one line")

    models = ", ".join(list_models())
    p = sub.add_parser("describe", help="print a model's generative story")
    p.add_argument("model", metavar="MODEL", help=f"a zoo model name: {models}")

    p = sub.add_parser(
        "fit",
        help="fit a model, save the fit, print summary and diagnostics",
        formatter_class=_HelpFormatter,
        description="Fit a zoo model with NUTS, save the fit (netCDF), then print the "
        "posterior summary and the diagnostics verdict.",
    )
    p.add_argument(
        "model",
        nargs="?",
        default="eight_schools",
        metavar="MODEL",
        help=f"a zoo model name (`probgen models` lists them with a line each): {models}",
    )
    p.add_argument("--data", help="data file (.json: object of arrays; .csv: columns)")
    p.add_argument(
        "--config",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="model configuration, each value read as the type the model declares: "
        "booleans true/false, yes/no, 1/0, on/off; none for an optional value; "
        "tuples as 1,2,3 or [1, 2, 3]; e.g. centered=true coef_prior='normal(0, 1)' "
        "(`probgen describe MODEL` documents the keys)",
    )
    p.add_argument(
        "--out",
        help="where to save the fit, a .nc file; default MODEL.nc. Checked before "
        "sampling: its directory is created if missing and must be writable",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when the fit is not shown trustworthy (failed or uncomputed checks)",
    )
    p.add_argument(
        "--ppc",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="after saving the fit, write its posterior predictive check report "
        "(`probgen ppc`) to DIR; default beside the fit, <fit stem>_ppc/. Checked "
        "before sampling: DIR must not be a non-empty folder",
    )
    _add_sampling_args(p)
    p.add_argument(
        "--max-tree-depth",
        type=int,
        default=None,
        help="NUTS maximum tree depth (default: the model's sampler_defaults, else 10)",
    )
    p.add_argument(
        "--dense-mass",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="adapt a dense mass matrix (default: the model's sampler_defaults, else no)",
    )

    p = sub.add_parser(
        "reference",
        help="check a posteriordb posterior against its reference",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("posterior", nargs="?")
    p.add_argument(
        "--db",
        help="posterior database: a posteriordb clone or a flat data/ + reference/ "
        "directory (default: $PROBGEN_POSTERIORDB)",
    )
    p.add_argument("--list", action="store_true", help="list the supported posteriors")
    p.add_argument("--save-draws", help="write the fitted draws as reference-format JSON")
    p.add_argument("--z", type=float, default=4.5, help="largest |z| that passes")
    _add_sampling_args(p)

    for command, module in _command_modules().items():
        p = sub.add_parser(
            command,
            help=module.HELP,
            description=module.DESCRIPTION,
            formatter_class=_HelpFormatter,
        )
        module.add_arguments(p)
    return parser


#: commands that live beside the concept they run: each module has HELP,
#: DESCRIPTION, ``add_arguments(parser)`` and ``run(args) -> exit code``, and
#: imports nothing heavy at module level (``probgen --help`` stays fast).
COMMAND_MODULES = {
    "ppc": "probgen.evaluation.command",
    "compare": "probgen.studies.command",
    "sbc": "probgen.calibration.command",
}


def _command_modules() -> dict:
    import importlib

    return {command: importlib.import_module(name) for command, name in COMMAND_MODULES.items()}


#: suffixes a fit file may have (those ``probgen.save_fit`` writes)
FIT_SUFFIXES = (".nc", ".netcdf", ".h5")


def prepare_out(out: Path) -> list[Path]:
    """Make sure a fit can be saved at ``out``, before any sampling.

    Creates missing parent directories and proves the directory writable by
    creating and removing a temporary file in it. Returns the directories it
    created (outermost first), so that a failed run can remove them again.

    Raises
    ------
    ValueError
        Naming ``--out`` and what is wrong: suffix, a directory, a parent that
        cannot be created, a directory that cannot be written.
    """
    if out.suffix.lower() not in FIT_SUFFIXES:
        raise ValueError(f"--out must end in .nc (a netCDF file), got {str(out)!r}")
    if out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a directory; give a file name ending in .nc")
    parent = out.parent
    missing = []
    for d in [parent, *parent.parents]:
        if d.exists():
            break
        missing.append(d)
    missing.reverse()
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"--out {str(out)!r}: cannot create its directory {str(parent)!r} "
            f"({exc.strerror or exc})"
        ) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        remove_dirs(missing)
        raise ValueError(
            f"--out {str(out)!r}: cannot write in {str(parent)!r} ({exc.strerror or exc})"
        ) from None
    return missing


def remove_dirs(created: list[Path]) -> None:
    """Remove directories this run created, innermost first, if still empty."""
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:
            break


def _cmd_models(args) -> int:
    from probgen.registry import get_model_class, list_models

    rows = [(n, get_model_class(n)) for n in list_models()]
    width = max(len(n) for n, _ in rows)
    fam = max(len(c.family) for _, c in rows)
    print(f"{'name':<{width}}  {'family':<{fam}}  summary")
    for name, cls in rows:
        print(f"{name:<{width}}  {cls.family:<{fam}}  {cls.summary}")
    return EXIT_OK


def _cmd_describe(args) -> int:
    from probgen.config import config_defaults, config_types, describe_type, format_value
    from probgen.registry import get_model_class

    cls = get_model_class(args.model)
    print(f"{cls.name} ({cls.family}): {cls.summary}\n")
    print(cls.describe())
    types, defaults = config_types(cls), config_defaults(cls)
    print("\nConfiguration (fit --config KEY=VALUE):" if types else "\nNo configuration.")
    for key, tp in types.items():
        default = f" = {format_value(defaults[key])}" if key in defaults else ""
        print(f"  {key}: {describe_type(tp)}{default}")
    return EXIT_OK


def _cmd_fit(args) -> int:
    import arviz_stats

    from probgen.config import parse_config
    from probgen.data import read_data_file
    from probgen.diagnostics import diagnose
    from probgen.inference import sample
    from probgen.registry import get_model_class
    from probgen.results import save_fit

    # everything that can be checked is checked before sampling starts
    cls = get_model_class(args.model)
    model = cls(**parse_config(cls, args.config))
    data = read_data_file(args.data) if args.data else None
    out = Path(args.out) if args.out else Path(f"{model.name}.nc")
    ppc_dir = None
    if args.ppc is not None:
        from probgen.evaluation.report import check_out

        # an existing report is refused before sampling, not after
        try:
            ppc_dir = check_out(
                Path(args.ppc) if args.ppc else out.with_name(f"{out.stem}_ppc"),
                overwrite=False,
                function="--ppc",
            )
        except FileExistsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    created = prepare_out(out)
    try:
        # check=False: the verdict is printed in full below, once
        fit = sample(
            model,
            data,
            backend=args.backend,
            sampler=args.sampler,
            chains=args.chains,
            draws=args.draws,
            warmup=args.warmup,
            seed=args.seed,
            target_accept=args.target_accept,
            max_tree_depth=args.max_tree_depth,
            dense_mass=args.dense_mass,
            progress=not args.no_progress,
            check=False,
        )
    except BaseException:
        remove_dirs(created)
        raise
    # saved first: whatever goes wrong below, the draws are on disk
    save_fit(fit, out)
    print(f"\nsaved the fit to {out}")
    try:
        summary = arviz_stats.summary(fit, kind="all")
        verdict = diagnose(fit)
    except Exception as exc:  # the fit is saved; report and carry on
        print(
            f"error: could not summarise or diagnose the fit ({type(exc).__name__}: {exc}); "
            f"the draws are saved in {out}",
            file=sys.stderr,
        )
        return EXIT_FAIL if args.strict else EXIT_OK
    attrs = fit.attrs
    print(
        f"\nPosterior summary of {model!r}: backend {attrs['backend']}, sampler "
        f"{attrs['sampler']}, {attrs['chains']} chain(s) x {attrs['draws']} draws "
        f"after {attrs['warmup']} warm-up"
    )
    print(summary.to_string())
    print()
    print(verdict.report())
    if ppc_dir is not None:
        from probgen.evaluation.command import print_summary
        from probgen.evaluation.report import write_report

        print()
        try:
            report = write_report(fit, ppc_dir, seed=args.seed)
        except Exception as exc:  # the fit is saved; report and carry on
            print(
                f"error: could not write the posterior predictive check report "
                f"({type(exc).__name__}: {exc}); the draws are saved in {out}",
                file=sys.stderr,
            )
            return EXIT_FAIL
        print_summary(report)
    if args.strict and not verdict.ok:
        return EXIT_FAIL
    return EXIT_OK


def _cmd_reference(args) -> int:
    from probgen.posteriordb import (
        PosteriorDatabase,
        adapters,
        draws_to_json,
        reference_for,
        run_reference,
    )

    try:
        db = PosteriorDatabase.open(args.db)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    table = adapters()
    if args.list:
        width = max(len(n) for n in table)
        print(f"{'posterior':<{width}}  {'model':<20}  reference in {db.root}")
        for name, row in sorted(table.items()):
            has = reference_for(db, name) is not None
            print(f"{name:<{width}}  {row.model:<20}  {'yes' if has else 'no'}")
        return EXIT_OK
    if not args.posterior:
        print("error: name a POSTERIOR, or use --list", file=sys.stderr)
        return EXIT_USAGE
    if args.posterior not in table:
        print(
            f"error: unknown posterior {args.posterior!r}; see `probgen reference --list`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    result = run_reference(
        args.posterior,
        db,
        backend=args.backend,
        sampler=args.sampler,
        chains=args.chains,
        draws=args.draws,
        warmup=args.warmup,
        seed=args.seed,
        z=args.z,
        progress=not args.no_progress,
        target_accept=args.target_accept,
    )
    if args.save_draws:
        draws_to_json(result.draws, args.save_draws)
        print(f"saved the fitted draws to {args.save_draws}")
    print(result.report())
    return result.exit_code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``probgen`` command."""
    args = _parser().parse_args(argv)
    import probgen  # noqa: F401  (sets up JAX devices before any backend loads)
    from probgen.errors import ProbgenError

    commands = {
        "models": _cmd_models,
        "describe": _cmd_describe,
        "fit": _cmd_fit,
        "reference": _cmd_reference,
        **{command: module.run for command, module in _command_modules().items()},
    }
    with warnings.catch_warnings():
        # a command-line user gets the message, not a source file and line
        warnings.showwarning = _show_warning
        try:
            return commands[args.command](args)
        except (
            ProbgenError,
            ValueError,
            TypeError,
            KeyError,
            FileNotFoundError,
            ImportError,
        ) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as ``warning: Category: message`` on stderr (no file path)."""
    print(f"warning: {category.__name__}: {message}", file=sys.stderr if file is None else file)


if __name__ == "__main__":
    sys.exit(main())
