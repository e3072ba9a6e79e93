"""The backend contract: every backend implements all of it, and the twins agree.

Densities are held equal point by point in test_contract.py; here the random
generators are held equal in distribution: prior predictive draws (parameters
and whole data sets) from the NumPyro twin and from the PyMC twin of every
model configuration pass two-sample Kolmogorov-Smirnov tests, and the same test
rejects a twin whose prior is deliberately wrong.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from cases import case_id, has_proper_prior, model_cases
from scipy import stats

import probgen
from probgen.backends import BACKENDS, SAMPLERS, Backend, get_backend
from probgen.backends.samplers import get_sampler, samplers_of

CONTRACT = [
    name
    for name, member in inspect.getmembers(Backend)
    if inspect.isfunction(member) and not name.startswith("_")
]


def test_the_contract_lists_every_operation():
    assert set(CONTRACT) == {
        "fit",
        "prior_predictive",
        "posterior_predictive",
        "log_likelihood",
        "simulate",
        "random_points",
        "log_density_fn",
    }


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_implements_the_whole_contract(name):
    backend = get_backend(name)
    assert isinstance(backend, Backend)
    assert backend.name == name
    for op in CONTRACT:
        want = inspect.signature(getattr(Backend, op))
        got = inspect.signature(getattr(type(backend), op))
        assert list(got.parameters) == list(want.parameters), (name, op)
        for pname, param in want.parameters.items():
            assert got.parameters[pname].kind == param.kind, (name, op, pname)


def test_sampler_table():
    for backend in BACKENDS:
        assert samplers_of(backend), backend
    assert {s.backend for s in SAMPLERS} == set(BACKENDS)
    assert get_sampler("pymc").name == "pymc"  # PyMC's default is named, never implicit
    with pytest.raises(probgen.UnknownNameError, match="choose one of"):
        get_sampler("numpyro", "nutpie")


# ------------------------------------------------------- generators agree
DRAWS = 400
#: family-wise false-alarm rate of one model's battery of KS tests
ALPHA = 1e-3


def _quantities(prior: dict, predictive: dict, observed: tuple[str, ...]) -> dict:
    """Scalar quantities per draw: every latent element, and per outcome its first
    element, mean and sd (over its elements) — (draws,) arrays."""
    out = {}
    for name, arr in prior.items():
        flat = np.asarray(arr, dtype=float).reshape(arr.shape[1], -1)[:, :12]
        for j in range(flat.shape[1]):
            out[f"{name}[{j}]"] = flat[:, j]
    for name in observed:
        y = np.asarray(predictive[name], dtype=float).reshape(predictive[name].shape[1], -1)
        with np.errstate(all="ignore"):
            out[f"{name}[0]"] = y[:, 0]
            out[f"mean({name})"] = y.mean(axis=1)
            out[f"sd({name})"] = y.std(axis=1)
    return out


def _generators_agree(model_a, model_b, seed=0) -> tuple[bool, str]:
    """Prior predictive of ``model_a`` on NumPyro against ``model_b`` on PyMC."""
    a = get_backend("numpyro").prior_predictive(
        model_a, model_a.prepare(require_observed=False), draws=DRAWS, seed=seed
    )
    b = get_backend("pymc").prior_predictive(
        model_b, model_b.prepare(require_observed=False), draws=DRAWS, seed=seed + 1
    )
    qa = _quantities(*a, model_a.observed)
    qb = _quantities(*b, model_b.observed)
    assert set(qa) == set(qb)
    worst, where = 1.0, ""
    for key in qa:
        x, y = qa[key], qb[key]
        # heavy-tailed priors can overflow a generated series: compare how often
        fx, fy = np.isfinite(x), np.isfinite(y)
        if abs(fx.mean() - fy.mean()) > 0.1:
            return False, f"{key}: finite fraction {fx.mean():.2f} vs {fy.mean():.2f}"
        p = stats.ks_2samp(x[fx], y[fy]).pvalue
        if p < worst:
            worst, where = p, key
    ok = worst >= ALPHA / len(qa)  # Bonferroni over the battery
    return ok, f"smallest KS p-value {worst:.2e} at {where} over {len(qa)} quantities"


CASES = [c for c in model_cases() if has_proper_prior(probgen.get_model(c[0], **c[1]))]


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_prior_predictive_agrees_in_distribution(case):
    name, config = case
    model = probgen.get_model(name, **config)
    ok, detail = _generators_agree(model, model)
    assert ok, detail


def test_the_distribution_check_can_fail():
    """A PyMC twin with a wider coefficient prior is caught."""
    right = probgen.get_model("linear_regression", coef_prior="normal(0, 10)")
    wrong = probgen.get_model("linear_regression", coef_prior="normal(0, 13)")
    ok, detail = _generators_agree(right, wrong)
    assert not ok, detail


@pytest.mark.parametrize("backend", BACKENDS)
def test_simulate_through_either_backend(backend):
    model = probgen.get_model("eight_schools")
    data, truth = model.simulate(seed=3, backend=backend)
    assert set(truth) == set(model.var_dims())
    model.prepare(data)
    again, _ = model.simulate(seed=3, backend=backend)
    np.testing.assert_array_equal(data["y"], again["y"])
    # with given parameters, y is centered on theta with sd sigma
    theta = np.full(8, 50.0)
    params = {"mu": 50.0, "tau": 1.0, "theta_trans": np.zeros(8)}
    draws = np.stack(
        [model.simulate(params=params, seed=s, backend=backend)[0]["y"] for s in range(40)]
    )
    sigma = np.asarray(model.default_data()["sigma"], dtype=float)
    z = (draws.mean(0) - theta) / (sigma / np.sqrt(len(draws)))
    assert np.all(np.abs(z) < 4.5), z
