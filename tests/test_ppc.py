"""Posterior predictive checks: the ppc table, its p-values, LOO-PIT, verdicts.

The registry test runs on prior stand-ins of fits (tests/fits.py: no NUTS);
the statistical tests on short real fits of simulated data where the answer is
known: a well-specified model must not be flagged, a misspecified one must.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from arviz_base import from_dict
from fits import linear_data, nb_counts, prior_fit, quick_fit

import probgen
from probgen.evaluation.ppc import (
    COLUMNS,
    STATISTICS,
    default_statistics,
    loo_pit,
    loo_pit_values,
    ppc,
    ppc_verdict,
    predictive_pvalue,
)
from probgen.predictive import sample_posterior_predictive, sample_prior_predictive

MODELS = probgen.list_models()
#: models whose observations are one joint term (no per-observation LOO-PIT)
JOINT = {"gp_regression"}


def _fit(name: str, data: dict, seed: int = 0) -> xr.DataTree:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quick_fit(name, "numpyro", data=data, seed=seed)


# ---------------------------------------------------------- every model, twice
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
@pytest.mark.parametrize("name", MODELS)
def test_ppc_every_model(name, backend):
    fit = prior_fit(name, backend, predictive=True)
    table = ppc(fit)
    assert list(table.columns) == COLUMNS
    model = probgen.get_model(name)
    assert set(table["variable"]) == set(model.observed)
    assert np.isfinite(table["observed"]).all()
    assert table["p_value"].between(0, 1).all()
    assert table.attrs["model"] == name and table.attrs["group"] == "posterior_predictive"
    assert len(ppc_verdict(table)) == len(table)
    if name in JOINT:
        with pytest.raises(ValueError, match="one joint term"):
            loo_pit(fit)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prior draws: PSIS warnings expected
        pit = loo_pit(fit)
    assert list(pit["variable"]) == list(model.observed)
    assert pit["p_value"].between(0, 1).all() and (pit["n"] > 0).all()
    assert (pit["method"] == "pot_c").all()


# ------------------------------------------------------- the p-value, by hand
def _hand_tree(seed: int = 3) -> tuple[xr.DataTree, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=8)
    rep = rng.normal(scale=1.3, size=(2, 50, 8))
    dt = from_dict(
        {
            "posterior": {"mu": rng.normal(size=(2, 50))},
            "posterior_predictive": {"y": rep},
            "observed_data": {"y": y},
        },
        dims={"y": ["school"]},
    )
    dt.attrs.update({"probgen_model": "eight_schools", "probgen_config": "{}"})
    return dt, y, rep.reshape(100, 8)


def test_pvalue_equals_brute_force():
    dt, y, rep = _hand_tree()

    def spread(x):
        return float(np.max(x) - np.min(x))

    table = ppc(dt, ["sd", "max", spread], prob=0.5)
    for stat, fn in (("sd", np.std), ("max", np.max), ("spread", spread)):
        row = table.set_index("statistic").loc[stat]
        t_rep = np.array([fn(r) for r in rep])
        t_obs = fn(y)
        assert row["observed"] == pytest.approx(t_obs)
        assert row["p_value"] == pytest.approx(np.mean(t_rep >= t_obs))
        assert row["mean"] == pytest.approx(t_rep.mean())
        assert row["lower"] == pytest.approx(np.quantile(t_rep, 0.25))
        assert row["upper"] == pytest.approx(np.quantile(t_rep, 0.75))
    # a dict names the functions
    iqr = ppc(dt, {"iqr": lambda x: np.subtract(*np.quantile(x, [0.75, 0.25]))})
    assert list(iqr["statistic"]) == ["iqr"]
    # ties count towards ">=": an observed value equal to every replicate gives 1
    assert predictive_pvalue(np.array([2.0, 2.0, 3.0]), 2.0) == 1.0
    assert predictive_pvalue(np.array([1.0, 2.0, 3.0]), 2.5) == pytest.approx(1 / 3)


def test_verdict_lines():
    dt, _, _ = _hand_tree()
    table = ppc(dt, ["sd", "mean"])
    table.loc[0, "p_value"] = 0.0  # force one flagged row
    lines = ppc_verdict(table)
    assert lines[0].startswith("y · sd: observed ")
    assert "p < 0.01" in lines[0] and lines[0].endswith("the model does not reproduce this")
    assert lines[1].endswith("consistent") or "does not reproduce" in lines[1]
    # ties: a statistic equal in the data and in every replicate is consistent
    tied = ppc(dt, {"zero": lambda x: 0.0})
    assert tied.loc[0, "p_value"] == 1.0
    assert ppc_verdict(tied)[0].endswith("consistent")
    with pytest.raises(ValueError, match="alpha"):
        ppc_verdict(table, alpha=2)


def test_default_statistics_follow_the_field():
    assert "acf1" in default_statistics(probgen.get_model("ar"), "y")
    assert "prop_zero" in default_statistics(probgen.get_model("poisson_regression"), "y")
    assert default_statistics(probgen.get_model("irt_2pl"), "y") == ["mean", "row_mean_sd"]
    assert default_statistics(probgen.get_model("gaussian_naive_bayes"), "y") == ["class_prop"]
    assert "class_mean" in default_statistics(probgen.get_model("gaussian_naive_bayes"), "X")
    assert set(default_statistics(probgen.get_model("rats"), "y")) <= set(STATISTICS)


def test_classifier_rows_per_class():
    fit = prior_fit("gaussian_naive_bayes")
    table = ppc(fit).set_index("statistic")
    # iris: 50 of each of the three classes
    for label in ("setosa", "versicolor", "virginica"):
        assert table.loc[f"prop[{label}]", "observed"] == pytest.approx(1 / 3)
    X = fit["observed_data"]["X"].values
    y = fit["observed_data"]["y"].values
    first = str(fit["observed_data"]["feature"].values[0])
    assert table.loc[f"mean[{first}|setosa]", "observed"] == pytest.approx(X[y == 0, 0].mean())
    # many features (digits: 64 x 10 classes) pool the features within a class
    digits = ppc(prior_fit("bernoulli_naive_bayes"), var_names="X")
    assert digits["statistic"].str.startswith("mean[all|").sum() == 10


def test_prior_predictive_check():
    data = linear_data(n=40)
    prior = sample_prior_predictive("linear_regression", data, draws=60, seed=1)
    table = ppc(prior, ["sd"], group="prior_predictive")
    assert table.attrs["group"] == "prior_predictive"
    assert table.loc[0, "observed"] == pytest.approx(np.std(data["y"]))


# ------------------------------------------------- p-values that mean something
def test_well_specified_pvalues_not_extreme():
    fit = _fit("linear_regression", linear_data())
    table = ppc(fit, seed=1)
    assert table["p_value"].between(0.01, 0.99).all(), table


def test_overdispersed_counts_flagged_under_poisson():
    data = nb_counts()
    table = ppc(_fit("poisson_regression", data)).set_index("statistic")
    # the Poisson fit's replicates are too narrow and have too few zeros
    assert table.loc["sd", "p_value"] < 0.01
    assert table.loc["prop_zero", "p_value"] < 0.01
    # can fail: the true (negative binomial) model is not flagged on the same data
    ok = ppc(_fit("negative_binomial_regression", data)).set_index("statistic")
    assert ok.loc["sd", "p_value"] > 0.01 and ok.loc["prop_zero", "p_value"] > 0.01


def test_heavy_tails_flagged_under_normal_model():
    table = ppc(_fit("linear_regression", linear_data(noise="t")), ["max", "min"])
    extreme = np.minimum(table["p_value"], 1 - table["p_value"])
    assert (extreme < 0.01).any(), table


def test_loo_pit_uniform_when_calibrated_extreme_when_not():
    data = linear_data()
    fit = _fit("linear_regression", data)
    assert loo_pit(fit).loc[0, "p_value"] > 0.05
    values = loo_pit_values(fit)
    assert values["y"].sizes == {"obs": len(data["y"])}
    assert float(values["y"].min()) >= 0 and float(values["y"].max()) <= 1
    # mis-scaled: the same draws with the noise sd tripled (predictions far too wide)
    wide = _rescaled(fit, "sigma", 3.0)
    assert loo_pit(wide).loc[0, "p_value"] < 0.01
    # discrete, misspecified: Poisson on overdispersed counts (PIT randomized in ties)
    poisson = _fit("poisson_regression", nb_counts())
    assert loo_pit(poisson).loc[0, "p_value"] < 0.01


def _rescaled(fit: xr.DataTree, var: str, factor: float) -> xr.DataTree:
    """A fit whose ``var`` draws are multiplied by ``factor``, with its log
    likelihood and posterior predictive recomputed: a deliberately mis-scaled model."""
    from probgen.backends import get_backend
    from probgen.results import data_from_fit, model_from_fit

    model = model_from_fit(fit)
    out = fit.copy()
    post = out["posterior"].to_dataset()
    post[var] = post[var] * factor
    out["posterior"] = xr.DataTree(post)
    data = data_from_fit(out, model)
    posterior = {k: post[k].values for k in model.var_dims()}
    ll = get_backend("numpyro").log_likelihood(model, data, posterior)
    lld = out["log_likelihood"].to_dataset()
    lld["y"] = (lld["y"].dims, ll["y"])
    out["log_likelihood"] = xr.DataTree(lld)
    return sample_posterior_predictive(out, seed=2)


# ------------------------------------------------------------------ bad input
def test_bad_input():
    fit = prior_fit("eight_schools")
    with pytest.raises(TypeError, match="DataTree"):
        ppc({"posterior": 1})
    not_ours = fit.copy()
    not_ours.attrs = {}
    with pytest.raises(ValueError, match="not a probgen fit"):
        ppc(not_ours)
    no_posterior = xr.DataTree.from_dict(
        {"observed_data": fit["observed_data"].to_dataset()}, name=None
    )
    no_posterior.attrs.update(fit.attrs)
    with pytest.raises(ValueError, match="no 'posterior' group"):
        ppc(no_posterior)
    with pytest.raises(ValueError, match="sample_prior_predictive"):
        ppc(fit, group="prior_predictive")
    with pytest.raises(ValueError, match="group must be one of"):
        ppc(fit, group="predictions")
    with pytest.raises(ValueError, match="unknown statistic 'kurt'.*built-ins are: mean, sd"):
        ppc(fit, ["kurt"])
    with pytest.raises(TypeError, match="'sorted_' must return one number.*shape \\(8,\\)"):
        ppc(fit, {"sorted_": np.sort})
    with pytest.raises(ValueError, match="no usable __name__"):
        ppc(fit, [lambda x: 1.0])
    with pytest.raises(TypeError, match="list of names or callables"):
        ppc(fit, "sd")
    with pytest.raises(ValueError, match="var_names must name observed"):
        ppc(fit, var_names="theta")
    with pytest.raises(ValueError, match="prob"):
        ppc(fit, prob=1.5)
    with pytest.raises(ValueError, match="applies to the generative classifiers"):
        ppc(fit, ["class_prop"])


# ------------------------------------------- regressions found by a user trial
def test_discrete_pit_clipped_to_ecdf_resolution():
    from probgen.evaluation.ppc import clip_discrete_pit, uniformity_pvalue

    rng = np.random.default_rng(1)
    pit = rng.uniform(size=500)
    assert uniformity_pvalue(pit) > 0.05
    pit[:2] = [1.0, 0.0]  # counts beyond (below) every one of 400 replicated draws
    # can fail: unclipped, the test calls a uniform sample impossible
    assert uniformity_pvalue(pit) < 1e-6
    clipped = clip_discrete_pit(pit, 400)
    assert clipped[0] == pytest.approx(1 - 0.5 / 401) and clipped[1] == pytest.approx(0.5 / 401)
    inside = (pit >= 1 / 401) & (pit <= 400 / 401)
    assert np.array_equal(clipped[inside], pit[inside])  # only the unresolved tails move
    assert uniformity_pvalue(clipped) > 0.05
    with pytest.raises(ValueError, match="n_samples"):
        clip_discrete_pit(pit, 0)


def test_loo_pit_of_well_specified_poisson_not_rejected():
    # Poisson counts fitted by the Poisson model: a correct model must not be
    # rejected because a large count lies beyond every replicated draw
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 1))
    y = rng.poisson(np.exp(0.3 + 0.6 * X[:, 0]))
    fit = _fit("poisson_regression", {"X": X, "y": y})
    assert loo_pit(fit).loc[0, "p_value"] > 0.01


def test_undefined_statistic_warns_instead_of_dropping_draws():
    fit = prior_fit("eight_schools", predictive=True)
    n = int(fit["posterior_predictive"].sizes["chain"] * fit["posterior_predictive"].sizes["draw"])

    def positive_mean(y):  # undefined for a data set whose mean is not positive
        m = float(np.mean(y))
        return m if m > 0 else np.nan

    with pytest.warns(UserWarning, match=r"'positive_mean' of 'y' is undefined .* for \d+ of"):
        table = ppc(fit, [positive_mean])
    # can fail: the replicates actually left out are the ones counted
    rep = fit["posterior_predictive"]["y"].values.reshape(n, -1)
    kept = rep.mean(axis=1) > 0
    assert 0 < kept.sum() < n
    assert table.loc[0, "mean"] == pytest.approx(rep.mean(axis=1)[kept].mean())
    with pytest.warns(UserWarning, match="undefined .* for the observed data"):
        ppc(fit, {"nan": lambda y: np.nan})
