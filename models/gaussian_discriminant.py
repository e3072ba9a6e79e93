"""Bayesian Gaussian discriminant analysis (LDA and QDA): a generative classifier."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
from pymc.distributions.transforms import CholeskyCorrTransform

from probgen import DataError, ModelData

from ._classifier import (
    GenerativeClassifier,
    check_positive,
    classifier_fields,
    draw_chunks,
    floatx,
    gather_classes,
    standardized_iris,
)

#: the dimension of the second (column) index of a correlation Cholesky factor;
#: labelled like ``feature``
FEATURE_COL = "feature_col"


class _CholeskyCorr(CholeskyCorrTransform):
    """PyMC's Cholesky-correlation transform under a name without underscores.

    PyMC names a transformed value ``{name}_{transform.name}__`` and recovers the
    site's name by dropping the last three ``_``-separated parts
    (``pymc.util.get_untransformed_name``). The stock name ``cholesky_corr``
    holds an underscore itself, so after ``remove_value_transforms`` the value of
    ``L_corr`` is called ``L_corr_cholesky`` and a point keyed by site names
    (probgen's log-density check) cannot be evaluated. The transform is the same.
    """

    name = "choleskycorr"


class GaussianDiscriminant(GenerativeClassifier):
    r"""Bayesian Gaussian discriminant analysis: LDA (shared covariance) or QDA (per class).

    Generative story (site names as in both backends), rows n = 1..N, features
    d = 1..D (D >= 2), classes c = 1..C::

        class_prob      ~ Dirichlet(class_concentration · 1_C)
        mu[c, d]        ~ Normal(mu_loc, mu_scale)
        sigma[d]        ~ HalfNormal(sigma_scale)            (covariance="shared")
        L_corr          ~ LKJCholesky(D, lkj_eta)            (covariance="shared")
        sigma[c, d]     ~ HalfNormal(sigma_scale)            (covariance="per_class")
        L_corr[c]       ~ LKJCholesky(D, lkj_eta)            (covariance="per_class")
        Sigma_c         = diag(sigma_c) L_corr_c L_corr_cᵀ diag(sigma_c)
                          (sigma_c, L_corr_c the shared ones with "shared")
        y[n]            ~ Categorical(class_prob)                       (observed)
        X[n, :]         ~ MvNormal(mu[y[n], :], Sigma_{y[n]})            (observed)

    Both ``X`` and ``y`` are observed: the model is the joint p(x, y) = p(y)
    p(x | y), and classifying a new row is Bayes' rule, P(y = c | x) ∝
    class_prob[c] · MvNormal(x | mu[c], Sigma_c), averaged over the posterior
    (:func:`probgen.classify.predict_proba`). Generating draws a class, then
    its features. With ``covariance="shared"`` every class has the same
    covariance, so the log odds between two classes are linear in x (Bayesian
    linear discriminant analysis); with ``"per_class"`` they are quadratic
    (Bayesian quadratic discriminant analysis).

    Covariance parameterization: scales times an LKJ Cholesky factor of the
    correlation matrix (Stan's recommended "separation strategy", Barnard et
    al. 2000): ``sigma`` are the features' within-class standard deviations and
    ``L_corr`` the lower-triangular Cholesky factor of their correlation matrix
    (unit rows, positive diagonal). Both backends write the same sites: NumPyro
    ``LKJCholesky(D, lkj_eta)``, PyMC ``LKJCorr(n=D, eta=lkj_eta)`` (which in
    PyMC 6 is a distribution over the same Cholesky factor, with the same
    density including its normalizing constant); the factor of the covariance
    is ``sigma[:, None] * L_corr`` on both. PyMC's ``LKJCholeskyCov`` is not
    used: it packs the factor and folds the scales into it, a different site.
    ``lkj_eta=2`` mildly favours weak correlations; 1 is uniform over
    correlation matrices.

    Dims: ``X`` (obs, feature); ``y`` along ``obs`` (integer codes of the
    labels, see :mod:`probgen.zoo._classifier`); ``class_prob`` along
    ``class``; ``mu`` (class, feature); ``sigma`` (feature,) or (class,
    feature); ``L_corr`` (feature, feature_col) or (class, feature,
    feature_col), where ``feature_col`` is the factor's column index, labelled
    like ``feature``.

    Priors: on a unit scale. The defaults (``mu_loc=0``, ``mu_scale=2``,
    ``sigma_scale=1``, ``lkj_eta=2``) are weakly informative for standardized
    features (mean 0, sd 1 over the data set): class means within a few sds of
    the overall mean, within-class sds below the overall sd. Standardize the
    features first, or set the priors to the features' scale.
    ``class_concentration=1`` is a flat prior on the class proportions.

    Data: default is Fisher's iris (scikit-learn's bundled copy of the UCI data,
    CC BY 4.0; Fisher 1936), the data LDA was invented on: N=150 flowers, C=3
    species (setosa, versicolor, virginica; 50 each), D=4 measurements (sepal
    and petal length and width, cm), **standardized**: each column minus its
    mean over the 150 flowers, divided by its sd (ddof=0), as
    ``sklearn.preprocessing.StandardScaler`` does. A CSV needs a label column
    ``y``; the other columns (at least two) are features.

    Inference difficulty: easy to moderate. The labels are observed, so there
    are no latent classes and no label switching; given the labels the
    posterior factorizes into a Dirichlet for the class proportions and one
    normal-mean/covariance problem per covariance (shared: one, pooled over
    the classes; per class: C). The covariance parameters are the harder part:
    strongly correlated features (iris' petal length and width, r ≈ 0.9 in
    some classes) put the correlations near ±1, where the unconstrained
    coordinates of the LKJ factor stretch out, and with ``"per_class"`` each
    class has D(D+1)/2 covariance parameters from its own rows only (QDA needs
    more rows per class than features; with few rows the prior dominates).
    Default NUTS settings (no ``sampler_defaults``) fit the default data in
    both configurations on both backends.

    Discriminative counterpart: the maximum-likelihood (plug-in) versions are
    ``sklearn.discriminant_analysis.LinearDiscriminantAnalysis`` and
    ``QuadraticDiscriminantAnalysis``; with a shared covariance the conditional
    p(y | x) is exactly a multinomial logistic regression
    (``sklearn.linear_model.LogisticRegression``), the classic generative /
    discriminative pair (Efron 1975; Ng & Jordan 2002). The Bayesian version
    integrates over the means and covariances, so its class probabilities are
    those of a multivariate Student-t-like predictive, less overconfident far
    from the training data.

    Parameters
    ----------
    covariance : {"shared", "per_class"}, default "shared"
        One covariance for all classes (LDA) or one per class (QDA).
    mu_loc, mu_scale : float, default 0.0, 2.0
        Normal prior of the class means.
    sigma_scale : float, default 1.0
        HalfNormal prior of the within-class standard deviations.
    lkj_eta : float, default 2.0
        LKJ concentration of the correlation matrices (1 = uniform).
    class_concentration : float, default 1.0
        Dirichlet concentration of the class proportions.
    """

    name = "gaussian_discriminant"
    summary = "Bayesian LDA/QDA: multivariate normal classes with LKJ correlations, p(x, y)"
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
    fields = classifier_fields("real", "features, one row per observation (D >= 2)")

    def __init__(
        self,
        covariance: Literal["shared", "per_class"] = "shared",
        mu_loc: float = 0.0,
        mu_scale: float = 2.0,
        sigma_scale: float = 1.0,
        lkj_eta: float = 2.0,
        class_concentration: float = 1.0,
    ):
        self.covariance = covariance
        self.mu_loc = mu_loc
        self.mu_scale = mu_scale
        self.sigma_scale = sigma_scale
        self.lkj_eta = lkj_eta
        self.class_concentration = class_concentration
        if covariance not in ("shared", "per_class"):  # config checks the type; be explicit
            raise ValueError(f"covariance must be 'shared' or 'per_class', got {covariance!r}")
        if not np.isfinite(mu_loc):
            raise ValueError(f"mu_loc must be finite, got {mu_loc!r}")
        check_positive(self, "mu_scale", "sigma_scale", "lkj_eta", "class_concentration")

    @property
    def shared(self) -> bool:
        return self.covariance == "shared"

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        if self.shared:
            return {
                "class_prob": ("class",),
                "mu": ("class", "feature"),
                "sigma": ("feature",),
                "L_corr": ("feature", FEATURE_COL),
            }
        return {
            "class_prob": ("class",),
            "mu": ("class", "feature"),
            "sigma": ("class", "feature"),
            "L_corr": ("class", "feature", FEATURE_COL),
        }

    # ------------------------------------------------------------------ data
    def default_data(self) -> dict[str, Any]:
        return standardized_iris()

    def prepare(
        self,
        data: Mapping[str, Any] | ModelData | None = None,
        *,
        coords: Mapping[str, Any] | None = None,
        require_observed: bool = True,
    ) -> ModelData:
        """As :meth:`GenerativeClassifier.prepare`, then check D >= 2 and label
        ``feature_col`` like ``feature``."""
        if isinstance(data, ModelData):
            return data
        prepared = super().prepare(data, coords=coords, require_observed=require_observed)
        if "feature" not in prepared.coords:
            raise DataError(f"{self.name} cannot tell the number of features: give X or the size D")
        if len(prepared.coords["feature"]) < 2:
            raise DataError(
                f"{self.name} needs at least two features (a correlation matrix), got "
                f"{len(prepared.coords['feature'])}; for one feature use gaussian_naive_bayes"
            )
        prepared.coords = self.coords(prepared)
        return prepared

    def coords(self, data: ModelData) -> dict[str, list]:
        """The data's coords plus ``feature_col``, labelled like ``feature``."""
        coords = dict(data.coords)
        if "feature" in coords:
            coords[FEATURE_COL] = list(coords["feature"])
        return coords

    # ------------------------------------------------------------------ twins
    def numpyro_model(self, data: ModelData) -> None:
        c, d, n = data.size("class"), data.size("feature"), data.size("obs")
        y = self.numpyro_labels(data)
        with numpyro.plate("class", c, dim=-2), numpyro.plate("feature", d, dim=-1):
            mu = numpyro.sample("mu", dist.Normal(float(self.mu_loc), float(self.mu_scale)))
            if not self.shared:
                sigma = numpyro.sample("sigma", dist.HalfNormal(float(self.sigma_scale)))
        lkj = dist.LKJCholesky(d, concentration=float(self.lkj_eta))
        if self.shared:
            with numpyro.plate("feature", d, dim=-1):
                sigma = numpyro.sample("sigma", dist.HalfNormal(float(self.sigma_scale)))
            L_corr = numpyro.sample("L_corr", lkj)
            scale_tril = sigma[:, None] * L_corr  # diag(sigma) @ L_corr
        else:
            with numpyro.plate("class", c, dim=-1):
                L_corr = numpyro.sample("L_corr", lkj)
            scale_tril = (sigma[:, :, None] * L_corr)[y]
        with numpyro.plate("obs", n):
            numpyro.sample(
                "X", dist.MultivariateNormal(mu[y], scale_tril=scale_tril), obs=data.get("X")
            )

    def pymc_model(self, data: ModelData) -> pm.Model:
        c, d = data.size("class"), data.size("feature")
        # self.coords: data read back from a fit may lack the latent dim feature_col
        with pm.Model(coords=self.coords(data)) as model:
            y = self.pymc_labels(data)
            mu = pm.Normal(
                "mu",
                mu=floatx(self.mu_loc),
                sigma=floatx(self.mu_scale),
                dims=("class", "feature"),
            )
            dims = self.var_dims()
            sigma = pm.HalfNormal("sigma", sigma=floatx(self.sigma_scale), dims=dims["sigma"])
            # an explicit shape: LKJCorr's generator is a scan that cannot take a
            # size read from the (shared) coordinate lengths
            shape = (d, d) if self.shared else (c, d, d)
            L_corr = pm.LKJCorr(
                "L_corr",
                n=d,
                eta=floatx(self.lkj_eta),
                shape=shape,
                dims=dims["L_corr"],
                default_transform=_CholeskyCorr(n=d),
            )
            if self.shared:
                chol = sigma[:, None] * L_corr
            else:
                chol = (sigma[:, :, None] * L_corr)[y]
            pm.MvNormal("X", mu=mu[y], chol=chol, observed=data.get("X"), dims=("obs", "feature"))
        return model

    # ---------------------------------------------------- NumPy, over draws
    def scale_tril(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """Cholesky factors of the class covariances, diag(sigma_c) L_corr_c, as
        (S, C, D, D) (a shared factor broadcast over the classes)."""
        sigma = np.asarray(params["sigma"], dtype=float)
        L = np.asarray(params["L_corr"], dtype=float)
        tril = sigma[..., :, None] * L
        if self.shared:
            s, c = sigma.shape[0], np.shape(params["mu"])[1]
            tril = np.broadcast_to(tril[:, None], (s, c, *tril.shape[1:]))
        return tril

    def covariance_matrix(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """The class covariances Sigma_c for every draw, (S, C, D, D)."""
        tril = self.scale_tril(params)
        return tril @ np.swapaxes(tril, -1, -2)

    def class_log_density(self, params: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        """log MvNormal(x_n | mu[c], Sigma_c) for every draw, row and class, (S, N, C).

        Missing (NaN) features are integrated out exactly: the marginal of the
        observed coordinates o of a multivariate normal is MvNormal(mu[c, o],
        Sigma_c[o, o]). Rows are grouped by their pattern of observed features
        and each pattern's sub-covariance is factorized once per draw and class
        (complete rows use the model's own factor); an all-NaN row gives 0.
        """
        mu = np.asarray(params["mu"], dtype=float)
        X = np.asarray(X, dtype=float)
        s, c, d = mu.shape
        n = X.shape[0]
        seen = ~np.isnan(X)
        out = np.zeros((s, n, c))
        tril = self.scale_tril(params)
        patterns, which = np.unique(seen, axis=0, return_inverse=True)
        for p, pattern in enumerate(patterns):
            rows = np.flatnonzero(which.ravel() == p)
            k = int(pattern.sum())
            if k == 0:
                continue  # nothing observed: the density integrates to 1
            x = X[np.ix_(rows, np.flatnonzero(pattern))]  # (r, k)
            for part in draw_chunks(s, c * len(rows) * k + c * d * d):
                m = mu[part][:, :, pattern]  # (s', C, k)
                if k == d:
                    L = tril[part]
                else:
                    cov = tril[part] @ np.swapaxes(tril[part], -1, -2)
                    L = np.linalg.cholesky(cov[:, :, pattern][:, :, :, pattern])
                # z = L⁻¹ (x - mu): (s', C, k, r)
                diff = x.T[None, None] - m[..., None]
                z = np.linalg.solve(L, diff)
                log_det = 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(-1)  # (s', C)
                logp = -0.5 * ((z * z).sum(-2) + log_det[..., None] + k * math.log(2 * math.pi))
                out[part, rows, :] = np.swapaxes(logp, 1, 2)
        return out

    def sample_features(
        self, params: Mapping[str, np.ndarray], classes: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        loc = gather_classes(params["mu"], classes)  # (S, n, D)
        tril = gather_classes(self.scale_tril(params), classes)  # (S, n, D, D)
        z = rng.standard_normal(loc.shape)
        return loc + np.einsum("snij,snj->sni", tril, z)
