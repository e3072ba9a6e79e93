"""GARCH(1, 1): a series with a constant mean and a recursively updated volatility."""

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
from numpyro.contrib.control_flow import scan

from probgen import Field, ModelData
from probgen.posteriordb import PosteriorAdapter
from probgen.priors import parse_prior

from ._data import load_json
from ._timeseries import SeriesModel


class Garch11(SeriesModel):
    r"""GARCH(1, 1) with normal innovations and a given first volatility (Stan's ``garch11``).

    Generative story (site names as in both backends), for t = 1..T::

        mu       ~ mu_prior                     (default flat: improper, as in Stan)
        alpha0   ~ alpha0_prior                 (> 0; default half_flat: improper)
        alpha1   ~ Beta(1, 2)                   } together: uniform on the triangle
        beta1    ~ Uniform(0, 1 - alpha1)       } alpha1, beta1 > 0, alpha1 + beta1 < 1
        sigma[1] = sigma1                                               (data)
        sigma[t] = sqrt(alpha0 + alpha1 * (y[t-1] - mu)^2 + beta1 * sigma[t-1]^2)
        y[t]     ~ Normal(mu, sigma[t])                                 (observed)

    The prior of (alpha1, beta1): Stan's program declares
    ``real<lower=0, upper=1> alpha1; real<lower=0, upper=(1 - alpha1)> beta1;`` with
    no prior statement, i.e. a density constant in (alpha1, beta1) on that
    triangle. ``beta1 ~ Uniform(0, 1 - alpha1)`` alone would not be flat (its
    density 1 / (1 - alpha1) favours large alpha1), but with
    ``alpha1 ~ Beta(1, 2)`` (density 2 (1 - alpha1)) the joint density is
    2 (1 - alpha1) / (1 - alpha1) = 2 everywhere on the triangle: exactly Stan's
    flat prior, up to the constant log 2 (which both backends include), and a
    proper one that can be sampled. The constraining maps are also Stan's: a
    logistic map for alpha1 and a logistic map scaled by 1 - alpha1 for beta1
    (NumPyro's ``interval`` bijection, PyMC's interval transform).

    ``sigma`` (the volatility path) is a function of the data and parameters,
    not a site. Dims: ``y`` along ``time``; ``sigma1`` and ``T`` (the series
    length, taken from ``y`` when omitted and needed only to generate a series
    without ``y``) are scalar data fields.

    The volatility recursion is a ``jax.lax.scan`` (NumPyro) and a
    ``pytensor.scan`` (PyMC) over the observed series. When ``y`` is generated,
    NumPyro runs ``numpyro.contrib.control_flow.scan`` (a sample site per step)
    and PyMC a ``pm.CustomDist`` whose ``dist`` is a ``pytensor.scan`` drawing one
    value per step, with the same recursion as its ``logp``. With the default
    flat priors nothing can be generated from the prior (both backends raise);
    set proper ``mu_prior`` and ``alpha0_prior`` for prior predictive draws.

    Data: posteriordb ``garch`` (T = 200, sigma1 = 0.5), one series.

    Inference difficulty: mild, with one setting. The posterior is well inside
    the triangle for these data, but ``beta1`` is correlated with ``alpha0``
    (about -0.74: a larger baseline variance needs less persistence) and with
    ``alpha1`` (about -0.67), and ``alpha0`` is right-skewed. ``sampler_defaults``
    raise target_accept to 0.9. At the default 0.8, PyMC's step-size adaptation
    settles on a larger step than NumPyro's for this curved, skewed posterior;
    the larger step explores the narrow tails of ``beta1`` less well without
    diverging, so PyMC's draws under-state the posterior sd of ``beta1`` against
    the posteriordb reference, enough to fail the reference check on some seeds.
    A smaller step (target_accept 0.9) removes that bias on both backends at a
    modest cost in gradient evaluations (figures in
    ``benchmarks/ROBUSTNESS.md``). With flat priors the posterior is
    proper only when the data pin the parameters down; short series can leave
    ``alpha0`` or ``mu`` with heavy tails.

    Discriminative counterpart: none in scikit-learn; the classical counterpart
    is maximum-likelihood GARCH from the ``arch`` package (``arch_model(y,
    vol="GARCH", p=1, q=1)``), which is not a probgen dependency.

    Parameters
    ----------
    mu_prior : str, default "flat"
        Prior of the mean (see :class:`probgen.Prior`), e.g. ``"normal(0, 10)"``.
    alpha0_prior : str, default "half_flat"
        Prior of the baseline variance (a positive family), e.g. ``"half_normal(1)"``.
    """

    name = "garch11"
    family = "time_series"
    summary = "GARCH(1,1) volatility model with normal innovations (posteriordb garch11)"
    fields = (
        Field("y", ("time",), observed=True, doc="the series"),
        Field("sigma1", (), positive=True, doc="volatility (sd) of the first value"),
    )
    sampler_defaults = {"target_accept": 0.9}

    def __init__(self, mu_prior: str = "flat", alpha0_prior: str = "half_flat"):
        self.mu_prior = mu_prior
        self.alpha0_prior = alpha0_prior
        self._mu_prior = parse_prior(mu_prior, name="mu_prior")
        self._alpha0_prior = parse_prior(alpha0_prior, name="alpha0_prior", support="positive")

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"mu": (), "alpha0": (), "alpha1": (), "beta1": ()}

    def default_data(self) -> dict[str, Any]:
        return load_json("garch.json")

    def forecast_draws(self, posterior, data: ModelData, *, steps: int, rng):
        """``steps`` ahead: per draw, the volatility recursion over the observed
        series (sigma[1] = sigma1), then run forward with new normal draws.
        {"y": (chain, draw, steps)}."""
        y = np.asarray(data["y"], dtype=float)
        mu, alpha0, alpha1, beta1 = (
            np.asarray(posterior[k], dtype=float) for k in ("mu", "alpha0", "alpha1", "beta1")
        )
        sigma = np.full_like(mu, float(data["sigma1"]))
        for y_t in y[:-1]:  # sigma[t+1] from y[t] and sigma[t]
            sigma = np.sqrt(alpha0 + alpha1 * (y_t - mu) ** 2 + beta1 * sigma**2)
        y_prev = np.full_like(mu, y[-1])
        out = np.empty((*mu.shape, steps))
        for h in range(steps):
            sigma = np.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma**2)
            y_prev = mu + sigma * rng.standard_normal(mu.shape)
            out[..., h] = y_prev
        return {"y": out}

    def numpyro_model(self, data: ModelData) -> None:
        y, sigma1 = data.get("y"), data["sigma1"]
        mu = numpyro.sample("mu", self._mu_prior.numpyro())
        alpha0 = numpyro.sample("alpha0", self._alpha0_prior.numpyro())
        alpha1 = numpyro.sample("alpha1", dist.Beta(1.0, 2.0))
        beta1 = numpyro.sample("beta1", dist.Uniform(0.0, 1.0 - alpha1))
        if y is not None:
            sigma = _jax_volatility(y, mu, alpha0, alpha1, beta1, sigma1)
            with numpyro.plate("time", y.shape[0]):
                numpyro.sample("y", dist.Normal(mu, sigma), obs=y)
            return

        def step(carry, t):
            y_prev, sigma_prev = carry
            sigma = jnp.where(
                t == 0,
                sigma1,
                jnp.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma_prev**2),
            )
            y_t = numpyro.sample("y", dist.Normal(mu, sigma))
            return (y_t, sigma), None

        start = (mu, jnp.asarray(sigma1, dtype=jnp.result_type(mu)))
        scan(step, start, jnp.arange(data.size("time")))

    def pymc_model(self, data: ModelData) -> pm.Model:
        y, sigma1 = data["y"], data["sigma1"]
        with pm.Model(coords=data.coords) as model:
            mu = self._mu_prior.pymc("mu")
            alpha0 = self._alpha0_prior.pymc("alpha0")
            alpha1 = pm.Beta("alpha1", 1.0, 2.0)
            beta1 = pm.Uniform("beta1", 0.0, 1.0 - alpha1)
            sigma1 = pt.as_tensor(sigma1).astype(pytensor.config.floatX)
            if y is not None:
                sigma = _pytensor_volatility(pt.as_tensor(y), mu, alpha0, alpha1, beta1, sigma1)
                pm.Normal("y", mu, sigma, observed=y, dims="time")
            else:
                pm.CustomDist(
                    "y",
                    mu,
                    alpha0,
                    alpha1,
                    beta1,
                    sigma1,
                    dist=_pymc_generate(data.size("time")),
                    logp=_pymc_logp,
                    signature="(),(),(),(),()->(t)",
                    dims="time",
                )
        return model


