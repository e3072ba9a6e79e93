"""The generative classifiers (naive Bayes): labels, Bayes' rule, generation, recovery.

Default tier:

* labels of any kind become codes with the classes named (strings, a pandas
  Categorical with absent categories, ``coords['class']``, a size ``C``);
  tables and DataFrames name the features; generation from sizes alone;
* :mod:`probgen.classify` on "fits" whose posterior draws are known without
  MCMC (the exact conjugate posterior of the Bernoulli and multinomial models,
  prior draws for the Gaussian one): class probabilities sum to 1 and equal a
  brute-force per-draw computation with scipy; a missing feature's
  marginalization equals numerical integration (Gaussian) or explicit
  summation (Bernoulli; multinomial: every completion of the missing cells);
  ``sample_labelled(label=)`` gives only that class with class-conditional
  means equal to the posterior means (MC-error tolerance); held-out accuracy
  on the default data is close to scikit-learn's GaussianNB / BernoulliNB /
  MultinomialNB;
* recovery with NumPyro NUTS (2 chains x 300 draws): truths drawn from the
  prior by ``model.simulate``, fitted, central 80% intervals covering them at a
  rate within binomial 99.9% bounds; and its twin, the same fits on data made
  by a different process than the fitted likelihood (shifted features,
  flipped bits, reversed cells), whose coverage must collapse;
* bad input: unknown ``label=``, wrong feature columns, non-binary X for the
  Bernoulli model, negative counts for the multinomial one.

``slow``: the default data on both backends at the default settings (4 chains x
1000 draws) with a trustworthy verdict; the Bernoulli and multinomial MCMC
posteriors against their exact conjugate posteriors; held-out accuracy of real
fits.

Independence in the recovery counts: given the labels, the posterior of each
(class, feature) block (``mu``/``sigma``, ``theta``) depends only on that
block's data, with independent truths, so the blocks' coverage events are
independent; ``mu`` and ``sigma`` of one block are not, so they are counted
separately. A multinomial's cells within a class are dependent (one simplex),
so one cell per class is counted.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import integrate, stats

import probgen
from probgen import DataError
from probgen.classify import class_probabilities, predict_proba, sample_labelled
from probgen.results import ATTR_CONFIG, ATTR_MODEL, build_tree, data_groups

NAMES = ("gaussian_naive_bayes", "bernoulli_naive_bayes", "multinomial_naive_bayes")
SMALL = {"chains": 2, "draws": 300, "warmup": 300}
LEVEL = 0.8


# ------------------------------------------------------------------ helpers
def _fake_fit(model, data, posterior: dict[str, np.ndarray]) -> xr.DataTree:
    """A DataTree shaped like a fit of ``model`` on ``data`` with the given draws
    (chain, draw, ...): what :mod:`probgen.classify` reads from a fit."""
    dt = build_tree({"posterior": posterior, **data_groups(model, data)}, model, data.coords)
    dt.attrs[ATTR_MODEL] = model.name
    dt.attrs[ATTR_CONFIG] = model.config_json()
    return dt


def _conjugate_draws(model, data, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Exact posterior draws (1, draws, ...) of the Bernoulli / multinomial model."""
    rng = np.random.default_rng(seed)
    X, y = np.asarray(data["X"], dtype=float), np.asarray(data["y"])
    c = data.size("class")
    onehot = np.eye(c)[y]  # (N, C)
    n_c = onehot.sum(axis=0)
    out = {"class_prob": rng.dirichlet(model.class_concentration + n_c, size=draws)}
    sums = onehot.T @ X  # (C, D): per class, the total of each feature
    if model.name == "bernoulli_naive_bayes":
        out["theta"] = rng.beta(
            model.theta_a + sums, model.theta_b + n_c[:, None] - sums, size=(draws, *sums.shape)
        )
    else:
        out["phi"] = np.stack(
            [rng.dirichlet(model.feature_concentration + sums[k], size=draws) for k in range(c)],
            axis=1,
        )
    return {k: v[None] for k, v in out.items()}


