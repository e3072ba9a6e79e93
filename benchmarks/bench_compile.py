"""Compile once: probgen's NumPyro fits against raw NumPyro, first call, second call, new process.

For each model (eight schools; logistic regression on the wells data, 3020 x 4)
and each repeat, in one process:

* probgen, first call: ``probgen.sample`` after emptying probgen's in-process
  program cache (``probgen.backends.numpyro.clear_cache``), so it compiles;
* probgen, second call: ``probgen.sample`` on NEW DATA OF THE SAME SHAPES (eight
  schools: y redrawn around itself with its standard errors; wells: a bootstrap
  resample of the rows) and a new seed; then once more on other new data with
  ``check=False`` (no diagnostics after sampling), to show what they cost;
* raw NumPyro, MCMC reused: one hand-written ``MCMC(NUTS(model.numpyro_model),
  jit_model_args=True)`` on the same model, run on the first data, then again on
  the new data (the reuse NumPyro offers);
* raw NumPyro, fresh MCMC: a new ``MCMC(..., jit_model_args=True)`` for the new
  data (what a loop that builds its sampler each time does).

Raw NumPyro runs the same model function, data pytree, chain method, settings,
extra fields and seed. Figures: wall time of the call; compile time (probgen:
its ``compile_time`` attr; raw: the JAX compile events, tracing + lowering + XLA
compilation, fired during the call); sampling time (probgen: its
``sampling_time`` attr, the compiled program's run; raw: wall minus compile).
The persistent compilation cache is off in this process so that every "first
call" really compiles.

Then, in new processes (``subprocess``, one fit each, the time of the whole
process and of the fit), probgen and raw NumPyro with JAX's persistent
compilation cache in a fresh directory (cold) and in one a previous process
filled while fitting OTHER data of the same shapes (warm).

Finally the predictive path: a repeated ``probgen.sample_posterior_predictive``
on a fit from each backend (NumPyro and PyMC).

Medians over repeats are appended to benchmarks/RESULTS.md (with the machine).

Usage: python benchmarks/bench_compile.py [--repeats 5] [--draws 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# this process measures in-process reuse: no persistent cache, so first calls compile
os.environ["PROBGEN_COMPILATION_CACHE"] = "0"

import jax
import numpy as np
import numpyro
from numpyro.infer import MCMC, NUTS

import probgen  # sets up JAX's CPU devices
from probgen.backends import numpyro as nb

MODELS = ["eight_schools", "logistic_regression"]

_compile_seconds = [0.0]


def _on_duration(event: str, duration: float, **kwargs) -> None:
    if event.startswith("/jax/core/compile/"):
        _compile_seconds[0] += duration


jax.monitoring.register_event_duration_secs_listener(_on_duration)


def new_data(model, data, rng: np.random.Generator):
    """Data of the same shapes with new values."""
    if model.name == "eight_schools":
        y = np.asarray(data["y"]) + rng.normal(0.0, np.asarray(data["sigma"]))
        return data.with_values(y=y)
    rows = rng.integers(0, data.size("obs"), data.size("obs"))
    return data.with_values(X=np.asarray(data["X"])[rows], y=np.asarray(data["y"])[rows])


def settings_for(model, args) -> dict:
    return {
        "chains": args.chains,
        "draws": args.draws,
        "warmup": args.draws,
        "target_accept": model.sampler_defaults.get("target_accept", 0.8),
    }


def probgen_fit(model, data, seed: int, s: dict, check: bool = True) -> tuple[float, float, float]:
    start = time.perf_counter()
    fit = probgen.sample(model, data, seed=seed, check=check, **s)
    wall = time.perf_counter() - start
    return wall, float(fit.attrs["compile_time"]), float(fit.attrs["sampling_time"])


def raw_mcmc(model, s: dict) -> MCMC:
    return MCMC(
        NUTS(model.numpyro_model, target_accept_prob=s["target_accept"]),
        num_warmup=s["warmup"],
        num_samples=s["draws"],
        num_chains=s["chains"],
        chain_method=nb.default_chain_method(s["chains"]),
        progress_bar=False,
        jit_model_args=True,
    )


def raw_fit(mcmc: MCMC, data, seed: int) -> tuple[float, float, float]:
    before = _compile_seconds[0]
    start = time.perf_counter()
    mcmc.run(jax.random.key(seed), data, extra_fields=nb.EXTRA_FIELDS)
    jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
    wall = time.perf_counter() - start
    comp = _compile_seconds[0] - before
    return wall, comp, wall - comp


_CHILD = """
import json, sys, time
start = time.perf_counter()
import jax, numpy as np
import probgen
from probgen._runtime import apply_precision
from probgen.backends import numpyro as nb
from numpyro.infer import MCMC, NUTS
compiled = [0.0]
def on(event, duration, **kw):
    if event.startswith("/jax/core/compile/"):
        compiled[0] += duration
