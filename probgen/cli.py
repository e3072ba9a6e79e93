"""The ``probgen`` command line: list, describe, fit and check models.

Exit codes: 0 success; 1 an untrustworthy fit under ``--strict`` or a failed
reference comparison; 2 bad input (unknown names, bad data, bad arguments) or
an unknown posterior / missing reference.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _config_pairs(pairs: list[str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--config expects KEY=VALUE, got {pair!r}")
        try:
            config[key] = json.loads(value)
        except json.JSONDecodeError:
            config[key] = value  # plain strings such as normal(0, 10)
    return config


def _add_sampling_args(p: argparse.ArgumentParser, *, draws: int = 1000) -> None:
    p.add_argument("--backend", default="numpyro", help="numpyro (default) or pymc")
    p.add_argument(
        "--sampler",
        default=None,
        help="for --backend pymc: pymc (default), nutpie, numpyro or blackjax",
    )
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=draws)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target-accept", type=float, default=None)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="probgen",
        description="Bayesian generative models sampled with NUTS on NumPyro or PyMC.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("models", help="list the zoo: name, family, one line")

    p = sub.add_parser("describe", help="print a model's generative story")
    p.add_argument("model")

    p = sub.add_parser("fit", help="fit a model, print summary and diagnostics, save the fit")
    p.add_argument("model", nargs="?", default="eight_schools")
    p.add_argument("--data", help="data file (.json: object of arrays; .csv: columns)")
    p.add_argument(
        "--config",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="model configuration, e.g. centered=true coef_prior='normal(0, 1)'",
    )
    p.add_argument("--out", help="where to save the fit (netCDF); default MODEL.nc")
    p.add_argument(
        "--strict", action="store_true", help="exit 1 when the fit should not be trusted"
    )
    _add_sampling_args(p)

    p = sub.add_parser("reference", help="check a posteriordb posterior against its reference")
    p.add_argument("posterior", nargs="?")
    p.add_argument(
        "--db",
        help="posterior database: a posteriordb clone or a flat data/ + reference/ "
        "directory (default: $PROBGEN_POSTERIORDB)",
    )
    p.add_argument("--list", action="store_true", help="list the supported posteriors")
    p.add_argument("--save-draws", help="write the fitted draws as reference-format JSON")
    p.add_argument("--z", type=float, default=4.5, help="largest |z| that passes")
    _add_sampling_args(p, draws=1000)
    return parser


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
    from probgen.registry import get_model_class

    cls = get_model_class(args.model)
    print(f"{cls.name} ({cls.family}): {cls.summary}\n")
    print(cls.describe())
    return EXIT_OK


def _cmd_fit(args) -> int:
    import warnings

    import arviz_stats

    from probgen.data import read_data_file
    from probgen.diagnostics import diagnose
    from probgen.inference import sample
    from probgen.registry import get_model
    from probgen.results import save_fit

    model = get_model(args.model, **_config_pairs(args.config))
    data = read_data_file(args.data) if args.data else None
    out = Path(args.out) if args.out else Path(f"{model.name}.nc")
    if out.suffix.lower() != ".nc":
        raise ValueError(f"--out must end in .nc, got {str(out)!r}")
    with warnings.catch_warnings():
        # the verdict is printed in full below; no need to warn twice
        warnings.simplefilter("ignore", category=UserWarning)
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
            progress=not args.no_progress,
        )
    summary = arviz_stats.summary(fit, kind="all")
    print(f"\nPosterior summary of {model!r} ({fit.attrs['backend']}, {fit.attrs['sampler']}):")
    print(summary.to_string())
    verdict = diagnose(fit)
    print()
    print(verdict.report())
    save_fit(fit, out)
    print(f"\nsaved the fit to {out}")
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
    if not result.has_reference:
        return EXIT_USAGE
    return EXIT_OK if result.passed else EXIT_FAIL


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
    }
    try:
        return commands[args.command](args)
    except (ProbgenError, ValueError, TypeError, KeyError, FileNotFoundError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
