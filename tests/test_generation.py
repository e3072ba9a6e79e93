"""Generation at scale: replicates, covariates, data sets of any size, tidy frames.

The fits here are stand-ins without NUTS (``fits.prior_fit``: prior draws as the
posterior), so every model can be exercised for the price of its compiled
programs. The default tier covers one model of each shape of data (a
regression, two observed sites with a 2-D one, a series with presample values,
a hierarchical model with a 2-D outcome, per-observation inputs) on both
backends; the whole registry on both backends is under ``slow``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fits import prior_fit

import probgen
from probgen.errors import ProbgenError
from probgen.predictive import (
    generate,
    posterior_draw_index,
    sample_posterior_predictive,
    sample_prior_predictive,
    tile_draws,
)
from probgen.tidy import array_columns, from_frame, to_frame

BACKENDS = ("numpyro", "pymc")

#: configurations that make a model's prior proper (garch11's default priors are flat)
CONFIG = {"garch11": {"mu_prior": "normal(0, 10)", "alpha0_prior": "half_normal(1)"}}

#: one model per shape of data: regression; X (obs, feature) + y (obs,);
#: series after K presample values; hierarchical y (rat, age); per-obs input sigma
REPRESENTATIVE = ("linear_regression", "gaussian_naive_bayes", "ar", "rats", "eight_schools")

#: models whose data sets of a new size need inputs only the user can give
#: (covariates, per-observation inputs) or new units the model does not draw
NO_GENERATE = {
    "eight_schools": "per-observation inputs",
    "gp_poisson": "per-observation inputs",
    "gp_regression": "per-observation inputs",
    "irt_2pl": "population distribution",
    "lda_topic_model": "per-observation inputs",
    "linear_regression": "per-observation inputs",
    "logistic_regression": "per-observation inputs",
    "multinomial_naive_bayes": "per-observation inputs",
    "negative_binomial_regression": "per-observation inputs",
    "poisson_regression": "per-observation inputs",
    "radon": "per-observation inputs",
    "robust_regression": "per-observation inputs",
}

DRAWS = 40  # prior_fit's default: its cache is shared with the other test files
REPLICATES = 3

#: image models (1797 x 64 pixels): fewer draws keep their frames to ~1e6 rows
HEAVY = {"bernoulli_mixture": 4, "bernoulli_naive_bayes": 4, "multinomial_naive_bayes": 4}


def _draws(name: str) -> int:
    return HEAVY.get(name, DRAWS)


def _fit(name: str, backend: str) -> xr.DataTree:
    return prior_fit(name, backend, config=CONFIG.get(name), draws=_draws(name))


def _roundtrip(dt: xr.DataTree, group: str) -> None:
    """to_frame, then each variable pivoted back, equals the group's arrays."""
    frame = to_frame(dt, group)
    ds = dt[group].dataset
    assert frame.attrs["group"] == group
    assert frame.attrs["variables"] == list(ds.data_vars)
    assert frame.attrs["layout"] == (
        "wide" if len({ds[v].dims for v in ds.data_vars}) == 1 else "long"
    )
    rows = (
        ds[next(iter(ds.data_vars))].size
        if frame.attrs["layout"] == "wide"
        else sum(ds[v].size for v in ds.data_vars)
    )
    assert len(frame) == rows
    for name, da in ds.data_vars.items():
        back = from_frame(frame, name).transpose(*da.dims)
        np.testing.assert_array_equal(back.values.astype(da.dtype), da.values, err_msg=name)
        for dim in da.dims:
            np.testing.assert_array_equal(back[dim].values, da[dim].values, err_msg=dim)


