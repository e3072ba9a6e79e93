"""Bayesian Gaussian discriminant analysis (``gaussian_discriminant``, LDA and QDA).

The generic tests (tests/test_contract.py, tests/test_backends.py) hold the two
twins to the same density and generator for every row of tests/cases.py. Here:

* the NumPy class-conditional density equals scipy's multivariate normal draw
  by draw, and the class probabilities of a fit are Bayes' rule on it;
* a missing feature is integrated out exactly (numerical integration in 2-D);
* ``sample_labelled`` for a chosen class follows that class's posterior predictive;
* held-out accuracy on iris is that of scikit-learn's LDA / QDA;
* recovery: true parameters drawn from the prior fall in central 80% posterior
  intervals at the nominal rate (binomial bounds), for both covariances, and a
  fit of a deliberately wrong likelihood is caught by the same check.

``slow``: the default data (iris) at the default settings (4 chains x 1000
draws) on both backends and both covariances, with a trustworthy verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

import probgen
from probgen import DataError
from probgen.classify import class_probabilities, predict_proba, sample_labelled

NAME = "gaussian_discriminant"
COVARIANCES = ["shared", "per_class"]

#: every NUTS run of the default tier: the iris fits and the recovery fits share
#: these settings and their data shapes (100 rows, 4 features, 3 classes), so
#: NumPyro compiles one program per covariance and reuses it for every fit
SETTINGS = {"chains": 2, "draws": 300, "warmup": 300}
SHAPE = {"N": 100, "D": 4, "C": 3}

#: central posterior interval of the recovery check and its binomial tolerance
LEVEL = 0.8
TOL = 0.999
#: design effect of the covered count (see _binomial_bounds)
DEFF = 3.0


def _model(covariance: str):
    return probgen.get_model(NAME, covariance=covariance)


def _random_params(model, draws: int, c: int, d: int, seed: int) -> dict[str, np.ndarray]:
    """Parameter draws (leading axis S) in the support, made with NumPy: cheap and
    independent of either backend's generator."""
    rng = np.random.default_rng(seed)
    per = (draws,) if model.covariance == "shared" else (draws, c)
    A = rng.normal(size=(*per, d, d + 2))
    cov = A @ np.swapaxes(A, -1, -2)  # random SPD matrices, then their correlations
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    corr = cov / (sd[..., :, None] * sd[..., None, :])
    return {
        "class_prob": rng.dirichlet(np.ones(c), size=draws),
        "mu": rng.normal(0.0, 1.0, size=(draws, c, d)),
        "sigma": rng.uniform(0.3, 1.5, size=(*per, d)),
        "L_corr": np.linalg.cholesky(corr),
    }


def _iris_split():
    """Iris (standardized, as the default data) split 100 / 50, stratified, fixed seed."""
    from sklearn.model_selection import train_test_split

    data = _model("shared").default_data()
    X, y = data["X"], pd.Series(data["y"], name="y")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=50, stratify=y, random_state=0)
    return X_tr, X_te, y_tr, y_te


@pytest.fixture(scope="module")
def iris_fits():
    """One cheap NumPyro fit per covariance on the iris training split."""
    X_tr, X_te, y_tr, y_te = _iris_split()
    fits = {
        cov: probgen.sample(
            _model(cov), {"X": X_tr, "y": y_tr.to_numpy()}, **SETTINGS, seed=1, check=False
        )
        for cov in COVARIANCES
    }
    return fits, (X_tr, X_te, y_tr, y_te)


