"""Bayesian logistic regression."""

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


class LogisticRegression(DesignMatrixModel):
    r"""Logistic regression for a binary outcome.

    Generative story (site names as in both backends), for observations
    i = 1..N and coefficients k = 1..K::

        intercept ~ intercept_prior                 (only if intercept=True)
        coef[k]   ~ coef_prior
        y[i]      ~ Bernoulli(logit⁻¹(intercept + X[i, :] @ coef))   (observed)

    Dims: ``X`` (obs, feature), ``coef`` along ``feature`` labelled by the column
    names, ``y`` along ``obs``. A table ``X`` (DataFrame or CSV) may hold numbers,
    booleans (used as 0/1) and text or categorical columns, dummy-coded against a
    reference level with coefficients labelled ``column[T.level]``;
    :func:`probgen.predict` matches new tables to the fit's columns by name.

    Priors: strings for :class:`probgen.Prior`; defaults Normal(0, 2.5), weakly
    informative for predictors on a unit scale (Gelman et al. 2008). ``"flat"``
    is allowed but the posterior is improper under complete separation.

    Data: default is the Bangladesh ``wells`` survey (N=3,020 households):
    ``y`` = switched to a safe well, predictors dist100 (distance to the
    nearest safe well, 100 m), arsenic (level in own well), educ4 (years of
    education / 4) and assoc (community association member), as in Gelman &
    Hill ch. 5. A CSV (or a DataFrame given as the whole data set) needs a binary
    ``y`` column (0/1 or True/False); other columns are predictors.

    Predictions: :func:`probgen.predict` returns, beside draws of ``y`` at new
    X, the posterior of the linear predictor ``eta`` and of the class
    probability ``p`` = logit⁻¹(eta) = P(y = 1 | x), one value per draw (their
    mean over draws is the posterior predictive probability).

    Inference difficulty: well-conditioned with scaled predictors; separation
    or large unscaled predictors give long, thin posteriors.

    Discriminative counterpart: regularized maximum-likelihood logistic
    regression (``sklearn.linear_model.LogisticRegression``), the same
    conditional model p(y | x) fitted by optimization instead of integration.
    """

    name = "logistic_regression"
    family = "classification"
    summary = "Logistic regression for a binary outcome with named predictors"
    counterparts = {
        "sklearn.linear_model.LogisticRegression": {"max_iter": 1000},
        # Platt-calibrated SVM probabilities (SVC(probability=True) is deprecated
        # in scikit-learn 1.9); cv=2 works from two examples per class
        "sklearn.calibration.CalibratedClassifierCV": {
            "estimator": {"sklearn.svm.SVC": {}},
            "ensemble": False,
            "cv": 2,
        },
        "sklearn.ensemble.HistGradientBoostingClassifier": {},
    }
    prediction_vars = {"p": ("obs",), "eta": ("obs",)}
    fields = (
        Field("X", ("obs", "feature"), doc="design matrix (no intercept column)"),
        Field("y", ("obs",), kind="binary", observed=True, doc="binary outcome (0/1)"),
    )
    sizes = {"N": "obs", "K": "feature"}

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 2.5)",
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
        raw = load_json("wells.json")
        X = pd.DataFrame(
            {
                "dist100": np.asarray(raw["dist"], dtype=float) / 100.0,
                "arsenic": raw["arsenic"],
                "educ4": np.asarray(raw["educ"], dtype=float) / 4.0,
                "assoc": raw["assoc"],
            },
            dtype=float,
        )
        return {"X": X, "y": raw["switched"]}

    def numpyro_model(self, data: ModelData) -> None:
        X = data["X"]
        n, k = X.shape
        with numpyro.plate("feature", k):
            coef = numpyro.sample("coef", self._coef_prior.numpyro())
        eta = X @ coef
        if self.intercept:
            eta = eta + numpyro.sample("intercept", self._intercept_prior.numpyro())
        with numpyro.plate("obs", n):
            numpyro.sample("y", dist.Bernoulli(logits=eta), obs=data.get("y"))

    def prediction_quantities(self, posterior, data: ModelData) -> dict[str, np.ndarray]:
        """At new X: ``eta`` (linear predictor) and ``p`` = P(y = 1 | x), per draw."""
        eta = self.linear_predictor(posterior, data)
        return {"eta": eta, "p": 1.0 / (1.0 + np.exp(-eta))}

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            X = pm.Data("X", data["X"], dims=("obs", "feature"))
            coef = self._coef_prior.pymc("coef", dims="feature")
            eta = X @ coef
            if self.intercept:
                eta = eta + self._intercept_prior.pymc("intercept")
            pm.Bernoulli("y", logit_p=eta, observed=data["y"], dims="obs")
        return model