def _jax_volatility(y, mu, alpha0, alpha1, beta1, sigma1):
    """sigma[t] for t = 1..T given the observed series."""
    sigma1 = jnp.asarray(sigma1, dtype=jnp.result_type(mu))

    def step(sigma_prev, y_prev):
        sigma = jnp.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma_prev**2)
        return sigma, sigma

    _, rest = jax.lax.scan(step, sigma1, y[:-1])
    return jnp.concatenate([jnp.reshape(sigma1, (1,)), rest])


def _pytensor_volatility(y, mu, alpha0, alpha1, beta1, sigma1):
    """The same recursion as :func:`_jax_volatility`, as a ``pytensor.scan``."""

    def step(y_prev, sigma_prev, mu, alpha0, alpha1, beta1):
        return pt.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma_prev**2)

    rest = pytensor.scan(
        step,
        sequences=[y[:-1]],
        outputs_info=[sigma1],
        non_sequences=[mu, alpha0, alpha1, beta1],
        strict=True,
        return_updates=False,
    )
    return pt.concatenate([pt.shape_padleft(sigma1), rest])


def _pymc_logp(value, mu, alpha0, alpha1, beta1, sigma1):
    """Log density of a whole series (the sum of the conditional normals)."""
    sigma = _pytensor_volatility(value, mu, alpha0, alpha1, beta1, sigma1)
    return pm.logp(pm.Normal.dist(mu, sigma), value).sum()


def _pymc_generate(n_time: int):
    def generate(mu, alpha0, alpha1, beta1, sigma1, size):
        rng = pt.random.shared_rng(seed=None)

        def step(t, y_prev, sigma_prev, rng, mu, alpha0, alpha1, beta1, sigma1):
            sigma = pt.switch(
                pt.eq(t, 0),
                sigma1,
                pt.sqrt(alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * sigma_prev**2),
            )
            next_rng, y_t = pm.Normal.dist(mu, sigma, rng=rng, return_next_rng=True)
            return y_t, sigma, next_rng

        ys, _, _ = pytensor.scan(
            step,
            sequences=[pt.arange(n_time)],
            outputs_info=[mu, sigma1, rng],
            non_sequences=[mu, alpha0, alpha1, beta1, sigma1],
            n_steps=n_time,
            strict=True,
            return_updates=False,
        )
        return ys

    return generate


POSTERIORDB = [
    PosteriorAdapter(
        "garch-garch11",
        "garch11",
        data=lambda d: d,
        params=("mu", "alpha0", "alpha1", "beta1"),
    ),
]
