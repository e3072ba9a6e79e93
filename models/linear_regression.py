"""Bayesian linear regression with configurable priors."""

from __future__ import annotations

from typing import Any

import numpyro
import numpyro.distributions as dist
import pandas as pd
import pymc as pm

from probgen import Field, ModelData

from ._data import load_json
from ._regression import DesignMatrixModel


class LinearRegression(DesignMatrixModel):
    r"""Normal linear regression on a design matrix with named columns.

    Generative story (site names as in both backends), for observations
    i = 1..N and coefficients k = 1..K::

        intercept ~ intercept_prior                 (only if intercept=True)
        coef[k]   ~ coef_prior
        sigma     ~ sigma_prior                     (positive)
        y[i]      ~ Normal(intercept + X[i, :] @ coef, sigma)      (observed)

    Dims: ``X`` is (obs, feature), ``coef`` along ``feature`` labelled by the column
    names of X, ``y`` along ``obs``. A table ``X`` (DataFrame or CSV) may hold
    numbers, booleans (used as 0/1) and text or categorical columns, dummy-coded
    against a reference level with coefficients labelled ``column[T.level]``;
    :func:`probgen.predict` matches new tables to the fit's columns by name.

    Priors are strings understood by :class:`probgen.Prior`, e.g.
    ``"normal(0, 10)"``, ``"student_t(3, 8, 10)"``, ``"half_cauchy(2.5)"`` or
    ``"flat"`` / ``"half_flat"`` (improper; the posterior is proper when X has
    full column rank and N > K + 1, but the prior predictive then cannot be
    sampled). The defaults are weakly informative for outcomes and predictors
    of order 1-100; rescale your data or set priors to suit its scale.

    Data: default is ``kidiq`` (Gelman & Hill; N=434 children): ``y`` the
    child's test score, ``X`` the mother's high-school completion (mom_hs) and
    IQ (mom_iq). A CSV (or a DataFrame given as the whole data set) needs a ``y``
    column; every other column is a predictor.

    Predictions: :func:`probgen.predict` returns, beside draws of ``y`` at new
    X, the posterior of the mean ``mu`` = intercept + X @ coef.

    Inference difficulty: easy when predictors are centered; strongly correlated
    intercept and slopes when they are not (e.g. mom_iq ≈ 100), which NUTS
    handles with longer trajectories; ``dense_mass=True`` removes the
    correlation when it matters.

    Discriminative counterpart: ordinary least squares / ridge regression
    (``sklearn.linear_model.LinearRegression``, ``Ridge``).
    """

    name = "linear_regression"
    family = "regression"
    summary = "Normal linear regression, design matrix with named columns, configurable priors"
    counterparts = {
        "sklearn.linear_model.Ridge": {},
        "sklearn.linear_model.LinearRegression": {},
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
    ):
        self.intercept = intercept
        self.intercept_prior = intercept_prior
        self.coef_prior = coef_prior
        self.sigma_prior = sigma_prior
        self._set_priors(
            intercept_prior=(intercept_prior, None),
            coef_prior=(coef_prior, None),
            sigma_prior=(sigma_prior, "positive"),
        )

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {"coef": ("feature",), "sigma": ()}
        if self.intercept:
            dims["intercept"] = ()
        return dims

    def default_data(self) -> dict[str, Any]:
        raw = load_json("kidiq.json")
        X = pd.DataFrame({"mom_hs": raw["mom_hs"], "mom_iq": raw["mom_iq"]}, dtype=float)
        return {"X": X, "y": raw["kid_score"]}

    def numpyro_model(self, data: ModelData) -> None:
        X = data["X"]
        n, k = X.shape
        with numpyro.plate("feature", k):
            coef = numpyro.sample("coef", self._coef_prior.numpyro())
        mu = X @ coef
        if self.intercept:
            mu = mu + numpyro.sample("intercept", self._intercept_prior.numpyro())
        sigma = numpyro.sample("sigma", self._sigma_prior.numpyro())
        with numpyro.plate("obs", n):
            numpyro.sample("y", dist.Normal(mu, sigma), obs=data.get("y"))

    def prediction_quantities(self, posterior, data: ModelData) -> dict:
        """At new X: ``mu`` = E[y | x] = intercept + X @ coef, per draw."""
        return {"mu": self.linear_predictor(posterior, data)}

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            X = pm.Data("X", data["X"], dims=("obs", "feature"))
            coef = self._coef_prior.pymc("coef", dims="feature")
            mu = X @ coef
            if self.intercept:
                mu = mu + self._intercept_prior.pymc("intercept")
            sigma = self._sigma_prior.pymc("sigma")
            pm.Normal("y", mu, sigma, observed=data["y"], dims="obs")
        return model