# ------------------------------------------------------- densities (no fits)
@pytest.mark.parametrize("covariance", COVARIANCES)
def test_class_log_density_is_scipy_multivariate_normal(covariance):
    model = _model(covariance)
    X = np.asarray(model.prepare()["X"])[::10]
    params = _random_params(model, draws=6, c=3, d=4, seed=4)
    got = model.class_log_density(params, X)
    cov = model.covariance_matrix(params)
    want = np.array(
        [
            [
                stats.multivariate_normal(params["mu"][s, c], cov[s, c]).logpdf(X)
                for c in range(params["mu"].shape[1])
            ]
            for s in range(6)
        ]
    ).transpose(0, 2, 1)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    # the same check fails for the wrong covariance (sigma on the Cholesky factor twice)
    wrong = dict(params, sigma=np.asarray(params["sigma"]) ** 2)
    assert not np.allclose(model.class_log_density(wrong, X), want, rtol=1e-6)


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_missing_feature_is_integrated_out(covariance):
    """In 2-D, log p(x0 | c) with x1 missing equals the log of the integral over x1."""
    model = _model(covariance)
    params = _random_params(model, draws=3, c=2, d=2, seed=8)
    cov = model.covariance_matrix(params)
    X = np.array([[0.3, np.nan], [np.nan, -0.7], [np.nan, np.nan], [0.3, -0.7]])
    got = model.class_log_density(params, X)
    for s in range(3):
        for c in range(2):
            m, S = params["mu"][s, c], cov[s, c]
            pdf = stats.multivariate_normal(m, S).pdf
            sd = np.sqrt(np.diag(S))
            # integrate the missing coordinate over +-12 sd around its mean
            p0, _ = integrate.quad(
                lambda t, pdf=pdf: pdf([0.3, t]), m[1] - 12 * sd[1], m[1] + 12 * sd[1], epsabs=1e-13
            )
            p1, _ = integrate.quad(
                lambda t, pdf=pdf: pdf([t, -0.7]),
                m[0] - 12 * sd[0],
                m[0] + 12 * sd[0],
                epsabs=1e-13,
            )
            np.testing.assert_allclose(got[s, 0, c], np.log(p0), rtol=1e-7)
            np.testing.assert_allclose(got[s, 1, c], np.log(p1), rtol=1e-7)
            assert got[s, 2, c] == 0.0
            np.testing.assert_allclose(got[s, 3, c], np.log(pdf([0.3, -0.7])), rtol=1e-10)
    # dropping the observed feature's density (a wrong marginal) would not match
    assert not np.allclose(got[:, 0], got[:, 3])


def test_one_feature_is_refused():
    with pytest.raises(DataError, match="at least two features"):
        probgen.get_model(NAME).prepare({"X": np.zeros((4, 1)), "y": [0, 1, 0, 1]})


def test_bad_configuration_is_refused():
    with pytest.raises((TypeError, ValueError), match="covariance"):
        probgen.get_model(NAME, covariance="diag")
    with pytest.raises(ValueError, match="lkj_eta"):
        probgen.get_model(NAME, lkj_eta=0.0)


# ------------------------------------------------------ with a (cheap) fit
@pytest.mark.parametrize("covariance", COVARIANCES)
def test_class_probabilities_are_bayes_rule_draw_by_draw(iris_fits, covariance):
    fits, (_, X_te, _, _) = iris_fits
    fit = fits[covariance]
    model = _model(covariance)
    probs = class_probabilities(fit, X_te)
    assert probs.dims == ("chain", "draw", "obs", "class")
    assert list(probs.coords["class"].values) == ["setosa", "versicolor", "virginica"]
    post = fit["posterior"]
    X = X_te.to_numpy()
    for chain, draw in [(0, 0), (1, 57), (0, 199)]:
        p = {k: np.asarray(post[k].values[chain, draw]) for k in post.data_vars}
        cov = model.covariance_matrix({k: v[None] for k, v in p.items()})[0]
        logp = np.log(p["class_prob"]) + np.stack(
            [stats.multivariate_normal(p["mu"][c], cov[c]).logpdf(X) for c in range(3)], axis=-1
        )
        want = np.exp(logp - logsumexp(logp, axis=-1, keepdims=True))
        np.testing.assert_allclose(probs.values[chain, draw], want, rtol=1e-9, atol=1e-12)
    mean = predict_proba(fit, X_te)
    np.testing.assert_allclose(mean.to_numpy(), probs.mean(("chain", "draw")).values, rtol=1e-12)
    assert mean.index.equals(X_te.index)


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_held_out_accuracy_matches_sklearn(iris_fits, covariance):
    from sklearn.discriminant_analysis import (
        LinearDiscriminantAnalysis,
        QuadraticDiscriminantAnalysis,
    )

    fits, (X_tr, X_te, y_tr, y_te) = iris_fits
    sk = (LinearDiscriminantAnalysis if covariance == "shared" else QuadraticDiscriminantAnalysis)()
    sk.fit(X_tr.to_numpy(), y_tr.to_numpy())
    sk_pred = sk.predict(X_te.to_numpy())
    ours = predict_proba(fits[covariance], X_te).idxmax(axis=1).to_numpy()
    acc, sk_acc = np.mean(ours == y_te.to_numpy()), np.mean(sk_pred == y_te.to_numpy())
    # comparable: at most 2 of the 50 held-out flowers worse than the plug-in estimate
    assert acc >= sk_acc - 2 / 50, (acc, sk_acc)
    assert acc >= 0.9
    # and the two agree on almost every flower (the decision boundaries are close)
    assert np.mean(ours == sk_pred) >= 0.94


