"""Negative binomial (NB2) regression, log link, with an optional exposure."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import pandas as pd
import pymc as pm

from probgen import ModelData

from ._counts import BLOCK, CountRegression, NegativeBinomial2, prideprejudice


class NegativeBinomialRegression(CountRegression):
    r"""Negative binomial (NB2) regression for overdispersed counts, log link.

    Generative story (site names as in both backends), for observations
    i = 1..N and coefficients k = 1..K::

        intercept ~ intercept_prior                 (only if intercept=True)
        coef[k]   ~ coef_prior
        phi       ~ phi_prior                       (dispersion, positive)
        eta[i]    = intercept + X[i, :] @ coef      (not a site)
        mu[i]     = exposure[i] * exp(eta[i])       (not a site; log offset)
        y[i]      ~ NegativeBinomial2(mu[i], phi)   (observed)

    NB2 parameterization, the same on both backends (NumPyro
    ``NegativeBinomial2(mean=mu, concentration=phi)``, with its log pmf from
    log-gamma differences for precision, see ``_counts.NegativeBinomial2``; PyMC
    ``NegativeBinomial(mu=mu, alpha=phi)``): E[y] = mu, Var[y] = mu + mu²/phi.
    Equivalently y[i] ~ Poisson(mu[i] · g[i]) with g[i] ~ Gamma(phi, phi)
    (mean 1): an unobserved multiplicative rate per observation, summed out.
    Small ``phi`` is strong overdispersion; phi → ∞ is the Poisson regression.

    Dims: ``X`` (obs, feature), ``coef`` along ``feature`` labelled by the column
    names of X, ``exposure`` and ``y`` along ``obs``; ``phi`` a scalar.

    Exposure: ``exposure`` (> 0) is what the count is proportional to; it is
    optional (absent: 1). In a CSV (or a DataFrame given as the whole data set)
    the column ``exposure`` is the exposure, ``y`` the outcome and every other
    column a predictor. :func:`probgen.predict` needs ``data["exposure"]`` for
    the new rows when the fit had exposures other than 1; doubling the
    exposure doubles the predicted mean ``mu`` (the variance grows faster, as
    mu + mu²/phi: the extra variation is a rate that does not average out).

    Priors: strings for :class:`probgen.Prior`. Defaults: Normal(0, 5) for the
    intercept (a log rate per unit exposure), Normal(0, 2.5) for coefficients
    of predictors on a unit scale, and Gamma(2, 0.1) for ``phi`` (mean 20,
    little mass near 0, where the NB puts almost all mass at 0 and a long
    tail, and none that forbids phi of 1 to 100).

    Data: default is how often one word of Jane Austen's *Pride and Prejudice*
    occurs in each stretch of the novel (posteriordb's
    ``prideprejudice_paragraph``: tokenized, stop and rare words removed,
    1,495 word ids, BSD-3 licence; counts derived in
    ``models/data/counts_prideprejudice.json``). The 2,025 paragraphs, in
    order, are cut into N=81 stretches of 25; ``y`` = occurrences of word
    id 136 in a stretch, ``exposure`` = the stretch's length in tokens (163
    to 1,228), predictor ``position`` = where the stretch lies in the novel
    (-0.5 first to 0.5 last). Word 136 was chosen as the most overdispersed,
    at this grain, of the 40 most frequent words (Pearson dispersion 4.8
    around a constant rate; 257 occurrences): words like it (names above all)
    come in bursts, scenes where a character is present, so the counts vary
    far more than a Poisson allows — the classic case for the negative
    binomial (Church & Gale 1995, "Poisson mixtures"). A CSV needs a count
    column ``y``, optionally ``exposure``; other columns are predictors.

    Predictions: :func:`probgen.predict` returns, beside draws of ``y`` at new
    rows, the posterior of the mean ``mu`` = exposure * exp(intercept + X @ coef).

    Generation: a regression generates conditionally on its covariates:
    :func:`probgen.predict` (or ``model.simulate`` with covariates) generates
    counts at given ``X`` and ``exposure``; :func:`probgen.generate`, which
    takes sizes only (``N``), refuses it and says so.

    Inference difficulty: moderate. ``phi`` is informed only by the spread of
    the counts beyond their means; near-Poisson data leave a long right tail
    in phi (the prior bounds it), and few observations a weakly identified
    phi correlated with the intercept. NUTS on the log scale of phi handles
    both at default settings on the default data.

    Discriminative counterpart: maximum-likelihood negative binomial GLM
    (statsmodels' ``NegativeBinomial``); in scikit-learn the nearest is
    ``sklearn.linear_model.PoissonRegressor`` (the same mean model, Poisson
    variance) or ``TweedieRegressor``.

    Parameters
    ----------
    intercept : bool, default True
    intercept_prior : str, default "normal(0, 5)"
    coef_prior : str, default "normal(0, 2.5)"
    phi_prior : str, default "gamma(2, 0.1)"
    """

    name = "negative_binomial_regression"
    family = "regression"
    summary = "Negative binomial (NB2) regression for overdispersed counts, optional exposure"
    counterparts = {
        "sklearn.linear_model.PoissonRegressor": {},
        "sklearn.ensemble.HistGradientBoostingRegressor": {"loss": "poisson"},
    }

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 5)",
        coef_prior: str = "normal(0, 2.5)",
        phi_prior: str = "gamma(2, 0.1)",
    ):
        self.intercept = intercept
        self.intercept_prior = intercept_prior
        self.coef_prior = coef_prior
        self.phi_prior = phi_prior
        self._set_priors(
            intercept_prior=(intercept_prior, None),
            coef_prior=(coef_prior, None),
            phi_prior=(phi_prior, "positive"),
        )

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {"coef": ("feature",), "phi": ()}
        if self.intercept:
            dims["intercept"] = ()
        return dims

    def default_data(self) -> dict[str, Any]:
        raw = prideprejudice("w136")
        stretch = np.arange(len(raw["count"])) // BLOCK
        n = int(stretch.max()) + 1
        position = np.arange(n) / (n - 1) - 0.5
        return {
            "X": pd.DataFrame({"position": position}),
            "exposure": np.bincount(stretch, weights=raw["length"]).astype(float),
            "y": np.bincount(stretch, weights=raw["count"]).astype(np.int64),
        }

    def numpyro_model(self, data: ModelData) -> None:
        X = data["X"]
        n, k = X.shape
        with numpyro.plate("feature", k):
            coef = numpyro.sample("coef", self._coef_prior.numpyro())
        eta = X @ coef
        if self.intercept:
            eta = eta + numpyro.sample("intercept", self._intercept_prior.numpyro())
        phi = numpyro.sample("phi", self._phi_prior.numpyro())
        mu = jnp.exp(eta + jnp.log(data["exposure"]))
        with numpyro.plate("obs", n):
            numpyro.sample("y", NegativeBinomial2(mu, phi), obs=data.get("y"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            X = pm.Data("X", data["X"], dims=("obs", "feature"))
            exposure = pm.Data("exposure", data["exposure"], dims="obs")
            coef = self._coef_prior.pymc("coef", dims="feature")
            eta = X @ coef
            if self.intercept:
                eta = eta + self._intercept_prior.pymc("intercept")
            phi = self._phi_prior.pymc("phi")
            mu = pm.math.exp(eta + pm.math.log(exposure))
            pm.NegativeBinomial("y", mu=mu, alpha=phi, observed=data["y"], dims="obs")
        return model