def _prior_draws(model, data, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Gaussian naive Bayes: prior draws (1, draws, ...) as a stand-in posterior
    (Bayes' rule and generation work on any draws)."""
    rng = np.random.default_rng(seed)
    c, d = data.size("class"), data.size("feature")
    sigma_shape = (draws, d) if model.shared_variance else (draws, c, d)
    out = {
        "class_prob": rng.dirichlet(np.full(c, model.class_concentration), size=draws),
        "mu": rng.normal(model.mu_loc, model.mu_scale, size=(draws, c, d)),
        "sigma": np.abs(rng.normal(0.0, model.sigma_scale, size=sigma_shape)),
    }
    return {k: v[None] for k, v in out.items()}


def _split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    cut = int(0.8 * n)
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def _bounds(n: int, p: float = LEVEL, level: float = 0.999) -> tuple[int, int]:
    lo, hi = stats.binom.interval(level, n, p)
    return int(lo), int(hi)


def _covered(fit: xr.DataTree, name: str, truth: np.ndarray) -> np.ndarray:
    """Whether each element of ``truth`` lies in the central LEVEL interval of its draws."""
    draws = np.asarray(fit["posterior"][name].values)
    draws = draws.reshape(-1, *draws.shape[2:])
    lo, hi = np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
    return (lo <= truth) & (truth <= hi)


def _fit(name: str, data: dict, **config) -> xr.DataTree:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", probgen.UntrustworthyFitWarning)
        return probgen.sample(name, data, config=config or None, progress=False, seed=1, **SMALL)


# ---------------------------------------------------------------- labels
def test_string_labels_are_coded_and_name_the_classes():
    model = probgen.get_model("gaussian_naive_bayes")
    X = np.arange(12.0).reshape(6, 2)
    data = model.prepare({"X": X, "y": ["b", "a", "b", "c", "a", "c"]})
    assert data.coords["class"] == ["a", "b", "c"]
    np.testing.assert_array_equal(data["y"], [1, 0, 1, 2, 0, 2])
    assert data.coords["feature"] == [0, 1]


def test_categorical_and_coords_keep_absent_classes():
    model = probgen.get_model("gaussian_naive_bayes")
    X = np.arange(8.0).reshape(4, 2)
    cat = pd.Categorical(["lo", "hi", "lo", "hi"], categories=["lo", "mid", "hi"])
    data = model.prepare({"X": X, "y": cat})
    assert data.coords["class"] == ["lo", "mid", "hi"]
    np.testing.assert_array_equal(data["y"], [0, 2, 0, 2])
    data = model.prepare({"X": X, "y": [3, 1, 3, 1]}, coords={"class": [1, 2, 3]})
    assert data.coords["class"] == [1, 2, 3]
    np.testing.assert_array_equal(data["y"], [2, 0, 2, 0])
    data = model.prepare({"X": X, "y": [0, 2, 0, 2], "C": 4})  # Stan-style size
    assert data.coords["class"] == [0, 1, 2, 3]
    with pytest.raises(DataError, match=r"label\(s\) \['5'\] that are not classes"):
        model.prepare({"X": X, "y": [5, 1, 3, 1]}, coords={"class": [1, 2, 3]})


def test_boolean_labels_and_a_table_with_a_y_column():
    model = probgen.get_model("bernoulli_naive_bayes")
    frame = pd.DataFrame({"a": [1, 0, 1, 0], "b": [True, False, False, True], "y": [1, 0, 1, 1]})
    frame["y"] = frame["y"].astype(bool)
    data = model.prepare({"__table__": frame})
    assert data.coords["class"] == [False, True]
    assert data.coords["feature"] == ["a", "b"]
    np.testing.assert_array_equal(data["X"], [[1, 1], [0, 0], [1, 0], [0, 1]])


def test_bad_labels_are_named():
    model = probgen.get_model("gaussian_naive_bayes")
    X = np.zeros((3, 2))
    with pytest.raises(DataError, match="floating-point labels"):
        model.prepare({"X": X, "y": [0.5, 1.0, 0.5]})
    with pytest.raises(DataError, match="missing labels at rows"):
        model.prepare({"X": X, "y": pd.Series(["a", None, "b"])})
    with pytest.raises(DataError, match="at least two classes"):
        model.prepare({"X": X, "y": ["a", "a", "a"]})
    with pytest.raises(DataError, match="mixes text and numbers"):
        model.prepare({"X": X, "y": np.array(["a", 1, "b"], dtype=object)})
    with pytest.raises(DataError, match=r"data\['C'\] = 2 classes"):
        model.prepare({"X": X, "y": ["a", "b", "c"], "C": 2})
    with pytest.raises(DataError, match="cannot tell the classes"):
        model.prepare({"N": 3, "D": 2}, require_observed=False)
    with pytest.raises(DataError, match="different row labels"):
        model.prepare({"X": pd.DataFrame(X), "y": pd.Series([0, 1, 0], index=[5, 6, 7])})
    with pytest.raises(DataError, match="column 'b' holds"):
        model.prepare({"X": pd.DataFrame({"a": [1.0, 2, 3], "b": list("xyz")}), "y": [0, 1, 0]})


def test_bad_features_for_bernoulli_and_multinomial():
    with pytest.raises(DataError, match="must be binary"):
        probgen.get_model("bernoulli_naive_bayes").prepare({"X": [[0, 2], [1, 0]], "y": [0, 1]})
    with pytest.raises(DataError, match="non-negative counts"):
        probgen.get_model("multinomial_naive_bayes").prepare({"X": [[0, -2], [1, 0]], "y": [0, 1]})
    with pytest.raises(DataError, match="row sums"):
        probgen.get_model("multinomial_naive_bayes").prepare(
            {"X": [[0, 2], [1, 0]], "y": [0, 1], "total_count": [2, 2]}
        )


@pytest.mark.parametrize("name", NAMES)
def test_generation_from_sizes_alone(name):
    model = probgen.get_model(name)
    sizes = {"N": 7, "D": 3, "C": 4}
    if name == "multinomial_naive_bayes":
        with pytest.raises(DataError, match="total_count"):
            model.prepare(sizes, require_observed=False)
        sizes["total_count"] = 20
    data, truth = model.simulate(sizes, seed=3)
    assert np.shape(data["X"]) == (7, 3) and np.shape(data["y"]) == (7,)
    assert np.shape(truth["class_prob"]) == (4,)
    if name == "multinomial_naive_bayes":
        np.testing.assert_array_equal(np.sum(data["X"], axis=1), 20)
    again = model.prepare({**data, "C": 4})
    assert again.coords["class"] == [0, 1, 2, 3]


# --------------------------------------------------- Bayes' rule, per draw
def _brute_force_log_density(model, params: dict, s: int, x: np.ndarray) -> np.ndarray:
    """log p(x | y = c) for one draw s and one fully observed row, with scipy."""
    c = params["class_prob"].shape[-1]
    out = np.empty(c)
    for k in range(c):
        if model.name == "gaussian_naive_bayes":
            sd = params["sigma"][s] if model.shared_variance else params["sigma"][s, k]
            out[k] = stats.norm.logpdf(x, params["mu"][s, k], sd).sum()
        elif model.name == "bernoulli_naive_bayes":
            out[k] = stats.bernoulli.logpmf(x, params["theta"][s, k]).sum()
        else:
            out[k] = stats.multinomial.logpmf(x, x.sum(), params["phi"][s, k])
    return out


def _classifier_case(name: str, config: dict | None = None):
    """A model, its default data split, and a fake fit on the training rows."""
    model = probgen.get_model(name, **(config or {}))
    raw = model.default_data()
    train, test = _split(len(raw["X"]))
    X, y = raw["X"], np.asarray(raw["y"])
    data = model.prepare({"X": X.iloc[train], "y": pd.Categorical(y[train])})
    draws = (
        _prior_draws(model, data, 30, seed=0)
        if name == "gaussian_naive_bayes"
        else _conjugate_draws(model, data, 30, seed=0)
    )
    return model, data, _fake_fit(model, data, draws), X.iloc[test]


@pytest.mark.parametrize(
    ("name", "config"),
    [*((n, {}) for n in NAMES), ("gaussian_naive_bayes", {"shared_variance": True})],
)
def test_class_probabilities_follow_bayes_rule(name, config):
    model, _, fit, X_test = _classifier_case(name, config)
    probs = class_probabilities(fit, X_test.iloc[:6])
    assert probs.dims == ("chain", "draw", "obs", "class")
    assert list(probs.coords["obs"].values) == list(X_test.index[:6])
    np.testing.assert_allclose(probs.sum("class"), 1.0, rtol=1e-12)
    params = {k: fit["posterior"][k].values[0] for k in model.var_dims()}
    x = X_test.to_numpy(dtype=float)
    for s, i in itertools.product((0, 17), (0, 5)):
        logits = np.log(params["class_prob"][s]) + _brute_force_log_density(model, params, s, x[i])
        want = np.exp(logits - np.logaddexp.reduce(logits))
        np.testing.assert_allclose(probs.values[0, s, i], want, rtol=1e-9, atol=1e-300)
    mean = predict_proba(fit, X_test.iloc[:6])
    np.testing.assert_allclose(mean.to_numpy(), probs.mean(("chain", "draw")).values, rtol=1e-12)
    assert list(mean.columns) == list(probs.coords["class"].values)
    # columns in another order, or an array in the fit's order: the same numbers
    again = predict_proba(fit, X_test.iloc[:6][X_test.columns[::-1]])
    np.testing.assert_allclose(again.to_numpy(), mean.to_numpy(), rtol=1e-12)
    as_array = predict_proba(fit, X_test.iloc[:6].to_numpy())
    np.testing.assert_allclose(as_array.to_numpy(), mean.to_numpy(), rtol=1e-12)


def test_gaussian_missing_feature_is_integrated_out():
    model, _, fit, X_test = _classifier_case("gaussian_naive_bayes")
    params = {k: fit["posterior"][k].values[0, :2] for k in model.var_dims()}
    x = X_test.to_numpy(dtype=float)[:1].copy()
    x[0, 1] = np.nan
    got = model.class_log_density(params, x)  # (2, 1, C)
    for s, k in itertools.product(range(2), range(3)):
        mu, sd = params["mu"][s, k], params["sigma"][s, k]

        def scaled(v, s=s, k=k, mu=mu, sd=sd):
            # p(x_obs, x_1 = v | c) / p(x_obs | c) as claimed: must integrate to 1
            full = x[0].copy()
            full[1] = v
            return math.exp(stats.norm.logpdf(full, mu, sd).sum() - got[s, 0, k])

        total, _ = integrate.quad(
            scaled, mu[1] - 40 * sd[1], mu[1] + 40 * sd[1], points=[mu[1]], epsabs=0, epsrel=1e-11
        )
        assert total == pytest.approx(1.0, rel=1e-8)
    np.testing.assert_array_equal(model.class_log_density(params, np.full((1, 4), np.nan)), 0.0)


def test_bernoulli_missing_features_are_summed_out():
    model, _, fit, X_test = _classifier_case("bernoulli_naive_bayes")
    params = {k: fit["posterior"][k].values[0, :2] for k in model.var_dims()}
    x = X_test.to_numpy(dtype=float)[:1].copy()
    missing = [3, 20, 37]
    x[0, missing] = np.nan
    got = model.class_log_density(params, x)
    for s, k in itertools.product(range(2), range(10)):
        total = 0.0
        for bits in itertools.product((0.0, 1.0), repeat=len(missing)):
            full = x[0].copy()
            full[missing] = bits
            total += math.exp(stats.bernoulli.logpmf(full, params["theta"][s, k]).sum())
        assert got[s, 0, k] == pytest.approx(math.log(total), rel=1e-9)


def test_multinomial_missing_cells_condition_on_the_observed_total():
    """p(x_O | m) from every completion of the missing cells, for two row totals n."""
    model = probgen.get_model("multinomial_naive_bayes")
    rng = np.random.default_rng(4)
    phi = rng.dirichlet(np.ones(4), size=(1, 2))  # (S=1, C=2, D=4)
    params = {"phi": phi, "class_prob": np.full((1, 2), 0.5)}
    x_obs = np.array([2.0, np.nan, 1.0, np.nan])
    got = model.class_log_density(params, x_obs[None])[0, 0]
    seen = ~np.isnan(x_obs)
    m = int(np.nansum(x_obs))
    for n in (m + 2, m + 5):  # the answer does not depend on the unknown total
        for k in range(2):
            joint = 0.0
            for a in range(n - m + 1):
                full = x_obs.copy()
                full[~seen] = [a, n - m - a]
                joint += stats.multinomial.pmf(full, n, phi[0, k])
            # P(x_O | n) / P(sum_O = m | n)
            marginal = stats.binom.pmf(m, n, phi[0, k][seen].sum())
            assert got[k] == pytest.approx(math.log(joint / marginal), rel=1e-9)
    full = np.array([[2.0, 3.0, 1.0, 0.0]])  # nothing missing: the multinomial itself
    want = [stats.multinomial.logpmf(full[0], 6, phi[0, k]) for k in range(2)]
    np.testing.assert_allclose(model.class_log_density(params, full)[0, 0], want, rtol=1e-12)
    assert np.all(model.class_log_density(params, np.full((1, 4), np.nan)) == 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_sample_labelled_follows_the_posterior(name):
    model, data, fit, _ = _classifier_case(name)
    classes = data.coords["class"]
    label = classes[1]
    n = 4000
    X, y = sample_labelled(fit, n, label=label, seed=5)
    assert list(X.columns) == [str(f) for f in data.coords["feature"]]
    assert (y == label).all() and list(y.cat.categories) == list(classes)
    post = {k: fit["posterior"][k].values[0] for k in model.var_dims()}
    # E[X | y = label] and E[X^2 | y = label] per draw; a generated row's variance
    # is their mean over draws minus the squared mean (posterior uncertainty included)
    if name == "gaussian_naive_bayes":
        mean_d = post["mu"][:, 1]
        second = post["sigma"][:, 1] ** 2 + mean_d**2
    elif name == "bernoulli_naive_bayes":
        mean_d = second = post["theta"][:, 1]
        assert set(np.unique(X.to_numpy())) <= {0, 1}
    else:
        # each row's total is drawn from the training totals of its class
        totals = np.asarray(data["total_count"])[np.asarray(data["y"]) == 1]
        m1, m2 = totals.mean(), (totals.astype(float) ** 2).mean()
        p = post["phi"][:, 1]
        mean_d, second = m1 * p, m1 * p * (1 - p) + m2 * p**2
        assert set(X.sum(axis=1)) <= set(totals)
    want = mean_d.mean(axis=0)
    sd = np.sqrt(np.maximum(second.mean(axis=0) - want**2, 0.0))
    z = (X.to_numpy().mean(axis=0) - want) / np.maximum(sd / math.sqrt(n), 1e-12)
    assert np.all(np.abs(z) < 4.5), z
    # classes from class_prob: their frequencies follow its posterior mean
    _, y_any = sample_labelled(fit, n, seed=6)
    freq = y_any.value_counts(normalize=True).reindex(classes).to_numpy()
    p = post["class_prob"].mean(axis=0)
    assert np.all(np.abs(freq - p) < 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9)


@pytest.mark.parametrize("name", ["bernoulli_naive_bayes", "multinomial_naive_bayes"])
def test_held_out_accuracy_matches_sklearn(name):
    """The exact posterior predictive classifies held-out digits as well as sklearn's NB."""
    from sklearn.naive_bayes import BernoulliNB, MultinomialNB

    model, data, _, _ = _classifier_case(name)
    raw = model.default_data()
    train, test = _split(len(raw["X"]))
    X, y = raw["X"].to_numpy(), np.asarray(raw["y"])
    fit = _fake_fit(model, data, _conjugate_draws(model, data, 200, seed=1))
    ours = predict_proba(fit, raw["X"].iloc[test])
    acc = (ours.idxmax(axis=1).to_numpy() == y[test]).mean()
    reference = BernoulliNB(alpha=1.0) if name == "bernoulli_naive_bayes" else MultinomialNB()
    ref = reference.fit(X[train], y[train]).score(X[test], y[test])
    assert acc > 0.8 and abs(acc - ref) < 0.03, (acc, ref)


# ---------------------------------------------------------------- bad input
def test_classify_refuses_bad_input():
    model, _, fit, X_test = _classifier_case("bernoulli_naive_bayes")
    with pytest.raises(DataError, match="label=11 is not a class of this fit"):
        sample_labelled(fit, 3, label=11)
    with pytest.raises(DataError, match=r"label='1' is not a class"):
        sample_labelled(fit, 3, label="1")
    with pytest.raises(DataError, match=r"is missing column\(s\) \['pixel_0_0'\]"):
        predict_proba(fit, X_test.drop(columns="pixel_0_0"))
    with pytest.raises(DataError, match=r"has column\(s\) \['extra'\] the fit does not know"):
        class_probabilities(fit, X_test.assign(extra=1))
    with pytest.raises(DataError, match="2-D array with the fit's 64 feature columns"):
        predict_proba(fit, X_test.to_numpy()[:, :10])
    with pytest.raises(DataError, match="must be binary"):
        predict_proba(fit, X_test.to_numpy() * 2)
    with pytest.raises(ValueError, match="n must be positive"):
        sample_labelled(fit, 0)
    _, _, mfit, mX = _classifier_case("multinomial_naive_bayes")
    with pytest.raises(DataError, match="non-negative integer counts"):
        predict_proba(mfit, -mX)
    with pytest.raises(DataError, match="non-negative integer counts"):
        predict_proba(mfit, mX + 0.5)
    ok = mX.astype(float)
    ok.iloc[0, :5] = np.nan  # missing values are fine
    assert np.allclose(predict_proba(mfit, ok.iloc[:3]).sum(axis=1), 1.0)
    lr = probgen.sample_prior_predictive("eight_schools", draws=4)
    with pytest.raises(TypeError, match="predict_proba needs a fit of a generative classifier"):
        predict_proba(lr, X_test)


# ------------------------------------------------------------------ recovery
#: per model: sizes of each simulated data set, and how many data sets
DESIGN = {
    # the iris training split's shape (N=120, D=4, C=3): the program is compiled once
    "gaussian_naive_bayes": ({"N": 120, "D": 4, "C": 3}, 3),
    "bernoulli_naive_bayes": ({"N": 90, "D": 8, "C": 3}, 2),
    "multinomial_naive_bayes": ({"N": 120, "D": 4, "C": 12, "total_count": 40}, 2),
}


def _wrong(name: str, X: np.ndarray) -> np.ndarray:
    """Data from a different process than the fitted likelihood (the can-fail twin)."""
    if name == "gaussian_naive_bayes":
        return X + 1.5  # every class mean shifted
    if name == "bernoulli_naive_bayes":
        return 1 - X  # every bit flipped: theta -> 1 - theta
    return X[:, ::-1]  # cells reversed: phi[c, d] -> phi[c, D - 1 - d]


def _coverage(name: str, wrong: bool) -> list[tuple[int, int]]:
    """(covered, count) per group of independent scalars, over the simulated sets."""
    model = probgen.get_model(name)
    sizes, sets = DESIGN[name]
    groups: dict[str, list[np.ndarray]] = {}
    for seed in range(sets):
        data, truth = model.simulate(sizes, seed=100 + seed)
        X = _wrong(name, np.asarray(data["X"])) if wrong else data["X"]
        fit = _fit(name, {"X": X, "y": data["y"], "C": sizes["C"]})
        groups.setdefault("first", []).append(_covered(fit, "class_prob", truth["class_prob"])[:1])
        if name == "gaussian_naive_bayes":
            groups["first"].append(_covered(fit, "mu", truth["mu"]).ravel())
            groups.setdefault("sigma", []).append(_covered(fit, "sigma", truth["sigma"]).ravel())
        elif name == "bernoulli_naive_bayes":
            groups["first"].append(_covered(fit, "theta", truth["theta"]).ravel())
        else:  # one cell per class (cells of a class share a simplex), rotating
            cover = _covered(fit, "phi", truth["phi"])
            c, d = cover.shape
            groups["first"].append(cover[np.arange(c), np.arange(c) % d])
    return [(int(np.concatenate(g).sum()), int(np.concatenate(g).size)) for g in groups.values()]


def _within_bounds(counts: list[tuple[int, int]]) -> bool:
    return all(_bounds(n)[0] <= k <= _bounds(n)[1] for k, n in counts)


@pytest.mark.parametrize("name", NAMES)
def test_recovery(name):
    counts = _coverage(name, wrong=False)
    assert _within_bounds(counts), (counts, [_bounds(n) for _, n in counts])


@pytest.mark.parametrize("name", NAMES)
def test_recovery_fails_for_a_wrong_likelihood(name):
    counts = _coverage(name, wrong=True)
    assert not _within_bounds(counts), counts
    assert any(k < _bounds(n)[0] for k, n in counts)  # coverage collapsed, not inflated


# ------------------------------------------------------------------- slow
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
@pytest.mark.parametrize("name", NAMES)
def test_default_data_fits_with_a_trustworthy_verdict(name, backend):
    start = time.perf_counter()
    fit = probgen.sample(name, backend=backend, progress=False)
    verdict = probgen.diagnose(fit)
    print(f"{name} {backend}: {time.perf_counter() - start:.0f} s, {verdict}")
    assert verdict.ok, str(verdict)
    assert int(fit["sample_stats"]["diverging"].sum()) == 0
    model = probgen.get_model(name)
    if name != "gaussian_naive_bayes":  # the exact posterior is known: compare means
        exact = _conjugate_draws(model, model.prepare(), 4000, seed=2)
        for var, draws in exact.items():
            mean = fit["posterior"][var].mean(("chain", "draw")).values
            rows = [r for r in verdict.table.index if str(r).startswith(f"{var}[")]
            mcse = verdict.table.loc[rows, "mcse_mean"].to_numpy(float).reshape(mean.shape)
            # both estimates are noisy: the MCMC mean by its MCSE, the exact one by sd/sqrt(4000)
            err = np.sqrt(mcse**2 + draws[0].var(axis=0) / 4000)
            z = (mean - draws[0].mean(axis=0)) / err
            assert np.all(np.abs(z) < 5.0), (var, np.abs(z).max())


@pytest.mark.slow
def test_gaussian_held_out_accuracy_matches_sklearn():
    from sklearn.naive_bayes import GaussianNB

    model = probgen.get_model("gaussian_naive_bayes")
    raw = model.default_data()
    train, test = _split(len(raw["X"]))
    y = np.asarray(raw["y"])
    fit = _fit("gaussian_naive_bayes", {"X": raw["X"].iloc[train], "y": pd.Categorical(y[train])})
    acc = (predict_proba(fit, raw["X"].iloc[test]).idxmax(axis=1).to_numpy() == y[test]).mean()
    ref = GaussianNB().fit(raw["X"].iloc[train], y[train]).score(raw["X"].iloc[test], y[test])
    assert acc > 0.85 and abs(acc - ref) < 0.05, (acc, ref)
