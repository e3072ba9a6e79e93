"""Gaussian naive Bayes: a generative classifier with independent normal features."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm

from probgen import ModelData

from ._classifier import (
    GenerativeClassifier,
    check_positive,
    classifier_fields,
    draw_chunks,
    floatx,
    gather_classes,
    standardized_iris,
)


class GaussianNaiveBayes(GenerativeClassifier):
    r"""Gaussian naive Bayes: classes with independent normal features, fitted jointly.

    Generative story (site names as in both backends), rows n = 1..N, features
    d = 1..D, classes c = 1..C::

        class_prob   ~ Dirichlet(class_concentration · 1_C)
        mu[c, d]     ~ Normal(mu_loc, mu_scale)
        sigma[c, d]  ~ HalfNormal(sigma_scale)      (shared_variance=False)
        sigma[d]     ~ HalfNormal(sigma_scale)      (shared_variance=True)
        y[n]         ~ Categorical(class_prob)                      (observed)
        X[n, d]      ~ Normal(mu[y[n], d], sigma[y[n], d])          (observed;
                       sigma[d] with shared_variance=True)

    The features are independent given the class (the "naive" assumption), so
    log p(x | y = c) is a sum over features. Both ``X`` and ``y`` are observed:
    the model is the joint p(x, y) = p(y) p(x | y), and classifying a new row is
    Bayes' rule, P(y = c | x) ∝ class_prob[c] · p(x | y = c), averaged over the
    posterior (:func:`probgen.classify.predict_proba`). Generating draws a class
    and then its features.

    Dims: ``X`` (obs, feature), ``y`` along ``obs`` (integer codes of the
    labels, see :mod:`probgen.zoo._classifier`), ``class_prob`` along ``class``,
    ``mu`` (class, feature), ``sigma`` (class, feature) or (feature,) with
    ``shared_variance=True``.

    Priors: on a unit scale. The defaults (``mu_loc=0``, ``mu_scale=2``,
    ``sigma_scale=1``) are weakly informative for standardized features (mean 0,
    sd 1 over the data set): class means within a few sds of the overall mean,
    class sds below the overall sd. Standardize the features first, or set the
    prior to the features' scale. ``class_concentration=1`` is a flat prior on
    the class proportions.

    Data: default is Fisher's iris (scikit-learn's bundled copy of the UCI data,
    CC BY 4.0; Fisher 1936): N=150 flowers, C=3 species (setosa, versicolor,
    virginica; 50 each), D=4 measurements (sepal and petal length and width, cm),
    **standardized**: each column minus its mean over the 150 flowers, divided
    by its sd (ddof=0), as ``sklearn.preprocessing.StandardScaler`` does. A CSV
    needs a label column ``y``; the other columns are features.

    Inference difficulty: easy. Given the labels the posterior factorizes into
    one normal-scale problem per (class, feature) and a Dirichlet for the class
    proportions: no latent variables, no label switching (the classes are
    named by the observed labels), well identified with a few rows per class.
    A class with very few rows has a posterior close to its prior; a feature
    that is constant within a class pushes ``sigma`` towards 0 (a funnel-free
    but sharp posterior on the log scale); the HalfNormal prior keeps it proper.
    Default NUTS settings (no ``sampler_defaults``) fit the default data.

    Discriminative counterpart: with per-class variances the log odds between
    two classes are quadratic in x (a diagonal quadratic discriminant); with
    ``shared_variance=True`` they are linear in x, so the conditional p(y | x)
    is exactly a multinomial logistic regression
    (``sklearn.linear_model.LogisticRegression``) — the classic generative /
    discriminative pair (Ng & Jordan 2002): naive Bayes fits p(x, y) and
    converges faster, logistic regression fits p(y | x) directly and wins
    asymptotically when the features are not conditionally independent. The
    maximum-likelihood version of this model is ``sklearn.naive_bayes.GaussianNB``.

    Parameters
    ----------
    shared_variance : bool, default False
        One ``sigma[d]`` per feature shared by the classes (linear decision
        boundaries) instead of ``sigma[c, d]``.
    mu_loc, mu_scale : float, default 0.0, 2.0
    sigma_scale : float, default 1.0
    class_concentration : float, default 1.0
    """

    name = "gaussian_naive_bayes"
    summary = "Gaussian naive Bayes: classes with independent normal features, p(x, y) jointly"
    counterparts = {
        "probgen.estimators.BayesianLogisticRegression": {},
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
    fields = classifier_fields("real", "features, one row per observation")

    def __init__(
        self,
        shared_variance: bool = False,
        mu_loc: float = 0.0,
        mu_scale: float = 2.0,
        sigma_scale: float = 1.0,
        class_concentration: float = 1.0,
    ):
        self.shared_variance = shared_variance
        self.mu_loc = mu_loc
        self.mu_scale = mu_scale
        self.sigma_scale = sigma_scale
        self.class_concentration = class_concentration
        if not np.isfinite(mu_loc):
            raise ValueError(f"mu_loc must be finite, got {mu_loc!r}")
        check_positive(self, "mu_scale", "sigma_scale", "class_concentration")

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {
            "class_prob": ("class",),
            "mu": ("class", "feature"),
            "sigma": ("feature",) if self.shared_variance else ("class", "feature"),
        }

    def default_data(self) -> dict[str, Any]:
        return standardized_iris()

    # ------------------------------------------------------------------ twins
    def numpyro_model(self, data: ModelData) -> None:
        c, d, n = data.size("class"), data.size("feature"), data.size("obs")
        y = self.numpyro_labels(data)
        with numpyro.plate("class", c, dim=-2), numpyro.plate("feature", d, dim=-1):
            mu = numpyro.sample("mu", dist.Normal(float(self.mu_loc), float(self.mu_scale)))
            if not self.shared_variance:
                sigma = numpyro.sample("sigma", dist.HalfNormal(float(self.sigma_scale)))
        if self.shared_variance:
            with numpyro.plate("feature", d, dim=-1):
                sigma = numpyro.sample("sigma", dist.HalfNormal(float(self.sigma_scale)))
            scale = sigma
        else:
            scale = sigma[y]
        with numpyro.plate("obs", n, dim=-2), numpyro.plate("feature", d, dim=-1):
            numpyro.sample("X", dist.Normal(mu[y], scale), obs=data.get("X"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            y = self.pymc_labels(data)
            mu = pm.Normal(
                "mu",
                mu=floatx(self.mu_loc),
                sigma=floatx(self.mu_scale),
                dims=("class", "feature"),
            )
            sigma = pm.HalfNormal(
                "sigma", sigma=floatx(self.sigma_scale), dims=self.var_dims()["sigma"]
            )
            scale = sigma if self.shared_variance else sigma[y]
            pm.Normal("X", mu=mu[y], sigma=scale, observed=data.get("X"), dims=("obs", "feature"))
        return model

    # ---------------------------------------------------- NumPy, over draws
    def _scales(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """sigma as (S, C, D) (a shared sigma broadcast over the classes)."""
        sigma = np.asarray(params["sigma"], dtype=float)
        if self.shared_variance:
            c = np.shape(params["mu"])[1]
            sigma = np.broadcast_to(sigma[:, None, :], (sigma.shape[0], c, sigma.shape[1]))
        return sigma

    def class_log_density(self, params: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        """log p(x_n | y = c) = sum over observed d of log Normal(x_nd | mu[c, d], sigma[c, d]).

        A missing (NaN) feature is integrated out exactly: the features are
        independent given the class, so its normal density integrates to 1 and
        its term is left out of the sum (an all-NaN row gives 0).
        """
        mu = np.asarray(params["mu"], dtype=float)
        sigma = self._scales(params)
        X = np.asarray(X, dtype=float)
        seen = ~np.isnan(X)
        x = np.where(seen, X, 0.0)[None, :, None, :]
        s, c, d = mu.shape
        out = np.empty((s, X.shape[0], c))
        for part in draw_chunks(s, X.shape[0] * c * d):
            m, sd = mu[part][:, None], sigma[part][:, None]
            z = (x - m) / sd
            terms = -0.5 * z * z - np.log(sd) - 0.5 * math.log(2 * math.pi)
            out[part] = np.where(seen[None, :, None, :], terms, 0.0).sum(axis=-1)
        return out

    def sample_features(
        self, params: Mapping[str, np.ndarray], classes: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        loc = gather_classes(params["mu"], classes)
        scale = gather_classes(self._scales(params), classes)
        return rng.normal(loc, scale)
