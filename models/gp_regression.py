"""Gaussian-process regression with a squared-exponential kernel (posteriordb ``gp_regr``)."""

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
import xarray as xr

from probgen import DataError, Field, Model, ModelData
from probgen.posteriordb import PosteriorAdapter

from ._data import load_json


# ------------------------------------------------------------------ kernels
def sq_exp_kernel(x1: np.ndarray, x2: np.ndarray, alpha, rho) -> np.ndarray:
    """Stan's ``gp_exp_quad_cov``: alpha² exp(-(x1_i - x2_j)² / (2 rho²)), in NumPy.

    ``alpha`` and ``rho`` may carry leading batch dimensions (one per draw);
    the result then has shape ``(*batch, len(x1), len(x2))``.
    """
    alpha = np.asarray(alpha, dtype=float)[..., None, None]
    rho = np.asarray(rho, dtype=float)[..., None, None]
    d = np.asarray(x1, dtype=float)[:, None] - np.asarray(x2, dtype=float)[None, :]
    return alpha**2 * np.exp(-0.5 * d**2 / rho**2)


def floatx(value: float) -> np.ndarray:
    """A PyMC distribution parameter in pytensor's floatX.

    A bare Python float that float32 represents exactly (25.0, 4.0, 2.0) becomes a
    float32 constant in PyTensor even under floatX=float64, and PyMC then
    constant-folds e.g. lgamma(25) in float32: the Gamma(25, 4) log density is off
    by ~1e-6 (more than the backends' 1e-8 agreement test allows).
    """
    return np.asarray(value, dtype=pytensor.config.floatX)


def _sq_exp_jnp(x, alpha, rho):
    d = x[:, None] - x[None, :]
    return alpha**2 * jnp.exp(-0.5 * d**2 / rho**2)


def _sq_exp_pt(x, alpha, rho):
    d = x[:, None] - x[None, :]
    return alpha**2 * pt.exp(-0.5 * d**2 / rho**2)


