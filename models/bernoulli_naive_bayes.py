"""Bernoulli naive Bayes: a generative classifier with independent binary features."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
import pymc as pm

from probgen import DataError, ModelData

from ._classifier import (
    GenerativeClassifier,
    check_positive,
    classifier_fields,
    floatx,
    gather_classes,
)


def digits_frame(values: np.ndarray, names: list[str]) -> pd.DataFrame:
    """The digits' pixels as a table with scikit-learn's pixel names (``pixel_row_col``)."""
    return pd.DataFrame(np.asarray(values, dtype=np.int64), columns=list(names))


class BernoulliNaiveBayes(GenerativeClassifier):
    r"""Bernoulli naive Bayes: classes with independent binary features, fitted jointly.

    Generative story (site names as in both backends), rows n = 1..N, features
    d = 1..D, classes c = 1..C::

        class_prob   ~ Dirichlet(class_concentration · 1_C)
        theta[c, d]  ~ Beta(theta_a, theta_b)
        y[n]         ~ Categorical(class_prob)                 (observed)
        X[n, d]      ~ Bernoulli(theta[y[n], d])                (observed, 0/1)

    ``theta[c, d]`` is the probability that feature d is on (1) in class c; the
    features are independent given the class. Both ``X`` and ``y`` are
    observed (the joint p(x, y)); classifying a new row is Bayes' rule averaged
    over the posterior (:func:`probgen.classify.predict_proba`). Generating
    draws a class, then each feature.

    Dims: ``X`` (obs, feature), ``y`` along ``obs`` (integer codes of the
    labels), ``class_prob`` along ``class``, ``theta`` (class, feature).

    Priors: ``theta ~ Beta(1, 1)`` (uniform) by default. Its posterior mean,
    (count_cd + theta_a) / (N_c + theta_a + theta_b), is scikit-learn's
    ``BernoulliNB(alpha=1)`` estimate (Laplace smoothing) for
    ``theta_a = theta_b = alpha``. ``class_concentration=1`` is a flat prior on
    the class proportions.

    Data: default is scikit-learn's bundled handwritten digits (the test set of
    the UCI "Optical Recognition of Handwritten Digits" data, Alpaydin &
    Kaynak 1998, CC BY 4.0): N=1797 8x8 images, C=10 digits 0..9, D=64 pixels
    labelled ``pixel_<row>_<col>``, **binarized**: a pixel (an integer 0..16,
    the number of ink pixels in a 4x4 block of the 32x32 original) is 1 when it
    is greater than 7, else 0. A CSV needs a label column ``y``; the other
    columns must hold 0/1 (or True/False).

    Inference difficulty: easy. Given the labels the posterior factorizes into
    independent Beta posteriors, one per (class, pixel), and a Dirichlet: no
    latent variables, no label switching. Pixels that are never on in a class
    (the image border) have posteriors piled up near 0 (Beta(1, N_c + 1)),
    skewed but smooth on NUTS's logit scale. 640 parameters on the default
    data; default NUTS settings (no ``sampler_defaults``) fit it.

    Discriminative counterpart: log P(y = c | x) is linear in the binary
    features (the log odds of two classes are
    sum_d x_d logit(theta) differences plus a constant), so the conditional
    model is a multinomial logistic regression on the pixels
    (``sklearn.linear_model.LogisticRegression``); the maximum-likelihood (with
    smoothing) version of this model is ``sklearn.naive_bayes.BernoulliNB``.

    Parameters
    ----------
    theta_a, theta_b : float, default 1.0, 1.0
        The Beta prior of every ``theta[c, d]``.
    class_concentration : float, default 1.0
    """

    name = "bernoulli_naive_bayes"
    summary = "Bernoulli naive Bayes: classes with independent binary features, p(x, y) jointly"
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
    fields = classifier_fields("binary", "binary features (0/1), one row per observation")

    def __init__(
        self,
        theta_a: float = 1.0,
        theta_b: float = 1.0,
        class_concentration: float = 1.0,
    ):
        self.theta_a = theta_a
        self.theta_b = theta_b
        self.class_concentration = class_concentration
        check_positive(self, "theta_a", "theta_b", "class_concentration")

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"class_prob": ("class",), "theta": ("class", "feature")}

    def default_data(self) -> dict[str, Any]:
        from sklearn.datasets import load_digits

        digits = load_digits()
        X = digits_frame(np.asarray(digits.data) > 7, digits.feature_names)
        return {"X": X, "y": pd.Categorical(digits.target, categories=list(range(10)))}

    # ------------------------------------------------------------------ twins
    def numpyro_model(self, data: ModelData) -> None:
        c, d, n = data.size("class"), data.size("feature"), data.size("obs")
        y = self.numpyro_labels(data)
        with numpyro.plate("class", c, dim=-2), numpyro.plate("feature", d, dim=-1):
            theta = numpyro.sample("theta", dist.Beta(float(self.theta_a), float(self.theta_b)))
        with numpyro.plate("obs", n, dim=-2), numpyro.plate("feature", d, dim=-1):
            numpyro.sample("X", dist.Bernoulli(probs=theta[y]), obs=data.get("X"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            y = self.pymc_labels(data)
            theta = pm.Beta(
                "theta",
                alpha=floatx(self.theta_a),
                beta=floatx(self.theta_b),
                dims=("class", "feature"),
            )
            pm.Bernoulli("X", p=theta[y], observed=data.get("X"), dims=("obs", "feature"))
        return model

    # ---------------------------------------------------- NumPy, over draws
    def check_features(self, X: np.ndarray, what: str) -> np.ndarray:
        X = super().check_features(X, what)
        seen = X[~np.isnan(X)]
        if not np.isin(seen, (0.0, 1.0)).all():
            bad = np.unique(seen[~np.isin(seen, (0.0, 1.0))])[:5].tolist()
            raise DataError(
                f"{what} must be binary (0 or 1, NaN where missing) for {self.name}; "
                f"got values {bad}"
            )
        return X

    def class_log_density(self, params: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        """log p(x_n | y = c) = sum over observed d of x log theta + (1 - x) log(1 - theta).

        A missing (NaN) feature is integrated out exactly: the features are
        independent given the class and a Bernoulli's two probabilities sum to
        1, so its term is left out (an all-NaN row gives 0). Computed as two
        matrix products, (S, C, D) by (N, D), without an (S, N, C, D) array.
        """
        theta = np.asarray(params["theta"], dtype=float)
        X = np.asarray(X, dtype=float)
        seen = ~np.isnan(X)
        on = np.where(seen, X, 0.0)
        off = seen - on
        with np.errstate(divide="ignore"):  # theta at 0 or 1 exactly: log 0 = -inf is right
            log_on, log_off = np.log(theta), np.log1p(-theta)
        # 0 * (-inf) would be NaN where a feature is off and theta = 1: that term is log 1 = 0
        log_on = np.where(np.isneginf(log_on), -1e300, log_on)
        log_off = np.where(np.isneginf(log_off), -1e300, log_off)
        return np.einsum("nd,scd->snc", on, log_on) + np.einsum("nd,scd->snc", off, log_off)

    def sample_features(
        self, params: Mapping[str, np.ndarray], classes: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        p = gather_classes(params["theta"], classes)
        return (rng.random(p.shape) < p).astype(np.int64)