jax.monitoring.register_event_duration_secs_listener(on)
name, who, seed, chains, draws, target_accept = sys.argv[1:7]
model = probgen.get_model(name)
data = model.prepare()
rng = np.random.default_rng(int(seed))
if name == "eight_schools":
    data = data.with_values(y=np.asarray(data["y"]) + rng.normal(0, np.asarray(data["sigma"])))
else:
    rows = rng.integers(0, data.size("obs"), data.size("obs"))
    data = data.with_values(X=np.asarray(data["X"])[rows], y=np.asarray(data["y"])[rows])
s = dict(chains=int(chains), draws=int(draws), warmup=int(draws))
imported = time.perf_counter() - start
t = time.perf_counter()
if who == "probgen":
    fit = probgen.sample(model, data, seed=int(seed), target_accept=float(target_accept), **s)
    comp = fit.attrs["compile_time"]
else:
    apply_precision()  # float64 and the persistent cache, as probgen has them
    mcmc = MCMC(NUTS(model.numpyro_model, target_accept_prob=float(target_accept)),
                num_warmup=s["warmup"], num_samples=s["draws"], num_chains=s["chains"],
                chain_method=nb.default_chain_method(s["chains"]), progress_bar=False,
                jit_model_args=True)
    mcmc.run(jax.random.key(int(seed)), data, extra_fields=nb.EXTRA_FIELDS)
    jax.block_until_ready(mcmc.get_samples())
    comp = compiled[0]
fit_wall = time.perf_counter() - t
print(json.dumps({"process": time.perf_counter() - start, "import": imported,
                  "fit": fit_wall, "compile": comp}))
