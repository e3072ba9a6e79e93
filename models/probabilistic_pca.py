"""Probabilistic principal component analysis (Tipping & Bishop), latent scores summed out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor.tensor as pt

from ._factor import WINE_LEADERS, FactorModel, floatx, wine_frame


class ProbabilisticPCA(FactorModel):
    r"""Probabilistic PCA: a Q-dimensional Gaussian latent, mapped linearly, isotropic noise.

    Generative story (site names as in both backends), features d = 1..D,
    latent dimensions k = 1..Q (Q < D) and observations n = 1..N::

        mu[d]       ~ Normal(0, mu_scale)                 (feature means)
        W_diag[k]   ~ HalfNormal(w_scale)                 (W[k, k] > 0)
        W_lower[l]  ~ Normal(0, w_scale)                  (W[r, c], r > c, row by row)
        W[d, k]     = W_diag[k] if d = k; W_lower[.] if d > k; 0 if d < k  (deterministic)
        sigma       ~ HalfNormal(sigma_scale)             (noise sd, every feature)
        z[n]        ~ Normal(0, I_Q)                      (latent scores; not a site)
        x[n, :]     ~ Normal(mu + W z[n], sigma² I_D)     (observed)

    The latent z is integrated out analytically on both backends:
    ``x[n, :] ~ MvNormal(mu, W Wᵀ + sigma² I_D)``, through the Cholesky factor
    of that DxD covariance on both (NumPyro ``MultivariateNormal(scale_tril=)``,
    PyMC ``MvNormal(cov=)``), the same density exactly; the cheaper low-rank
    (Woodbury) form loses accuracy as the noise variance heads to 0 (see
    :mod:`probgen.zoo._factor`). The
    pointwise log likelihood is per observation (``obs``), not per feature.
    The posterior of a row's scores given its parameters is Gaussian and
    :func:`probgen.latent.latent_scores` reports its mean.

    Dims: ``mu`` (feature); ``W_diag`` (latent); ``W_lower`` (loading), the
    strictly lower entries labelled ``"<feature>:<k>"``; ``W`` (feature,
    latent); ``sigma`` scalar; ``x`` (obs, feature). ``N`` and ``D`` are size
    keys (a data set can be generated from ``{"N": n, "D": d}``); ``Q`` is
    configuration.

    Identifiability: the likelihood depends on W only through W Wᵀ, so W R fits
    as well as W for every orthogonal QxQ matrix R (rotations and sign flips of
    the columns). Unconstrained, the chains would wander over that orbit and
    never agree. W is therefore lower triangular (zeros above the diagonal)
    with a positive diagonal, the constraint of Geweke & Zhou (1996): every
    full-rank W Wᵀ has exactly one such factor (a QR decomposition of Wᵀ), so
    the posterior of W is identified. The positive diagonal is its own site,
    ``W_diag ~ HalfNormal(w_scale)``, sampled on the log scale by both
    backends (NumPyro's ``biject_to(positive)`` = exp, PyMC's log transform),
    and the free entries ``W_lower`` are plain normals: the same
    parameterization and the same density on both. The constraint makes the
    first Q features special: feature k (k ≤ Q) loads only on factors 1..k, so
    factor k is "what feature k has beyond factors 1..k-1". Put features that
    load strongly on distinct factors first; a leading feature with a weak
    loading (W[k, k] near 0) leaves column k's sign almost unidentified and the
    posterior bimodal through W[k, k] = 0.

    Initialisation: the constraint leaves a trap. A chain whose k-th column
    starts pointing the "wrong way" (the mirror image of the posterior's
    orientation) cannot flip it, because the flip passes through W_diag[k] = 0,
    infinitely far on the log scale; it settles at W_diag[k] near 0, a local
    mode that gives up most of feature k's share of factor k. NumPyro's
    default start (uniform in (-2, 2) on the unconstrained scale) lands there
    often: on the default data a 2-chain fit had one chain at W_diag[1] = 0.8
    and the other stuck near 0 (R-hat 1.8). So :meth:`initial_point` starts
    every chain at the maximum-likelihood PPCA solution of the data (the
    sample covariance's leading eigenvectors), rotated to the lower-triangular
    form with a positive diagonal and jittered (loadings and noise by
    exp(uniform(-0.2, 0.2)), means by a tenth of a standard error); see
    :func:`probgen.zoo._factor.factor_start`. Both backends start there (PyMC
    without its own jitter); the density is unchanged.

    Priors: for standardized features (mean 0, sd 1; the defaults mu_scale =
    1, w_scale = 1, sigma_scale = 1 assume that scale). With other data,
    standardize it or set the scales.

    Data: the wine data set bundled with scikit-learn
    (``sklearn.datasets.load_wine``: 178 wines, 13 chemical measurements; the
    UCI Machine Learning Repository's Wine data, Forina et al., licensed
    CC BY 4.0; scikit-learn itself is BSD-3-Clause), each column standardized
    (centred, divided by its sd with ddof=0) and reordered so that
    ``flavanoids``, ``color_intensity`` and ``ash`` lead (each loads strongly
    on a distinct principal axis), the other ten in scikit-learn's order. The
    class labels are not used.

    Inference difficulty: moderate. With z summed out the posterior is smooth
    and low dimensional (D + Q D - Q(Q-1)/2 + 1 parameters; 39 for wine with
    Q = 2); the rotation symmetry is removed by the constraint above. What
    remains is correlation between loadings of one column and a boundary at
    W_diag = 0, harmless when the leading features load strongly (the default
    data). Too large a Q (factors the data do not support) puts W_diag near 0
    and brings back the bimodality; compare Q values with LOO.

    Discriminative counterpart: none (unsupervised). The classical counterpart
    is ``sklearn.decomposition.PCA(n_components=Q)``, whose maximum-likelihood
    PPCA solution (Tipping & Bishop 1999) has W = U (Λ - sigma² I)^{1/2} R and
    sigma² the mean of the discarded eigenvalues; the posterior here is
    centred near it for large N.

    Parameters
    ----------
    Q : int, default 2
        Latent dimensions (1 <= Q < D).
    mu_scale : float, default 1.0
        Prior sd of the feature means.
    w_scale : float, default 1.0
        Prior scale of the loadings (HalfNormal on the diagonal, Normal below).
    sigma_scale : float, default 1.0
        Prior scale of the noise sd (HalfNormal).
    """

    name = "probabilistic_pca"
    summary = "Probabilistic PCA: x = mu + W z + noise, z summed out, W lower triangular"
    counterparts = {}
    noise_site = "sigma"
    noise_dims = ()

    def __init__(
        self,
        Q: int = 2,
        mu_scale: float = 1.0,
        w_scale: float = 1.0,
        sigma_scale: float = 1.0,
    ):
        self.Q = Q
        self.mu_scale = mu_scale
        self.w_scale = w_scale
        self.sigma_scale = sigma_scale
        self._check_config("sigma_scale")

    def default_data(self) -> dict[str, Any]:
        return {"x": wine_frame(WINE_LEADERS)}

    def _numpyro_noise_var(self, d: int):
        sigma = numpyro.sample("sigma", dist.HalfNormal(float(self.sigma_scale)))
        return sigma**2 * jnp.ones(d)

    def _pymc_noise_var(self, d: int):
        sigma = pm.HalfNormal("sigma", sigma=floatx(self.sigma_scale))
        return pt.ones(d) * sigma**2

    def noise_var_draws(self, posterior: Mapping[str, np.ndarray], d: int) -> np.ndarray:
        sigma = np.asarray(posterior["sigma"], dtype=float)
        return np.repeat(sigma[..., None] ** 2, d, axis=-1)
