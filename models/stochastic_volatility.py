"""Stochastic volatility: returns whose log-variance follows a stationary AR(1)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor
import pytensor.tensor as pt
from numpyro.distributions import constraints
from numpyro.distributions.transforms import AffineTransform
from pymc.distributions.transforms import Interval

from probgen import Field, ModelData

from ._data import load_json
from ._timeseries import SeriesModel

#: (phi + 1) / 2 ~ Beta(PHI_A, PHI_B): Kim, Shephard & Chib's (1998) prior
PHI_A, PHI_B = 20.0, 1.5
MU_SCALE = 5.0
SIGMA_SCALE = 1.0


class StochasticVolatility(SeriesModel):
    r"""Stochastic volatility model: a latent AR(1) log-variance, normal returns.

    The model of Kim, Shephard & Chib (1998) and the Stan User's Guide
    ("Stochastic volatility models"). Generative story (site names as in both
    backends), for t = 1..T::

        mu       ~ Normal(0, 5)                      (mean log-variance)
        phi      ~ 2 * Beta(20, 1.5) - 1             (persistence, in (-1, 1))
        sigma    ~ HalfNormal(1)                     (sd of the log-variance shocks)
        h[1]     ~ Normal(mu, sigma / sqrt(1 - phi^2))            (stationary start)
        h[t]     ~ Normal(mu + phi * (h[t-1] - mu), sigma)        t = 2..T
        y[t]     ~ Normal(0, exp(h[t] / 2))          (observed)

    ``h`` is the log-variance of the return at t, so ``exp(h / 2)`` is its
    volatility (sd); ``h[1]`` is drawn from the stationary distribution of the
    AR(1), so the series has no special first value. ``phi`` is sampled as one
    site with the density of 2 * Beta(20, 1.5) - 1 on (-1, 1) (Kim, Shephard &
    Chib's prior: mean 0.86, most mass above 0.7, as log-volatility is
    persistent), constrained by a scaled logistic map on both backends.

    How it is sampled. Centered (``centered=True``): the sites are ``mu``,
    ``phi``, ``sigma`` and ``h`` as written above. Non-centered (default): the
    standardized shocks ``eta`` are sampled and ``h`` is built from them, with
    the level of the path sampled directly::

        eta[t]   ~ Normal(0, 1)                      t = 1..T
        x[1]     = sigma / sqrt(1 - phi^2) * eta[1]
        x[t]     = phi * x[t-1] + sigma * eta[t]     (x = h - mu, not a site)
        h_mean   ~ Normal(mean(x), 5)                (= the mean over t of h[t])
        mu       = h_mean - mean(x)                  (deterministic)
        h        = mu + x                            (deterministic)

    This is the same joint distribution: ``mu = h_mean - mean(x)`` is
    Normal(0, 5) independent of ``eta``, and the map (mu, eta) -> (h_mean,
    eta) is a shear with Jacobian 1, so the posterior of (mu, phi, sigma, h) is
    exactly that of the story above. Why ``h_mean`` rather than ``mu``: with
    ``mu`` and ``eta`` as the sites (the Stan User's Guide's non-centered
    program), the data pin down the average log-variance ``mu + mean(x)``
    tightly while ``mu`` alone is uncertain (the level of a persistent AR(1)
    over a finite series is uncertain), so ``mu`` moves only together with a
    coordinated shift of all T shocks, a direction a diagonal mass matrix
    cannot follow (on the default data: bulk ESS about 60 for ``mu`` from 4000
    draws, R-hat 1.04). Sampling the level that the data identify removes that
    correlation (ESS in the thousands). The centered form is kept to show the
    other failure: ``sigma`` given ``h`` is much narrower than its posterior, a
    funnel (E-BFMI about 0.05, R-hat above 1.1 for ``sigma``).

    The path x is the linear recursion x[t] = phi x[t-1] + e[t]: NumPyro
    computes it with a vectorized doubling scan (log2(T) shifted
    multiply-adds giving ``x[t] = sum_j phi^j e[t - j]``), PyMC with a
    ``pytensor.scan`` (see ``_pytensor_filter`` for why); both equal the
    step-by-step recursion to rounding. In the centered form the AR(1)
    density of ``h`` is written out (a NumPyro distribution and a
    ``pm.CustomDist`` with the same log density); draws of ``h`` use the same
    recursions.

    Dims: ``y``, ``h`` and ``eta`` along ``time`` (labelled 0..T-1); ``mu``, ``phi``,
    ``sigma``, ``h_mean`` scalars. ``T`` is a
    Stan-style size key: alone (``{"T": 200}``) it sets the length of a series to
    generate.

    Data: monthly log returns of the S&P 500 index, February 1990 to June 2022
    (T = 389), in percent, 100 * log(P[t] / P[t-1]) from the first-of-month
    closes, with their sample mean (0.63 % a month) subtracted because the model
    has no mean return (the Stan User's Guide's "mean-corrected returns").
    Prices from matplotlib's sample data (``Stocks.csv``, source Yahoo Finance;
    matplotlib licence, see ``models/data/LICENCE-matplotlib.md``). Real data:
    calm 1990s and mid-2000s, high volatility around 2000-2002, 2008-2009 and
    March 2020. (posteriordb's ``garch`` series is simulated, so it is not used.)

    Inference difficulty: moderate. There are T + 4 parameters; ``h`` is
    informed only through one squared return per time point (a log-chi-square
    observation with sd 2.2 on the log scale), so the posterior of ``h`` is
    wide and smooth, and ``sigma`` and ``phi`` are correlated (a rougher path
    with less persistence explains the returns about as well). The level of
    the path and the scale of its shocks are handled by the parameterization
    above. What remains is stiffness: where a large return meets a low
    log-variance the likelihood's curvature, proportional to y^2 exp(-h),
    grows exponentially, and NUTS at the default target_accept 0.8 diverges
    on a few transitions (about 10 of 4000 on the default data), scattered over
    time rather than at one point. ``sampler_defaults`` therefore raise
    target_accept to 0.99: no divergences on four seeds tried, about 63 leapfrog
    steps per draw instead of 31 (0.95 still left up to 6 divergences on some
    seeds). With that, 4 chains x 1000 draws give a trustworthy fit on both
    backends on these data.

    Discriminative counterpart: none in scikit-learn. Classical alternatives:
    GARCH by maximum likelihood (the ``arch`` package), or quasi-maximum
    likelihood on log y^2 with a Kalman filter (statsmodels' ``UnobservedComponents``).

    Forecasts (:func:`probgen.forecast`): per posterior draw, the log-variance
    runs forward from that draw's ``h[T]`` (h[T+k] = mu + phi (h[T+k-1] - mu) +
    sigma * shock) and each return is Normal(0, exp(h / 2)): return forecasts
    whose spread follows the current volatility and reverts to the long-run level
    exp(mu / 2) at rate phi. :meth:`generate_series` draws new, independent
    series of any length from the posterior (stationary start).

    Parameters
    ----------
    centered : bool, default False
        Sample ``h`` directly with its AR(1) density (kept to show the funnel)
        instead of the standardized shocks ``eta``.
    """

    name = "stochastic_volatility"
    family = "time_series"
    summary = "Stochastic volatility: latent AR(1) log-variance, normal returns (Kim-Shephard-Chib)"
    fields = (Field("y", ("time",), observed=True, doc="the (mean-corrected) returns"),)
    sampler_defaults = {"target_accept": 0.99}

    def __init__(self, centered: bool = False):
        self.centered = centered

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {"mu": (), "phi": (), "sigma": (), "h": ("time",)}
        if not self.centered:
            dims["eta"] = ("time",)
            dims["h_mean"] = ()
        return dims

    def default_data(self) -> dict[str, Any]:
        return {"y": load_json("sp500_monthly.json")["y"]}

    # ------------------------------------------------------------- forecasts
    def forecast_draws(self, posterior, data: ModelData, *, steps: int, rng):
        """``steps`` ahead: per draw, the log-variance from that draw's last ``h``
        forward through the AR(1), then a normal return with sd exp(h / 2).
        {"y": (chain, draw, steps)}."""
        mu, phi, sigma = (np.asarray(posterior[k], dtype=float) for k in ("mu", "phi", "sigma"))
        h_last = np.asarray(posterior["h"], dtype=float)[..., -1]
        return {"y": _run_forward(mu, phi, sigma, h_last, steps, rng)}

    def generate_series(self, posterior, n: int, *, seed: int = 0) -> np.ndarray:
        """New return series of length ``n``, one per posterior draw.

        Unlike :meth:`forecast_draws` (which continues the observed series from
        its last log-variance), each new series starts from the stationary
        distribution of the AR(1): h[1] ~ Normal(mu, sigma / sqrt(1 - phi^2)),
        then the same recursion and y[t] ~ Normal(0, exp(h[t] / 2)). This is
        the posterior predictive distribution of a new, independent series
        (e.g. another period of the same market), with the parameters'
        uncertainty in it. (A generic posterior predictive with ``eta`` drawn
        afresh would not be: in the non-centered form ``mu`` is computed from
        ``h_mean`` and the observed shocks, not a site of its own.)

        Parameters
        ----------
        posterior : mapping or DataTree
            Draws of ``mu``, ``phi`` and ``sigma`` shaped (chain, draw), or a
            fit of this model (its ``posterior`` group is used).
        n : int
            Length of each series (>= 1).
        seed : int

        Returns
        -------
        ndarray, shape (chain, draw, n)
        """
        from probgen.settings import check_count

        n = check_count("n", n)
        seed = check_count("seed", seed, minimum=0)
        if hasattr(posterior, "children") and "posterior" in posterior.children:
            posterior = posterior["posterior"]
        return self._new_series(posterior, n, np.random.default_rng(seed))

    def generate_draws(self, posterior, data: ModelData, *, n: int, rng) -> dict[str, np.ndarray]:
        """``probgen.generate``'s hook: new series of length ``n`` (see :meth:`generate_series`)."""
        return {"y": self._new_series(posterior, n, rng)}

    def _new_series(self, posterior, n: int, rng: np.random.Generator) -> np.ndarray:
        mu, phi, sigma = (np.asarray(posterior[k], dtype=float) for k in ("mu", "phi", "sigma"))
        h_start = mu + sigma / np.sqrt(1.0 - phi**2) * rng.standard_normal(mu.shape)
        # h_start is h[1] itself (the stationary draw); the recursion gives h[2..n]
        y1 = np.exp(h_start / 2) * rng.standard_normal(mu.shape)
        rest = _run_forward(mu, phi, sigma, h_start, n - 1, rng)
        return np.concatenate([y1[..., None], rest], axis=-1)

    # -------------------------------------------------------------- backends
    def numpyro_model(self, data: ModelData) -> None:
        n = data.size("time")
        if self.centered:
            mu = numpyro.sample("mu", dist.Normal(0.0, MU_SCALE))
        phi = numpyro.sample("phi", _ShiftedBeta(PHI_A, PHI_B))
        sigma = numpyro.sample("sigma", dist.HalfNormal(SIGMA_SCALE))
        if self.centered:
            h = numpyro.sample("h", _StationaryAR1(mu, phi, sigma, n))
        else:
            with numpyro.plate("time", n):
                eta = numpyro.sample("eta", dist.Normal(0.0, 1.0))
            x = _jax_filter(_shocks(eta, phi, sigma, jnp), phi)
            x_mean = jnp.mean(x)
            h_mean = numpyro.sample("h_mean", dist.Normal(x_mean, MU_SCALE))
            mu = numpyro.deterministic("mu", h_mean - x_mean)
            h = numpyro.deterministic("h", mu + x)
        with numpyro.plate("time", n):
            numpyro.sample("y", dist.Normal(0.0, jnp.exp(h / 2)), obs=data.get("y"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        n = data.size("time")
        with pm.Model(coords=data.coords) as model:
            if self.centered:
                mu = pm.Normal("mu", 0.0, MU_SCALE)
            phi = pm.CustomDist(
                "phi",
                PHI_A,
                PHI_B,
                dist=_pymc_shifted_beta,
                transform=Interval(-1.0, 1.0),
            )
            sigma = pm.HalfNormal("sigma", SIGMA_SCALE)
            if self.centered:
                h = pm.CustomDist(
                    "h",
                    mu,
                    phi,
                    sigma,
                    dist=_pymc_ar1_generate(n),
                    logp=_pymc_ar1_logp,
                    signature="(),(),()->(t)",
                    dims="time",
                )
            else:
                eta = pm.Normal("eta", 0.0, 1.0, dims="time")
                x = _pytensor_filter(_shocks(eta, phi, sigma, pt), phi, n)
                x_mean = pt.mean(x)
                h_mean = pm.Normal("h_mean", x_mean, MU_SCALE)
                mu = pm.Deterministic("mu", h_mean - x_mean)
                h = pm.Deterministic("h", mu + x, dims="time")
            pm.Normal("y", 0.0, pt.exp(h / 2), observed=data["y"], dims="time")
        return model


# ----------------------------------------------------------------- helpers
def _run_forward(mu, phi, sigma, h, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Returns for ``steps`` steps after log-variance ``h`` (arrays of one shape)."""
    out = np.empty((*np.shape(mu), steps))
    for k in range(steps):
        h = mu + phi * (h - mu) + sigma * rng.standard_normal(np.shape(mu))
        out[..., k] = np.exp(h / 2) * rng.standard_normal(np.shape(mu))
    return out


def _shocks(eta, phi, sigma, xp):
    """The AR(1)'s innovations from standardized shocks: the first scaled to the
    stationary sd sigma / sqrt(1 - phi^2), the others to sigma. ``xp``: jnp or pt."""
    first = sigma / xp.sqrt(1.0 - phi**2) * eta[:1]
    return xp.concatenate([first, sigma * eta[1:]])


def _jax_filter(e, phi):
    """x[t] = phi * x[t-1] + e[t] (x[0] = e[0]) by doubling: after the pass with
    shift k, x[t] = sum_{j < 2k} phi^j e[t-j]; log2(T) vectorized passes."""
    x, power, k = e, phi, 1
    n = e.shape[-1]
    while k < n:
        x = jnp.concatenate([x[..., :k], x[..., k:] + power * x[..., :-k]], axis=-1)
        power, k = power * power, 2 * k
    return x


def _pytensor_filter(e, phi, n: int):
    """The same recursion as :func:`_jax_filter` in PyTensor (``n`` the static
    length), as a ``pytensor.scan``: PyMC compiles its graphs with numba, which
    compiles every distinct operation of a graph, and the unrolled doubling
    filter (about 40 operations forward and as many in the gradient) took
    minutes to compile; a scan is one small compiled loop. The two agree to
    rounding (tests/test_zoo_sv_irt.py)."""
    if n == 1:
        return e

    def step(e_t, x_prev, phi):
        return phi * x_prev + e_t

    rest = pytensor.scan(
        step,
        sequences=[e[1:]],
        outputs_info=[e[0]],
        non_sequences=[phi],
        strict=True,
        return_updates=False,
    )
    return pt.concatenate([e[:1], rest])


def _ar1_terms(h, mu, phi, sigma, xp):
    """Locations and scales of h[1] (stationary) and h[t] | h[t-1]."""
    loc = xp.concatenate([xp.reshape(mu, (1,)), mu + phi * (h[:-1] - mu)])
    first = xp.reshape(sigma / xp.sqrt(1.0 - phi**2), (1,))
    scale = xp.concatenate([first, xp.ones_like(h[1:]) * sigma])
    return loc, scale


class _ShiftedBeta(dist.TransformedDistribution):
    """2 * Beta(a, b) - 1 on (-1, 1) (NumPyro's affine map would report the
    support as the whole real line, and NUTS would then step outside (-1, 1))."""

    support = constraints.interval(-1.0, 1.0)

    def __init__(self, a: float, b: float, *, validate_args=None):
        super().__init__(dist.Beta(a, b), AffineTransform(-1.0, 2.0), validate_args=validate_args)


def _pymc_shifted_beta(a, b, size):
    # PyMC derives the density of this affine map of a Beta (with its Jacobian)
    return 2.0 * pm.Beta.dist(a, b, size=size) - 1.0


class _StationaryAR1(dist.Distribution):
    """The centered prior of ``h``: a stationary Gaussian AR(1) of length ``n``."""

    arg_constraints = {
        "mu": constraints.real,
        "phi": constraints.interval(-1.0, 1.0),
        "sigma": constraints.positive,
    }
    support = constraints.real_vector
    reparametrized_params = ["mu", "phi", "sigma"]

    def __init__(self, mu, phi, sigma, n: int, *, validate_args=None):
        self.mu, self.phi, self.sigma, self.n = mu, phi, sigma, n
        batch_shape = jax.lax.broadcast_shapes(jnp.shape(mu), jnp.shape(phi), jnp.shape(sigma))
        super().__init__(batch_shape, (n,), validate_args=validate_args)

    def sample(self, key, sample_shape=()):
        if self.batch_shape:
            raise NotImplementedError("a batch of AR(1) series is not supported")
        eta = jax.random.normal(key, (*sample_shape, self.n))
        e = _shocks_batched(eta, self.phi, self.sigma)
        return self.mu + _jax_filter(e, self.phi)

    def log_prob(self, value):
        loc, scale = _ar1_terms(value, self.mu, self.phi, self.sigma, jnp)
        return jnp.sum(dist.Normal(loc, scale).log_prob(value), axis=-1)


def _shocks_batched(eta, phi, sigma):
    """:func:`_shocks` along the last axis of ``eta``."""
    first = sigma / jnp.sqrt(1.0 - phi**2) * eta[..., :1]
    return jnp.concatenate([first, sigma * eta[..., 1:]], axis=-1)


def _pymc_ar1_logp(value, mu, phi, sigma):
    """Log density of the whole path ``h`` (stationary start, then the AR(1))."""
    loc, scale = _ar1_terms(value, mu, phi, sigma, pt)
    return pm.logp(pm.Normal.dist(loc, scale), value).sum()


def _pymc_ar1_generate(n: int):
    def generate(mu, phi, sigma, size):
        eta = pm.Normal.dist(0.0, 1.0, shape=(n,))
        return mu + _pytensor_filter(_shocks(eta, phi, sigma, pt), phi, n)

    return generate
