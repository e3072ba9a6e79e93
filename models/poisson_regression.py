"""Poisson regression (log link) with an optional exposure."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
import pymc as pm

from probgen import ModelData

from ._counts import CountRegression, prideprejudice


class PoissonRegression(CountRegression):
    r"""Poisson regression for counts, log link, with an optional exposure.

    Generative story (site names as in both backends), for observations
    i = 1..N and coefficients k = 1..K::

        intercept ~ intercept_prior                 (only if intercept=True)
        coef[k]   ~ coef_prior
        eta[i]    = intercept + X[i, :] @ coef      (not a site)
        mu[i]     = exposure[i] * exp(eta[i])       (not a site; log offset)
        y[i]      ~ Poisson(mu[i])                  (observed)

    The mean and the variance of y[i] are both mu[i]: counts more variable than
    that (overdispersed) call for ``negative_binomial_regression``.

    Dims: ``X`` (obs, feature), ``coef`` along ``feature`` labelled by the column
    names of X, ``exposure`` and ``y`` along ``obs``.

    Exposure: ``exposure`` (> 0) is what the count is proportional to (time at
    risk, area, number of words read...); exp(eta) is then the rate per unit
    exposure. It is optional: absent, every exposure is 1. In a CSV (or a
    DataFrame given as the whole data set) the column ``exposure`` is the
    exposure, ``y`` the outcome and every other column a predictor.
    :func:`probgen.predict` needs ``data["exposure"]`` for the new rows when the
    fit had exposures other than 1 (``np.ones(n)`` gives the rate per unit
    exposure); doubling the exposure doubles the predicted mean ``mu``.

    Priors: strings for :class:`probgen.Prior`. The defaults, Normal(0, 5) for
    the intercept (a log rate: rates from about e^-10 to e^10 per unit
    exposure) and Normal(0, 2.5) for coefficients of predictors on a unit
    scale, are weakly informative; rescale predictors or set priors to suit.
    ``"flat"`` is allowed (the posterior is proper when X has full column rank
    and the counts are not all 0), but then the prior predictive cannot be
    sampled.

    Data: default is word counts in Jane Austen's *Pride and Prejudice*
    (posteriordb's ``prideprejudice_paragraph``: the novel tokenized with stop
    and rare words removed, 1,495 word ids, BSD-3 licence; counts derived in
    ``models/data/counts_prideprejudice.json``). One row per paragraph
    (N=2,025): ``y`` = how many of its tokens are word id 896, the most
    frequent word of the vocabulary (785 occurrences); ``exposure`` = the
    paragraph's length in tokens (1 to 172); predictor ``position`` = where
    the paragraph lies in the novel, from -0.5 (first) to 0.5 (last). The
    question: does the word's rate per token drift through the novel? Given
    the paragraph length, the counts are close to Poisson (Pearson dispersion
    0.93 around a constant rate), so this is a case the model suits; a word
    whose uses cluster in stretches of the novel is the negative binomial's
    case. A CSV needs a count column ``y``, optionally ``exposure``; other
    columns are predictors.

    Predictions: :func:`probgen.predict` returns, beside draws of ``y`` at new
    rows, the posterior of the mean ``mu`` = exposure * exp(intercept + X @ coef).

    Generation: a regression generates conditionally on its covariates:
    :func:`probgen.predict` (or ``model.simulate`` with covariates) generates
    counts at given ``X`` and ``exposure``; :func:`probgen.generate`, which
    takes sizes only (``N``), refuses it and says so.

    Inference difficulty: easy: the log likelihood is concave in
    (intercept, coef), the posterior close to Gaussian for moderate counts.
    Unscaled predictors correlate intercept and slopes (longer NUTS
    trajectories); all-zero counts in a category leave its coefficient
    informed by the prior alone (it drifts to -inf under a flat prior).

    Discriminative counterpart: penalized maximum-likelihood Poisson regression
    (``sklearn.linear_model.PoissonRegressor``, the same log link; it takes an
    exposure as ``sample_weight`` with y / exposure as the outcome).

    Parameters
    ----------
    intercept : bool, default True
    intercept_prior : str, default "normal(0, 5)"
    coef_prior : str, default "normal(0, 2.5)"
    """

    name = "poisson_regression"
    family = "regression"
    summary = "Poisson regression for counts, log link, named predictors, optional exposure"
    counterparts = {
        "sklearn.linear_model.PoissonRegressor": {},
        "sklearn.ensemble.HistGradientBoostingRegressor": {"loss": "poisson"},
    }

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 5)",
        coef_prior: str = "normal(0, 2.5)",
    ):
        self.intercept = intercept
        self.intercept_prior = intercept_prior
        self.coef_prior = coef_prior
        self._set_priors(intercept_prior=(intercept_prior, None), coef_prior=(coef_prior, None))

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {"coef": ("feature",)}
        if self.intercept:
            dims["intercept"] = ()
        return dims

    def default_data(self) -> dict[str, Any]:
        raw = prideprejudice("w896")
        n = len(raw["count"])
        position = np.arange(n) / (n - 1) - 0.5
        return {
            "X": pd.DataFrame({"position": position}),
            "exposure": raw["length"].astype(float),
            "y": raw["count"],
        }

    def numpyro_model(self, data: ModelData) -> None:
        X = data["X"]
        n, k = X.shape
        with numpyro.plate("feature", k):
            coef = numpyro.sample("coef", self._coef_prior.numpyro())
        eta = X @ coef
        if self.intercept:
            eta = eta + numpyro.sample("intercept", self._intercept_prior.numpyro())
        mu = jnp.exp(eta + jnp.log(data["exposure"]))
        with numpyro.plate("obs", n):
            numpyro.sample("y", dist.Poisson(mu), obs=data.get("y"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            X = pm.Data("X", data["X"], dims=("obs", "feature"))
            exposure = pm.Data("exposure", data["exposure"], dims="obs")
            coef = self._coef_prior.pymc("coef", dims="feature")
            eta = X @ coef
            if self.intercept:
                eta = eta + self._intercept_prior.pymc("intercept")
            mu = pm.math.exp(eta + pm.math.log(exposure))
            pm.Poisson("y", mu=mu, observed=data["y"], dims="obs")
        return model
