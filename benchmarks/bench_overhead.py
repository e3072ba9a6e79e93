"""probgen's overhead against the raw libraries, in one process, same model and settings.

For each model (eight schools, linear regression) and each repeat, runs in turn:

* raw NumPyro: ``MCMC(NUTS(model.numpyro_model, ...)).run`` with the same data,
  extra fields, chain method, seed and settings probgen uses;
* probgen's NumPyro path: ``probgen.sample(..., backend="numpyro")``;
* raw PyMC: ``pm.sample(model=<the same pm.Model>, nuts_sampler="pymc", ...)``;
* probgen's PyMC path: ``probgen.sample(..., backend="pymc", sampler="pymc")``.

Figures per run: wall time of the whole call (compile and probgen's
post-processing included), sampling time (compile excluded), min bulk ESS over all
posterior scalars, and min bulk-ESS per second for both times. Sampling time is
PyMC's own ``sampling_time`` for PyMC (compilation happens before it starts).
For NumPyro it is the time in ``MCMC.run`` minus the JAX compile time spent
during it (tracing, lowering and XLA compilation, summed from ``jax.monitoring``'s
compile events): raw NumPyro's is measured here around the call, probgen's is the
``sampling_time`` it records in every fit the same way (``compile_time`` beside
it). Medians over repeats are written to benchmarks/RESULTS.md.

Usage: python benchmarks/bench_overhead.py [--repeats 5] [--draws 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import arviz_stats
import jax
import numpy as np
import pymc as pm
import xarray as xr
from numpyro.infer import MCMC, NUTS

import probgen  # first: sets up JAX's CPU devices
from probgen.backends import numpyro as nb
from probgen.backends import pymc as pb

MODELS = ["eight_schools", "linear_regression"]

_compile_seconds = [0.0]


def _on_duration(event: str, duration: float, **kwargs) -> None:
    if event.startswith("/jax/core/compile/"):
        _compile_seconds[0] += duration


jax.monitoring.register_event_duration_secs_listener(_on_duration)


def compile_seconds_during(fn, *args, **kwargs):
    """Call fn; return (its result, JAX compile seconds spent during the call)."""
    before = _compile_seconds[0]
    out = fn(*args, **kwargs)
    return out, _compile_seconds[0] - before


def min_ess(posterior: xr.Dataset) -> float:
    ess = arviz_stats.ess(posterior, method="bulk")
    return float(min(float(ess[v].min()) for v in ess.data_vars))


def raw_numpyro(model, data, *, chains, draws, warmup, seed, target_accept):
    mcmc = MCMC(
        NUTS(model.numpyro_model, target_accept_prob=target_accept),
        num_warmup=warmup,
        num_samples=draws,
        num_chains=chains,
        chain_method=nb.default_chain_method(chains),
        progress_bar=False,
    )
    start = time.perf_counter()
    mcmc.run(jax.random.key(seed), dict(data.values), extra_fields=nb.EXTRA_FIELDS)
    samples = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
    wall = time.perf_counter() - start
    post = xr.Dataset(
        {
            k: (("chain", "draw", *[f"{k}_{i}" for i in range(v.ndim - 2)]), np.asarray(v))
            for k, v in samples.items()
        }
    )
    return wall, post


def probgen_run(name, backend, *, chains, draws, warmup, seed, target_accept):
    sampler = "pymc" if backend == "pymc" else None
    start = time.perf_counter()
    fit = probgen.sample(
        name,
        backend=backend,
        sampler=sampler,
        chains=chains,
        draws=draws,
        warmup=warmup,
        seed=seed,
        target_accept=target_accept,
        check=False,
    )
    wall = time.perf_counter() - start
    return wall, fit["posterior"].dataset, float(fit.attrs["sampling_time"])


def raw_pymc(model, data, *, chains, draws, warmup, seed, target_accept):
    pm_model = pb.build(model, data)
    start = time.perf_counter()
    dt = pm.sample(
        draws,
        tune=warmup,
        chains=chains,
        random_seed=seed,
        nuts_sampler="pymc",
        nuts={"target_accept": target_accept},
        progressbar=False,
        model=pm_model,
        cores=min(chains, os.cpu_count() or 1),
        compute_convergence_checks=False,
    )
    wall = time.perf_counter() - start
    return wall, dt["posterior"].dataset, float(dt["posterior"].attrs["sampling_time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "RESULTS.md"))
    args = parser.parse_args()
    # both paths run at probgen's precision (float64 on CPU)
    probgen.set_precision(probgen.get_precision())
    settings = {
        "chains": args.chains,
        "draws": args.draws,
        "warmup": args.draws,
        "target_accept": 0.8,
    }
    rows = []
    for name in MODELS:
        model = probgen.get_model(name)
        data = model.prepare()
        runs: dict[str, list[tuple[float, float, float]]] = {
            "raw NumPyro": [],
            "probgen NumPyro": [],
            "raw PyMC": [],
            "probgen PyMC": [],
        }
        for rep in range(args.repeats):
            seed = 100 + rep
            # alternate the order so drift on the machine hits both sides alike
            order = ["raw", "probgen"] if rep % 2 == 0 else ["probgen", "raw"]
            for who in order:
                if who == "raw":
                    (wall, post), comp = compile_seconds_during(
                        raw_numpyro, model, data, seed=seed, **settings
                    )
                    runs["raw NumPyro"].append((wall, wall - comp, min_ess(post)))
                    wall, post, st = raw_pymc(model, data, seed=seed, **settings)
                    runs["raw PyMC"].append((wall, st, min_ess(post)))
                else:
                    wall, post, st = probgen_run(name, "numpyro", seed=seed, **settings)
                    runs["probgen NumPyro"].append((wall, st, min_ess(post)))
                    wall, post, st = probgen_run(name, "pymc", seed=seed, **settings)
                    runs["probgen PyMC"].append((wall, st, min_ess(post)))
            print(f"{name}: repeat {rep + 1}/{args.repeats} done", flush=True)
        for label, values in runs.items():
            wall = statistics.median(v[0] for v in values)
            samp = statistics.median(v[1] for v in values)
            ess = statistics.median(v[2] for v in values)
            ess_s_wall = statistics.median(v[2] / v[0] for v in values)
            ess_s_samp = statistics.median(v[2] / v[1] for v in values)
            spread = (min(v[1] for v in values), max(v[1] for v in values))
            rows.append((name, label, wall, samp, ess, ess_s_wall, ess_s_samp, spread))
    ratios = []
    for name in MODELS:
        by = {r[1]: r for r in rows if r[0] == name}
        for lib in ("NumPyro", "PyMC"):
            ratios.append(
                (
                    name,
                    lib,
                    by[f"probgen {lib}"][6] / by[f"raw {lib}"][6],
                    by[f"probgen {lib}"][5] / by[f"raw {lib}"][5],
                )
            )
    write(args, settings, rows, ratios)


def write(args, settings, rows, ratios) -> None:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    lines = [
        "# Benchmark: probgen overhead versus raw NumPyro and raw PyMC",
        "",
        f"Produced by `python benchmarks/bench_overhead.py --repeats {args.repeats} "
        f"--draws {args.draws}` on {datetime.now(UTC):%Y-%m-%d}.",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, jax {jax.__version__} ({jax.default_backend()}, "
        f"{jax.local_device_count()} devices), pymc {pm.__version__}, precision "
        f"{probgen.get_precision()}.",
        "",
        f"Settings: {settings['chains']} chains, {settings['draws']} warm-up + "
        f"{settings['draws']} draws, target_accept {settings['target_accept']}, NumPyro chains "
        f"`{nb.default_chain_method(settings['chains'])}`, PyMC sampler `pymc` with "
        f"{min(settings['chains'], os.cpu_count() or 1)} processes. Medians over "
        f"{args.repeats} repeats with seeds 100.., raw and probgen alternating, in one process.",
        "",
        "| model | path | wall s (all) | sampling s (min-max) | min bulk ESS | ESS/s (wall) "
        "| ESS/s (sampling) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, label, wall, samp, ess, esw, ess_s, (lo, hi) in rows:
        lines.append(
            f"| {name} | {label} | {wall:.2f} | {samp:.2f} ({lo:.2f}-{hi:.2f}) | {ess:.0f} "
            f"| {esw:.0f} | {ess_s:.0f} |"
        )

    lines += [
        "",
        "Ratio probgen / raw of min bulk-ESS per second (goal: sampling-only ratio >= 0.95):",
        "",
        "| model | library | sampling only | whole call |",
        "|---|---|---:|---:|",
    ]
    for name, lib, r_samp, r_wall in ratios:
        lines.append(f"| {name} | {lib} | {r_samp:.3f} | {r_wall:.3f} |")
    lines += [
        "",
        "The whole-call figure includes what probgen adds after sampling (pointwise log",
        "likelihood, DataTree assembly) and, for NumPyro, compilation on every call.",
        "Raw and probgen paths run the same sampler on the same model with the same seeds:",
        "their draws are identical (equal ESS), so differences in sampling time are the",
        "machine's run-to-run spread, shown as min-max over the repeats.",
    ]
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
