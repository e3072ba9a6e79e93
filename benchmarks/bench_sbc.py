"""SBC throughput: fits per second, probgen batched vs probgen loop vs simuk 0.3.

Same model, same settings (1 chain, ``--warmup`` warm-up and ``--draws`` draws,
NumPyro NUTS, float64 on CPU) for:

* probgen batched: :func:`probgen.calibration.campaign.run_batch` on ``--batch``
  simulations, one compiled program per batch, the data sets run side by side
  (``vmap``, the default) or one after the other inside the program
  (``lax.map``);
* probgen loop: :func:`probgen.calibration.campaign.simulate_and_fit` per
  simulation (a batch of one: one compiled program reused by every call);
* simuk 0.3: ``simuk.SBC(NUTS(model), num_simulations=..., sample_kwargs=...)``,
  ``run_simulations()``, its NumPyro path (a fresh ``MCMC`` per simulation).

Each figure is simulations / wall seconds of a whole campaign call (simulation,
fit, ranks) with compilation excluded for probgen (the first call, which
compiles, is reported separately as "compile s": its wall time minus the
steady-state time of the same call); simuk compiles inside every fit, which is
its cost. Medians over ``--repeats`` (other simulation indices each time).

Models: eight schools (non-centered, the registry's) and a one-parameter normal
mean (``mu ~ N(0, 1)``, ten ``y ~ N(mu, 1)``), each written once for probgen
(a Model) and once as the plain NumPyro function simuk needs (the same density).

With ``--only pymc``: what a PyMC campaign's fit costs, and how much of it is
rebuilding the twin and recompiling (:func:`bench_pymc_rebuild`).

Usage: python benchmarks/bench_sbc.py [--repeats 3] [--batch 50] [--loop 20]
       [--simuk 10] [--draws 500] [--warmup 500] [--only all|pymc] [--pymc 5]
       [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime

os.environ.setdefault("PROBGEN_PRECISION", "float64")

import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
from numpyro.infer import NUTS

import probgen  # noqa: F401  (sets up JAX first)
from probgen import Field, Model, ModelData
from probgen.calibration.campaign import run_batch, sbc_settings, simulate_and_fit
from probgen.registry import get_model


class NormalMean(Model):
    """``mu ~ Normal(0, 1)``, ``y[i] ~ Normal(mu, 1)``, i = 1..10."""

    name = "bench_normal_mean"
    family = "benchmark"
    summary = "one-parameter normal mean"
    fields = (Field("y", ("obs",), observed=True),)

    def var_dims(self):
        return {"mu": ()}

    def default_data(self):
        return {"y": np.zeros(10)}

    def numpyro_model(self, data: ModelData) -> None:
        mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
        with numpyro.plate("obs", data.size("obs")):
            numpyro.sample("y", dist.Normal(mu, 1.0), obs=data.get("y"))

    def pymc_model(self, data: ModelData):
        with pm.Model(coords=data.coords) as model:
            mu = pm.Normal("mu", 0.0, 1.0)
            pm.Normal("y", mu, 1.0, observed=data["y"], dims="obs")
        return model


def simuk_normal_mean(n=10, y=None):
    mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
    with numpyro.plate("obs", n):
        numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)


def simuk_eight_schools(sigma, y=None):
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("school", sigma.shape[0]):
        theta_trans = numpyro.sample("theta_trans", dist.Normal(0.0, 1.0))
        theta = numpyro.deterministic("theta", mu + tau * theta_trans)
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def bench_batched(model, settings, args):
    """(batched fits/s, compile s): ``run_batch`` of ``--batch`` simulations."""
    b = args.batch
    # the first call compiles; then the steady state
    _, first = _timed(lambda: run_batch(model, "numpyro", range(b), seed=0, settings=settings))
    rates = []
    for rep in range(args.repeats):
        start = (rep + 1) * b
        _, secs = _timed(
            lambda s=start: run_batch(model, "numpyro", range(s, s + b), seed=0, settings=settings)
        )
        rates.append(b / secs)
    rate = statistics.median(rates)
    return rate, first - b / rate


def bench_loop(model, settings, args):
    """(loop fits/s, compile s): ``simulate_and_fit`` per simulation."""
    _, first = _timed(lambda: simulate_and_fit(model, "numpyro", 0, seed=0, settings=settings))
    rates = []
    for rep in range(args.repeats):
        lo = 10_000 + rep * args.loop
        _, secs = _timed(
            lambda lo=lo: [
                simulate_and_fit(model, "numpyro", i, seed=0, settings=settings)
                for i in range(lo, lo + args.loop)
            ]
        )
        rates.append(args.loop / secs)
    rate = statistics.median(rates)
    return rate, first - 1 / rate


def bench_simuk(fn, data_dir, args):
    import simuk

    rates = []
    for rep in range(args.repeats):
        sbc = simuk.SBC(
            NUTS(fn),
            num_simulations=args.simuk,
            sample_kwargs={"num_warmup": args.warmup, "num_samples": args.draws, "num_chains": 1},
            seed=rep,
            data_dir=data_dir,
            progress_bar=False,
        )
        _, secs = _timed(sbc.run_simulations)
        rates.append(args.simuk / secs)
    return statistics.median(rates)


def bench_pymc_rebuild(model, settings, n: int) -> dict[str, float]:
    """Median seconds per PyMC fit in a campaign, and what rebuilding costs.

    The zoo's PyMC twins take the outcome as a constant, so every fit builds its
    model and PyMC compiles its logp/gradient anew. Per fit: ``wall`` (a whole
    ``simulate_and_fit``), ``build`` (the twin's construction alone),
    ``sampling`` (PyMC's own ``sampling_time``: warm-up and draws), and
    ``rebuild`` = wall of ``backend.fit`` minus sampling (build, compile,
    set-up, post-processing).
    """
    import dataclasses

    from probgen.backends import get_backend
    from probgen.backends.pymc import build

    backend = get_backend("pymc")
    simulate_and_fit(model, "pymc", 0, seed=0, settings=settings)  # warm caches
    walls, builds, samplings, rebuilds = [], [], [], []
    data = model.prepare(None)
    for i in range(1, n + 1):
        _, secs = _timed(lambda i=i: simulate_and_fit(model, "pymc", i, seed=0, settings=settings))
        walls.append(secs)
        _, secs = _timed(lambda: build(model, data))
        builds.append(secs)
        raw, secs = _timed(
            lambda i=i: backend.fit(
                model, data, dataclasses.replace(settings.sampler, seed=i), progress=False
            )
        )
        samplings.append(float(raw.attrs["sampling_time"]))
        rebuilds.append(secs - float(raw.attrs["sampling_time"]))
    med = statistics.median
    return {
        "wall": med(walls),
        "build": med(builds),
        "sampling": med(samplings),
        "rebuild": med(rebuilds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--loop", type=int, default=20)
    parser.add_argument("--simuk", type=int, default=10)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--pymc", type=int, default=5, help="PyMC fits timed per model")
    parser.add_argument("--only", choices=("all", "pymc"), default="all")
    parser.add_argument("--out", default=None, help="append the markdown table to this file")
    args = parser.parse_args()

    es = get_model("eight_schools")
    sigma = np.asarray(es.prepare(None)["sigma"])
    cases = [
        # simuk needs the outcome in data_dir (any values: it marks the site observed)
        (
            "normal mean (1 parameter, 10 obs)",
            NormalMean(),
            simuk_normal_mean,
            {"n": 10, "y": np.zeros(10)},
        ),
        (
            "eight_schools (non-centered)",
            es,
            simuk_eight_schools,
            {"sigma": sigma, "y": np.zeros(8)},
        ),
    ]
    if args.only == "pymc":
        pymc_lines = [
            "",
            f"PyMC campaigns ({datetime.now(UTC):%Y-%m-%d}, same machine, 1 chain, "
            f"{args.warmup} + {args.draws}, PyMC's own NUTS, cores=1): the twins take the "
            "outcome as a constant, so each fit rebuilds and recompiles; median seconds "
            f"per fit over {args.pymc} fits.",
            "",
            "| model | s per simulate_and_fit | build the twin | PyMC sampling_time | "
            "rebuild + compile + set-up (fit wall - sampling) |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, model, _, _ in cases:
            settings = sbc_settings(
                model, backend="pymc", chains=1, draws=args.draws, warmup=args.warmup
            )
            r = bench_pymc_rebuild(model, settings, args.pymc)
            pymc_lines.append(
                f"| {label} | {r['wall']:.2f} | {r['build']:.3f} | {r['sampling']:.2f} | "
                f"{r['rebuild']:.2f} |"
            )
            print(pymc_lines[-1], flush=True)
        text = "\n".join(pymc_lines) + "\n"
        print(text)
        if args.out:
            with open(args.out, "a") as fh:
                fh.write(text)
        return
    rows = []
    for label, model, fn, data_dir in cases:
        settings = sbc_settings(
            model, backend="numpyro", chains=1, draws=args.draws, warmup=args.warmup
        )
        fv, cv = bench_batched(model, replace(settings, batch_method="vmap"), args)
        fm, cm = bench_batched(model, replace(settings, batch_method="map"), args)
        fl, cl = bench_loop(model, settings, args)
        fs = bench_simuk(fn, data_dir, args) if args.simuk else float("nan")
        rows.append((label, fv, fm, fl, fs, cv, cm, cl))
        print(
            f"{label}: vmap {fv:.1f} fits/s, map {fm:.1f}, loop {fl:.1f}, simuk {fs:.2f}; "
            f"compile {cv:.1f} / {cm:.1f} / {cl:.1f} s",
            flush=True,
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "",
        f"## SBC throughput: probgen batched vs loop vs simuk 0.3 ({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work "
        f"(load average {load:.1f} at the end), Python {platform.python_version()}, "
        "float64, NumPyro NUTS on CPU. "
        f"1 chain, {args.warmup} warm-up + {args.draws} draws per fit for all three; "
        f"fits/s = simulations / wall s of a whole call (simulate, fit, rank), medians of "
        f"{args.repeats} repeats: probgen batched = `run_batch` of {args.batch} simulations "
        "(one compiled program; vmap: side by side, map: lax.map in turn), "
        f"loop = {args.loop} calls of `simulate_and_fit`, simuk = "
        f"`SBC(NUTS(model), num_simulations={args.simuk}).run_simulations()`. probgen's "
        "compilation (once per model, shapes, settings and batch size) is excluded and "
        "reported apart; simuk compiles in every fit. "
        "Command: `python benchmarks/bench_sbc.py`.",
        "",
        "| model | batched, vmap fits/s | batched, map fits/s | loop fits/s | simuk fits/s | "
        "best probgen vs simuk | compile s (vmap / map / loop) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, fv, fm, fl, fs, cv, cm, cl in rows:
        lines.append(
            f"| {label} | {fv:.1f} | {fm:.1f} | {fl:.1f} | {fs:.2f} | "
            f"{max(fv, fm, fl) / fs:.0f}x | {cv:.1f} / {cm:.1f} / {cl:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