def test_missing_feature_classification(iris_fits):
    """A missing feature is integrated out: a row that shows only petal length is
    still classified, and a row that shows nothing gets the posterior mean of class_prob."""
    fits, (_, X_te, _, _) = iris_fits
    fit = fits["shared"]
    X = X_te.iloc[:3].copy()
    X.iloc[0, [0, 1, 3]] = np.nan  # petal length only
    X.iloc[1, :] = np.nan
    p = predict_proba(fit, X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    prior_mean = fit["posterior"]["class_prob"].mean(("chain", "draw")).values
    np.testing.assert_allclose(p.iloc[1].to_numpy(), prior_mean, rtol=1e-12)
    assert not np.allclose(p.iloc[0].to_numpy(), prior_mean, atol=0.05)


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_sample_labelled_for_a_chosen_class(iris_fits, covariance):
    fits, _ = iris_fits
    fit = fits[covariance]
    n = 4000
    X, y = sample_labelled(fit, n, label="virginica", seed=3)
    assert (y == "virginica").all()
    assert list(X.columns) == list(fit["posterior"]["mu"].coords["feature"].values)
    # the posterior predictive of the class: mean E[mu], covariance E[Sigma] + Var[mu]
    model = _model(covariance)
    post = fit["posterior"]
    params = {k: np.asarray(post[k].values).reshape(-1, *post[k].shape[2:]) for k in post}
    mu = params["mu"][:, 2]
    cov = model.covariance_matrix(params)[:, 2].mean(0) + np.cov(mu.T)
    se = np.sqrt(np.diag(cov) / n)
    z = (X.to_numpy().mean(0) - mu.mean(0)) / se
    assert np.all(np.abs(z) < 4.0), z
    # the sample covariance too: within 4 SE of a normal sample covariance
    # (Var s_ij = (S_ij^2 + S_ii S_jj) / n, a little wider for a mixture over draws)
    sample_cov = np.cov(X.to_numpy().T)
    se_cov = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / n)
    assert np.all(np.abs(sample_cov - cov) < 5 * se_cov), (sample_cov - cov) / se_cov
    # another class is somewhere else: the setosa mean is far from virginica's
    X0, _ = sample_labelled(fit, 500, label="setosa", seed=3)
    assert np.abs(X0.to_numpy().mean(0) - mu.mean(0)).max() > 1.0
    with pytest.raises(DataError, match="not a class"):
        sample_labelled(fit, 5, label="rose")


# --------------------------------------------------------------- recovery
def _scalars(model, params: dict[str, np.ndarray]) -> np.ndarray:
    """Every free scalar of the parameters, per draw: (S, K).

    class_prob without its last (redundant) entry, mu, sigma, and the
    correlations below the diagonal of each correlation matrix L_corr L_corrᵀ.
    """
    s = params["mu"].shape[0]
    L = np.asarray(params["L_corr"])
    R = L @ np.swapaxes(L, -1, -2)
    i, j = np.tril_indices(R.shape[-1], -1)
    return np.concatenate(
        [
            params["class_prob"][:, :-1],
            params["mu"].reshape(s, -1),
            params["sigma"].reshape(s, -1),
            R[..., i, j].reshape(s, -1),
        ],
        axis=1,
    )


