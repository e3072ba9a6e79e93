"""Multivariate Gaussian mixture (diagonal covariances), labels summed out."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor.tensor as pt

from probgen import Field, ModelData

from ._data import load_json
from ._latent import (
    FirstColumnOrderedNormal,
    LatentModel,
    check_config,
    floatx,
    mixture_start,
    pm_first_column_ordered_normal,
)

#: how models/data/gaussian_mixture_mv.json was made (see simulate_default_data)
DEFAULT_DATA_SEED = 20240611
DEFAULT_TRUTH = {
    "theta": [0.4, 0.6],
    "mu": [[-3.0, 1.0], [3.0, -1.0]],
    "sigma": [[1.0, 0.7], [0.8, 1.1]],
}


def simulate_default_data(n: int = 300, seed: int = DEFAULT_DATA_SEED) -> dict[str, Any]:
    """Re-create the bundled data set (N=300, D=2, K=2) from :data:`DEFAULT_TRUTH`.

    The bundled JSON was written by this function; it is shipped rather than
    regenerated at load time so that it does not depend on NumPy's random streams.
    """
    rng = np.random.default_rng(seed)
    theta = np.asarray(DEFAULT_TRUTH["theta"])
    mu = np.asarray(DEFAULT_TRUTH["mu"])
    sigma = np.asarray(DEFAULT_TRUTH["sigma"])
    z = rng.choice(len(theta), size=n, p=theta)
    y = mu[z] + sigma[z] * rng.normal(size=(n, mu.shape[1]))
    return {"N": n, "D": mu.shape[1], "K": len(theta), "y": np.round(y, 6).tolist()}


class GaussianMixtureMV(LatentModel):
    r"""K-component Gaussian mixture in D dimensions with diagonal covariances.

    Generative story (site names as in both backends), components k = 1..K,
    features d = 1..D and observations n = 1..N::

        theta       ~ Dirichlet(weight_concentration · 1_K)         (mixing weights)
        mu[k, d]    ~ Normal(mu_loc, mu_scale) independently,
                      restricted to mu[1, 1] < mu[2, 1] < ... < mu[K, 1]
                      (components ordered by their FIRST coordinate)
        sigma[k, d] ~ HalfNormal(sigma_scale)                       (per-feature sd)
        z[n]        ~ Categorical(theta)                            (not a site)
        y[n, :]     ~ Normal(mu[z[n], :], diag(sigma[z[n], :]²))    (observed)

    The labels z are summed out with logsumexp over components (NumPyro
    ``MixtureSameFamily`` of ``Normal(mu, sigma).to_event(1)``; PyMC a
    ``CustomDist`` with the same logsumexp and a generator that draws a label
    and then the observation). The pointwise log likelihood is per observation
    (``obs``), not per feature.

    Dims: ``theta`` along ``component``; ``mu`` and ``sigma`` (component,
    feature); ``y`` (obs, feature). ``N`` is a scalar data field (filled in from
    ``y``); ``K`` and ``D`` are configuration (a ``K``/``D`` in the data is
    checked against them).

    Covariances are diagonal: each component is an axis-aligned ellipse, the
    covariance type sklearn calls ``"diag"``. Correlated clusters are then
    represented by several components; a full (LKJ-Cholesky) covariance is a
    possible extension not provided here.

    Ordering: the first coordinate of the means is ordered with Stan's ordered
    transform (both backends; :class:`probgen.zoo._latent.FirstColumnOrderedTransform`
    and its PyMC twin); the other coordinates are unconstrained. The ordered prior
    is the unnormalized product of normals on the ordered region, as in Stan.

    Data: bundled ``gaussian_mixture_mv.json``, N=300 points in D=2 simulated
    from K=2 components (weights 0.4, 0.6; means (-3, 1), (3, -1); sds between
    0.7 and 1.1) by :func:`simulate_default_data` with seed 20240611.

    Inference difficulty: label switching (K! symmetric modes) is removed by
    ordering the first coordinate; it works when the components are separated
    along that coordinate (choose the most separating feature as the first
    column). The ordering brings its own trap: a chain that starts with the
    components on the wrong sides of each other cannot swap them, because the
    swap passes through mu[k, 1] = mu[k+1, 1], the boundary of the ordered
    region (infinitely far on the unconstrained scale). It then settles in a
    local mode where the lower component holds the upper cluster and the upper
    component, pinned just above it, stretches its sd to cover the lower
    cluster. Such a chain is easy to recognize: its log density (``sample_stats``
    lp) is far below the others' and its first-coordinate means nearly
    coincide. No sampler setting removes this mode, and a random start
    (NumPyro's default, uniform in (-2, 2) on the unconstrained scale, or PyMC's
    jittered prior center) lands in it often: which cluster each component is
    drawn to early in warm-up is left to chance by a start that ignores the
    data, and the lower component captured by the upper cluster cannot get
    back. So :meth:`initial_point` starts every chain in the right order (see
    "Initialisation"). With more components than the data support
    the posterior is genuinely multimodal (splitting, merging, empty
    components); the default Dirichlet(5) on the weights keeps components from
    emptying.

    Initialisation: :meth:`initial_point` starts each chain at the data, as
    k-means starts do for EM: the points are sorted by their first coordinate
    and split into K groups of equal size; ``mu`` starts at the group means
    (jittered by a tenth of each group's sd, first coordinate kept strictly
    increasing), ``sigma`` at the groups' sds times exp(uniform(-0.3, 0.3)) and
    ``theta`` near uniform. Every component then starts on its own side of the
    others along the ordered coordinate, so no chain begins where the ordering
    traps it; the jitter keeps the chains apart, so R-hat still sees a
    genuinely multimodal posterior. Only the start changes; the density does
    not. It works when the clusters are separated along the first coordinate,
    the same condition the ordering itself needs.

    Discriminative counterpart: none in the supervised sense; the classical
    counterpart is EM, ``sklearn.mixture.GaussianMixture(n_components=K,
    covariance_type="diag")``, the same likelihood maximized instead of
    integrated.

    Parameters
    ----------
    K : int, default 2
    D : int, default 2
    mu_loc, mu_scale : float, default 0.0, 5.0
    sigma_scale : float, default 2.0
    weight_concentration : float, default 5.0
    """

    name = "gaussian_mixture_mv"
    family = "mixture"
    summary = "Multivariate Gaussian mixture, diagonal covariances, means ordered on feature 1"
    counterparts = {}
    fields = (Field("y", ("obs", "feature"), observed=True, doc="observations, one row each"),)
    sizes = {"N": "obs", "D": "feature", "K": "component"}
    obs_dim = "obs"
    latent_dims = ("component",)
    feature_dim = "feature"

    def __init__(
        self,
        K: int = 2,
        D: int = 2,
        mu_loc: float = 0.0,
        mu_scale: float = 5.0,
        sigma_scale: float = 2.0,
        weight_concentration: float = 5.0,
    ):
        self.K = K
        self.D = D
        self.mu_loc = mu_loc
        self.mu_scale = mu_scale
        self.sigma_scale = sigma_scale
        self.weight_concentration = weight_concentration
        check_config(
            self,
            ints={"K": 2, "D": 1},
            positive=("mu_scale", "sigma_scale", "weight_concentration"),
        )

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {
            "mu": ("component", "feature"),
            "sigma": ("component", "feature"),
            "theta": ("component",),
        }

    def default_data(self) -> dict[str, Any]:
        raw = load_json("gaussian_mixture_mv.json")
        return {"N": raw["N"], "y": raw["y"]}

    def initial_point(self, data: ModelData, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A chain's start with the components in order (see "Initialisation")."""
        mu, sigma, theta = mixture_start(np.asarray(data["y"], dtype=float), self.K, rng)
        return {"mu": mu, "sigma": sigma, "theta": theta}

    def numpyro_model(self, data: ModelData) -> None:
        k, d, n = self.K, self.D, data.size(self.obs_dim)
        mu = numpyro.sample(
            "mu", FirstColumnOrderedNormal(float(self.mu_loc), float(self.mu_scale), k, d)
        )
        with numpyro.plate("component", k, dim=-2), numpyro.plate("feature", d, dim=-1):
            sigma = numpyro.sample("sigma", dist.HalfNormal(float(self.sigma_scale)))
        theta = numpyro.sample(
            "theta", dist.Dirichlet(jnp.full(k, float(self.weight_concentration)))
        )
        mixture = dist.MixtureSameFamily(
            dist.Categorical(probs=theta), dist.Normal(mu, sigma).to_event(1)
        )
        with numpyro.plate("obs", n):
            numpyro.sample("y", mixture, obs=data.get("y"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        k, d = self.K, self.D

        def logp(value, theta, mu, sigma):
            comp = pm.logp(pm.Normal.dist(mu, sigma), value[..., None, :]).sum(axis=-1)
            return pt.logsumexp(pt.log(theta) + comp, axis=-1)

        def random(theta, mu, sigma, rng=None, size=None):
            batch = tuple(size) if size else ()
            theta = theta.reshape(-1, k)[0]
            mu, sigma = mu.reshape(-1, k, d)[0], sigma.reshape(-1, k, d)[0]
            z = rng.choice(k, size=batch, p=theta / theta.sum())
            return mu[z] + sigma[z] * rng.normal(size=(*batch, d))

        # the latent dims too: data read back from a fit carries only data dims
        with pm.Model(coords=self.coords(data)) as model:
            mu = pm_first_column_ordered_normal(
                "mu", self.mu_loc, self.mu_scale, k, d, dims=("component", "feature")
            )
            sigma = pm.HalfNormal(
                "sigma", sigma=floatx(self.sigma_scale), dims=("component", "feature")
            )
            theta = pm.Dirichlet(
                "theta", a=floatx(np.full(k, self.weight_concentration)), dims="component"
            )
            pm.CustomDist(
                "y",
                theta,
                mu,
                sigma,
                logp=logp,
                random=random,
                signature="(k),(k,d),(k,d)->(d)",
                observed=data["y"],
                dims=("obs", "feature"),
            )
        return model
