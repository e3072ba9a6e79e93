"""probgen.sample on both backends: structure, statistics, reproducibility, agreement."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import FAST

import probgen
from probgen.backends import STAT_NAMES
from probgen.posteriordb import compare, stan_flatten

AGREEMENT_MODELS = ["eight_schools", "linear_regression", "logistic_regression"]


@pytest.fixture(scope="module")
def fits():
    """Full-length fits of every agreement model on both backends (shared)."""
    out = {}
    for name in AGREEMENT_MODELS:
        for backend in ("numpyro", "pymc"):
            out[name, backend] = probgen.sample(name, backend=backend, seed=2)
    return out


@pytest.mark.parametrize("name", AGREEMENT_MODELS)
def test_same_structure_from_both_backends(fits, name):
    a, b = fits[name, "numpyro"], fits[name, "pymc"]
    groups = ["posterior", "sample_stats", "log_likelihood", "observed_data", "constant_data"]
    assert sorted(a.children) == sorted(b.children) == sorted(groups)
    for group in groups:
        da, db = a[group].dataset, b[group].dataset
        assert list(da.data_vars) == list(db.data_vars), group
        for var in da.data_vars:
            assert da[var].dims == db[var].dims, (group, var)
        for dim in da.dims:
            assert list(da[dim].values) == list(db[dim].values), (group, dim)
    assert set(a["sample_stats"].data_vars) == set(STAT_NAMES)
    # no unconstrained helpers (PyMC's *_log__, nutpie's *_interval__ ...)
    assert not [v for v in b["posterior"].data_vars if v.endswith("__")]


@pytest.mark.parametrize("name", AGREEMENT_MODELS)
def test_backends_agree_within_monte_carlo_error(fits, name):
    flat = [
        stan_flatten({k: v.values for k, v in fits[name, be]["posterior"].dataset.items()})
        for be in ("numpyro", "pymc")
    ]
    table = compare(flat[0], flat[1], z=4.5)
    assert table["passed"].all(), table.to_string()


@pytest.mark.parametrize("name", AGREEMENT_MODELS)
def test_fits_are_trustworthy(fits, name):
    for backend in ("numpyro", "pymc"):
        verdict = probgen.diagnose(fits[name, backend])
        assert verdict.ok, verdict.report()


def test_sample_stats_are_sane(fits):
    for backend in ("numpyro", "pymc"):
        ss = fits["eight_schools", backend]["sample_stats"].dataset
        assert ss["diverging"].dtype == bool
        assert ((ss["acceptance_rate"] >= 0) & (ss["acceptance_rate"] <= 1)).all()
        assert (ss["step_size"] > 0).all()
        n, d = ss["n_steps"].values, ss["tree_depth"].values
        assert ((2 ** (d - 1) <= n) & (n <= 2**d - 1)).all()
        # lp is the log density on the unconstrained space: finite, varies
        assert np.isfinite(ss["lp"]).all() and float(ss["lp"].std()) > 0


def test_log_likelihood_matches_observed(fits):
    for backend in ("numpyro", "pymc"):
        fit = fits["eight_schools", backend]
        ll = fit["log_likelihood"]["y"]
        mu = fit["posterior"]["theta"]
        y = fit["observed_data"]["y"]
        sigma = fit["constant_data"]["sigma"]
        expected = -0.5 * ((y - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)
        np.testing.assert_allclose(ll.values, expected.transpose(*ll.dims).values, rtol=1e-10)


def test_fit_works_with_arviz_functions(fits):
    import arviz_stats

    fit = fits["eight_schools", "numpyro"]
    loo = arviz_stats.loo(fit)
    assert np.isfinite(loo.elpd)
    assert arviz_stats.summary(fit).shape[0] == 2 + 8 + 8


@pytest.mark.parametrize(
    ("backend", "sampler"),
    [
        ("numpyro", None),
        ("pymc", "pymc"),
        ("pymc", "nutpie"),
        ("pymc", "numpyro"),
        ("pymc", "blackjax"),
    ],
)
def test_same_seed_same_draws(backend, sampler):
    pytest.importorskip(sampler or "numpyro")
    kw = dict(FAST, backend=backend, sampler=sampler, seed=5, check=False)
    a = probgen.sample("eight_schools", **kw)
    b = probgen.sample("eight_schools", **kw)
    c = probgen.sample("eight_schools", **{**kw, "seed": 6})
    np.testing.assert_array_equal(a["posterior"]["tau"].values, b["posterior"]["tau"].values)
    assert not np.array_equal(a["posterior"]["tau"].values, c["posterior"]["tau"].values)
    assert set(a["sample_stats"].data_vars) == set(STAT_NAMES)
    assert set(a["posterior"].data_vars) == {"mu", "tau", "theta", "theta_trans"}


def test_untrustworthy_fit_warns_loudly():
    # the centered funnel with almost no warm-up cannot be sampled well
    model = probgen.get_model("eight_schools", centered=True)
    with pytest.warns(probgen.UntrustworthyFitWarning, match="NOT TRUSTWORTHY"):
        probgen.sample(model, chains=2, draws=100, warmup=20, seed=0)


def test_model_defaults_apply_unless_overridden():
    fit = probgen.sample("eight_schools", **FAST, check=False)
    assert fit.attrs["target_accept"] == 0.95
    fit = probgen.sample("eight_schools", **FAST, target_accept=0.85, check=False)
    assert fit.attrs["target_accept"] == 0.85


def test_precision_is_not_changed_by_pymc_jax_samplers():
    code = textwrap.dedent(
        """
        import probgen, jax
        probgen.set_precision("float32")
        kw = dict(chains=2, draws=50, warmup=50, check=False)
        probgen.sample("eight_schools", backend="pymc", sampler="numpyro", **kw)
        fit = probgen.sample("eight_schools", **kw)
        print(fit["posterior"]["mu"].dtype, jax.config.read("jax_enable_x64"),
              fit.attrs["precision"])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    assert out.stdout.split()[-3:] == ["float32", "False", "float32"], out.stdout


def test_chains_run_in_parallel_on_cpu():
    import jax

    from probgen.backends.numpyro import clear_cache

    assert jax.local_device_count() >= 4
    clear_cache()  # an earlier test may have compiled this very program
    fit = probgen.sample("eight_schools", **FAST, check=False)
    assert fit["posterior"].attrs["chain_method"] == "parallel"
    # compile time is measured and kept apart from sampling time
    assert fit.attrs["compile_time"] > 0 and fit.attrs["sampling_time"] > 0


@pytest.mark.parametrize("sampler", ["nutpie", "numpyro", "blackjax"])
def test_every_pymc_sampler_matches_the_reference(sampler, posteriordb):
    from probgen.posteriordb import run_reference

    pytest.importorskip(sampler)
    result = run_reference(
        "eight_schools-eight_schools_noncentered",
        posteriordb,
        backend="pymc",
        sampler=sampler,
        seed=3,
    )
    assert result.passed, result.report()
    assert probgen.diagnose(result.fit).ok


def test_model_default_draws_apply_unless_overridden(monkeypatch):
    from probgen.zoo.eight_schools import EightSchools

    monkeypatch.setattr(EightSchools, "sampler_defaults", {"target_accept": 0.9, "draws": 60})
    fit = probgen.sample("eight_schools", chains=1, warmup=50, check=False)
    assert fit["posterior"].sizes["draw"] == 60
    fit = probgen.sample("eight_schools", chains=1, warmup=50, draws=40, check=False)
    assert fit["posterior"].sizes["draw"] == 40
