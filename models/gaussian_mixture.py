"""One-dimensional Gaussian mixture with ordered component means, labels summed out."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm

from probgen import Field, ModelData
from probgen.posteriordb import PosteriorAdapter

from ._data import load_json
from ._latent import (
    LatentModel,
    OrderedNormal,
    check_config,
    floatx,
    mixture_start,
    pm_ordered_normal,
)


class GaussianMixture(LatentModel):
    r"""K-component 1-D Gaussian mixture, component labels marginalized.

    Generative story (site names as in both backends), components k = 1..K and
    observations n = 1..N::

        theta     ~ Dirichlet(weight_concentration · 1_K)        (mixing weights)
        mu        ~ Normal(mu_loc, mu_scale) independently,
                    restricted to mu[1] < mu[2] < ... < mu[K]    (ordered)
        sigma[k]  ~ HalfNormal(sigma_scale)
        z[n]      ~ Categorical(theta)                           (not a site)
        y[n]      ~ Normal(mu[z[n]], sigma[z[n]])                (observed)

    The labels z are summed out: y[n] has density
    sum_k theta[k] · Normal(y[n] | mu[k], sigma[k]), computed with logsumexp
    (NumPyro ``MixtureSameFamily``, PyMC ``NormalMixture``: the same numbers).
    Generating ``y`` draws a label and then the observation.

    Dims: ``theta``, ``mu``, ``sigma`` along ``component``; ``y`` along ``obs``;
    ``N`` is a scalar data field filled in from ``y`` (needed alone to generate a
    data set of a given size).

    Weights: a Dirichlet for every K. For K=2, Dirichlet(a, a) on
    (theta[1], theta[2]) is exactly Beta(a, a) on theta[1] (the same density in
    the one free coordinate), so the default ``weight_concentration=5`` is
    posteriordb's ``theta ~ beta(5, 5)`` with posteriordb's scalar ``theta`` =
    this model's ``theta[1]`` (the weight of the lower component). For larger K
    a symmetric Dirichlet(5) keeps weights away from 0 (no empty components);
    set it to 1 for a flat prior on the simplex.

    Priors: the defaults (``mu_loc=0``, ``mu_scale=2``, ``sigma_scale=2``) are
    posteriordb ``low_dim_gauss_mix``'s ``mu ~ normal(0, 2)`` on ``ordered[2]``
    and ``sigma ~ normal(0, 2)`` with ``<lower=0>``. Both backends use Stan's
    ordered transform; the ordered prior is the unnormalized product of
    normals on the ordered region, as in Stan; the half-normal differs from
    Stan's unnormalized truncated normal by a constant (log 2 per component).
    The posterior is the same.

    Data: ``low_dim_gauss_mix`` (posteriordb): N=1000 draws from a two-component
    mixture with means near -2.7 and 2.9 (weights about 0.62 and 0.38, sds
    about 1).

    Inference difficulty: label switching — the likelihood is invariant to
    permuting the components, so without a constraint the posterior has K!
    symmetric modes; the ordering of ``mu`` removes them (it can leave a ridge
    at mu[k] ≈ mu[k+1] when two components overlap). With more components than
    the data support, the posterior is multimodal (components splitting,
    merging or emptying) and chains disagree (R-hat flags it). The ordering
    also traps a chain that starts with the components on the wrong sides of
    each other: swapping them passes through mu[k] = mu[k+1], the boundary of
    the ordered region, so the chain stays in a local mode with one component
    stretched over two clusters, its log density far below the others (R-hat
    flags the disagreement). A random start (NumPyro's default, uniform in
    (-2, 2) on the unconstrained scale) puts the components in the wrong order
    now and then, so :meth:`initial_point` starts every chain in the right one
    (see "Initialisation"). On the default data the components are well
    separated and, started so, default NUTS settings (no ``sampler_defaults``;
    the posteriordb reference used adapt_delta 0.8) fit it cleanly and match the
    reference on both backends.

    Initialisation: :meth:`initial_point` starts each chain at the data, as
    k-means or quantile starts do for EM: the observations are sorted and split
    into K groups of equal size; ``mu`` starts at the group means (jittered by a
    tenth of each group's sd, kept strictly increasing), ``sigma`` at the
    groups' sds times exp(uniform(-0.3, 0.3)) and ``theta`` near uniform. Every
    component then starts on its own side of the others, so no chain begins
    where the ordering traps it; the jitter keeps the chains apart, so R-hat
    still sees a genuinely multimodal posterior (too many components). Only the
    start changes; the density does not.

    Discriminative counterpart: none in the supervised sense (no labels); the
    classical counterpart is the maximum-likelihood fit by EM,
    ``sklearn.mixture.GaussianMixture(n_components=K)``, whose
    ``predict_proba`` gives the component responsibilities that here follow
    from the posterior.

    Parameters
    ----------
    K : int, default 2
    mu_loc, mu_scale : float, default 0.0, 2.0
    sigma_scale : float, default 2.0
    weight_concentration : float, default 5.0
    """

    name = "gaussian_mixture"
    family = "mixture"
    summary = "1-D Gaussian mixture, K components with ordered means, labels summed out"
    counterparts = {}
    fields = (Field("y", ("obs",), observed=True, doc="observations"),)
    sizes = {"N": "obs", "K": "component"}
    obs_dim = "obs"
    latent_dims = ("component",)

    def __init__(
        self,
        K: int = 2,
        mu_loc: float = 0.0,
        mu_scale: float = 2.0,
        sigma_scale: float = 2.0,
        weight_concentration: float = 5.0,
    ):
        self.K = K
        self.mu_loc = mu_loc
        self.mu_scale = mu_scale
        self.sigma_scale = sigma_scale
        self.weight_concentration = weight_concentration
        check_config(
            self, ints={"K": 2}, positive=("mu_scale", "sigma_scale", "weight_concentration")
        )

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"mu": ("component",), "sigma": ("component",), "theta": ("component",)}

    def default_data(self) -> dict[str, Any]:
        return load_json("low_dim_gauss_mix.json")

    def initial_point(self, data: ModelData, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A chain's start with the components in order (see "Initialisation")."""
        mu, sigma, theta = mixture_start(np.asarray(data["y"], dtype=float)[:, None], self.K, rng)
        return {"mu": mu[:, 0], "sigma": sigma[:, 0], "theta": theta}

    def numpyro_model(self, data: ModelData) -> None:
        k, n = self.K, data.size(self.obs_dim)
        mu = numpyro.sample("mu", OrderedNormal(float(self.mu_loc), self.mu_scale, k))
        with numpyro.plate("component", k):
            sigma = numpyro.sample("sigma", dist.HalfNormal(float(self.sigma_scale)))
        theta = numpyro.sample(
            "theta", dist.Dirichlet(jnp.full(k, float(self.weight_concentration)))
        )
        mixture = dist.MixtureSameFamily(dist.Categorical(probs=theta), dist.Normal(mu, sigma))
        with numpyro.plate("obs", n):
            numpyro.sample("y", mixture, obs=data.get("y"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        k = self.K
        # the latent dims too: data read back from a fit carries only data dims
        with pm.Model(coords=self.coords(data)) as model:
            mu = pm_ordered_normal("mu", self.mu_loc, self.mu_scale, k, dims="component")
            sigma = pm.HalfNormal("sigma", sigma=floatx(self.sigma_scale), dims="component")
            theta = pm.Dirichlet(
                "theta", a=floatx(np.full(k, self.weight_concentration)), dims="component"
            )
            pm.NormalMixture("y", w=theta, mu=mu, sigma=sigma, observed=data["y"], dims="obs")
        return model


def _low_dim_gauss_mix_params(posterior) -> dict[str, np.ndarray]:
    """posteriordb's names: mu[1..2], sigma[1..2] and the scalar theta = theta[1]."""
    mu, sigma = posterior["mu"].values, posterior["sigma"].values
    return {
        "mu[1]": mu[..., 0],
        "mu[2]": mu[..., 1],
        "sigma[1]": sigma[..., 0],
        "sigma[2]": sigma[..., 1],
        "theta": posterior["theta"].values[..., 0],
    }


POSTERIORDB = [
    PosteriorAdapter(
        "low_dim_gauss_mix-low_dim_gauss_mix",
        "gaussian_mixture",
        data=lambda d: d,
        params=_low_dim_gauss_mix_params,
        config={"K": 2},
    ),
]
