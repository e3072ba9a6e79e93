"""Forecasts of the time-series models: the recursion run forward per posterior draw."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FAST

import probgen
from probgen.data import ModelData


def _posterior(**values):
    """A fake posterior: every value repeated over (chain=2, draw=3)."""
    return {
        k: np.broadcast_to(np.asarray(v, dtype=float), (2, 3, *np.shape(v)))
        for k, v in values.items()
    }


def _series(y, dim="time"):
    return ModelData({"y": np.asarray(y, dtype=float)}, {dim: list(range(len(y)))})


def test_arma_forecast_runs_the_recursion_forward():
    model = probgen.get_model("arma11")
    y = np.array([1.0, 2.5, 1.5, 3.0, 2.0])
    mu, phi, theta = 0.5, 0.6, 0.3
    # the last error by the model's recursion (y[0] = mu, err[0] = 0 before the series)
    y_prev, err = mu, 0.0
    for y_t in y:
        nu = mu + phi * y_prev + theta * err
        y_prev, err = y_t, y_t - nu
    post = _posterior(mu=mu, phi=phi, theta=theta, sigma=1e-12)
    out = model.forecast_draws(post, _series(y), steps=3, rng=np.random.default_rng(0))["y"]
    assert out.shape == (2, 3, 3)
    step1 = mu + phi * y[-1] + theta * err
    step2 = mu + phi * step1  # no new error when sigma -> 0
    np.testing.assert_allclose(out[..., 0], step1)
    np.testing.assert_allclose(out[..., 1], step2)
    # with noise, one step ahead is centred on the same mean with sd sigma
    post = _posterior(mu=mu, phi=phi, theta=theta, sigma=2.0)
    post = {k: np.repeat(v, 2000, axis=1) for k, v in post.items()}
    out = model.forecast_draws(post, _series(y), steps=1, rng=np.random.default_rng(1))["y"]
    assert abs(out.mean() - step1) < 4.5 * 2.0 / np.sqrt(out.size)
    assert out.std() == pytest.approx(2.0, rel=0.05)


def test_hmm_forecast_follows_the_filtered_state():
    model = probgen.get_model("hmm_gaussian")
    y = np.array([3.0, 3.1, 9.9, 10.0, 10.1])  # ends in the upper state
    stay = _posterior(mu=[3.0, 10.0], theta=np.eye(2))
    out = model.forecast_draws(stay, _series(y), steps=4, rng=np.random.default_rng(0))["y"]
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 10.0, atol=3.5)  # sigma = 1 per draw
    # a chain that always switches: the forecast alternates 3, 10, 3, 10
    switch = _posterior(mu=[3.0, 10.0], theta=[[0.0, 1.0], [1.0, 0.0]])
    switch = {k: np.repeat(v, 500, axis=1) for k, v in switch.items()}
    out = model.forecast_draws(switch, _series(y), steps=4, rng=np.random.default_rng(1))["y"]
    np.testing.assert_allclose(out.mean(axis=(0, 1)), [3.0, 10.0, 3.0, 10.0], atol=0.1)


@pytest.mark.parametrize("name", ["arma11", "hmm_gaussian"])
def test_forecast_continues_the_fitted_series(name):
    fit = probgen.sample(name, **FAST, seed=2, check=False)
    out = probgen.forecast(fit, steps=5, seed=1)
    pred = out["predictions"]["y"]
    assert pred.dims == ("chain", "draw", "time")
    last = int(fit["observed_data"]["y"].coords["time"].values[-1])
    assert list(pred.coords["time"].values) == list(range(last + 1, last + 6))
    assert np.isfinite(pred.values).all()
    # the fit itself is not changed; the observed series is still there
    assert "predictions" not in fit.children and "observed_data" in out.children


def test_forecast_refuses_models_that_are_not_series():
    fit = probgen.sample("eight_schools", **FAST, seed=1, check=False)
    with pytest.raises(ValueError, match="does not forecast"):
        probgen.forecast(fit, steps=3)
    with pytest.raises(ValueError, match="steps"):
        probgen.forecast(fit, steps=0)


def test_garch_forecast_runs_the_volatility_forward():
    model = probgen.get_model("garch11")
    y = np.array([0.3, -1.0, 0.5, 2.0])
    mu, a0, a1, b1, s1 = 0.1, 0.2, 0.3, 0.5, 0.5
    sigma = s1
    for y_t in y[:-1]:
        sigma = np.sqrt(a0 + a1 * (y_t - mu) ** 2 + b1 * sigma**2)
    next_sigma = np.sqrt(a0 + a1 * (y[-1] - mu) ** 2 + b1 * sigma**2)
    post = _posterior(mu=mu, alpha0=a0, alpha1=a1, beta1=b1)
    post = {k: np.repeat(v, 3000, axis=1) for k, v in post.items()}
    data = ModelData({"y": y, "sigma1": np.asarray(s1)}, {"time": list(range(4))})
    out = model.forecast_draws(post, data, steps=2, rng=np.random.default_rng(0))["y"]
    step1 = out[..., 0].ravel()
    assert abs(step1.mean() - mu) < 4.5 * next_sigma / np.sqrt(step1.size)
    assert step1.std() == pytest.approx(next_sigma, rel=0.05)


def test_ar_forecast_uses_the_last_k_values():
    model = probgen.get_model("ar")
    y_init, y = np.array([1.0, 2.0]), np.array([3.0, 5.0, 4.0])
    post = _posterior(alpha=0.5, beta=[0.6, -0.2], sigma=1e-12)
    data = ModelData({"y_init": y_init, "y": y}, {"init": [0, 1], "time": [2, 3, 4], "lag": [1, 2]})
    out = model.forecast_draws(post, data, steps=2, rng=np.random.default_rng(0))["y"]
    step1 = 0.5 + 0.6 * 4.0 - 0.2 * 5.0
    step2 = 0.5 + 0.6 * step1 - 0.2 * 4.0
    np.testing.assert_allclose(out[..., 0], step1)
    np.testing.assert_allclose(out[..., 1], step2)
