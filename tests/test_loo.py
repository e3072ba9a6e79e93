"""PSIS-LOO, comparison, held-out log predictive density, reconstruction error.

The registry tests run on prior stand-ins of fits (tests/fits.py: no NUTS);
the comparisons on short real fits of simulated data where the better model is
known.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr
from arviz_base import from_dict
from fits import linear_data, nb_counts, prior_fit, quick_fit

import probgen
from probgen.errors import HighParetoKWarning
from probgen.evaluation.loo import (
    LPD,
    NotPointwiseError,
    compare,
    joint_log_likelihood,
    log_predictive_density,
    loo,
    lpd_pointwise,
    observation_dim,
)
from probgen.evaluation.reconstruction import reconstruction_error

MODELS = probgen.list_models()
#: one joint log likelihood term for all observations (a GP's marginal)
JOINT = {"gp_regression"}
#: posterior variables along the observation dim: new observations need new units
NEW_UNITS = {"eight_schools", "gp_poisson", "irt_2pl", "rats", "stochastic_volatility"}
#: ... of which these integrate the new units' parameters out (Model.new_unit_log_likelihood)
INTEGRATES_NEW_UNITS = {"eight_schools", "rats"}


def _fit(name: str, data: dict, backend: str = "numpyro", seed: int = 0) -> xr.DataTree:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quick_fit(name, backend, data=data, seed=seed)


def heldout(model, start: float = 0.5) -> dict:
    """The model's default data from ``start`` (a fraction) on along its
    observation dim: other fields and the sizes of other dims kept."""
    data = model.prepare(None)
    obs = observation_dim(model)
    k = int(data.size(obs) * start)
    values = {}
    for f in model.fields:
        v = data.get(f.name)
        if v is not None:
            values[f.name] = v[k:] if f.dims and f.dims[0] == obs else v
    for key, dim in model.sizes.items():
        if dim != obs and dim in data.coords:
            values[key] = len(data.coords[dim])
    return values


# ---------------------------------------------------------- every model, twice
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
@pytest.mark.parametrize("name", MODELS)
def test_loo_and_heldout_every_model(name, backend):
    fit = prior_fit(name, backend, predictive=True)  # shared with test_ppc's
    model = probgen.get_model(name)
    if name in JOINT:
        # LOO through the model's non-factorized terms log p(y_i | y_-i, theta);
        # held-out data have no such terms
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HighParetoKWarning)
            result = loo(fit)
        assert result.n_data_points == fit["observed_data"].sizes[observation_dim(model)]
        with pytest.raises(NotPointwiseError, match="one joint term"):
            log_predictive_density(fit, heldout(model))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HighParetoKWarning)  # prior draws: expected
        result = loo(fit)
    assert result.n_data_points == fit["observed_data"].sizes[observation_dim(model)]
    assert result.pareto_k.shape == (result.n_data_points,)
    new = heldout(model)
    if name in NEW_UNITS - INTEGRATES_NEW_UNITS:
        with pytest.raises(ValueError, match="new latent units"):
            log_predictive_density(fit, new)
        # the same units (all of the fit's) work
        new = heldout(model, start=0.0)
    out = log_predictive_density(fit, new)
    assert isinstance(out, LPD) and out.n == len(out.pointwise) > 0
    assert np.isfinite(out.lpd) and out.lpd == pytest.approx(out.pointwise.sum())


# --------------------------------------------------------------- the pieces
def test_joint_log_likelihood_sums_sites_per_observation():
    fit = prior_fit("gaussian_naive_bayes")
    joint = joint_log_likelihood(fit)
    ll = fit["log_likelihood"]
    expected = ll["X"].sum("feature") + ll["y"]
    assert joint.dims == ("chain", "draw", "obs") and joint.name == "X+y"
    np.testing.assert_allclose(joint.values, expected.transpose("chain", "draw", "obs").values)
    # a series' observation is a time point (leave-one-time-point-out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HighParetoKWarning)
        assert loo(prior_fit("ar")).n_data_points == prior_fit("ar")["observed_data"].sizes["time"]


def test_heldout_rows_keep_the_fit_classes():
    # held-out iris rows without any setosa are still coded against the fit's
    # three classes: their lpd_i equal those of the same rows scored among all
    fit = prior_fit("gaussian_naive_bayes", predictive=True)
    X = fit["observed_data"]["X"].values
    labels = np.asarray(fit["posterior"]["class"].values)[fit["observed_data"]["y"].values]
    every = log_predictive_density(fit, {"X": X, "y": labels})
    some = log_predictive_density(fit, {"X": X[50:], "y": labels[50:]})
    np.testing.assert_allclose(some.pointwise.to_numpy(), every.pointwise.to_numpy()[50:])


def test_lpd_pointwise_by_hand():
    rng = np.random.default_rng(0)
    ll = rng.normal(size=(2, 30, 5))
    flat = ll.reshape(60, 5)
    np.testing.assert_allclose(lpd_pointwise(ll), np.log(np.mean(np.exp(flat), axis=0)))


def test_high_pareto_k_warns_with_advice():
    # one gross outlier in otherwise well-specified data: its LOO weights are heavy-tailed
    data = linear_data(n=60, seed=4)
    data["y"][0] += 25.0
    with pytest.warns(HighParetoKWarning, match=r"unreliable for [1-9]\d* of 60 observations"):
        result = loo(_fit("linear_regression", data))
    assert float(result.pareto_k[0]) > result.good_k
    # can fail: without the outlier no k is high
    with warnings.catch_warnings():
        warnings.simplefilter("error", HighParetoKWarning)
        loo(_fit("linear_regression", linear_data(n=60, seed=4)))
    # prior draws as a "posterior": k undefined or huge everywhere, also warned
    with pytest.warns(HighParetoKWarning, match=r"of 434 observations"):
        result = loo(prior_fit("linear_regression"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HighParetoKWarning)
        short = loo(prior_fit("linear_regression"), pointwise=False)
    assert short.elpd_i is None and short.elpd == pytest.approx(result.elpd)


# ------------------------------------------------- predictive accuracy, real fits
def test_backends_agree_on_elpd():
    data = linear_data(n=60, seed=4)
    with warnings.catch_warnings():
        # 200 draws: arviz's k threshold is 0.57, and one point may pass it
        warnings.simplefilter("ignore", HighParetoKWarning)
        a = loo(_fit("linear_regression", data, "numpyro"))
        b = loo(_fit("linear_regression", data, "pymc"))
        # can fail: the same model fitted to other data is not within the se
        other = loo(_fit("linear_regression", linear_data(n=60, seed=4, noise="t")))
    assert abs(a.elpd - b.elpd) < min(a.se, b.se), (a.elpd, b.elpd, a.se)
    assert abs(other.elpd - a.elpd) > a.se


def test_negative_binomial_beats_poisson_on_overdispersed_counts():
    data = nb_counts()
    fits = {
        "poisson": _fit("poisson_regression", data),
        "negbin": _fit("negative_binomial_regression", data),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HighParetoKWarning)
        table = compare(fits)
    assert table.index[0] == "negbin"
    # arviz_stats 1.x: elpd_diff is the worse model's ELPD minus the best's (< 0)
    assert -table.loc["poisson", "elpd_diff"] > 2 * table.loc["poisson", "dse"], table
    # held out: new counts from the same process prefer the true model too
    new = nb_counts(seed=12)
    nb = log_predictive_density(fits["negbin"], new)
    po = log_predictive_density(fits["poisson"], new)
    diff = nb.pointwise.to_numpy() - po.pointwise.to_numpy()
    assert diff.sum() > 2 * np.sqrt(diff.size) * diff.std(ddof=1)
    assert nb.n == 150 and list(nb.pointwise.index[:2]) == [150, 151]  # after the fit's labels


def test_compare_refuses_fits_of_different_data():
    fit = _fit("poisson_regression", nb_counts())
    with pytest.raises(ValueError, match="150 observations.*2025"):
        compare({"a": fit, "b": prior_fit("poisson_regression")})
    changed = fit.copy()
    obs = changed["observed_data"].to_dataset()
    obs["y"] = obs["y"] + 1
    changed["observed_data"] = xr.DataTree(obs)
    with pytest.raises(ValueError, match="observed values differ"):
        compare({"a": fit, "b": changed})
    with pytest.raises(ValueError, match="at least two"):
        compare({"a": fit})
    with pytest.raises(TypeError, match="mapping"):
        compare([fit, fit])


def test_bad_input():
    fit = prior_fit("linear_regression")
    not_ours = fit.copy()
    not_ours.attrs = {}
    with pytest.raises(ValueError, match="not a probgen fit"):
        loo(not_ours)
    no_ll = xr.DataTree.from_dict({"posterior": fit["posterior"].to_dataset()})
    no_ll.attrs.update(fit.attrs)
    with pytest.raises(ValueError, match="no 'log_likelihood' group"):
        loo(no_ll)
    with pytest.raises(probgen.DataError, match="new observed values"):
        log_predictive_density(fit, {"X": np.zeros((3, 1))})
    with pytest.raises(probgen.DataError, match="mapping"):
        log_predictive_density(fit, np.zeros(3))


# --------------------------------------------------------------- reconstruction
def _mixture_tree(theta: np.ndarray, weights: np.ndarray) -> xr.DataTree:
    K, D = theta.shape
    dt = from_dict(
        {"posterior": {"theta": theta[None, None], "weights": weights[None, None]}},
        dims={"theta": ["component", "pixel"], "weights": ["component"]},
    )
    dt.attrs.update(
        {
            "probgen_model": "bernoulli_mixture",
            "probgen_config": json.dumps({"K": K, "D": D, "order_pixel": 0}),
        }
    )
    return dt


def test_reconstruction_error_known_mixture():
    theta = np.array([[0.9, 0.9, 0.9], [0.1, 0.1, 0.1]])
    fit = _mixture_tree(theta, np.array([0.5, 0.5]))
    images = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, np.nan]])
    # responsibilities by Bayes' rule; expected pixels r·theta
    r1 = 0.9**3 / (0.9**3 + 0.1**3)
    r2 = 0.1**2 / (0.1**2 + 0.9**2)  # the missing pixel summed out
    x1 = r1 * 0.9 + (1 - r1) * 0.1
    x2 = r2 * 0.9 + (1 - r2) * 0.1
    expected = (3 * (1 - x1) ** 2 + 2 * x2**2) / 5
    assert reconstruction_error(fit, images) == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        reconstruction_error(fit, np.ones((2, 4)))
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        reconstruction_error(fit, np.full((1, 3), 0.5))


def test_reconstruction_error_dispatch():
    ppca = prior_fit("probabilistic_pca")
    x = ppca["observed_data"]["x"].values[:20]
    assert np.isfinite(reconstruction_error(ppca, x))
    with pytest.raises(ValueError, match="not to linear_regression"):
        reconstruction_error(prior_fit("linear_regression"), np.zeros((2, 1)))


# -------------------------------------------------------------- slow: larger fits
@pytest.mark.slow
def test_radon_partial_pooling_beats_complete_pooling():
    fits = {
        pooling: quick_fit("radon", "numpyro", config={"pooling": pooling}, check=False)
        for pooling in ("complete", "varying_intercept")
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HighParetoKWarning)
        table = compare(fits)
    assert table.index[0] == "varying_intercept"
    assert -table.loc["complete", "elpd_diff"] > 2 * table.loc["complete", "dse"], table


@pytest.mark.slow
def test_ppca_reconstructs_heldout_rows_better_than_the_mean():
    model = probgen.get_model("probabilistic_pca")
    x = np.asarray(model.prepare(None)["x"])
    train, test = x[: len(x) // 2], x[len(x) // 2 :]
    fit = _fit("probabilistic_pca", {"x": train})
    baseline = float(np.mean((test - train.mean(axis=0)) ** 2))
    assert reconstruction_error(fit, test) < 0.8 * baseline


# ------------------------------------------- regressions found by a user trial
def test_heldout_dataframe_read_by_column_name():
    import pandas as pd

    data = linear_data()
    X = pd.DataFrame(data["X"], columns=["a", "b"])
    fit = _fit("linear_regression", {"X": X, "y": data["y"]})
    new = linear_data(n=30, seed=7)
    table = pd.DataFrame({"y": new["y"], "b": new["X"][:, 1], "a": new["X"][:, 0]})
    table.index = [f"home{i}" for i in range(30)]
    from_table = log_predictive_density(fit, table)  # columns in another order
    from_mapping = log_predictive_density(
        fit, {"X": pd.DataFrame(new["X"], columns=["a", "b"]), "y": new["y"]}
    )
    assert from_table.lpd == pytest.approx(from_mapping.lpd, rel=1e-12)
    assert list(from_table.pointwise.index[:2]) == ["home0", "home1"]
    # can fail: swapping the columns' names (matched by name) changes the score
    swapped = table.rename(columns={"a": "b", "b": "a"})
    assert log_predictive_density(fit, swapped).lpd < from_table.lpd - 1.0
    with pytest.raises(probgen.DataError, match="'y'"):
        log_predictive_density(fit, table.drop(columns="y"))


def test_compare_table_not_rounded():
    data = nb_counts()
    fits = {
        "poisson": _fit("poisson_regression", data),
        "negbin": _fit("negative_binomial_regression", data),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HighParetoKWarning)
        table = compare(fits)
        elpd = {name: float(loo(fit).elpd) for name, fit in fits.items()}
    # can fail: arviz_stats' default rounding gives e.g. -230.0 for -228.47
    for name, value in elpd.items():
        assert table.loc[name, "elpd"] == pytest.approx(value, rel=1e-12)
    assert table.loc["poisson", "elpd_diff"] == pytest.approx(
        elpd["poisson"] - elpd["negbin"], rel=1e-9
    )


def test_heldout_table_field_matched_by_column_name():
    import pandas as pd

    fit = prior_fit("probabilistic_pca")
    x = fit["observed_data"]["x"]
    names = [str(c) for c in x.coords["feature"].values]
    rows = pd.DataFrame(x.values[:15], columns=names)
    ordered = log_predictive_density(fit, {"x": rows}).lpd
    shuffled = log_predictive_density(fit, {"x": rows[names[::-1]]}).lpd
    assert shuffled == pytest.approx(ordered, rel=1e-12)
    # can fail: the same values by position in the reversed order score differently
    positional = log_predictive_density(fit, {"x": rows[names[::-1]].to_numpy()}).lpd
    assert abs(positional - ordered) > 1.0
    with pytest.raises(probgen.DataError, match="unknown \\['nope'\\]"):
        log_predictive_density(fit, {"x": rows.rename(columns={names[0]: "nope"})})


# ------------------------------------------------------- new units, integrated
@pytest.mark.parametrize("name", sorted(INTEGRATES_NEW_UNITS))
def test_heldout_new_units_integrate_their_parameters(name):
    """New schools / new rats: log p(y_new | population draws) with the units'
    parameters integrated out, equal to a Monte Carlo integral over them."""
    # a real fit: population draws near the data, so the Monte Carlo check below
    # (unit parameters drawn from the population) has draws where the data are
    fit = _fit(name, None)
    model = probgen.get_model(name)
    new = heldout(model)
    out = log_predictive_density(fit, new)
    n_new = len(model.prepare(new).coords[observation_dim(model)])
    assert out.n == n_new
    post = fit["posterior"].dataset
    rng = np.random.default_rng(0)
    draws = 20000
    prepared = model.prepare(new)
    y = np.asarray(prepared["y"], dtype=float)
    s = 3  # one posterior draw (chain 0), Monte Carlo over the unit's parameters
    if name == "eight_schools":
        mu, tau = float(post["mu"][0, s]), float(post["tau"][0, s])
        theta = rng.normal(mu, tau, size=(draws, 1))
        sigma = np.asarray(prepared["sigma"], dtype=float)
        lp = -0.5 * (np.log(2 * np.pi * sigma**2) + (y - theta) ** 2 / sigma**2)
    else:
        v = {
            k: float(post[k][0, s])
            for k in ("mu_alpha", "mu_beta", "sigma_y", "sigma_alpha", "sigma_beta")
        }
        age = np.asarray(prepared["x"], dtype=float) - float(np.asarray(prepared["xbar"]))
        a = rng.normal(v["mu_alpha"], v["sigma_alpha"], size=(draws, 1, 1))
        b = rng.normal(v["mu_beta"], v["sigma_beta"], size=(draws, 1, 1))
        mean = a + b * age[None, None, :]
        lp = np.sum(
            -0.5
            * (np.log(2 * np.pi * v["sigma_y"] ** 2) + (y[None] - mean) ** 2 / v["sigma_y"] ** 2),
            axis=-1,
        )
    mc = np.log(np.mean(np.exp(lp - lp.max(axis=0)), axis=0)) + lp.max(axis=0)
    exact = model.new_unit_log_likelihood(
        {k: post[k].values for k in post.data_vars if not set(post[k].dims) - {"chain", "draw"}},
        prepared,
    )["y"][0, s]
    np.testing.assert_allclose(exact, mc, atol=0.05)
    # can fail: scoring the new units with the fit's first units' parameters differs
    assert not np.allclose(exact, lp.mean(axis=0), atol=1e-6)