def _coverage(covariance: str, seeds, *, scale: float = 1.0, **sample) -> tuple[int, int]:
    """(covered, total) scalars over data sets simulated from the prior.

    Data sets of the iris split's shape (:data:`SHAPE`). ``scale`` multiplies the simulated
    features before fitting: scale != 1 is a fit with a wrong likelihood (the
    features' means and sds off by that factor).
    """
    model = _model(covariance)
    covered = total = 0
    lo, hi = (1 - LEVEL) / 2, (1 + LEVEL) / 2
    for seed in seeds:
        data, truth = model.simulate(SHAPE, seed=seed)
        fitted = {"X": np.asarray(data["X"]) * scale, "y": data["y"], "C": SHAPE["C"]}
        fit = probgen.sample(model, fitted, seed=seed, check=False, **sample)
        post = fit["posterior"]
        draws = {k: np.asarray(post[k].values).reshape(-1, *post[k].shape[2:]) for k in post}
        s = _scalars(model, draws)
        t = _scalars(model, {k: np.asarray(v)[None] for k, v in truth.items()})[0]
        q_lo, q_hi = np.quantile(s, [lo, hi], axis=0)
        covered += int(np.sum((q_lo <= t) & (t <= q_hi)))
        total += t.size
    return covered, total


def _binomial_bounds(total: int) -> tuple[int, int]:
    """99.9% two-sided bounds on the covered count of ``total`` scalars.

    The scalars of one data set are not independent (a data set whose class
    mean happens to fall far from the truth moves mu, sigma and class_prob of
    that class together), so the count varies more than a binomial. The
    variance of the per-data-set count over its binomial variance (the design
    effect) was measured at 1.45 (shared) and 1.26 (per_class) over 24 data
    sets of :data:`SHAPE`, and between 1.25 and 2.0 in campaigns of 20-80 data
    sets of 2 features. The bounds are binomial bounds for total / DEFF
    independent scalars, DEFF = 3 (conservative), scaled back to ``total``.
    """
    n_eff = max(1, round(total / DEFF))
    dist = stats.binom(n_eff, LEVEL)
    scale = total / n_eff
    return int(np.floor(dist.ppf((1 - TOL) / 2) * scale)), int(
        np.ceil(dist.ppf((1 + TOL) / 2) * scale)
    )


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_recovery_of_simulated_parameters(covariance):
    covered, total = _coverage(covariance, range(8), **SETTINGS)
    low, high = _binomial_bounds(total)
    assert low <= covered <= high, (covered, total, (low, high))


def test_recovery_check_catches_a_wrong_likelihood():
    """The same check, fitting features doubled (means and sds off by 2): coverage collapses."""
    covered, total = _coverage("shared", range(8), scale=2.0, **SETTINGS)
    low, _ = _binomial_bounds(total)
    assert covered < low, (covered, total, low)


# ------------------------------------------------------------------- slow
@pytest.mark.slow
@pytest.mark.parametrize("covariance", COVARIANCES)
def test_recovery_campaign(covariance):
    covered, total = _coverage(covariance, range(100, 130), **SETTINGS)
    low, high = _binomial_bounds(total)
    assert low <= covered <= high, (covered, total, (low, high))


@pytest.mark.slow
@pytest.mark.parametrize("covariance", COVARIANCES)
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_default_data_fits_are_trustworthy(backend, covariance):
    fit = probgen.sample(NAME, config={"covariance": covariance}, backend=backend, seed=0)
    verdict = probgen.diagnose(fit)
    assert verdict.ok, verdict
    assert int(fit["sample_stats"]["diverging"].sum()) == 0
    # the posterior classifies the training flowers like LDA / QDA does (~98%)
    data = probgen.get_model(NAME).default_data()
    acc = np.mean(predict_proba(fit, data["X"]).idxmax(axis=1).to_numpy() == np.asarray(data["y"]))
    assert acc >= 0.95, acc
