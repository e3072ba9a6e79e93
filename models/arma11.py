"""ARMA(1, 1): one autoregressive and one moving-average term."""

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

from ._data import load_json
from ._timeseries import SeriesModel


class Arma11(SeriesModel):
    r"""ARMA(1, 1) with normal errors, started at y[0] = mu, err[0] = 0 (Stan's ``arma11``).

    Generative story (site names as in both backends), for t = 1..T::

        mu     ~ Normal(0, 10)
        phi    ~ Normal(0, 2)          (autoregression coefficient)
        theta  ~ Normal(0, 2)          (moving-average coefficient)
        sigma  ~ HalfCauchy(2.5)
        nu[t]  = mu + phi * y[t-1] + theta * err[t-1],   with y[0] = mu, err[0] = 0
        y[t]   ~ Normal(nu[t], sigma)                     (observed)
        err[t] = y[t] - nu[t]

    so ``nu[1] = mu + phi * mu`` as in the Stan program. ``nu`` and ``err`` are
    functions of the data and the parameters, not sites; Stan's
    ``err ~ normal(0, sigma)`` is the same density as ``y[t] ~ Normal(nu[t],
    sigma)`` (the map from y to err is triangular with unit diagonal).

    Dims: ``y`` along ``time``. ``T`` is a scalar data field (the series length),
    taken from ``y`` when omitted; it is needed only to generate a series
    without ``y``.

    The recursion for ``nu`` is a ``jax.lax.scan`` (NumPyro) and a
    ``pytensor.scan`` (PyMC) over the observed series; it is not replaced by a
    closed form because ``theta`` may lie outside (-1, 1), where the
    moving-average filter is not invertible and powers of ``theta`` overflow.
    When ``y`` is generated, NumPyro runs ``numpyro.contrib.control_flow.scan``
    (a sample site per step) and PyMC a ``pm.CustomDist`` whose ``dist`` is a
    ``pytensor.scan`` drawing one value per step, with the same recursion as its
    ``logp``.

    Data: posteriordb ``arma`` (T = 200), one series.

    Initialisation: :meth:`initial_point` starts every chain inside the
    invertible region, ``theta`` uniform in (-0.5, 0.5) (the other sites as
    NumPyro's default: uniform in (-2, 2) on the unconstrained scale). Where
    ``|theta| > 1`` the filtered errors carry a term ``(-theta)**t`` that grows
    geometrically over the series, so the log density falls like
    ``-|theta|**(2T)`` with a curvature as extreme, except along a thin curved
    valley where ``mu`` and ``phi`` cancel that term. A chain started there
    (NumPyro's default start puts half of them at ``|theta| > 1``) can fall into
    the valley, adapt a vanishing step size and never leave it: most of its
    transitions at the maximum tree depth, R-hat about 1.5. Chains started at
    ``|theta| < 1`` do not. Only the start changes; the density does not
    (figures in ``benchmarks/ROBUSTNESS.md``).

    Inference difficulty: easy for these data. The posterior is nearly Gaussian
    and sharply concentrated just below the unit root (phi ≈ 0.96 ± 0.02,
    theta ≈ -0.03 ± 0.06, correlation between them about -0.25), and NUTS with
    default settings, started as above, fit it cleanly on both backends
    (posteriordb ships no reference draws for it). In general an AR and
    an MA term can stand in for each other (near-cancelling roots, phi ≈ -theta),
    which gives a ridge or two modes; and the Normal(0, 2) priors put much mass
    on explosive processes (|phi| > 1), so prior predictive series can grow
    geometrically.

    Discriminative counterpart: none in scikit-learn; the classical counterpart
    is the (conditional) maximum-likelihood ARMA fit of statsmodels'
    ``ARIMA(order=(1, 0, 1))``, which is not a probgen dependency.
    """

    name = "arma11"
    family = "time_series"
    summary = "ARMA(1,1) series with normal errors (posteriordb arma11)"
    fields = (Field("y", ("time",), observed=True, doc="the series"),)

    def __init__(self) -> None:
        """No configuration: the priors are posteriordb's."""

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"mu": (), "phi": (), "theta": (), "sigma": ()}

    def default_data(self) -> dict[str, Any]:
        return load_json("arma.json")

    def initial_point(self, data: ModelData, rng: np.random.Generator) -> dict[str, float]:
        """A chain's start inside the invertible region (see "Initialisation")."""
        return {
            "mu": rng.uniform(-2.0, 2.0),
            "phi": rng.uniform(-2.0, 2.0),
            "theta": rng.uniform(-0.5, 0.5),
            "sigma": float(np.exp(rng.uniform(-2.0, 2.0))),
        }

    def forecast_draws(self, posterior, data: ModelData, *, steps: int, rng):
        """``steps`` ahead: per draw, the last error from the observed series, then
        the recursion run forward with new normal errors. {"y": (chain, draw, steps)}."""
        y = np.asarray(data["y"], dtype=float)
        mu, phi, theta, sigma = (
            np.asarray(posterior[k], dtype=float) for k in ("mu", "phi", "theta", "sigma")
        )
        y_prev, err = mu, np.zeros_like(mu)
        with np.errstate(over="ignore", invalid="ignore"):
            for y_t in y:  # filter the observed series: err[t] = y[t] - nu[t]
                nu = mu + phi * y_prev + theta * err
                y_prev, err = np.full_like(mu, y_t), y_t - nu
            out = np.empty((*mu.shape, steps))
            for h in range(steps):
                nu = mu + phi * y_prev + theta * err
                y_prev = nu + sigma * rng.standard_normal(mu.shape)
                err = y_prev - nu
                out[..., h] = y_prev
        return {"y": out}

    def numpyro_model(self, data: ModelData) -> None:
        y = data.get("y")
        mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
        phi = numpyro.sample("phi", dist.Normal(0.0, 2.0))
        theta = numpyro.sample("theta", dist.Normal(0.0, 2.0))
        sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
        if y is not None:
            with numpyro.plate("time", y.shape[0]):
                numpyro.sample("y", dist.Normal(_jax_means(y, mu, phi, theta), sigma), obs=y)
            return

        def step(carry, _):
            y_prev, err_prev = carry
            nu = mu + phi * y_prev + theta * err_prev
            y_t = numpyro.sample("y", dist.Normal(nu, sigma))
            return (y_t, y_t - nu), None

        scan(step, (mu, jnp.zeros_like(mu)), None, length=data.size("time"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        y = data["y"]
        with pm.Model(coords=data.coords) as model:
            mu = pm.Normal("mu", 0.0, 10.0)
            phi = pm.Normal("phi", 0.0, 2.0)
            theta = pm.Normal("theta", 0.0, 2.0)
            sigma = pm.HalfCauchy("sigma", 2.5)
            if y is not None:
                nu = _pytensor_means(pt.as_tensor(y), mu, phi, theta)
                pm.Normal("y", nu, sigma, observed=y, dims="time")
            else:
                pm.CustomDist(
                    "y",
                    mu,
                    phi,
                    theta,
                    sigma,
                    dist=_pymc_generate(data.size("time")),
                    logp=_pymc_logp,
                    signature="(),(),(),()->(t)",
                    dims="time",
                )
        return model


def _jax_means(y, mu, phi, theta):
    """nu[t] for t = 1..T given the observed series (y[0] = mu, err[0] = 0)."""
    y_prev = jnp.concatenate([jnp.reshape(mu, (1,)), y[:-1]])

    def step(err_prev, inputs):
        y_prev_t, y_t = inputs
        nu = mu + phi * y_prev_t + theta * err_prev
        return y_t - nu, nu

    _, nu = jax.lax.scan(step, jnp.zeros_like(mu), (y_prev, y))
    return nu


def _pytensor_means(y, mu, phi, theta):
    """The same recursion as :func:`_jax_means`, as a ``pytensor.scan``."""
    y_prev = pt.concatenate([pt.shape_padleft(mu), y[:-1]])

    def step(y_prev_t, y_t, err_prev, mu, phi, theta):
        nu = mu + phi * y_prev_t + theta * err_prev
        return y_t - nu, nu

    _, nu = pytensor.scan(
        step,
        sequences=[y_prev, y],
        outputs_info=[pt.zeros_like(mu), None],
        non_sequences=[mu, phi, theta],
        strict=True,
        return_updates=False,
    )
    return nu


def _pymc_logp(value, mu, phi, theta, sigma):
    """Log density of a whole series (the sum of the conditional normals)."""
    nu = _pytensor_means(value, mu, phi, theta)
    return pm.logp(pm.Normal.dist(nu, sigma), value).sum()


def _pymc_generate(n_time: int):
    def generate(mu, phi, theta, sigma, size):
        rng = pt.random.shared_rng(seed=None)

        def step(y_prev, err_prev, rng, mu, phi, theta, sigma):
            nu = mu + phi * y_prev + theta * err_prev
            next_rng, y_t = pm.Normal.dist(nu, sigma, rng=rng, return_next_rng=True)
            return y_t, y_t - nu, next_rng

        ys, _, _ = pytensor.scan(
            step,
            outputs_info=[mu, pt.zeros_like(mu), rng],
            non_sequences=[mu, phi, theta, sigma],
            n_steps=n_time,
            strict=True,
            return_updates=False,
        )
        return ys

    return generate


POSTERIORDB = [
    # no reference draws are shipped: the test asks for a clean fit on both backends
    PosteriorAdapter(
        "arma-arma11",
        "arma11",
        data=lambda d: d,
        params=("mu", "phi", "theta", "sigma"),
    ),
]
