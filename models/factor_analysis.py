"""Factor analysis: a Q-dimensional Gaussian latent, per-feature noise, latent summed out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm

from probgen import DataError

from ._factor import WINE_LEADERS, FactorModel, floatx, wine_frame


class FactorAnalysis(FactorModel):
    r"""Factor analysis: x = mu + W z + noise with a separate noise variance per feature.

    Generative story (site names as in both backends), features d = 1..D,
    latent dimensions (factors) k = 1..Q and observations n = 1..N::

        mu[d]       ~ Normal(0, mu_scale)                 (feature means)
        W_diag[k]   ~ HalfNormal(w_scale)                 (W[k, k] > 0)
        W_lower[l]  ~ Normal(0, w_scale)                  (W[r, c], r > c, row by row)
        W[d, k]     = W_diag[k] if d = k; W_lower[.] if d > k; 0 if d < k  (deterministic)
        psi[d]      ~ HalfNormal(psi_scale)               (unique sd of feature d)
        z[n]        ~ Normal(0, I_Q)                      (factor scores; not a site)
        x[n, :]     ~ Normal(mu + W z[n], diag(psi²))     (observed)

    The factor scores z are integrated out analytically on both backends:
    ``x[n, :] ~ MvNormal(mu, W Wᵀ + diag(psi²))``, through the Cholesky factor
    of that DxD covariance on both (NumPyro ``MultivariateNormal(scale_tril=)``,
    PyMC ``MvNormal(cov=)``), the same density exactly. NumPyro's cheaper
    ``LowRankMultivariateNormal`` (Woodbury) is not used: it divides by psi²
    and near a Heywood case (psi[d] -> 0) it overstates the density badly
    enough to trap a chain there (see :mod:`probgen.zoo._factor`). The
    pointwise log likelihood is per observation (``obs``). The posterior of a
    row's scores given its parameters is Gaussian and
    :func:`probgen.latent.latent_scores` reports its mean (the Bayesian
    version of the regression / Thomson factor scores).

    Dims: ``mu`` and ``psi`` (feature); ``W_diag`` (latent); ``W_lower``
    (loading), the strictly lower entries labelled ``"<feature>:<k>"``; ``W``
    (feature, latent); ``x`` (obs, feature). ``N`` and ``D`` are size keys (a
    data set can be generated from ``{"N": n, "D": d}``); ``Q`` is
    configuration. Q must satisfy the Ledermann bound (D - Q)² >= D + Q,
    beyond which W Wᵀ + diag(psi²) has more parameters than a covariance
    matrix and is not identified even up to rotation; a data set that breaks
    it is refused.

    Identifiability: the likelihood depends on W only through W Wᵀ, so W R fits
    as well as W for every orthogonal QxQ matrix R (rotations and sign flips of
    the factors). Unconstrained, the chains would wander over that orbit and
    never agree. W is therefore lower triangular (zeros above the diagonal)
    with a positive diagonal (Geweke & Zhou 1996): every full-rank W Wᵀ has
    exactly one such factor, so the posterior of W is identified. The positive
    diagonal is its own site, ``W_diag ~ HalfNormal(w_scale)``, sampled on the
    log scale by both backends (NumPyro's ``biject_to(positive)`` = exp, PyMC's
    log transform), and the free entries ``W_lower`` are plain normals: the
    same parameterization and density on both. The constraint makes the first
    Q features the factors' "leaders" (feature k loads only on factors 1..k);
    put features that load strongly on distinct factors first, or a W[k, k]
    near 0 leaves factor k's sign almost unidentified (bimodal posterior).

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
    1, w_scale = 1, psi_scale = 1 assume that scale). With other data,
    standardize it or set the scales.

    Data: the wine data set bundled with scikit-learn
    (``sklearn.datasets.load_wine``: 178 wines, 13 chemical measurements; the
    UCI Machine Learning Repository's Wine data, Forina et al., licensed
    CC BY 4.0; scikit-learn itself is BSD-3-Clause), each column standardized
    (centred, divided by its sd with ddof=0) and reordered so that
    ``flavanoids``, ``color_intensity`` and ``ash`` lead (each loads strongly
    on a distinct factor), the other ten in scikit-learn's order. The class
    labels are not used.

    Inference difficulty: moderate. With z summed out the posterior is smooth
    (2 D + Q D - Q(Q-1)/2 parameters; 51 for wine with Q = 2); the rotation
    symmetry is removed by the constraint above. Two traps remain: Heywood
    cases, where a feature is explained entirely by the factors and psi[d]
    heads to 0 (the HalfNormal prior keeps the posterior proper but the
    geometry near psi = 0 is a funnel), and factors the data do not support
    (too large a Q), which put W_diag near 0 and bring back the sign
    bimodality. Neither occurs on the default data with Q = 2. Both do in
    data sets simulated from the default prior (HalfNormal(1) puts psi[d] <
    0.1 with probability 8% per feature): with N = 100 rows some such fits
    diverge or have R-hat well above 1.01, and parameter recovery needs about
    N = 300 (``tests/test_zoo_factor.py``).

    Discriminative counterpart: none (unsupervised). The classical counterpart
    is ``sklearn.decomposition.FactorAnalysis(n_components=Q)``, the same
    likelihood maximized (its loadings are identified only up to rotation).

    Parameters
    ----------
    Q : int, default 2
        Latent dimensions (factors); (D - Q)² >= D + Q.
    mu_scale : float, default 1.0
        Prior sd of the feature means.
    w_scale : float, default 1.0
        Prior scale of the loadings (HalfNormal on the diagonal, Normal below).
    psi_scale : float, default 1.0
        Prior scale of the per-feature noise sds (HalfNormal).
    """

    name = "factor_analysis"
    summary = "Factor analysis: x = mu + W z + per-feature noise, z summed out, W lower triangular"
    counterparts = {}
    noise_site = "psi"
    noise_dims = ("feature",)

    def __init__(
        self,
        Q: int = 2,
        mu_scale: float = 1.0,
        w_scale: float = 1.0,
        psi_scale: float = 1.0,
    ):
        self.Q = Q
        self.mu_scale = mu_scale
        self.w_scale = w_scale
        self.psi_scale = psi_scale
        self._check_config("psi_scale")

    def check_dimensions(self, d: int) -> None:
        super().check_dimensions(d)
        if (d - self.Q) ** 2 < d + self.Q:
            raise DataError(
                f"factor_analysis with Q={self.Q} factors and D={d} features is not "
                f"identified: the Ledermann bound (D - Q)² >= D + Q fails "
                f"({(d - self.Q) ** 2} < {d + self.Q}). Configure a smaller Q"
            )

    def default_data(self) -> dict[str, Any]:
        return {"x": wine_frame(WINE_LEADERS)}

    def _numpyro_noise_var(self, d: int):
        with numpyro.plate("feature", d):
            psi = numpyro.sample("psi", dist.HalfNormal(float(self.psi_scale)))
        return psi**2

    def _pymc_noise_var(self, d: int):
        psi = pm.HalfNormal("psi", sigma=floatx(self.psi_scale), dims="feature")
        return psi**2

    def noise_var_draws(self, posterior: Mapping[str, np.ndarray], d: int) -> np.ndarray:
        return np.asarray(posterior["psi"], dtype=float) ** 2