def check_generation(name: str, backend: str) -> None:
    """Everything generation promises, for one model on one backend."""
    model = probgen.get_model(name, **CONFIG.get(name, {}))
    fit = _fit(name, backend)
    draws = _draws(name)
    observed = fit["observed_data"].dataset

    # prior predictive: draws data sets shaped like the observed data
    prior = sample_prior_predictive(model, backend=backend, draws=draws, seed=1)
    for site in model.observed:
        da = prior["prior_predictive"][site]
        assert da.dims == ("chain", "draw", *observed[site].dims), site
        assert da.shape == (1, draws, *observed[site].shape), site
    assert set(prior["prior"].data_vars) == set(model.var_dims())

    # posterior predictive, several replicates per draw, stored as more draws
    out = sample_posterior_predictive(fit, replicates=REPLICATES, seed=2)
    pp = out["posterior_predictive"]
    assert pp.attrs["replicates"] == REPLICATES
    assert pp.attrs["posterior_draws"] == draws // 2
    for site in model.observed:
        da = pp[site]
        assert da.dims == ("chain", "draw", *observed[site].dims), site
        assert da.shape == (2, REPLICATES * draws // 2, *observed[site].shape), site
        for dim in observed[site].dims:
            np.testing.assert_array_equal(da[dim].values, observed[dim].values)
        # replicates of one draw are different data sets (a continuous or
        # many-valued outcome; a 0/1 pixel image is never identical either)
        values = da.values.reshape(2, REPLICATES, draws // 2, -1)
        assert not np.array_equal(values[:, 0], values[:, 1]), site
    assert "posterior_predictive" not in fit.children

    # tidy frames of every group that holds draws
    _roundtrip(out, "posterior_predictive")
    _roundtrip(out, "posterior")
    _roundtrip(prior, "prior")
    _roundtrip(prior, "prior_predictive")
    frame = to_frame(out)
    post_draw, rep = posterior_draw_index(pp)
    assert frame.attrs["replicates"] == REPLICATES
    first = frame.drop_duplicates(["chain", "draw"])
    np.testing.assert_array_equal(first["posterior_draw"].to_numpy()[: len(post_draw)], post_draw)
    np.testing.assert_array_equal(first["replicate"].to_numpy()[: len(rep)], rep)

    # data sets of a new size, or a clear refusal
    if name in NO_GENERATE:
        with pytest.raises(ValueError, match=NO_GENERATE[name]):
            generate(fit, 7, replicates=2)
    else:
        gen = generate(fit, 7, replicates=2, seed=3)["predictions"]
        assert gen.attrs["replicates"] == 2 and gen.attrs["generated_n"] == 7
        for site in model.observed:
            da = gen[site]
            assert da.shape[:3] == (2, draws, 7), (site, da.shape)
            assert da.shape[3:] == observed[site].shape[1:], site


# ----------------------------------------------------------------- every model
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_generation_representative_models(name, backend):
    check_generation(name, backend)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", probgen.list_models())
def test_generation_every_model(name, backend):
    check_generation(name, backend)


def test_the_lists_above_name_registry_models():
    # a renamed model would otherwise silently drop out of these tests
    named = set(REPRESENTATIVE) | set(NO_GENERATE) | set(CONFIG) | set(HEAVY)
    assert named <= set(probgen.list_models())


def test_improper_prior_cannot_generate():
    with pytest.raises(ProbgenError, match="improper"):
        sample_prior_predictive("garch11", draws=3)


# ----------------------------------------------------------- covariates given
def _new_covariates(name: str, m: int, rng: np.random.Generator) -> dict:
    fit = _fit(name, "numpyro")
    const = fit["constant_data"].dataset
    if name == "radon":
        j = const.sizes["county"]
        return {
            "floor_measure": rng.integers(0, 2, m),
            "county_idx": rng.integers(1, j + 1, m),
            "log_uppm": const["log_uppm"].values,
        }
    if name == "gp_regression":
        return {"x": rng.uniform(-2, 2, m)}
    new = {"X": rng.normal(size=(m, const.sizes["feature"]))}
    if "exposure" in const:
        new["exposure"] = rng.uniform(0.5, 2, m)
    return new


COVARIATE_MODELS = ("linear_regression", "poisson_regression", "radon")
ALL_COVARIATE_MODELS = (
    *COVARIATE_MODELS,
    "logistic_regression",
    "robust_regression",
    "negative_binomial_regression",
    "gp_regression",
)


def check_covariates(name: str, backend: str) -> None:
    rng = np.random.default_rng(5)
    m = 11  # not the fit's number of rows
    new = _new_covariates(name, m, rng)
    model = probgen.get_model(name)
    (site,) = model.observed
    # prior predictive at the new covariates
    prior = sample_prior_predictive(name, new, backend=backend, draws=6)
    assert prior["prior_predictive"][site].shape == (1, 6, m)
    # posterior predictive at the new covariates: the predictions group
    out = sample_posterior_predictive(
        _fit(name, backend), covariates=new, replicates=2, backend=backend
    )
    pred = out["predictions"][site]
    assert pred.shape == (2, DRAWS, m)
    assert out["predictions"].attrs["replicates"] == 2
    assert "posterior_predictive" not in out.children
    _roundtrip(out, "predictions")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", COVARIATE_MODELS)
def test_covariates_supplied(name, backend):
    check_covariates(name, backend)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ALL_COVARIATE_MODELS)
def test_covariates_supplied_every_regression(name, backend):
    check_covariates(name, backend)


# ------------------------------------- replicates are independent given a draw
def replicate_checks(resid: np.ndarray, z: float = 5.0) -> tuple[bool, bool]:
    """Are standardized residuals (replicate, obs) i.i.d. N(0, 1) across replicates?

    Returns (variance ok, independence ok): the pooled variance is within
    ``z`` standard errors of 1 (se = sqrt(2 / n) for n normal values), and the
    correlation between consecutive replicates (over observations) is within
    ``z`` standard errors (1 / sqrt(n)) of 0.
    """
    n = resid.size
    var_ok = abs(resid.var() - 1.0) < z * np.sqrt(2.0 / n)
    a, b = resid[:-1].ravel(), resid[1:].ravel()
    corr = np.corrcoef(a, b)[0, 1]
    corr_ok = abs(corr) < z / np.sqrt(a.size)
    return bool(var_ok), bool(corr_ok)


def _one_draw_fit(backend: str) -> xr.DataTree:
    """linear_regression with a posterior of one chain and one draw (known values)."""
    fit = _fit("linear_regression", backend)
    post = fit["posterior"].dataset.isel(chain=[0], draw=[0])
    out = fit.copy()
    out["posterior"] = xr.DataTree(dataset=post)
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_replicates_are_independent_draws_of_the_model(backend):
    """400 replicates of ONE posterior draw: y_rep - mu is N(0, sigma^2), fresh each time."""
    fit = _one_draw_fit(backend)
    replicates = 400
    out = sample_posterior_predictive(fit, replicates=replicates, seed=11)
    y = out["posterior_predictive"]["y"].values[0]  # (replicate, obs)
    assert y.shape == (replicates, fit["observed_data"].sizes["obs"])
    post = fit["posterior"].dataset.isel(chain=0, draw=0)
    X = fit["constant_data"]["X"].values
    mu = float(post["intercept"]) + X @ post["coef"].values
    resid = (y - mu) / float(post["sigma"])
    assert replicate_checks(resid) == (True, True)
    # can fail: the same data set copied, or the wrong scale, is caught
    copied = np.repeat(resid[:1], replicates, axis=0)
    assert replicate_checks(copied)[1] is False
    assert replicate_checks(resid * 1.05)[0] is False


# --------------------------------------------------------------------- layout
def test_tile_draws_is_replicate_major():
    v = np.arange(2 * 3).reshape(2, 3)
    tiled = tile_draws(v, 2)
    np.testing.assert_array_equal(tiled, [[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]])
    ds = xr.Dataset(
        {"y": (("chain", "draw"), tiled)}, attrs={"replicates": 2, "posterior_draws": 3}
    )
    draw, rep = posterior_draw_index(ds)
    np.testing.assert_array_equal(draw, [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(rep, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(tiled[:, draw], tiled)


def test_first_block_of_replicates_pairs_with_the_posterior():
    """Draw j < D of the replicated group came from posterior draw j: the same
    draws as a single-replicate run would use, so ArviZ functions that pair
    draws with the log likelihood work on that block."""
    import arviz_stats

    fit = _fit("linear_regression", "numpyro")
    out = sample_posterior_predictive(fit, replicates=3, seed=4)
    d = fit["posterior"].sizes["draw"]
    block = out.copy()
    block["posterior_predictive"] = out["posterior_predictive"].isel(draw=slice(0, d))
    pit = arviz_stats.loo_pit(block)
    assert pit["y"].shape == (fit["observed_data"].sizes["obs"],)
    assert np.all((pit["y"].values >= 0) & (pit["y"].values <= 1))


def test_replicated_group_works_with_arviz_plots():
    from arviz_plots import plot_ppc_dist

    out = sample_posterior_predictive(_fit("linear_regression", "numpyro"), replicates=2)
    plot_ppc_dist(out, backend="none", num_samples=20)


def test_array_columns_layout():
    v = np.arange(6).reshape(2, 3)
    cols = array_columns(v, [np.array(["a", "b"]), np.array([10, 20, 30])], ["g", "k"])
    assert list(cols["g"]) == ["a", "a", "a", "b", "b", "b"]
    assert list(cols["k"]) == [10, 20, 30, 10, 20, 30]
    assert list(cols["value"]) == list(range(6))


def test_long_frame_marks_missing_dims_and_keeps_integer_labels():
    fit = _fit("gaussian_naive_bayes", "numpyro")
    frame = to_frame(sample_posterior_predictive(fit, seed=0))
    assert frame.attrs["layout"] == "long"
    assert list(frame.columns) == ["chain", "draw", "variable", "obs", "feature", "value"]
    y_rows = frame[frame["variable"] == "y"]
    assert y_rows["feature"].isna().all() and not y_rows["obs"].isna().any()
    assert frame["obs"].dtype == "Int64"
    # wide when the variables share dims: one column per variable
    wide = to_frame(fit, "posterior", var_names=["sigma", "mu"])
    assert wide.attrs["layout"] == "wide"
    assert {"sigma", "mu"} <= set(wide.columns) and "value" not in wide.columns


# ------------------------------------------------------------------ bad input
def test_bad_input():
    fit = _fit("linear_regression", "numpyro")
    with pytest.raises(ValueError, match="replicates must be positive, got 0"):
        sample_posterior_predictive(fit, replicates=0)
    with pytest.raises(TypeError, match="replicates must be an integer"):
        sample_posterior_predictive(fit, replicates=2.0)
    with pytest.raises(ValueError, match="replicates must be positive"):
        probgen.predict(fit, {"X": np.zeros((2, 2))}, replicates=-1)
    with pytest.raises(ValueError, match="draws must be positive, got -1"):
        sample_prior_predictive("linear_regression", draws=-1)
    with pytest.raises(ValueError, match="no 'posterior' group"):
        sample_posterior_predictive(
            xr.DataTree.from_dict({"observed_data": fit["observed_data"].dataset})
        )
    with pytest.raises(TypeError, match="fit must be an xarray.DataTree"):
        sample_posterior_predictive(fit["posterior"].dataset)
    with pytest.raises(ValueError, match="coords label new observations"):
        sample_posterior_predictive(fit, coords={"obs": [1]})
    with pytest.raises(ValueError, match=r"no group 'posterior_predictive'.*'posterior'"):
        to_frame(fit)
    with pytest.raises(ValueError, match=r"var_names: \['nope'\] not in group"):
        to_frame(fit, "posterior", var_names=["nope"])
    with pytest.raises(ValueError, match="more than max_rows=10"):
        to_frame(fit, "posterior", max_rows=10)
    with pytest.raises(TypeError, match="dt must be an xarray.DataTree"):
        to_frame(pd.DataFrame())
    with pytest.raises(ValueError, match="not made by probgen.tidy.to_frame"):
        from_frame(pd.DataFrame({"a": [1]}))
