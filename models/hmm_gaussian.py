"""Gaussian hidden Markov model, hidden states marginalized with the forward algorithm."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor
import pytensor.tensor as pt
from jax.scipy.special import logsumexp
from numpyro.distributions import constraints
from numpyro.distributions.util import validate_sample
from scipy.special import logsumexp as logsumexp_np

from probgen import Field, ModelData
from probgen.posteriordb import PosteriorAdapter, stan_flatten

from ._data import load_json
from ._latent import LatentModel, OrderedNormal, floatx, pm_ordered_normal

#: posteriordb's prior locations of the two ordered state means
_POSTERIORDB_MU_LOC = (3.0, 10.0)


# ===================================================================== NumPyro
def forward_jax(log_emission, log_init, log_trans):
    """One-step-ahead log predictive densities ``log p(y_t | y_1..y_{t-1})``.

    ``log_emission`` is (..., N, K); the result (..., N) sums to the log marginal
    likelihood. The filter is kept normalized, so nothing under- or overflows.
    """
    a1 = log_init + log_emission[..., 0, :]
    ll1 = logsumexp(a1, axis=-1)

    def step(filt, le):
        pred = logsumexp(filt[..., :, None] + log_trans, axis=-2)
        a = pred + le
        ll = logsumexp(a, axis=-1)
        return a - ll[..., None], ll

    _, lls = jax.lax.scan(step, a1 - ll1[..., None], jnp.moveaxis(log_emission[..., 1:, :], -2, 0))
    return jnp.concatenate([ll1[..., None], jnp.moveaxis(lls, 0, -1)], axis=-1)


class GaussianHMM(dist.Distribution):
    """The HMM's observations, states summed out (NumPyro twin of the PyMC CustomDist).

    Batch shape ``(N,)`` (one element per time step, to sit in the ``time``
    plate) but *not* independent: ``log_prob`` returns the one-step-ahead
    predictive densities, whose sum is the marginal likelihood, and ``sample``
    draws a whole series (a state path, then the observations). The parameters
    are unbatched (``mu`` (K,), ``sigma`` scalar, ``theta`` (K, K)); Predictive
    maps over posterior draws.
    """

    support = constraints.real
    reparametrized_params = []

    def __init__(self, mu, sigma, theta, n: int, validate_args=None):
        self.mu = mu
        self.sigma = sigma
        self.theta = theta
        super().__init__(batch_shape=(n,), event_shape=(), validate_args=validate_args)

    def sample(self, key, sample_shape=()):
        n = self.batch_shape[0]
        k = jnp.shape(self.mu)[-1]
        k_init, k_path, k_noise = jax.random.split(key, 3)
        z0 = jax.random.randint(k_init, tuple(sample_shape), 0, k)  # uniform initial state
        log_trans = jnp.log(self.theta)

        def step(z, key):
            z = jax.random.categorical(key, log_trans[z])
            return z, z

        _, zs = jax.lax.scan(step, z0, jax.random.split(k_path, n - 1))
        z = jnp.moveaxis(jnp.concatenate([z0[None], zs], axis=0), 0, -1)
        eps = jax.random.normal(k_noise, (*sample_shape, n))
        return jnp.asarray(self.mu)[z] + self.sigma * eps

    @validate_sample
    def log_prob(self, value):
        k = jnp.shape(self.mu)[-1]
        log_emission = dist.Normal(self.mu, self.sigma).log_prob(value[..., None])
        return forward_jax(log_emission, -jnp.log(k), jnp.log(self.theta))


# ======================================================================== PyMC
def forward_pt(log_emission, log_init, log_trans):
    """PyMC twin of :func:`forward_jax` for an (N, K) ``log_emission``."""
    a1 = log_init + log_emission[0]
    ll1 = pt.logsumexp(a1)

    def step(le, filt, log_trans):
        pred = pt.logsumexp(filt[:, None] + log_trans, axis=0)
        a = pred + le
        ll = pt.logsumexp(a)
        return a - ll, ll

    _, lls = pytensor.scan(
        step,
        sequences=[log_emission[1:]],
        outputs_info=[a1 - ll1, None],
        non_sequences=[log_trans],
        return_updates=False,
    )
    return pt.concatenate([pt.atleast_1d(ll1), lls])


def _core(x, ndim: int):
    """Drop leading batch dims (of length 1, or repeats) down to ``ndim`` dims."""
    while x.ndim > ndim:
        x = x[0]
    return x


def _np_simulate(mu, sigma, theta, rng, n: int) -> np.ndarray:
    """NumPy twin of :meth:`GaussianHMM.sample` (one series of length ``n``)."""
    k = mu.shape[-1]
    z = np.empty(n, dtype=np.int64)
    z[0] = rng.integers(k)
    cum = np.cumsum(theta, axis=-1)
    u = rng.uniform(size=n)
    for t in range(1, n):
        z[t] = min(int(np.searchsorted(cum[z[t - 1]], u[t] * cum[z[t - 1], -1])), k - 1)
    return mu[z] + sigma * rng.normal(size=n)


def _log_emission(y, mu, sigma):
    """log N(y[t] | mu[s, k], sigma[s]) for a series y (N,): shaped (S, N, K)."""
    return (
        -0.5 * ((y[None, :, None] - mu[:, None, :]) / sigma[:, None, None]) ** 2
        - np.log(sigma)[:, None, None]
        - 0.5 * np.log(2 * np.pi)
    )


# ===================================================================== Viterbi
def _viterbi(y, mu, sigma, theta):
    """Most likely state paths, batched over leading dims of mu/sigma/theta.

    y (N,), mu (S, K), sigma (S,), theta (S, K, K) -> paths (S, N), log p (S,).
    """
    n, k = y.shape[0], mu.shape[-1]
    s = mu.shape[0]
    log_e = _log_emission(y, mu, sigma)
    with np.errstate(divide="ignore"):
        log_t = np.log(theta)
    delta = -np.log(k) + log_e[:, 0]
    back = np.zeros((s, n, k), dtype=np.int64)
    for t in range(1, n):
        cand = delta[:, :, None] + log_t
        back[:, t] = np.argmax(cand, axis=1)
        delta = np.max(cand, axis=1) + log_e[:, t]
    path = np.empty((s, n), dtype=np.int64)
    path[:, -1] = np.argmax(delta, axis=-1)
    rows = np.arange(s)
    for t in range(n - 2, -1, -1):
        path[:, t] = back[rows, t + 1, path[:, t + 1]]
    return path, np.max(delta, axis=-1)


def most_likely_path(
    fit_or_posterior_draws,
    data: Mapping[str, Any] | np.ndarray | None = None,
    *,
    per_draw: bool = False,
    sigma: float | None = None,
) -> np.ndarray:
    """The most likely hidden state path (Viterbi), from a fit of :class:`HmmGaussian`.

    Parameters
    ----------
    fit_or_posterior_draws : xarray.DataTree or mapping
        A fit from ``probgen.sample`` (its posterior group, and its observed
        ``y`` when ``data`` is None), or draws ``{"mu": (..., K), "theta":
        (..., K, K)[, "sigma": (...)]}`` with any leading draw dims.
    data : mapping or array, optional
        The series (``{"y": ...}`` or the array itself); default the fit's
        observed data.
    per_draw : bool
        False (default): one path, Viterbi at the posterior mean of ``mu``,
        ``theta`` (and ``sigma``). The ordering of ``mu`` identifies the states,
        so the means are of the same state in every draw and averaging is
        meaningful (a plug-in summary; it ignores posterior uncertainty). True:
        one path per draw (Stan's ``y_star`` generated quantity), shaped
        ``(*draw_dims, N)``, whose spread shows the uncertainty of the path.
    sigma : float, optional
        Emission sd when the draws have none (a model with known ``sigma``);
        default the fit's model configuration, else 1 (posteriordb's value).

    Returns
    -------
    numpy.ndarray of int
        0-based states (Stan's are 1-based): ``(N,)``, or ``(*draw_dims, N)``
        with ``per_draw=True``.
    """
    fit_sigma = None
    if hasattr(fit_or_posterior_draws, "children"):  # a DataTree
        fit = fit_or_posterior_draws
        post = fit["posterior"].dataset
        draws = {k: np.asarray(post[k].values) for k in ("mu", "theta", "sigma") if k in post}
        if data is None:
            data = {"y": np.asarray(fit["observed_data"].dataset["y"].values)}
        try:
            from probgen.results import model_from_fit

            fit_sigma = getattr(model_from_fit(fit), "sigma", None)
        except (KeyError, ValueError):
            fit_sigma = None
    else:
        draws = {k: np.asarray(v) for k, v in fit_or_posterior_draws.items()}
    if data is None:
        raise ValueError("most_likely_path needs the series: pass data={'y': ...}")
    y = np.asarray(data["y"] if isinstance(data, Mapping) else data, dtype=float)
    mu, theta = draws["mu"], draws["theta"]
    batch = mu.shape[:-1]
    if "sigma" in draws:
        sd = np.broadcast_to(draws["sigma"], batch)
    else:
        known = sigma if sigma is not None else fit_sigma if fit_sigma is not None else 1.0
        sd = np.full(batch, float(known))
    k = mu.shape[-1]
    mu, theta, sd = mu.reshape(-1, k), theta.reshape(-1, k, k), sd.reshape(-1)
    if not per_draw:
        mu, theta, sd = mu.mean(0)[None], theta.mean(0)[None], sd.mean(0)[None]
        return _viterbi(y, mu, sd, theta)[0][0]
    return _viterbi(y, mu, sd, theta)[0].reshape(*batch, y.shape[0])


# ======================================================================= model
class HmmGaussian(LatentModel):
    r"""K-state hidden Markov model with Gaussian emissions, states summed out.

    Generative story (site names as in both backends), states k, j = 1..K and
    times t = 1..N::

        theta[j, :] ~ Dirichlet(transition_concentration · 1_K)   (row j: from state j)
        mu          ~ Normal(mu_loc[k], mu_scale) independently,
                      restricted to 0 < mu[1] < ... < mu[K]      (positive ordered)
        sigma       ~ HalfNormal(sigma_scale)                      (only if sigma=None;
                                                                  else the fixed sigma)
        z[1]        ~ Categorical(1/K, ..., 1/K)                   (not a site)
        z[t]        ~ Categorical(theta[z[t-1], :])                (not a site)
        y[t]        ~ Normal(mu[z[t]], sigma)                      (observed)

    The states z are summed out with the forward algorithm in log space
    (``jax.lax.scan`` / ``pytensor.scan`` with logsumexp): the observed site
    ``y`` is a proper site whose log density is the marginal likelihood
    log p(y | mu, sigma, theta), counted once. Its pointwise values (the
    ``log_likelihood`` group) are the one-step-ahead predictive densities
    log p(y[t] | y[1..t-1]), which sum to it; they are not conditionally
    independent terms, so PSIS-LOO on them estimates one-step-ahead
    (leave-future-out style) predictive accuracy, not leave-one-out.
    Generating ``y`` (prior/posterior predictive, ``simulate``) draws a fresh
    state path z and then y, so whole new series are generated; the posterior
    of the path given the data is :func:`most_likely_path` (Viterbi).

    Dims: ``theta`` (state, next_state), ``mu`` along ``state``, ``y`` along
    ``time``; ``N`` (the series length) is a scalar data field, filled in from
    ``y`` (needed alone to generate a series of a given length).

    Configuration: ``K`` states; ``mu_loc`` (one number or K numbers, default
    posteriordb's (3, 10) for K=2 and K points evenly spaced over [3, 10]
    otherwise), ``mu_scale`` (default 1), ``mu_positive`` (default True: the
    means are ``positive_ordered`` as in posteriordb; False: ``ordered``),
    ``sigma`` (the emission sd: a fixed number, default 1 as in posteriordb, or
    None to learn it), ``sigma_scale`` and ``transition_concentration``
    (default 1: flat on each simplex row).

    Both backends use Stan's (positive) ordered transform for ``mu``
    (``cumsum(exp(x))``; see ``models/_latent.py``) and their simplex transform
    for the rows of ``theta``; the density on the constrained scale is identical.

    Relation to posteriordb ``hmm_example-hmm_example`` (the defaults): Stan's
    program starts the forward recursion from the emission density alone, i.e.
    an initial distribution of all ones instead of 1/K, and puts no prior
    statement on theta (flat on the simplex, density 1 in Stan's K-1 free
    coordinates, where Dirichlet(1) has density Γ(K)). Stan's target is
    therefore this model's log density plus log K - K·log Γ(K) (= log 2 for
    K=2), a constant: the posterior is the same. The normal prior on the
    positive ordered mu is unnormalized on the restricted region, exactly as in
    Stan.

    Data: ``hmm_example`` (posteriordb): N=100 simulated observations switching
    between levels near 3 and 9 (K=2).

    Inference difficulty: without the ordering the posterior has K! symmetric
    modes (label switching) that chains would visit separately; the ordered
    means identify the states (and the prior locations 3 and 10 keep them
    apart). With well-separated levels the marginalized posterior is smooth and
    unimodal, and default NUTS settings fit it cleanly; with overlapping levels
    or many states, transition rows of rarely visited states are weakly
    identified and the posterior can be multimodal (states merging or
    splitting). The forward algorithm costs O(N K²) per gradient.

    Discriminative counterpart: none — there are no labels to predict; the
    classical point-estimate counterpart is maximum likelihood by
    Baum-Welch EM (e.g. ``hmmlearn.hmm.GaussianHMM``, not a dependency).

    Parameters
    ----------
    K : int, default 2
    mu_loc : float or sequence of float, optional
    mu_scale : float, default 1.0
    mu_positive : bool, default True
    sigma : float or None, default 1.0
    sigma_scale : float, default 2.0
        Scale of the half-normal prior on sigma when sigma=None.
    transition_concentration : float, default 1.0
    """

    name = "hmm_gaussian"
    family = "latent_state"
    summary = "Gaussian hidden Markov model, K states summed out by the forward algorithm"
    counterparts = {}
    fields = (Field("y", ("time",), observed=True, doc="observed series"),)
    sizes = {"N": "time", "K": "state"}
    obs_dim = "time"
    latent_dims = ("state", "next_state")

    def __init__(
        self,
        K: int = 2,
        mu_loc: float | tuple[float, ...] | None = None,
        mu_scale: float = 1.0,
        mu_positive: bool = True,
        sigma: float | None = 1.0,
        sigma_scale: float = 2.0,
        transition_concentration: float = 1.0,
    ):
        self.K = K
        self.mu_loc = tuple(float(v) for v in mu_loc) if np.ndim(mu_loc) == 1 else mu_loc
        self.mu_scale = mu_scale
        self.mu_positive = mu_positive
        self.sigma = sigma
        self.sigma_scale = sigma_scale
        self.transition_concentration = transition_concentration
        if not (isinstance(K, int | np.integer) and K >= 2):
            raise ValueError(f"K must be an integer >= 2, got {K!r}")
        if self.mu_loc is None:
            loc = _POSTERIORDB_MU_LOC if K == 2 else np.linspace(3.0, 10.0, K)
        else:
            loc = self.mu_loc
        loc = np.asarray(loc, dtype=float)
        if loc.ndim == 1 and loc.shape[0] != K:
            raise ValueError(f"mu_loc has {loc.shape[0]} values, expected K={K}")
        self._mu_loc = np.broadcast_to(loc, (K,)).copy()
        for pname in ("mu_scale", "sigma_scale", "transition_concentration"):
            if not getattr(self, pname) > 0:
                raise ValueError(f"{pname} must be > 0, got {getattr(self, pname)!r}")
        if sigma is not None and not sigma > 0:
            raise ValueError(f"sigma must be > 0 or None, got {sigma!r}")

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {"theta": ("state", "next_state"), "mu": ("state",)}
        if self.sigma is None:
            dims["sigma"] = ()
        return dims

    def default_data(self) -> dict[str, Any]:
        raw = load_json("hmm_example.json")
        return {"N": raw["N"], "y": raw["y"]}

    def numpyro_model(self, data: ModelData) -> None:
        k, n = self.K, data.size(self.obs_dim)
        mu = numpyro.sample(
            "mu", OrderedNormal(self._mu_loc, self.mu_scale, k, positive=self.mu_positive)
        )
        with numpyro.plate("state", k):
            theta = numpyro.sample(
                "theta", dist.Dirichlet(jnp.full(k, float(self.transition_concentration)))
            )
        if self.sigma is None:
            sigma = numpyro.sample("sigma", dist.HalfNormal(float(self.sigma_scale)))
        else:
            sigma = float(self.sigma)
        with numpyro.plate("time", n):
            numpyro.sample("y", GaussianHMM(mu, sigma, theta, n), obs=data.get("y"))

    def forecast_draws(self, posterior, data: ModelData, *, steps: int, rng):
        """``steps`` ahead: per draw, the filtered state distribution at the end of
        the observed series (forward algorithm), then the chain and emissions run
        forward. Returns {"y": (chain, draw, steps)}."""
        y = np.asarray(data["y"], dtype=float)
        mu = np.asarray(posterior["mu"], dtype=float)
        theta = np.asarray(posterior["theta"], dtype=float)
        batch, k = mu.shape[:-1], mu.shape[-1]
        mu, theta = mu.reshape(-1, k), theta.reshape(-1, k, k)
        if self.sigma is None:
            sigma = np.asarray(posterior["sigma"], dtype=float).reshape(-1)
        else:
            sigma = np.full(mu.shape[0], float(self.sigma))
        log_e = _log_emission(y, mu, sigma)
        with np.errstate(divide="ignore"):
            log_t = np.log(theta)
        filt = log_e[:, 0] - np.log(k)
        for t in range(1, y.shape[0]):
            filt = filt - logsumexp_np(filt, axis=-1)[:, None]
            filt = logsumexp_np(filt[:, :, None] + log_t, axis=1) + log_e[:, t]
        prob = np.exp(filt - logsumexp_np(filt, axis=-1)[:, None])  # p(z_T | y_1..T)
        out = np.empty((mu.shape[0], steps))
        rows = np.arange(mu.shape[0])
        for h in range(steps):
            prob = np.einsum("sk,skj->sj", prob, theta)  # p(z_{T+h+1} | y)
            u = rng.uniform(size=(mu.shape[0], 1))
            z = np.minimum((np.cumsum(prob, axis=1) < u).sum(axis=1), k - 1)
            out[:, h] = mu[rows, z] + sigma * rng.standard_normal(mu.shape[0])
            prob = np.zeros_like(prob)
            prob[rows, z] = 1.0
        return {"y": out.reshape(*batch, steps)}

    def pymc_model(self, data: ModelData) -> pm.Model:
        k = self.K
        log_init = floatx(-np.log(k))

        def logp(value, mu, sigma, theta):
            # PyMC pads the parameters with the (size-1) batch dims of y
            mu, sigma, theta = _core(mu, 1), _core(sigma, 0), _core(theta, 2)
            log_emission = pm.logp(pm.Normal.dist(mu, sigma), value[:, None])
            return forward_pt(log_emission, log_init, pt.log(theta))

        def random(mu, sigma, theta, rng=None, size=None):
            mu, sigma, theta = _core(mu, 1), _core(sigma, 0), _core(theta, 2)
            return _np_simulate(mu, sigma, theta, rng, int(np.prod(size)))

        # the latent dims too: data read back from a fit carries only data dims
        with pm.Model(coords=self.coords(data)) as model:
            theta = pm.Dirichlet(
                "theta",
                a=floatx(np.full((k, k), self.transition_concentration)),
                dims=("state", "next_state"),
            )
            mu = pm_ordered_normal(
                "mu", self._mu_loc, self.mu_scale, k, positive=self.mu_positive, dims="state"
            )
            if self.sigma is None:
                sigma = pm.HalfNormal("sigma", sigma=floatx(self.sigma_scale))
            else:
                sigma = floatx(self.sigma)
            pm.CustomDist(
                "y",
                mu,
                sigma,
                theta,
                logp=logp,
                random=random,
                signature="(k),(),(k,k)->()",
                observed=data["y"],
                dims="time",
            )
        return model


def _hmm_example_params(posterior) -> dict[str, np.ndarray]:
    """posteriordb's names for ``hmm_example``: ``theta1``, ``theta2``, ``mu``.

    The Stan program declares the transition rows as separate simplexes
    ``theta1`` (from state 1) and ``theta2`` (from state 2) and uses
    ``theta[j, k]`` as the probability of moving from state j to state k, the
    zoo's ``theta[j, k]`` (dims ``(state, next_state)``, row j = from state j).
    So ``theta<j>[k]`` is row j of the zoo's ``theta``. Stan's ``theta[j,k]``
    (the rows stacked) is provided too, in case a reference reports it.
    """
    theta = posterior["theta"].transpose("chain", "draw", "state", "next_state").values
    k = theta.shape[-1]
    rows = {f"theta{j + 1}": theta[:, :, j, :] for j in range(k)}
    mu = posterior["mu"].transpose("chain", "draw", "state").values
    return stan_flatten({**rows, "mu": mu, "theta": theta})


POSTERIORDB = [
    # Default sampler settings suffice (see the docstring).
    PosteriorAdapter(
        "hmm_example-hmm_example",
        "hmm_gaussian",
        data=lambda d: d,
        params=_hmm_example_params,
        config={"K": 2},
    ),
]
