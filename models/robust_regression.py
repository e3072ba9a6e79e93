"""Robust linear regression: Student-t errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
import pymc as pm

from probgen import Field, ModelData

from ._data import load_json
from ._regression import DesignMatrixModel


class RobustRegression(DesignMatrixModel):
    r"""Linear regression with Student-t errors, robust to outlying observations.

    Generative story (site names as in both backends), for observations
    i = 1..N and coefficients k = 1..K::

        intercept ~ intercept_prior                 (only if intercept=True)
        coef[k]   ~ coef_prior
        sigma     ~ sigma_prior                     (scale, positive)
        nu        ~ nu_prior                        (degrees of freedom, positive)
        y[i]      ~ StudentT(nu, intercept + X[i, :] @ coef, sigma)   (observed)

    NumPyro ``StudentT(df=nu, loc, scale=sigma)`` and PyMC
    ``StudentT(nu, mu, sigma)``: the same density. Equivalently
    y[i] ~ Normal(mu[i], sigma / sqrt(w[i])) with w[i] ~ Gamma(nu/2, nu/2):
    each observation gets its own precision weight, summed out, so a point far
    from the line is explained as a low-weight observation instead of pulling
    the line towards it (its influence is bounded). For nu → ∞ this is
    ``linear_regression``; Var[y | x] = sigma² nu / (nu - 2) for nu > 2 only.

    Dims: ``X`` (obs, feature), ``coef`` along ``feature`` labelled by the column
    names of X, ``y`` along ``obs``; ``sigma`` and ``nu`` scalars. A table ``X``
    (DataFrame or CSV) may hold numbers, booleans and text or categorical
    columns, as for ``linear_regression``.

    Priors: strings for :class:`probgen.Prior`. ``nu`` ~ Gamma(2, 0.1) by
    default (Juárez & Steel 2010; mean 20, mass on both heavy tails, nu of 1
    to 5, and near-normal errors, nu above 30). Intercept Normal(0, 100),
    coefficients Normal(0, 10), sigma HalfCauchy(10): weakly informative for
    outcomes and predictors of order 1-100, as in ``linear_regression``.

    Data: default is posteriordb's ``earnings`` (Gelman & Hill 2007, ch. 4; a
    1990 US survey, BSD-3 licence; N=1,192 adults with positive earnings):
    ``y`` = log annual earnings (log dollars), predictors ``height`` (inches
    above 66, about the mean, so that the intercept is the log earnings of a
    woman of 5'6" and is not correlated with the slope) and ``male`` (0/1).
    Outliers matter here: the residuals of least squares have a heavy left
    tail (skewness -1.1, excess kurtosis 2.1; a few respondents earning $200 to
    $1,000 a year, part-time or part-year work, lie 3 to 5 residual sds below
    the line), which inflates a normal model's sigma and pulls its line; the
    posterior of ``nu`` (well below 30) says how heavy the tails are. A CSV
    needs a ``y`` column; every other column is a predictor.

    Predictions: :func:`probgen.predict` returns, beside draws of ``y`` at new
    X, the posterior of the location ``mu`` = intercept + X @ coef (the
    median, and for nu > 1 the mean, of y given x).

    Generation: conditional on covariates: :func:`probgen.predict` (or
    ``model.simulate`` with ``X``) generates outcomes at given ``X``;
    :func:`probgen.generate`, which takes sizes only (``N``), does not apply.

    Inference difficulty: moderate. ``nu`` is informed only by the tails: with
    few outlying points its posterior is wide and correlated with ``sigma``
    (heavier tails with a smaller scale explain the same spread). The
    likelihood in (intercept, coef) is not log-concave, so a cluster of
    outliers can make a second mode where the line passes through them. On the
    default data default NUTS settings fit cleanly on both backends.

    Discriminative counterpart: Huber regression
    (``sklearn.linear_model.HuberRegressor``), which also bounds the influence
    of outliers, by a loss that is quadratic near the line and linear far from
    it, fitted by optimization.

    Parameters
    ----------
    intercept : bool, default True
    intercept_prior : str, default "normal(0, 100)"
    coef_prior : str, default "normal(0, 10)"
    sigma_prior : str, default "half_cauchy(10)"
    nu_prior : str, default "gamma(2, 0.1)"
    """

    name = "robust_regression"
    family = "regression"
    summary = "Linear regression with Student-t errors (robust to outliers), named predictors"
    counterparts = {
        "sklearn.linear_model.HuberRegressor": {},
        "sklearn.linear_model.Ridge": {},
        "sklearn.ensemble.HistGradientBoostingRegressor": {},
    }
    prediction_vars = {"mu": ("obs",)}
    fields = (
        Field("X", ("obs", "feature"), doc="design matrix (no intercept column)"),
        Field("y", ("obs",), observed=True, doc="outcome"),
    )
    sizes = {"N": "obs", "K": "feature"}

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 100)",
        coef_prior: str = "normal(0, 10)",
        sigma_prior: str = "half_cauchy(10)",
        nu_prior: str = "gamma(2, 0.1)",
    ):
        self.intercept = intercept
        self.intercept_prior = intercept_prior
        self.coef_prior = coef_prior
        self.sigma_prior = sigma_prior
        self.nu_prior = nu_prior
        self._set_priors(
            intercept_prior=(intercept_prior, None),
            coef_prior=(coef_prior, None),
            sigma_prior=(sigma_prior, "positive"),
            nu_prior=(nu_prior, "positive"),
        )

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {"coef": ("feature",), "sigma": (), "nu": ()}
        if self.intercept:
            dims["intercept"] = ()
        return dims

    def default_data(self) -> dict[str, Any]:
        raw = load_json("robust_earnings.json")
        X = pd.DataFrame(
            {
                "height": np.asarray(raw["height"], dtype=float) - 66.0,
                "male": np.asarray(raw["male"], dtype=float),
            }
        )
        return {"X": X, "y": np.log(np.asarray(raw["earn"], dtype=float))}

    def numpyro_model(self, data: ModelData) -> None:
        X = data["X"]
        n, k = X.shape
        with numpyro.plate("feature", k):
            coef = numpyro.sample("coef", self._coef_prior.numpyro())
        mu = X @ coef
        if self.intercept:
            mu = mu + numpyro.sample("intercept", self._intercept_prior.numpyro())
        sigma = numpyro.sample("sigma", self._sigma_prior.numpyro())
        nu = numpyro.sample("nu", self._nu_prior.numpyro())
        with numpyro.plate("obs", n):
            numpyro.sample("y", dist.StudentT(nu, mu, sigma), obs=data.get("y"))

    def prediction_quantities(self, posterior, data: ModelData) -> dict[str, np.ndarray]:
        """At new X: ``mu`` = intercept + X @ coef (the location of y given x), per draw."""
        return {"mu": self.linear_predictor(posterior, data)}

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            X = pm.Data("X", data["X"], dims=("obs", "feature"))
            coef = self._coef_prior.pymc("coef", dims="feature")
            mu = X @ coef
            if self.intercept:
                mu = mu + self._intercept_prior.pymc("intercept")
            sigma = self._sigma_prior.pymc("sigma")
            nu = self._nu_prior.pymc("nu")
            pm.StudentT("y", nu=nu, mu=mu, sigma=sigma, observed=data["y"], dims="obs")
        return model
