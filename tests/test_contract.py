"""Generic tests of the model contract, run for every row of tests/cases.py.

The two hand-written twins of a model must define the same density: the log
joint agrees to 1e-8 (relative, float64) at 20 random points in the support.
"""

from __future__ import annotations

import jax
import numpy as np
import pymc as pm
import pytest
from cases import case_id, has_proper_prior, model_cases

import probgen
from probgen.backends import get_backend
from probgen.backends.numpyro import random_trace
from probgen.backends.pymc import build

nb = get_backend("numpyro")
pb = get_backend("pymc")

CASES = model_cases()


@pytest.fixture(params=CASES, ids=[case_id(c) for c in CASES])
def case(request):
    name, config = request.param
    model = probgen.get_model(name, **config)
    return model, model.prepare()


def test_contract_attributes(case):
    model, _ = case
    assert model.name and model.family and model.summary
    assert len(model.summary.splitlines()) == 1
    doc = model.describe()
    for site in [*model.var_dims(), *model.observed]:
        assert site in doc, f"docstring of {model.name} does not mention site {site!r}"
    assert "difficulty" in doc.lower()
    assert model.observed, "a model must have at least one observed field"
    for name in model.covariates:
        model.field(name)


def test_log_density_agrees_between_backends(case):
    model, data = case
    points = nb.random_points(model, data, n=20, seed=123)
    pymc_logp = pb.log_density_fn(model, data)
    numpyro_logp = nb.log_density_fn(model, data)
    for point in points:
        a = numpyro_logp(point)
        b = pymc_logp(point)
        assert np.isfinite(a) and np.isfinite(b)
        assert a == pytest.approx(b, rel=1e-8, abs=1e-8), (point, a, b)


def _as_draws(points: list[dict]) -> dict[str, np.ndarray]:
    """Random points stacked as draws shaped (chain=2, draw, ...)."""
    stacked = {k: np.stack([np.asarray(p[k]) for p in points]) for k in points[0]}
    return {k: v.reshape(2, len(points) // 2, *v.shape[1:]) for k, v in stacked.items()}


def test_pointwise_log_likelihood_agrees_between_backends(case):
    """``Backend.log_likelihood`` (held-out densities, LOO): same values on both."""
    model, data = case
    draws = _as_draws(nb.random_points(model, data, n=4, seed=5))
    draws = {k: v for k, v in draws.items() if k in model.var_dims()}
    a = nb.log_likelihood(model, data, draws)
    b = pb.log_likelihood(model, data, draws)
    assert set(a) == set(b) == set(model.observed)
    for name in model.observed:
        assert a[name].shape == b[name].shape
        assert a[name].shape[:2] == (2, 2)
        assert np.all(np.isfinite(a[name]))
        np.testing.assert_allclose(a[name], b[name], rtol=1e-8, atol=1e-8)


def test_log_density_detects_a_changed_model(case):
    """The check above can fail: moving one site's value changes the density."""
    model, data = case
    point = nb.random_points(model, data, n=1, seed=7)[0]
    name = next(iter(point))
    moved = dict(point)
    moved[name] = np.asarray(point[name]) * 1.1 + 0.05
    if not np.isfinite(pb.log_density_fn(model, data)(moved)):
        pytest.skip("moved point outside the support")
    assert nb.log_density_fn(model, data)(moved) != pytest.approx(
        pb.log_density_fn(model, data)(point), rel=1e-8
    )


def test_same_sites_and_dims(case):
    model, data = case
    pm_model = build(model, data)
    pm_latent = {v.name for v in pm_model.free_RVs} | {v.name for v in pm_model.deterministics}
    assert pm_latent == set(model.var_dims())
    assert {v.name for v in pm_model.observed_RVs} == set(model.observed)
    site_dims = {f.name: f.dims for f in model.fields} | model.var_dims()
    for name, dims in site_dims.items():
        if name in pm_model.named_vars_to_dims or dims:
            assert tuple(pm_model.named_vars_to_dims.get(name, ())) == dims, name
    trace = random_trace(model, data, jax.random.key(0))
    np_latent = {
        k
        for k, s in trace.items()
        if (s["type"] == "sample" and not s["is_observed"]) or s["type"] == "deterministic"
    }
    assert np_latent == set(model.var_dims())
    plates = {k for k, s in trace.items() if s["type"] == "plate"}
    used_dims = {d for dims in model.all_dims().values() for d in dims}
    assert plates <= used_dims, f"NumPyro plates {plates - used_dims} are not dims"
    for name, dims in model.var_dims().items():
        shape = tuple(data.size(d) for d in dims)
        assert np.shape(trace[name]["value"]) == shape, name


def test_default_data_is_valid_and_names_coords(case):
    model, data = case
    for name in model.observed:
        assert data[name] is not None
    for dims in model.all_dims().values():
        for d in dims:
            assert d in data.coords


@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_prior_predictive_generates_whole_data_sets(case, backend):
    model, _ = case
    if not has_proper_prior(model):
        with pytest.raises(probgen.ProbgenError if backend == "numpyro" else Exception):
            probgen.sample_prior_predictive(model, backend=backend, draws=5)
        return
    dt = probgen.sample_prior_predictive(model, backend=backend, draws=20, seed=3)
    for name in model.observed:
        arr = dt["prior_predictive"][name]
        assert arr.dims == ("chain", "draw", *model.field(name).dims)
        assert np.isfinite(arr.values).all()
    assert set(dt["prior"].data_vars) == set(model.var_dims())


def test_simulate_returns_data_the_model_accepts(case):
    model, _ = case
    if not has_proper_prior(model):
        pytest.skip("improper prior: simulate needs params")
    generated, truth = model.simulate(seed=1)
    assert set(truth) == set(model.var_dims())
    model.prepare(generated)  # validates
    again, _ = model.simulate(seed=1)
    for k in model.observed:
        np.testing.assert_array_equal(generated[k], again[k])


def test_simulate_with_given_params(case):
    model, data = case
    point = nb.random_points(model, data, n=1, seed=11)[0]
    generated, truth = model.simulate(params=point, seed=2)
    for k, v in point.items():
        np.testing.assert_allclose(truth[k], v)
    model.prepare(generated)


def test_pymc_model_is_a_pymc_model(case):
    model, data = case
    assert isinstance(build(model, data), pm.Model)
