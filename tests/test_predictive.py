"""Prior predictive, posterior predictive and out-of-sample predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST

import probgen


@pytest.fixture(scope="module", params=["numpyro", "pymc"])
def linreg_fit(request):
    return probgen.sample("linear_regression", backend=request.param, **FAST, seed=4)


def test_posterior_predictive_replicates_the_data(linreg_fit):
    out = probgen.sample_posterior_predictive(linreg_fit, seed=1)
    y_rep = out["posterior_predictive"]["y"]
    y = out["observed_data"]["y"]
    assert y_rep.dims == ("chain", "draw", "obs")
    assert y_rep.shape[:2] == (2, 200)
    # replicated means track the observed mean within their spread
    assert abs(float(y_rep.mean()) - float(y.mean())) < 3 * float(y_rep.mean("obs").std())
    # the fit itself is not modified
    assert "posterior_predictive" not in linreg_fit.children


def test_predictions_for_new_covariates(linreg_fit):
    X_new = pd.DataFrame({"mom_hs": [0.0, 1.0, 1.0], "mom_iq": [80.0, 100.0, 130.0]})
    out = probgen.predict(linreg_fit, {"X": X_new}, seed=2)
    pred = out["predictions"]["y"]
    assert pred.dims == ("chain", "draw", "obs") and pred.shape[-1] == 3
    const = out["predictions_constant_data"]["X"]
    np.testing.assert_array_equal(const.values, X_new.to_numpy())
    assert list(const.coords["feature"].values) == ["mom_hs", "mom_iq"]
    # predictive mean = E[intercept + X coef]
    post = linreg_fit["posterior"]
    mean = (post["intercept"] + (post["coef"] * const).sum("feature")).mean(("chain", "draw"))
    sd = float(post["sigma"].mean())
    np.testing.assert_allclose(
        pred.mean(("chain", "draw")).values, mean.values, atol=4 * sd / np.sqrt(400)
    )


def test_prior_predictive_of_eight_schools_is_heavy_tailed():
    dt = probgen.sample_prior_predictive("eight_schools", draws=2000, seed=0)
    tau = dt["prior"]["tau"].values.ravel()
    # HalfCauchy(5): median 5, about 6 % of draws above 50
    assert 4 < np.median(tau) < 6
    assert 0.03 < (tau > 50).mean() < 0.1


@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_prior_predictive_needs_proper_priors(backend):
    model = probgen.get_model("linear_regression", coef_prior="flat")
    with pytest.raises(Exception, match="improper|flat|Flat"):
        probgen.sample_prior_predictive(model, backend=backend, draws=3)


def test_simulate_recovers_parameters():
    """Generate a data set from known parameters, fit it, find them again."""
    model = probgen.get_model("logistic_regression")
    truth = {"intercept": np.array(-0.3), "coef": np.array([-0.9, 0.45, 0.15, -0.1])}
    data, used = model.simulate(params=truth, seed=9)
    fit = probgen.sample(model, data, **FAST, seed=1)
    post = fit["posterior"]
    for name, value in truth.items():
        m = post[name].mean(("chain", "draw")).values
        s = post[name].std(("chain", "draw")).values
        assert np.all(np.abs(m - value) < 4 * s), (name, m, value)


def test_gp_predictions_condition_on_the_training_data():
    """A GP's predictions at the training inputs are pulled towards the data.

    Conditioned on y, the predictive at the training inputs is narrower than
    the marginal replication of y given the hyperparameters, and centred near
    the data (about 3 here) instead of the zero prior mean.
    """
    fit = probgen.sample("gp_regression", **FAST, seed=1, check=False)
    x = fit["constant_data"]["x"].values
    y = fit["observed_data"]["y"].values
    pred = probgen.predict(fit, {"x": x}, seed=0)["predictions"]["y"]
    marginal = probgen.sample_posterior_predictive(fit, seed=0)["posterior_predictive"]["y"]
    sd_pred = pred.std(("chain", "draw")).values
    sd_marg = marginal.std(("chain", "draw")).values
    assert np.all(sd_pred < sd_marg)
    mean_pred = pred.mean(("chain", "draw")).values
    assert np.all(np.abs(mean_pred - y.mean()) < 1.0)
    assert abs(float(marginal.mean())) < 1.0 < y.mean()


def test_predictions_keep_parameter_only_dims():
    fit = probgen.sample("ar", backend="pymc", **FAST, seed=1, check=False)
    out = probgen.sample_posterior_predictive(fit, seed=0)
    assert out["posterior_predictive"]["y"].dims == ("chain", "draw", "time")


# ------------------------------------------------ what users expect from predict
def test_prediction_labels_come_from_the_new_data(linreg_fit):
    X_new = pd.DataFrame({"mom_hs": [0.0, 1.0], "mom_iq": [80.0, 120.0]}, index=["ann", "bob"])
    out = probgen.predict(linreg_fit, {"X": X_new}, seed=2)
    assert list(out["predictions"]["y"].coords["obs"].values) == ["ann", "bob"]
    # a plain array has no labels: they continue after the training rows
    n = linreg_fit["observed_data"].sizes["obs"]
    out = probgen.predict(linreg_fit, {"X": X_new.to_numpy()}, seed=2)
    assert list(out["predictions"]["y"].coords["obs"].values) == [n, n + 1]
    # the regression mean is reported beside the draws of y
    mu = out["predictions"]["mu"]
    assert mu.dims == ("chain", "draw", "obs")
    post = linreg_fit["posterior"]
    expect = post["intercept"].values[..., None] + np.einsum(
        "nk,cdk->cdn", X_new.to_numpy(), post["coef"].values
    )
    np.testing.assert_allclose(mu.values, expect)


@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_classifier_predictions_carry_the_class_probability(backend):
    fit = probgen.sample("logistic_regression", backend=backend, **FAST, seed=3, check=False)
    X_new = pd.DataFrame(
        {"dist100": [0.1, 3.0], "arsenic": [5.0, 0.6], "educ4": [2.0, 0.0], "assoc": [0.0, 1.0]}
    )
    out = probgen.predict(fit, {"X": X_new}, seed=4)
    pred = out["predictions"]
    p, eta, y = pred["p"].values, pred["eta"].values, pred["y"].values
    assert p.shape == eta.shape == y.shape == (2, 200, 2)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-eta)))
    assert ((p > 0) & (p < 1)).all()
    # close to a safe well with high arsenic: much more likely to switch
    assert p[..., 0].mean() > p[..., 1].mean() + 0.3
    # the draws of y follow p: their mean is within MC error of the mean probability
    se = np.sqrt(p.mean(axis=(0, 1)) * (1 - p.mean(axis=(0, 1))) / 400)
    assert np.all(np.abs(y.mean(axis=(0, 1)) - p.mean(axis=(0, 1))) < 4.5 * se)


def test_gp_predictions_carry_the_latent_function():
    fit = probgen.sample("gp_regression", **FAST, seed=1, check=False)
    out = probgen.predict(fit, {"x": np.array([-10.0, 0.5, 12.0])}, seed=3)
    pred = out["predictions"]
    assert set(pred.data_vars) == {"y", "f"}
    assert pred["f"].dims == ("chain", "draw", "obs")
    # y = f + noise: same center, more spread
    assert float(pred["y"].std()) > float(pred["f"].std())


@pytest.fixture(scope="module")
def mixture_fit():
    return probgen.sample("gaussian_mixture", **FAST, seed=3)


def test_generate_new_data_sets_of_any_size(mixture_fit):
    out = probgen.generate(mixture_fit, 400, seed=5)
    y = out["predictions"]["y"]
    assert y.dims == ("chain", "draw", "obs") and y.shape == (2, 200, 400)
    assert list(y.coords["obs"].values) == list(range(400))
    # per draw, the share of points from the lower component is that draw's weight:
    # pooled over draws the share below the midpoint between the means tracks
    # E[theta[0]] (the components are far apart), to a binomial tolerance
    post = mixture_fit["posterior"]
    mid = post["mu"].mean(("chain", "draw", "component"))
    share = float((y < mid).mean())
    expected = float(post["theta"].isel(component=0).mean())
    sd = float(post["theta"].isel(component=0).std()) + np.sqrt(0.25 / y.size)
    assert abs(share - expected) < 4 * sd / np.sqrt(y.sizes["chain"] * y.sizes["draw"]) + 0.02
    assert "predictions" not in mixture_fit.children


def test_generate_agrees_between_backends(mixture_fit):
    from scipy import stats

    a = probgen.generate(mixture_fit, 20, seed=1, backend="numpyro")["predictions"]["y"]
    b = probgen.generate(mixture_fit, 20, seed=2, backend="pymc")["predictions"]["y"]
    assert stats.ks_2samp(a.values.ravel(), b.values.ravel()).pvalue > 1e-3


def test_generate_needs_a_model_without_covariates(linreg_fit):
    with pytest.raises(ValueError, match="predict"):
        probgen.generate(linreg_fit, 5)
    with pytest.raises(ValueError, match="n must be positive, got 0"):
        probgen.generate(linreg_fit, 0)


def test_generate_draws_new_units_from_the_population():
    """rats has one growth curve per rat: new rats come from the population
    distribution (the model's generate_draws), not from the fitted rats."""
    fit = probgen.sample("rats", **FAST, seed=2, check=False)
    out = probgen.generate(fit, 4, seed=3)
    y = out["predictions"]["y"]
    assert y.dims == ("chain", "draw", "rat", "age") and y.shape[2:] == (4, 5)
    post = fit["posterior"]
    # the spread of new rats' weights at the mean age is the population's sd
    # (sigma_alpha, sigma_y), far wider than the posterior of any fitted rat's curve
    middle = y.isel(age=2)
    expected = np.sqrt(float((post["sigma_alpha"] ** 2 + post["sigma_y"] ** 2).mean()))
    assert float(middle.std()) == pytest.approx(expected, rel=0.15)
