"""Compile once: NumPyro programs are reused for new seeds and new data of the same shapes.

What is checked, in one process: a second fit with new data of the same shapes
runs no JAX compilation at all (no tracing, lowering or XLA compile event) and
records ``compile_time == 0``; its draws are those of the NEW data, identical
to a fit compiled afresh (for every chain method); a new shape or a new setting
compiles a program of its own; predictive draws reuse their programs too; the
cache is a bounded LRU. Across processes: JAX's persistent cache, in a
directory chosen by ``PROBGEN_COMPILATION_CACHE``, is hit by a second process
and can be switched off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from contextlib import contextmanager

import arviz_stats
import jax
import numpy as np
import pytest
from conftest import FAST

import probgen
from probgen import _runtime
from probgen.backends import numpyro as nb

_events: list[str] = []
_listening = [False]


def _record(event: str, duration: float, **kwargs) -> None:
    # tracing, lowering to MLIR and XLA compilation all report under this prefix
    if _listening[0] and event.startswith("/jax/core/compile/"):
        _events.append(event)


jax.monitoring.register_event_duration_secs_listener(_record)


@contextmanager
def compile_events():
    """Collect the JAX compile events fired inside the block."""
    _events.clear()
    _listening[0] = True
    try:
        yield _events
    finally:
        _listening[0] = False


def eight_schools(shift: float = 0.0, schools: int = 8) -> dict:
    data = probgen.get_model("eight_schools").default_data()
    return {"y": np.asarray(data["y"][:schools]) + shift, "sigma": data["sigma"][:schools]}


KW = dict(FAST, check=False)


def same_draws(a, b) -> bool:
    return all(
        np.array_equal(a[group][name].values, b[group][name].values)
        for group in ("posterior", "sample_stats", "log_likelihood")
        for name in a[group].data_vars
    )


def test_new_data_of_the_same_shapes_does_not_recompile():
    nb.clear_cache()
    first = probgen.sample("eight_schools", eight_schools(), seed=1, **KW)
    assert first.attrs["compile_time"] > 0
    with compile_events() as events:
        second = probgen.sample("eight_schools", eight_schools(shift=30.0), seed=2, **KW)
    assert events == [], f"a fit of new data of the same shapes compiled: {events}"
    assert second.attrs["compile_time"] == 0.0
    assert 0 < second.attrs["sampling_time"] < first.attrs["compile_time"]
    assert nb.cache_info().hits >= 2  # sampler and log likelihood

    # the draws are of the NEW data: mu moves up with y (a stale program would
    # leave it where it was), by less than the shift (the N(0, 5) prior pulls back)
    moved = float(second["posterior"]["mu"].mean() - first["posterior"]["mu"].mean())
    mcse = np.hypot(*(float(arviz_stats.mcse(f, var_names=["mu"])["mu"]) for f in (first, second)))
    assert 5 * mcse < moved < 30 + 5 * mcse, (moved, mcse)


def test_cached_program_gives_the_draws_of_a_fresh_compile():
    nb.clear_cache()
    probgen.sample("eight_schools", eight_schools(), seed=7, **KW)  # compiles
    cached = probgen.sample("eight_schools", eight_schools(shift=30.0), seed=3, **KW)
    assert cached.attrs["compile_time"] == 0.0
    nb.clear_cache()
    fresh = probgen.sample("eight_schools", eight_schools(shift=30.0), seed=3, **KW)
    assert fresh.attrs["compile_time"] > 0
    assert same_draws(cached, fresh)
    # and not of the data the program was first compiled for
    other = probgen.sample("eight_schools", eight_schools(), seed=3, **KW)
    assert not np.array_equal(other["posterior"]["mu"].values, cached["posterior"]["mu"].values)


@pytest.mark.parametrize("chain_method", ["parallel", "sequential", "vectorized"])
def test_every_chain_method_is_reused_and_reproducible(chain_method):
    kw = dict(KW, chain_method=chain_method, warmup=100, draws=100)
    nb.clear_cache()
    fresh = probgen.sample("eight_schools", eight_schools(shift=5.0), seed=4, **kw)
    assert fresh["posterior"].attrs["chain_method"] == chain_method
    probgen.sample("eight_schools", eight_schools(), seed=9, **kw)
    with compile_events() as events:
        again = probgen.sample("eight_schools", eight_schools(shift=5.0), seed=4, **kw)
    assert events == []
    assert same_draws(fresh, again)
    assert fresh["posterior"]["mu"].shape == (2, 100)


def test_new_shapes_and_new_settings_compile_their_own_program():
    probgen.sample("eight_schools", eight_schools(), seed=1, **KW)
    before = nb.cache_info()
    with compile_events() as events:
        six = probgen.sample("eight_schools", eight_schools(schools=6), seed=1, **KW)
    assert events and six.attrs["compile_time"] > 0
    assert six["posterior"]["theta"].shape == (2, 200, 6)
    with compile_events() as events:
        longer = probgen.sample("eight_schools", eight_schools(), seed=1, **dict(KW, draws=250))
    assert events and longer.attrs["compile_time"] > 0
    assert nb.cache_info().misses >= before.misses + 4  # two samplers, two log likelihoods
    # the eight-school program is still there
    with compile_events() as events:
        probgen.sample("eight_schools", eight_schools(shift=1.0), seed=2, **KW)
    assert events == []


def test_predictive_programs_are_reused():
    fit = probgen.sample("eight_schools", eight_schools(), seed=1, **KW)
    a = probgen.sample_posterior_predictive(fit, seed=1)
    with compile_events() as events:
        b = probgen.sample_posterior_predictive(fit, seed=2)
        c = probgen.sample_posterior_predictive(fit, seed=1)
    assert events == []
    y_a, y_b = a["posterior_predictive"]["y"].values, b["posterior_predictive"]["y"].values
    assert not np.array_equal(y_a, y_b)
    np.testing.assert_array_equal(y_a, c["posterior_predictive"]["y"].values)
    # replicates are centred on theta: the mean residual is within Monte Carlo error
    theta = fit["posterior"]["theta"].values
    sigma = np.asarray(eight_schools()["sigma"])
    z = (y_b - theta) / sigma
    assert abs(z.mean()) < 4 / np.sqrt(z.size)

    probgen.sample_prior_predictive("eight_schools", draws=100, seed=1)
    with compile_events() as events:
        prior = probgen.sample_prior_predictive("eight_schools", draws=100, seed=2)
    assert events == []
    assert prior["prior_predictive"]["y"].shape == (1, 100, 8)


def test_progress_bar_does_not_change_the_draws(monkeypatch):
    import tqdm.auto

    seen = []

    class Bar(tqdm.auto.tqdm):
        def close(self):
            seen.append((self.n, self.total))
            super().close()

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    kw = dict(KW, chain_method="sequential", warmup=60, draws=70)
    quiet = probgen.sample("eight_schools", seed=2, **kw)
    shown = probgen.sample("eight_schools", seed=2, progress=True, **kw)
    assert same_draws(quiet, shown)
    assert seen[0] == (2 * 130, 2 * 130)  # every iteration of both chains counted


def test_the_cache_is_a_bounded_lru():
    cache = nb._ProgramCache(maxsize=2)
    built = []

    def build(name):
        def make():
            built.append(name)
            return name

        return make

    assert cache.get("a", build("a")) == ("a", pytest.approx(0, abs=1))
    cache.get("b", build("b"))
    assert cache.get("a", build("a"))[1] == 0.0  # hit: a is now the most recent
    cache.get("c", build("c"))  # evicts b
    cache.get("a", build("a"))
    cache.get("b", build("b"))
    assert built == ["a", "b", "c", "b"]
    assert cache.info() == nb.CacheInfo(hits=2, misses=4, size=2, maxsize=2)


# ------------------------------------------------------------ across processes
_CHILD = textwrap.dedent(
    """
    import json, time, jax
    hits = [0]
    def on(event, **kw):
        if event == "/jax/compilation_cache/cache_hits":
            hits[0] += 1
    jax.monitoring.register_event_listener(on)
    import probgen
    from probgen import _runtime
    fit = probgen.sample("eight_schools", chains=1, draws=50, warmup=50, seed=1, check=False)
    print(json.dumps({"hits": hits[0], "dir": _runtime.configure_compilation_cache(),
                      "compile_time": fit.attrs["compile_time"]}))
    """
)


def _child(env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_persistent_cache_is_hit_by_a_new_process(tmp_path):
    cache = tmp_path / "jax-cache"
    first = _child({"PROBGEN_COMPILATION_CACHE": str(cache)})
    assert first["dir"] == str(cache) and first["hits"] == 0
    assert any(cache.iterdir())
    second = _child({"PROBGEN_COMPILATION_CACHE": str(cache)})
    assert second["hits"] >= 1  # the sampler's XLA program came from disk
    # tracing still runs in a new process; XLA compilation does not
    assert second["compile_time"] < first["compile_time"]


def test_persistent_cache_can_be_switched_off(tmp_path):
    off = _child({"PROBGEN_COMPILATION_CACHE": "0", "XDG_CACHE_HOME": str(tmp_path)})
    assert off["dir"] is None and off["hits"] == 0
    assert not (tmp_path / "probgen").exists()


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("PROBGEN_COMPILATION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _runtime.compilation_cache_dir() == tmp_path / "probgen" / "jax"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec
    assert _runtime.compilation_cache_dir().is_absolute()
    monkeypatch.setenv("PROBGEN_COMPILATION_CACHE", str(tmp_path / "mine"))
    assert _runtime.compilation_cache_dir() == tmp_path / "mine"
    for off in ("0", "off", "False"):
        monkeypatch.setenv("PROBGEN_COMPILATION_CACHE", off)
        assert _runtime.compilation_cache_dir() is None


def test_an_unusable_cache_directory_warns_and_turns_the_cache_off(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PROBGEN_COMPILATION_CACHE", str(blocker / "jax"))
    monkeypatch.setitem(_runtime._state, "compilation_cache", None)
    theirs = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", None)
    try:
        with pytest.warns(RuntimeWarning, match="cannot create its compilation cache"):
            assert _runtime.configure_compilation_cache() is None
        assert jax.config.jax_compilation_cache_dir is None
    finally:
        jax.config.update("jax_compilation_cache_dir", theirs)


def test_a_replaced_twin_is_not_served_a_stale_program(monkeypatch):
    import numpyro

    model = probgen.get_model("eight_schools")
    data = model.prepare()
    backend = probgen.backends.get_backend("numpyro")
    point = backend.random_points(model, data, n=1, seed=0)[0]
    before = backend.log_density_fn(model, data)(point)
    original = type(model).numpyro_model

    def patched(self, data):
        original(self, data)
        numpyro.factor("extra", -1.0)

    monkeypatch.setattr(type(model), "numpyro_model", patched)
    after = backend.log_density_fn(model, data)(point)
    assert after == pytest.approx(before - 1.0, abs=1e-9)
