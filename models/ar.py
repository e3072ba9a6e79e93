"""Autoregressive model of order K, conditional on its first K values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def lag_matrix(y_init: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``X[t, k-1] = s[t - k]``: the value k steps before y[t] in s = (y_init, y)."""
    k = y_init.shape[0]
    s = np.concatenate([y_init, y])
    return np.stack([s[k - lag : s.shape[0] - lag] for lag in range(1, k + 1)], axis=1)


class Ar(SeriesModel):
    r"""Autoregression of order K, conditional on the first K values (Stan's ``arK``).

    The whole series is ``s = (y_init[1..K], y[K+1..T])``: the K values the model
    conditions on (oldest first) followed by the T - K modelled values. Generative
    story (site names as in both backends)::

        alpha    ~ Normal(0, 10)
        beta[k]  ~ Normal(0, 10)                                  k = 1..K (lag k)
        sigma    ~ HalfCauchy(2.5)
        y[t]     ~ Normal(alpha + sum_k beta[k] * s[t - k], sigma)  t = K+1..T (observed)

    ``y_init`` is data, not modelled (Stan's program has no density for
    ``y[1..K]``), so the log density is exactly posteriordb's ``arK``. Generating
    (prior or posterior predictive, ``simulate``) runs the recursion forward from
    the given ``y_init``: the replicated series share the observed first K values.

    Dims: ``y_init`` along ``init`` (K values), ``y`` along ``time`` (T - K values),
    ``beta`` along ``lag`` (labelled 1..K). ``init`` and ``time`` are labelled by
    position in the whole series (0..K-1 and K..T-1), so they read as one axis.
    ``T`` (the whole length, K + len(y)) is a scalar data field, taken from the
    data when omitted; it is needed only to generate a series without ``y``.

    The order K is the length of ``y_init``, not a constructor argument: it is the
    number of values conditioned on, which the data already states (Stan's ``K``
    is data too, accepted and checked). Fit another order by splitting the series
    differently. The mean ``alpha + X @ beta`` is computed in both backends as
    the product of the lagged design ``X[t, k] = s[t - k]`` (a function of the data
    only) with ``beta`` (exact; no recursion is needed when y is observed); when
    y is generated, NumPyro runs ``numpyro.contrib.control_flow.scan`` (a
    ``jax.lax.scan`` with a sample site per step) and PyMC a ``pm.CustomDist``
    whose ``dist`` is a ``pytensor.scan`` drawing one value per step, with the
    same conditional normals as its ``logp``.

    Data: posteriordb ``arK`` (T = 200, K = 5), one series; the
    posteriordb adapter splits its ``y`` into ``y_init = y[:K]`` and ``y = y[K:]``.

    Inference difficulty: easy. Given the data this is a linear regression on
    lagged values, so the posterior is close to Gaussian; the lagged predictors
    of a persistent series are collinear, so neighbouring ``beta`` are
    correlated (about -0.6 for lags 1-2 and 4-5 on these data) and NUTS takes
    longer trajectories along those correlated directions; the posterior is a
    single, smooth, nearly Gaussian mode, so default settings fit it on both
    backends. The weak Normal(0, 10) priors put most prior mass on explosive
    (non-stationary) processes, so prior predictive series grow geometrically
    over the series (astronomically large values for a series of this length);
    that is the posteriordb model as written, not a bug.

    Discriminative counterpart: least-squares autoregression, i.e. ordinary least
    squares on the lagged design (``sklearn.linear_model.LinearRegression`` on
    ``X``; statsmodels' ``AutoReg``).
    """

    name = "ar"
    family = "time_series"
    summary = "Autoregression AR(K) conditional on the first K values (posteriordb arK)"
    counterparts = {}
    fields = (
        Field("y_init", ("init",), doc="the K values before the first modelled one, oldest first"),
        Field("y", ("time",), observed=True, doc="the modelled series, after y_init"),
    )
    sizes = {"K": "init", "T": "time"}

    def __init__(self) -> None:
        """No configuration: the order K is the length of ``y_init``."""

    def presample(self, values: Mapping[str, Any]) -> int:
        y_init = values.get("y_init")
        return int(np.shape(y_init)[0]) if y_init is not None and np.ndim(y_init) == 1 else 0

    def coords(self, data: ModelData) -> dict[str, list]:
        out = super().coords(data)
        k = data.size("init")
        out["init"] = list(range(k))
        out["lag"] = list(range(1, k + 1))
        return out

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"alpha": (), "beta": ("lag",), "sigma": ()}

    def default_data(self) -> dict[str, Any]:
        return split_stan_data(load_json("arK.json"))

    def forecast_draws(self, posterior, data: ModelData, *, steps: int, rng):
        """``steps`` ahead: per draw, from the last K values of the series.
        {"y": (chain, draw, steps)}."""
        s = np.concatenate([np.asarray(data["y_init"], float), np.asarray(data["y"], float)])
        alpha, sigma = (np.asarray(posterior[k], dtype=float) for k in ("alpha", "sigma"))
        beta = np.asarray(posterior["beta"], dtype=float)  # (..., K): lag 1 first
        k = beta.shape[-1]
        history = np.broadcast_to(s[-k:][::-1], beta.shape).copy()  # most recent first
        out = np.empty((*alpha.shape, steps))
        with np.errstate(over="ignore", invalid="ignore"):
            for h in range(steps):
                y_t = alpha + np.sum(beta * history, axis=-1)
                y_t = y_t + sigma * rng.standard_normal(alpha.shape)
                history = np.concatenate([y_t[..., None], history[..., :-1]], axis=-1)
                out[..., h] = y_t
        return {"y": out}

    def numpyro_model(self, data: ModelData) -> None:
        y_init, y = data["y_init"], data.get("y")
        k = y_init.shape[0]
        alpha = numpyro.sample("alpha", dist.Normal(0.0, 10.0))
        with numpyro.plate("lag", k):
            beta = numpyro.sample("beta", dist.Normal(0.0, 10.0))
        sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))
        if y is not None:
            mu = alpha + _jax_lags(y_init, y, k) @ beta
            with numpyro.plate("time", y.shape[0]):
                numpyro.sample("y", dist.Normal(mu, sigma), obs=y)
            return

        # generate: carry the last K values (oldest first); beta[::-1] pairs lag
        # k with the k-th most recent one
        def step(history, _):
            y_t = numpyro.sample("y", dist.Normal(alpha + history @ beta[::-1], sigma))
            return jnp.concatenate([history[1:], y_t[None]]), None

        scan(
            step,
            jnp.asarray(y_init, dtype=jnp.result_type(float)),
            None,
            length=data.size("time"),
        )

    def pymc_model(self, data: ModelData) -> pm.Model:
        y = data["y"]
        k = data["y_init"].shape[0]
        coords = {**data.coords, "lag": list(data.coords.get("lag", range(1, k + 1)))}
        with pm.Model(coords=coords) as model:
            y_init = pm.Data("y_init", data["y_init"], dims="init")
            alpha = pm.Normal("alpha", 0.0, 10.0)
            beta = pm.Normal("beta", 0.0, 10.0, dims="lag")
            sigma = pm.HalfCauchy("sigma", 2.5)
            if y is not None:
                X = _pytensor_lags(y_init, pt.as_tensor(y), k)
                pm.Normal("y", alpha + X @ beta, sigma, observed=y, dims="time")
            else:
                pm.CustomDist(
                    "y",
                    alpha,
                    beta,
                    sigma,
                    y_init,
                    dist=_pymc_generate(data.size("time")),
                    logp=_pymc_logp(k),
                    signature="(),(k),(),(k)->(t)",
                    dims="time",
                )
        return model


