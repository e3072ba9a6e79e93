"""LOO for a model whose observations are dependent given the parameters.

gp_regression's likelihood is one multivariate normal, so PSIS-LOO weights the
terms log p(y_i | y_-i, theta) from ``Model.loo_log_likelihood`` (Bürkner,
Gabry & Vehtari 2021). The closed form is held to a brute-force computation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import probgen
from probgen.errors import HighParetoKWarning
from probgen.evaluation.loo import loo_terms


def _cov(x, rho, alpha, sigma):
    return alpha**2 * np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / rho**2) + sigma * np.eye(
        x.size
    )


def _brute_force(x, y, rho, alpha, sigma):
    """log N(y; 0, C) - log N(y_-i; 0, C_-i,-i): the conditional density of y_i."""
    cov = _cov(x, rho, alpha, sigma)
    full = multivariate_normal(np.zeros(x.size), cov).logpdf(y)
    out = []
    for i in range(x.size):
        keep = np.arange(x.size) != i
        out.append(
            full
            - multivariate_normal(np.zeros(x.size - 1), cov[np.ix_(keep, keep)]).logpdf(y[keep])
        )
    return np.array(out)


def test_gp_terms_equal_the_conditional_densities():
    model = probgen.get_model("gp_regression")
    data = model.prepare()
    rng = np.random.default_rng(0)
    post = {
        "rho": rng.gamma(25, 1 / 4, size=(2, 3)),
        "alpha": np.abs(rng.normal(0, 2, size=(2, 3))),
        "sigma": np.abs(rng.normal(0, 1, size=(2, 3))) + 0.05,
    }
    terms = model.loo_log_likelihood(post, data)["y"]
    x, y = np.asarray(data["x"], float), np.asarray(data["y"], float)
    assert terms.shape == (2, 3, x.size)
    for c, d in np.ndindex(2, 3):
        expected = _brute_force(x, y, post["rho"][c, d], post["alpha"][c, d], post["sigma"][c, d])
        np.testing.assert_allclose(terms[c, d], expected, rtol=1e-9, atol=1e-9)
        # can fail: the marginal density of y_i is not the conditional one
        marginal = multivariate_normal(
            0, _cov(x, post["rho"][c, d], post["alpha"][c, d], post["sigma"][c, d])[0, 0]
        ).logpdf(y[0])
        assert not np.isclose(marginal, terms[c, d, 0], rtol=1e-3)


def test_loo_of_a_gp_fit_uses_the_conditional_terms():
    fit = probgen.sample(
        "gp_regression", chains=2, draws=300, warmup=300, progress=False, check=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HighParetoKWarning)
        result = probgen.loo(fit)
    assert result.n_data_points == 11
    assert np.isfinite(result.elpd)
    # the sum of pointwise elpds is at most the in-sample lpd of the same terms
    s = loo_terms(fit).values.reshape(-1, 11)
    lpd = np.sum(np.log(np.mean(np.exp(s), axis=0)))
    assert result.elpd <= lpd + 1e-9
    with pytest.raises(ValueError, match="one joint term"):
        probgen.log_predictive_density(fit, {"x": [1.0, 2.0], "y": [0.1, 0.2], "N": 2})