"""


def child(name: str, who: str, seed: int, s: dict, cache_dir: str) -> dict:
    env = {**os.environ, "PROBGEN_COMPILATION_CACHE": cache_dir}
    start = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            name,
            who,
            str(seed),
            str(s["chains"]),
            str(s["draws"]),
            str(s["target_accept"]),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=900,
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["outer"] = time.perf_counter() - start  # interpreter start-up included
    return res


def in_process(model, args) -> dict[str, list[tuple[float, float, float]]]:
    s = settings_for(model, args)
    base = model.prepare()
    runs: dict[str, list] = {
        k: []
        for k in (
            "probgen first",
            "probgen second",
            "probgen second unchecked",
            "raw reused first",
            "raw reused second",
            "raw fresh second",
        )
    }
    for rep in range(args.repeats):
        rng = np.random.default_rng(1000 + rep)
        d1, d2, d3 = (new_data(model, base, rng) for _ in range(3))
        seed = 100 + rep
        order = ["probgen", "raw"] if rep % 2 == 0 else ["raw", "probgen"]
        for who in order:
            if who == "probgen":
                nb.clear_cache()
                runs["probgen first"].append(probgen_fit(model, d1, seed, s))
                runs["probgen second"].append(probgen_fit(model, d2, seed + 50, s))
                runs["probgen second unchecked"].append(
                    probgen_fit(model, d3, seed + 60, s, check=False)
                )
            else:
                mcmc = raw_mcmc(model, s)
                runs["raw reused first"].append(raw_fit(mcmc, d1, seed))
                runs["raw reused second"].append(raw_fit(mcmc, d2, seed + 50))
                runs["raw fresh second"].append(raw_fit(raw_mcmc(model, s), d2, seed + 50))
        print(f"{model.name}: in-process repeat {rep + 1}/{args.repeats}", flush=True)
    return runs


def new_processes(model, args) -> dict[str, list[dict]]:
    s = settings_for(model, args)
    runs: dict[str, list] = {}
    for rep in range(args.repeats):
        for who in ("probgen", "raw"):
            with tempfile.TemporaryDirectory() as tmp:
                cold = child(model.name, who, 200 + rep, s, tmp)
                # warm: the cache a previous process filled, with other data
                warm = child(model.name, who, 300 + rep, s, tmp)
            runs.setdefault(f"{who} cold", []).append(cold)
            runs.setdefault(f"{who} warm", []).append(warm)
        print(f"{model.name}: new-process repeat {rep + 1}/{args.repeats}", flush=True)
    return runs


def predictive(args) -> dict[str, list[float]]:
    """Seconds of repeated sample_posterior_predictive calls on one fit per backend."""
    out = {}
    for backend in ("numpyro", "pymc"):
        sampler = "pymc" if backend == "pymc" else None
        fit = probgen.sample(
            "eight_schools", backend=backend, sampler=sampler, chains=4, draws=1000, check=False
        )
        times = []
        for i in range(args.repeats + 1):
            start = time.perf_counter()
            probgen.sample_posterior_predictive(fit, seed=i)
            times.append(time.perf_counter() - start)
        out[backend] = times
        print(f"predictive {backend}: {[round(t, 3) for t in times]}", flush=True)
    return out


def med(values) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    import pymc

    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores (load average {load} when the run ended, "
        f"other jobs sharing them), {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}, jax {jax.__version__} ({jax.default_backend()}, "
        f"{jax.local_device_count()} devices), numpyro {numpyro.__version__}, pymc "
        f"{pymc.__version__}, precision {probgen.get_precision()}"
    )


def report(args, results: dict, pred: dict) -> str:
    lines = [
        "",
        "# Benchmark: compile once (probgen's NumPyro path against raw NumPyro)",
        "",
        f"Produced by `python benchmarks/bench_compile.py --repeats {args.repeats} "
        f"--draws {args.draws}` on {datetime.now(UTC):%Y-%m-%d}.",
        "",
        f"Machine: {machine()}.",
        "",
        f"Settings: {args.chains} chains, {args.draws} warm-up + {args.draws} draws, the "
        f"model's target_accept, chains `{nb.default_chain_method(args.chains)}`. Medians "
        f"over {args.repeats} repeats (seeds 100..), probgen and raw alternating. The second "
        "call fits NEW DATA OF THE SAME SHAPES with a new seed.",
        "",
        "## One process",
        "",
        "| model | path | call | wall s | compile s | sampling s | wall / sampling |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    labels = {
        "probgen first": ("probgen", "first"),
        "probgen second": ("probgen", "second, new data"),
        "probgen second unchecked": ("probgen, check=False", "second, new data"),
        "raw reused first": ("raw NumPyro, MCMC reused", "first"),
        "raw reused second": ("raw NumPyro, MCMC reused", "second, new data"),
        "raw fresh second": ("raw NumPyro, fresh MCMC", "second, new data"),
    }
    for name, (runs, _) in results.items():
        for key, (path, call) in labels.items():
            v = runs[key]
            wall, comp, samp = med(x[0] for x in v), med(x[1] for x in v), med(x[2] for x in v)
            ratio = med(x[0] / x[2] for x in v)
            lines.append(
                f"| {name} | {path} | {call} | {wall:.2f} | {comp:.2f} | {samp:.3f} | {ratio:.2f} |"
            )
    lines += [
        "",
        "## A new process",
        "",
        "One fit per process; JAX's persistent compilation cache in a fresh directory "
        "(cold) or in the one a previous process filled fitting other data of the same "
        "shapes (warm). Process: from the first line of the script (imports included) to "
        "the end of the fit; the interpreter's start-up is not included.",
        "",
        "| model | path | cache | process s | imports s | fit s | compile s |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name, (_, procs) in results.items():
        for key in ("probgen cold", "probgen warm", "raw cold", "raw warm"):
            who, cache = key.split()
            v = procs[key]
            lines.append(
                f"| {name} | {'probgen' if who == 'probgen' else 'raw NumPyro'} | {cache} | "
                f"{med(x['process'] for x in v):.2f} | {med(x['import'] for x in v):.2f} | "
                f"{med(x['fit'] for x in v):.2f} | {med(x['compile'] for x in v):.2f} |"
            )
    lines += [
        "",
        "## Repeated posterior predictive (eight schools, 4 x 1000 draws)",
        "",
        "| backend | first call s | later calls s (median) |",
        "|---|---:|---:|",
    ]
    for backend, times in pred.items():
        lines.append(f"| {backend} | {times[0]:.2f} | {med(times[1:]):.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    probgen.set_precision(probgen.get_precision())
    results = {}
    for name in args.models:
        model = probgen.get_model(name)
        results[name] = (in_process(model, args), new_processes(model, args))
    if args.json:  # kept before the predictive part, which needs PyMC too
        Path(args.json).write_text(json.dumps({"results": results}))
    pred = predictive(args)
    text = report(args, results, pred)
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "predictive": pred}))
    with open(args.out, "a") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