def _jax_lags(y_init, y, k: int):
    """:func:`lag_matrix` in ``jax.numpy`` (``k`` static): the data may be traced."""
    s = jnp.concatenate([jnp.asarray(y_init), jnp.asarray(y)])
    n = y.shape[0]
    return jnp.stack([s[k - lag : k - lag + n] for lag in range(1, k + 1)], axis=1)


def _pytensor_lags(y_init, y, k: int):
    """:func:`lag_matrix` as a PyTensor graph (``k`` static)."""
    s = pt.concatenate([y_init, y])
    n = y.shape[0]
    return pt.stack([s[k - lag : k - lag + n] for lag in range(1, k + 1)], axis=1)


def _pymc_logp(k: int):
    def logp(value, alpha, beta, sigma, y_init):
        """Log density of a whole series (the sum of the conditional normals)."""
        X = _pytensor_lags(y_init, value, k)
        return pm.logp(pm.Normal.dist(alpha + X @ beta, sigma), value).sum()

    return logp


def _pymc_generate(n_time: int):
    def generate(alpha, beta, sigma, y_init, size):
        rng = pt.random.shared_rng(seed=None)

        def step(history, rng, alpha, beta, sigma):
            next_rng, y_t = pm.Normal.dist(
                alpha + history @ beta[::-1], sigma, rng=rng, return_next_rng=True
            )
            return pt.concatenate([history[1:], y_t[None]]), next_rng, y_t

        _, _, ys = pytensor.scan(
            step,
            outputs_info=[y_init, rng, None],
            non_sequences=[alpha, beta, sigma],
            n_steps=n_time,
            strict=True,
            return_updates=False,
        )
        return ys

    return generate


def split_stan_data(d: dict[str, Any]) -> dict[str, Any]:
    """posteriordb ``arK`` layout (K, T, whole y) -> this model's (y_init, y, T, K)."""
    k = int(d["K"])
    y = list(d["y"])
    return {"y_init": y[:k], "y": y[k:], "T": int(d["T"]), "K": k}


POSTERIORDB = [
    PosteriorAdapter(
        "arK-arK",
        "ar",
        data=split_stan_data,
        params=("alpha", "beta", "sigma"),
    ),
]
