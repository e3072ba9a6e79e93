"""Multinomial naive Bayes: a generative classifier of count vectors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
import pymc as pm
from scipy.special import gammaln

from probgen import DataError, Field, ModelData

from ._classifier import (
    GenerativeClassifier,
    check_positive,
    classifier_fields,
    floatx,
    gather_classes,
)
from .bernoulli_naive_bayes import digits_frame


def _host_multinomial(seed: np.ndarray, probs: np.ndarray, total: np.ndarray) -> np.ndarray:
    """NumPy's multinomial sampler, seeded from a JAX key's bits (see :class:`HostMultinomial`)."""
    rng = np.random.default_rng(np.asarray(seed, dtype=np.uint32).tolist())
    p = np.asarray(probs, dtype=np.float64)
    p = p / p.sum(axis=-1, keepdims=True)  # NumPy refuses shares summing past 1 by rounding
    x = rng.multinomial(np.asarray(total, dtype=np.int64), p)
    return x.astype(jnp.result_type(int))


class HostMultinomial(dist.MultinomialProbs):
    """NumPyro's multinomial, whose draws come from NumPy's sampler.

    The same distribution and ``log_prob`` as ``MultinomialProbs``; only the
    sampler differs. NumPyro's own sampler needs a static bound on the totals
    (``total_count_max``), which compiled programs that take the data as an
    argument do not have, and drawing cell by cell with ``jax.random.binomial``
    is exact but takes minutes for a few hundred data sets of the default
    size. So the draw runs on the host (``jax.pure_callback``) with
    ``numpy.random.Generator.multinomial``, seeded from the JAX key: the same
    key gives the same counts. Only generation uses it; densities and
    gradients never do.
    """

    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape) + self.batch_shape
        probs = jnp.broadcast_to(self.probs, shape + self.event_shape)
        total = jnp.broadcast_to(self.total_count, shape)
        seed = jax.random.bits(key, (4,), dtype=jnp.uint32)
        out = jax.ShapeDtypeStruct(probs.shape, jnp.result_type(int))
        return jax.pure_callback(
            _host_multinomial, out, seed, probs, total, vmap_method="sequential"
        )


class MultinomialNaiveBayes(GenerativeClassifier):
    r"""Multinomial naive Bayes: per-class count profiles, fitted jointly with the labels.

    Generative story (site names as in both backends), rows n = 1..N, features
    (count cells) d = 1..D, classes c = 1..C::

        class_prob  ~ Dirichlet(class_concentration · 1_C)
        phi[c, :]   ~ Dirichlet(feature_concentration · 1_D)
        y[n]        ~ Categorical(class_prob)                          (observed)
        X[n, :]     ~ Multinomial(total_count[n], phi[y[n], :])       (observed)

    ``phi[c, d]`` is the share of class c's counts that fall in cell d (a word's
    frequency in a topic, a pixel's share of the ink). Each row's total,
    ``total_count[n] = sum_d X[n, d]``, is data, not modelled: the multinomial
    is conditional on it (as in every multinomial naive Bayes). When fitting it
    is filled in from ``X`` (a given ``total_count`` must equal the row sums);
    to generate rows without ``X`` give it (an array, or one number for every
    row) with the sizes, e.g. ``{"N": 20, "D": 64, "C": 10, "total_count": 300}``.
    Generating draws a class, then the row's counts.

    Dims: ``X`` (obs, feature), ``y`` and ``total_count`` along ``obs``,
    ``class_prob`` along ``class``, ``phi`` (class, feature).

    Priors: ``phi[c] ~ Dirichlet(1)`` (uniform on the simplex) by default; its
    posterior mean, (count_cd + a) / (N_c + a D) with a =
    ``feature_concentration``, is scikit-learn's ``MultinomialNB(alpha=a)``
    estimate (additive smoothing). ``class_concentration=1`` is a flat prior on
    the class proportions.

    Data: default is scikit-learn's bundled handwritten digits (the test set of
    the UCI "Optical Recognition of Handwritten Digits" data, Alpaydin &
    Kaynak 1998, CC BY 4.0): N=1797 8x8 images, C=10 digits, D=64 cells
    labelled ``pixel_<row>_<col>``, used as they are. They are genuine counts:
    each value (0..16) is the number of ink pixels in a 4x4 block of the 32x32
    original, so an image is its total ink (185..433 pixels) spread over 64
    blocks, which is what the multinomial describes (scikit-learn's
    MultinomialNB examples use the same data). A CSV needs a label column
    ``y``; the other columns must hold non-negative integer counts.

    Missing features (NaN) when classifying (:mod:`probgen.classify`): with
    some cells O of a row observed and the others missing, the total of the
    missing cells is unknown, so the row's total is too. What is computed is
    the exact likelihood of the observed cells given their own total m =
    sum_{d in O} x_d: under Multinomial(n, phi) the observed cells, conditional
    on their sum m, are Multinomial(m, phi_O / sum(phi_O)) whatever n is, so

        log p(x_O | m, y = c) = log m! - sum_O log x_d! + sum_O x_d log phi[c, d]
                                - m log sum_O phi[c, d].

    With every cell observed this is the full class-conditional density (m is
    then the row's total); with none observed (m = 0) it is 0. The evidence in
    how large m is relative to the unknown total is not used (it would need a
    model of the totals, which this model leaves out).

    Inference difficulty: easy. Given the labels the posterior is one Dirichlet
    per class (conjugate) and a Dirichlet for the class proportions: no latent
    variables, no label switching. Cells that are never used by a class
    (border pixels) get tiny shares, about 1 / (the class's total count),
    sampled on NUTS's unconstrained simplex scale without trouble. 630
    parameters on the default data; default NUTS settings (no
    ``sampler_defaults``) fit it.

    Discriminative counterpart: log P(y = c | x) is linear in the counts (the
    log odds of two classes are sum_d x_d (log phi[c, d] - log phi[c', d]) plus
    a constant), so the conditional model is a multinomial logistic regression
    on the counts (``sklearn.linear_model.LogisticRegression``); the
    maximum-likelihood (smoothed) version of this model is
    ``sklearn.naive_bayes.MultinomialNB``.

    Parameters
    ----------
    feature_concentration : float, default 1.0
        The symmetric Dirichlet prior of every ``phi[c, :]``.
    class_concentration : float, default 1.0
    """

    name = "multinomial_naive_bayes"
    summary = "Multinomial naive Bayes: per-class count profiles (digits, words), p(x, y) jointly"
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
    fields = (
        *classifier_fields("count", "counts, one row per observation"),
        Field(
            "total_count",
            ("obs",),
            kind="count",
            doc="each row's total count (filled in from X's row sums; give it to generate)",
        ),
    )

    def __init__(self, feature_concentration: float = 1.0, class_concentration: float = 1.0):
        self.feature_concentration = feature_concentration
        self.class_concentration = class_concentration
        check_positive(self, "feature_concentration", "class_concentration")

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"class_prob": ("class",), "phi": ("class", "feature")}

    def default_data(self) -> dict[str, Any]:
        from sklearn.datasets import load_digits

        digits = load_digits()
        X = digits_frame(digits.data, digits.feature_names)
        return {"X": X, "y": pd.Categorical(digits.target, categories=list(range(10)))}

    def complete_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """``total_count`` from X's row sums (checked against a given one); a single
        number given with ``N`` is every row's total."""
        data = super().complete_data(data)
        X, total = data.get("X"), data.get("total_count")
        if X is not None:
            try:
                sums = np.asarray(X, dtype=np.float64).sum(axis=-1)
            except (TypeError, ValueError):
                return data  # not numbers: prepare_data names what is wrong with X
            if total is None:
                data["total_count"] = sums
            elif (
                np.shape(total) == np.shape(sums)
                and np.all(np.isfinite(sums))
                and not np.array_equal(np.asarray(total, dtype=np.float64), sums)
            ):
                rows = np.flatnonzero(np.asarray(total, dtype=np.float64) != sums)
                raise DataError(
                    f"data['total_count'] must be X's row sums; it differs at rows "
                    f"{rows[:5].tolist()} (leave it out when X is given)"
                )
        elif total is not None and np.ndim(total) == 0 and data.get("N") is not None:
            from probgen.data import check_size

            data["total_count"] = np.full(check_size("N", data["N"]), total)
        return data

    # ------------------------------------------------------------------ twins
    def numpyro_model(self, data: ModelData) -> None:
        c, d, n = data.size("class"), data.size("feature"), data.size("obs")
        y = self.numpyro_labels(data)
        with numpyro.plate("class", c):
            phi = numpyro.sample(
                "phi", dist.Dirichlet(jnp.full(d, float(self.feature_concentration)))
            )
        with numpyro.plate("obs", n):
            numpyro.sample(
                "X",
                HostMultinomial(phi[y], data["total_count"]),
                obs=data.get("X"),
            )

    def pymc_model(self, data: ModelData) -> pm.Model:
        c, d = data.size("class"), data.size("feature")
        with pm.Model(coords=data.coords) as model:
            y = self.pymc_labels(data)
            phi = pm.Dirichlet(
                "phi",
                a=floatx(np.full((c, d), self.feature_concentration)),
                dims=("class", "feature"),
            )
            total = pm.Data("total_count", data["total_count"], dims="obs")
            pm.Multinomial(
                "X",
                n=total,
                p=phi[y],
                observed=data.get("X"),
                dims=("obs", "feature"),
            )
        return model

    # ---------------------------------------------------- NumPy, over draws
    def check_features(self, X: np.ndarray, what: str) -> np.ndarray:
        X = super().check_features(X, what)
        seen = X[~np.isnan(X)]
        bad = (seen < 0) | (seen != np.round(seen))
        if bad.any():
            raise DataError(
                f"{what} must hold non-negative integer counts (NaN where missing) for "
                f"{self.name}; got values {np.unique(seen[bad])[:5].tolist()}"
            )
        return X

    def class_log_density(self, params: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        """log p(x_O | m, y = c) for the observed cells O of each row (see the class
        docstring, "Missing features"); the full multinomial density when nothing
        is missing, 0 for an all-NaN row. Matrix products, no (S, N, C, D) array."""
        phi = np.asarray(params["phi"], dtype=float)
        X = np.asarray(X, dtype=float)
        seen = ~np.isnan(X)
        x = np.where(seen, X, 0.0)
        m = x.sum(axis=1)
        const = gammaln(m + 1.0) - gammaln(x + 1.0).sum(axis=1)  # (N,)
        with np.errstate(divide="ignore"):
            log_phi = np.log(phi)
        # a share of exactly 0 with a count of 0 contributes 0 (0 * log 0 := 0)
        log_phi = np.where(np.isneginf(log_phi), -1e300, log_phi)
        fit = np.einsum("nd,scd->snc", x, log_phi)
        mass = np.einsum("nd,scd->snc", seen.astype(float), phi)
        with np.errstate(divide="ignore", invalid="ignore"):
            norm = np.where(m[None, :, None] > 0, m[None, :, None] * np.log(mass), 0.0)
        return const[None, :, None] + fit - norm

    def sample_features(
        self,
        params: Mapping[str, np.ndarray],
        classes: np.ndarray,
        rng: np.random.Generator,
        *,
        total_count: np.ndarray | None = None,
    ) -> np.ndarray:
        """Counts given classes (S, n); ``total_count`` (S, n) is each new row's total."""
        if total_count is None:
            raise TypeError(f"{self.name}.sample_features needs total_count= (S, n)")
        p = gather_classes(params["phi"], classes)
        p = p / p.sum(axis=-1, keepdims=True)  # NumPy refuses shares summing past 1 by rounding
        return rng.multinomial(np.asarray(total_count, dtype=np.int64), p)

    def feature_inputs(
        self, data: ModelData, classes: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Each new row's total: drawn from the training rows' totals of its class
        (of every row when the class has none), since the model leaves totals out."""
        totals = np.asarray(data["total_count"], dtype=np.int64)
        labels = np.asarray(data["y"], dtype=np.int64)
        out = np.empty(np.shape(classes), dtype=np.int64)
        for c in np.unique(classes):
            where = classes == c
            pool = totals[labels == c]
            pool = pool if pool.size else totals
            out[where] = rng.choice(pool, size=int(where.sum()))
        return {"total_count": out}