def check_inputs(x_new: Any) -> np.ndarray:
    """New 1-D inputs as a float array, or a DataError naming the problem."""
    arr = np.asarray(x_new, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise DataError(f"x_new must be a non-empty 1-D array of inputs, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise DataError("x_new must be finite (no NaN or inf)")
    return arr


def conditional_latent_draws(
    chol: np.ndarray,
    white: np.ndarray,
    k_cross: np.ndarray,
    k_new: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draws of a GP's latent values at new inputs given the training solve.

    For one batch of posterior draws (leading dim ``b``): ``chol`` (b, n, n) is the
    Cholesky factor L of the training covariance, ``white`` (b, n) is L⁻¹·target
    (the target being y for regression, f for a latent GP), ``k_cross`` (b, n, m)
    the train/new kernel and ``k_new`` (b, m, m) the new/new kernel. Then::

        A    = L⁻¹ k_cross
        mean = Aᵀ white              (= k_crossᵀ K⁻¹ target)
        cov  = k_new - Aᵀ A

    A draw is mean + V·sqrt(max(λ, 0))·z with cov = V diag(λ) Vᵀ: the
    eigen-square-root, because a smooth kernel on a dense grid is numerically
    rank-deficient and a Cholesky factor of it fails.
    """
    a = np.linalg.solve(chol, k_cross)
    mean = np.einsum("bnm,bn->bm", a, white)
    cov = k_new - np.einsum("bnm,bnk->bmk", a, a)
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    lam, vec = np.linalg.eigh(cov)
    z = rng.standard_normal(mean.shape)
    return mean + np.einsum("bmk,bk->bm", vec, np.sqrt(np.clip(lam, 0.0, None)) * z)


def _draw_batches(n_draws: int, n: int, m: int) -> list[slice]:
    """Slices over the flattened draws that keep each batch's arrays small."""
    size = max(1, int(4_000_000 // (m * m + n * m + n * n)))
    return [slice(i, min(i + size, n_draws)) for i in range(0, n_draws, size)]


# -------------------------------------------------------------------- model
class GpRegression(Model):
    r"""Gaussian-process regression on a 1-D input, marginalised over the latent function.

    Generative story (site names as in both backends), for observations
    i, j = 1..N with inputs ``x``::

        rho    ~ Gamma(25, rate=4)                  (length scale, > 0)
        alpha  ~ HalfNormal(2)                      (marginal sd of the function)
        sigma  ~ HalfNormal(1)                      (noise VARIANCE, see below)
        K[i, j] = alpha² · exp(-(x[i] - x[j])² / (2 rho²))
        y      ~ MultivariateNormal(0, K + sigma · I)                (observed)

    This is posteriordb's ``gp_pois_regr-gp_regr`` exactly: ``sigma`` is added to
    the diagonal as a variance, not squared (so the noise sd is sqrt(sigma)).
    The latent function f ~ GP(0, K) has been integrated out, so ``y`` is one
    joint N-variate normal; the kernel is built by hand in each backend
    (``jax.numpy`` / ``pytensor``) and passed as a covariance matrix.

    Dims: ``x`` and ``y`` along ``obs``; ``rho``, ``alpha``, ``sigma`` scalars.

    Data: default is posteriordb's ``gp_pois_regr`` (N=11 equally spaced
    inputs x = -10, -8, ..., 10 and real outcomes y); the count column ``k`` of
    that file belongs to :class:`probgen.zoo.gp_poisson.GpPoisson` and is dropped.
    A Stan-style ``N`` is accepted and checked.

    Inference difficulty: eleven points weakly identify the hyperparameters.
    The length scale ``rho`` is barely informed by the data: its posterior
    (mean ≈ 6.9, sd ≈ 1.3) is close to its Gamma(25, 4) prior (mean 6.25,
    sd 1.25), so what is learnt about it comes mostly from the prior.
    ``alpha`` and ``sigma`` have right-skewed posteriors (skewness ≈ 0.9 and
    0.7 in the reference draws). There is no latent vector and hence no
    funnel: the marginal likelihood is smooth and each gradient costs one
    N x N Cholesky factorisation. Default NUTS settings (target_accept 0.8,
    diagonal mass) fit it cleanly on both backends; the posteriordb reference
    run used adapt_delta 0.99, which is not needed here.

    Predictions: ``x`` is a covariate and :func:`probgen.predict` routes through
    :meth:`predict_draws` to :meth:`predict_conditional`, the GP posterior
    predictive conditioned on the training outcomes (f_new | y and y_new | y,
    one draw per posterior draw), not a re-run of the marginal model at the
    new inputs.
    ``probgen.sample_posterior_predictive`` likewise replicates y from its
    marginal MVN given the hyperparameters (a check of the marginal model).
    The log likelihood of ``y`` is one joint term per draw (the N observations
    are not conditionally independent given the sampled parameters), so PSIS-LOO
    over observations is not available from it.

    Discriminative counterpart: ``sklearn.gaussian_process.GaussianProcessRegressor``
    with kernel ``ConstantKernel(alpha²) * RBF(rho) + WhiteKernel(sigma)``: the
    same marginal likelihood, maximised over (alpha, rho, sigma) by type-II
    maximum likelihood instead of integrated over; its predictive mean and
    covariance at fixed hyperparameters equal those of
    :meth:`predict_conditional` for one draw.
    """

    name = "gp_regression"
    family = "gaussian_process"
    summary = "Gaussian-process regression (squared-exponential kernel) on a 1-D input"
    counterparts = {
        "sklearn.gaussian_process.GaussianProcessRegressor": {"normalize_y": True},
        "sklearn.ensemble.HistGradientBoostingRegressor": {},
    }
    fields = (
        Field("x", ("obs",), doc="1-D input of each observation"),
        Field("y", ("obs",), observed=True, doc="real-valued outcome"),
    )
    sizes = {"N": "obs"}
    #: probgen.predict reports the latent function at the new inputs too
    prediction_vars = {"f": ("obs",)}
    covariates = ("x",)

    def __init__(self) -> None:
        pass

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"rho": (), "alpha": (), "sigma": ()}

    def default_data(self) -> dict[str, Any]:
        raw = load_json("gp_pois_regr.json")
        return {k: raw[k] for k in ("N", "x", "y")}

    def numpyro_model(self, data: ModelData) -> None:
        x = jnp.asarray(data["x"])
        n = x.shape[0]
        rho = numpyro.sample("rho", dist.Gamma(25.0, 4.0))
        alpha = numpyro.sample("alpha", dist.HalfNormal(2.0))
        sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
        cov = _sq_exp_jnp(x, alpha, rho) + sigma * jnp.eye(n)
        numpyro.sample(
            "y",
            dist.MultivariateNormal(jnp.zeros(n), covariance_matrix=cov),
            obs=data.get("y"),
        )

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            x = pm.Data("x", data["x"], dims="obs")
            n = data.size("obs")
            rho = pm.Gamma("rho", alpha=floatx(25.0), beta=floatx(4.0))
            alpha = pm.HalfNormal("alpha", sigma=floatx(2.0))
            sigma = pm.HalfNormal("sigma", sigma=floatx(1.0))
            cov = _sq_exp_pt(x, alpha, rho) + sigma * pt.eye(n)
            pm.MvNormal("y", mu=pt.zeros(n), cov=cov, observed=data["y"], dims="obs")
        return model

    def loo_log_likelihood(
        self, posterior: Mapping[str, np.ndarray], data: ModelData
    ) -> dict[str, np.ndarray]:
        """log p(y_i | y_-i, theta) per draw: the terms of PSIS-LOO for this
        non-factorized likelihood (Bürkner, Gabry & Vehtari 2021).

        With C = K + sigma·I and G = C⁻¹, y_i given the other outcomes is normal
        with mean y_i - (G y)_i / G_ii and variance 1 / G_ii (Sundararajan &
        Keerthi 2001), so every term comes from one inverse per draw.
        """
        x = np.asarray(data["x"], dtype=float)
        y = np.asarray(data["y"], dtype=float)
        rho, alpha, sigma = (
            np.asarray(posterior[k], dtype=float) for k in ("rho", "alpha", "sigma")
        )
        shape = rho.shape
        d2 = (x[:, None] - x[None, :]) ** 2
        out = np.empty((*shape, x.size))
        for idx in np.ndindex(shape):
            cov = alpha[idx] ** 2 * np.exp(-0.5 * d2 / rho[idx] ** 2) + sigma[idx] * np.eye(x.size)
            g = np.linalg.inv(cov)
            g_diag = np.diag(g)
            resid = (g @ y) / g_diag  # y_i minus its conditional mean
            out[idx] = -0.5 * np.log(2 * np.pi) + 0.5 * np.log(g_diag) - 0.5 * g_diag * resid**2
        return {"y": out}

    # ------------------------------------------------------------ prediction
    def predict_draws(self, fit, data: ModelData, *, seed: int) -> dict[str, np.ndarray]:
        """``probgen.predict`` routes here: the GP conditional on the training data."""
        draws = self.predict_conditional(fit, data["x"], seed=seed)
        return {"y": draws["y"].values, "f": draws["f"].values}

    def predict_conditional(self, fit: xr.DataTree, x_new: Any, *, seed: int = 0) -> xr.Dataset:
        """The GP posterior predictive at new inputs, one draw per posterior draw.

        For each posterior draw of (rho, alpha, sigma), with K = K(x, x) + sigma·I
        on the training inputs, K* = K(x, x_new) and K** = K(x_new, x_new)::

            f_new | y ~ N(K*ᵀ K⁻¹ y,  K** - K*ᵀ K⁻¹ K*)
            y_new     = f_new + sqrt(sigma) · eps,   eps ~ N(0, I)

        Parameters
        ----------
        fit : DataTree
            A fit of this model (``probgen.sample``); its training ``x`` and ``y``
            are read from ``constant_data`` and ``observed_data``.
        x_new : array-like, shape (m,)
            New inputs (may include the training inputs).
        seed : int

        Returns
        -------
        xarray.Dataset
            ``f`` (latent function) and ``y`` (new observations), dims
            ``(chain, draw, obs)``, with ``x`` as a coordinate along ``obs``.
        """
        from probgen.results import data_from_fit

        x_new = check_inputs(x_new)
        train = data_from_fit(fit, self)
        x, y = np.asarray(train["x"], dtype=float), train["y"]
        if y is None:
            raise DataError("the fit has no observed y to condition on")
        y = np.asarray(y, dtype=float)
        post = fit["posterior"].dataset
        shape = post["rho"].shape
        rho, alpha, sigma = (
            np.asarray(post[v].values, dtype=float).ravel() for v in ("rho", "alpha", "sigma")
        )
        rng = np.random.default_rng(seed)
        n, m, total = x.size, x_new.size, rho.size
        f_new = np.empty((total, m))
        for s in _draw_batches(total, n, m):
            cov = sq_exp_kernel(x, x, alpha[s], rho[s]) + sigma[s, None, None] * np.eye(n)
            chol = np.linalg.cholesky(cov)
            white = np.linalg.solve(chol, np.broadcast_to(y, (chol.shape[0], n))[..., None])[..., 0]
            f_new[s] = conditional_latent_draws(
                chol,
                white,
                sq_exp_kernel(x, x_new, alpha[s], rho[s]),
                sq_exp_kernel(x_new, x_new, alpha[s], rho[s]),
                rng,
            )
        y_new = f_new + np.sqrt(sigma)[:, None] * rng.standard_normal(f_new.shape)
        dims = ("chain", "draw", "obs")
        return xr.Dataset(
            {"f": (dims, f_new.reshape(*shape, m)), "y": (dims, y_new.reshape(*shape, m))},
            coords={
                "chain": post["chain"].values,
                "draw": post["draw"].values,
                "obs": np.arange(m),
                "x": ("obs", x_new),
            },
        )


def _gp_regr_data(data: dict[str, Any]) -> dict[str, Any]:
    """posteriordb's gp_pois_regr data minus the counts ``k`` (used by gp_poisson).

    (A model file must not import ``models.posteriordb``: that module collects
    the adapters at import, while this module would be half-initialised.)
    """
    return {key: v for key, v in data.items() if key != "k"}


POSTERIORDB = [
    PosteriorAdapter(
        "gp_pois_regr-gp_regr",
        "gp_regression",
        data=_gp_regr_data,
        params=("rho", "alpha", "sigma"),
    ),
]
