"""Latent Gaussian-process Poisson regression (posteriordb ``gp_pois_regr``)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from probgen import Field, Model, ModelData
from probgen.posteriordb import PosteriorAdapter

from ._data import load_json
from .gp_regression import (
    _draw_batches,
    _sq_exp_jnp,
    _sq_exp_pt,
    check_inputs,
    conditional_latent_draws,
    floatx,
    sq_exp_kernel,
)

#: added to the kernel's diagonal before the Cholesky factorisation (as posteriordb)
JITTER = 1e-10


class GpPoisson(Model):
    r"""Poisson counts with a log rate drawn from a Gaussian process (non-centered).

    Generative story (site names as in both backends), for observations
    i, j = 1..N with inputs ``x``::

        rho         ~ Gamma(25, rate=4)                (length scale, > 0)
        alpha       ~ HalfNormal(2)                    (marginal sd of f)
        K[i, j]     = alpha² · exp(-(x[i] - x[j])² / (2 rho²)) + 1e-10 · [i = j]
        L           = cholesky(K)
        f_scaled[i] ~ Normal(0, alpha)                 (sampled)
        f_tilde     = f_scaled / alpha                 (deterministic, ~ Normal(0, 1))
        f           = L @ f_tilde                      (deterministic, f ~ MVN(0, K))
        k[i]        ~ Poisson(exp(f[i]))               (observed)

    This is posteriordb's ``gp_pois_regr-gp_pois_regr``; its reported parameters
    are ``rho``, ``alpha`` and ``f``. ``f_tilde`` is posteriordb's non-centered
    auxiliary and ``f_scaled = alpha · f_tilde`` the coordinate actually sampled:
    a change of variables of the auxiliary only (f_tilde is exactly Normal(0, 1),
    f = L @ f_tilde with the same L and jitter), so the density of
    (rho, alpha, f) is posteriordb's. The kernel and its Cholesky factor are built by hand in each
    backend (``jax.numpy`` / ``pytensor``); the 1e-10 jitter keeps the
    factorisation defined for the near-singular squared-exponential kernel.

    Dims: ``x``, ``k``, ``f_scaled``, ``f_tilde`` and ``f`` along ``obs``; ``rho`` and
    ``alpha`` scalars.

    Data: default is posteriordb's ``gp_pois_regr`` (N=11 equally spaced
    inputs x = -10, -8, ..., 10 and counts k from 3 to 82); the real-valued
    column ``y`` of that file belongs to :class:`probgen.zoo.gp_regression.GpRegression`
    and is dropped. A Stan-style ``N`` is accepted and checked.

    Inference difficulty: a latent GP is a hierarchical model, so its
    centered form (f ~ MVN(0, K)) has a funnel between ``alpha`` and ``f``.
    Sampling f_tilde (f = L @ f_tilde) moves it to the prior, but with counts
    this large (up to 82) the likelihood pins f tightly, so the posterior of
    (``alpha``, ``f_tilde``) is itself funnel-shaped: f_tilde = L⁻¹ f = (L/alpha)⁻¹ f
    / alpha must shrink as alpha grows (f_tilde[0] = f[0] / alpha, f[0] ≈ log 40
    ± 0.16; posterior correlation of log alpha and f_tilde[0] -0.97). That neck
    caused divergences at every target_accept up to 0.95 on some sampler path.
    The sampled coordinate ``f_scaled = alpha · f_tilde = (L/alpha)⁻¹ f`` is f
    whitened by the unit-amplitude factor L/alpha, which does not depend on
    alpha (up to the 1e-10 jitter), so given the data it does not move with
    alpha (correlation with log alpha ≤ 0.3 in every component, 0.02 for
    component 0) and the funnel is gone. Its prior Normal(0, alpha) couples it to
    alpha as in a centered model, but with 11 components alpha is well determined
    by |f_scaled| (sd of log alpha ≈ 0.26). What remains is correlation: the
    data fix a few combinations of f_scaled and log rho far more tightly than
    each coordinate (smallest eigenvalue of the posterior correlation matrix
    ≈ 0.003), so a diagonal mass matrix needs step sizes ≈ 0.03 and trees of
    depth 6-9. The length scale ``rho`` is only partly identified by 11 points
    (posterior ≈ 5.7 ± 0.67 against the Gamma(25, 4) prior's 6.25 ± 1.25).

    Settings: ``sampler_defaults`` set target_accept 0.9, max_tree_depth 12
    and 2000 kept draws per chain. The draws: rho mixes slowly (bulk ESS of rho
    about 1100 in 4 x 1000 draws), and with 1000 draws per chain its R-hat
    went just over 1.01 in 2 of 105 fits of the robustness sweep (PyMC seed 0:
    1.011); R-hat - 1 shrinks about as 1/draws, so doubling the draws should
    roughly halve it (PyMC seed 0 refitted with 2000 draws: 1.0038). The partial
    non-centering ``sqrt(alpha) · f_tilde`` was tried instead (R-hat at most 1.007 in 20
    NumPyro fits), but 3 of 5 PyMC fits then had one divergence in the neck,
    so the fully scaled coordinate stays.
    With f_scaled the step size is set by the correlation, not by the target, so
    0.9 costs little and leaves a margin for every sampler path; rare long
    trajectories are not cut by the depth limit. A dense mass matrix is not
    used: it shortens the trees but its larger step size diverges in what is
    left of the neck (and nutpie and BlackJAX would not use it). With the
    f_tilde parameterization, even target_accept 0.95 diverged on most sampler
    paths (figures in ``benchmarks/ROBUSTNESS.md``).

    Precision: float64 only (probgen's CPU default). In float32 the 1e-10
    jitter is far below the round-off of K's diagonal, and the Cholesky factor
    of this near-singular kernel comes out NaN at typical posterior values
    (e.g. alpha = 2.9, rho = 5.7); on an accelerator call
    ``probgen.set_precision("float64")`` first.

    Predictions: ``x`` is not declared a covariate, because the posterior
    holds one latent value per training input (``f_tilde``, ``f``), so re-running
    the model at new inputs (what :func:`probgen.predict` does) would be
    meaningless. Use :meth:`predict_conditional`: for each posterior draw,
    f_new | f ~ N(K*ᵀ K⁻¹ f, K** - K*ᵀ K⁻¹ K*) and k_new ~ Poisson(exp(f_new)).

    Discriminative counterpart: ``sklearn.linear_model.PoissonRegressor`` on a
    fixed smooth basis of x (e.g. ``SplineTransformer`` or RBF features from
    ``sklearn.kernel_approximation``): a penalised maximum-likelihood log-linear
    fit of the same conditional p(k | x), with the smoothness fixed by the basis
    and penalty instead of inferred through rho and alpha. scikit-learn has no
    GP classifier/regressor for count outcomes.
    """

    name = "gp_poisson"
    family = "gaussian_process"
    summary = "Poisson counts with a latent Gaussian-process log rate on a 1-D input"
    counterparts = {
        "sklearn.linear_model.PoissonRegressor": {},
        "sklearn.ensemble.HistGradientBoostingRegressor": {"loss": "poisson"},
    }
    fields = (
        Field("x", ("obs",), doc="1-D input of each observation"),
        Field("k", ("obs",), kind="count", observed=True, doc="count outcome"),
    )
    sizes = {"N": "obs"}
    sampler_defaults = {"target_accept": 0.9, "max_tree_depth": 12, "draws": 2000}

    def __init__(self) -> None:
        pass

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {
            "rho": (),
            "alpha": (),
            "f_scaled": ("obs",),
            "f_tilde": ("obs",),
            "f": ("obs",),
        }

    def default_data(self) -> dict[str, Any]:
        raw = load_json("gp_pois_regr.json")
        return {key: raw[key] for key in ("N", "x", "k")}

    def numpyro_model(self, data: ModelData) -> None:
        x = jnp.asarray(data["x"])
        n = x.shape[0]
        rho = numpyro.sample("rho", dist.Gamma(25.0, 4.0))
        alpha = numpyro.sample("alpha", dist.HalfNormal(2.0))
        chol = jnp.linalg.cholesky(_sq_exp_jnp(x, alpha, rho) + JITTER * jnp.eye(n))
        with numpyro.plate("obs", n):
            # f_scaled = alpha * f_tilde: sampled instead of f_tilde (see "Inference difficulty")
            f_scaled = numpyro.sample("f_scaled", dist.Normal(0.0, alpha))
        f_tilde = numpyro.deterministic("f_tilde", f_scaled / alpha)
        f = numpyro.deterministic("f", chol @ f_tilde)
        with numpyro.plate("obs", n):
            numpyro.sample("k", dist.Poisson(jnp.exp(f)), obs=data.get("k"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            x = pm.Data("x", data["x"], dims="obs")
            n = data.size("obs")
            rho = pm.Gamma("rho", alpha=floatx(25.0), beta=floatx(4.0))
            alpha = pm.HalfNormal("alpha", sigma=floatx(2.0))
            chol = pt.linalg.cholesky(_sq_exp_pt(x, alpha, rho) + JITTER * pt.eye(n))
            # f_scaled = alpha * f_tilde: sampled instead of f_tilde (see "Inference difficulty")
            f_scaled = pm.Normal("f_scaled", floatx(0.0), alpha, dims="obs")
            f_tilde = pm.Deterministic("f_tilde", f_scaled / alpha, dims="obs")
            f = pm.Deterministic("f", chol @ f_tilde, dims="obs")
            pm.Poisson("k", pt.exp(f), observed=data["k"], dims="obs")
        return model

    # ------------------------------------------------------------ prediction
    def predict_conditional(self, fit: xr.DataTree, x_new: Any, *, seed: int = 0) -> xr.Dataset:
        """The latent GP and counts at new inputs, one draw per posterior draw.

        For each posterior draw of (rho, alpha, f_tilde), with K = K(x, x) + 1e-10·I
        = L Lᵀ on the training inputs, K* = K(x, x_new), K** = K(x_new, x_new)
        and f = L f_tilde (so K⁻¹ f = L⁻ᵀ f_tilde)::

            f_new | f ~ N(K*ᵀ K⁻¹ f,  K** - K*ᵀ K⁻¹ K*)
            k_new     ~ Poisson(exp(f_new))

        Parameters
        ----------
        fit : DataTree
            A fit of this model (``probgen.sample``); its training ``x`` is read
            from ``constant_data``.
        x_new : array-like, shape (m,)
            New inputs (at a training input f_new equals f up to the 1e-10 jitter).
        seed : int

        Returns
        -------
        xarray.Dataset
            ``f`` (latent log rate) and ``k`` (new counts), dims
            ``(chain, draw, obs)``, with ``x`` as a coordinate along ``obs``.
        """
        from probgen.results import data_from_fit

        x_new = check_inputs(x_new)
        x = np.asarray(data_from_fit(fit, self)["x"], dtype=float)
        post = fit["posterior"].dataset
        shape = post["rho"].shape
        rho = np.asarray(post["rho"].values, dtype=float).ravel()
        alpha = np.asarray(post["alpha"].values, dtype=float).ravel()
        f_tilde = np.asarray(post["f_tilde"].values, dtype=float).reshape(rho.size, -1)
        rng = np.random.default_rng(seed)
        n, m, total = x.size, x_new.size, rho.size
        f_new = np.empty((total, m))
        for s in _draw_batches(total, n, m):
            chol = np.linalg.cholesky(sq_exp_kernel(x, x, alpha[s], rho[s]) + JITTER * np.eye(n))
            f_new[s] = conditional_latent_draws(
                chol,
                f_tilde[s],
                sq_exp_kernel(x, x_new, alpha[s], rho[s]),
                sq_exp_kernel(x_new, x_new, alpha[s], rho[s]),
                rng,
            )
        k_new = rng.poisson(np.exp(f_new))
        dims = ("chain", "draw", "obs")
        return xr.Dataset(
            {"f": (dims, f_new.reshape(*shape, m)), "k": (dims, k_new.reshape(*shape, m))},
            coords={
                "chain": post["chain"].values,
                "draw": post["draw"].values,
                "obs": np.arange(m),
                "x": ("obs", x_new),
            },
        )


def _gp_pois_regr_data(data: dict[str, Any]) -> dict[str, Any]:
    """posteriordb's gp_pois_regr data minus the real outcome ``y`` (used by gp_regression)."""
    return {key: v for key, v in data.items() if key != "y"}


POSTERIORDB = [
    PosteriorAdapter(
        "gp_pois_regr-gp_pois_regr",
        "gp_poisson",
        data=_gp_pois_regr_data,
        # f_tilde too, in case a reference reports the auxiliary
        params=("rho", "alpha", "f", "f_tilde"),
        # see "Settings" in the class docstring
        sampler={"target_accept": 0.9, "max_tree_depth": 12},
    ),
]
