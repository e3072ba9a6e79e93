"""PyMC backend: PyMC's own NUTS, nutpie, or NumPyro/BlackJAX through PyMC.

The sampler is always named explicitly: PyMC's own default depends on what
happens to be installed.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import xarray as xr

from probgen._runtime import get_precision, preserved_jax_precision
from probgen.backends._common import RawFit
from probgen.data import ModelData
from probgen.model import Model

# sampler -> {our stat name: the sampler's name}
_STAT_ALIASES = {
    "nutpie": {
        "tree_depth": "depth",
        "reached_max_treedepth": "maxdepth_reached",
        "acceptance_rate": "mean_tree_accept",
        "lp": "logp",
    },
}


def _floatx():
    return pytensor.config.change_flags(floatX=get_precision())


def build(model: Model, data: ModelData) -> pm.Model:
    """The PyMC twin, built under probgen's precision."""
    with _floatx():
        return model.pymc_model(data)


def _nuts_options(sampler: str, target_accept: float, max_tree_depth: int, dense_mass: bool):
    opts: dict[str, Any] = {"target_accept": target_accept}
    if sampler == "pymc":
        opts["max_treedepth"] = max_tree_depth
    elif sampler == "numpyro":
        opts["max_tree_depth"] = max_tree_depth
        opts["dense_mass"] = dense_mass
    elif sampler == "nutpie":
        opts["maxdepth"] = max_tree_depth
    return opts


def _stats(dt, sampler: str, max_tree_depth: int) -> dict[str, np.ndarray]:
    ss = dt["sample_stats"].dataset
    alias = _STAT_ALIASES.get(sampler, {})
    out: dict[str, np.ndarray] = {}
    for name in (
        "diverging",
        "lp",
        "energy",
        "step_size",
        "tree_depth",
        "n_steps",
        "acceptance_rate",
        "reached_max_treedepth",
    ):
        key = alias.get(name, name)
        if key in ss:
            out[name] = np.asarray(ss[key].values)
    out["diverging"] = out["diverging"].astype(bool)
    out["tree_depth"] = out["tree_depth"].astype(np.int64)
    out["n_steps"] = out["n_steps"].astype(np.int64)
    if "reached_max_treedepth" not in out:
        out["reached_max_treedepth"] = out["tree_depth"] >= max_tree_depth
    out["reached_max_treedepth"] = out["reached_max_treedepth"].astype(bool)
    return out


def fit(
    model: Model,
    data: ModelData,
    *,
    sampler: str,
    chains: int,
    draws: int,
    warmup: int,
    seed: int,
    target_accept: float,
    max_tree_depth: int = 10,
    dense_mass: bool = False,
    cores: int | None = None,
    progress: bool = False,
) -> RawFit:
    """Run ``pm.sample`` with the named sampler and return arrays."""
    pm_model = build(model, data)
    kwargs: dict[str, Any] = {}
    if sampler == "pymc" and dense_mass:
        kwargs["init"] = "jitter+adapt_full"
    if sampler == "pymc":
        kwargs["cores"] = cores or min(chains, os.cpu_count() or 1)
    if sampler == "blackjax":
        from probgen.backends import _blackjax

        start = time.perf_counter()
        dt = _blackjax.sample(
            pm_model,
            chains=chains,
            draws=draws,
            warmup=warmup,
            seed=seed,
            target_accept=target_accept,
            max_tree_depth=max_tree_depth,
            progress=progress,
        )
    else:
        start = time.perf_counter()
        with _floatx(), preserved_jax_precision(), warnings.catch_warnings():
            # PyMC forks its chain processes; Python warns because JAX threads
            # exist in this process, but the children run PyTensor's compiled
            # code only and never call into JAX, so its locks are never taken.
            # (forkserver/spawn would instead break every user script that lacks
            # an `if __name__ == "__main__":` guard.)
            warnings.filterwarnings("ignore", message=".*fork.*")
            dt = pm.sample(
                draws,
                tune=warmup,
                chains=chains,
                random_seed=seed,
                nuts_sampler=sampler,
                nuts=_nuts_options(sampler, target_accept, max_tree_depth, dense_mass),
                progressbar=progress,
                compute_convergence_checks=False,
                model=pm_model,
                **kwargs,
            )
    elapsed = time.perf_counter() - start
    posterior_ds = dt["posterior"].dataset
    posterior = {name: np.asarray(posterior_ds[name].values) for name in model.var_dims()}
    with _floatx():
        ll = pm.compute_log_likelihood(
            dt, model=pm_model, extend_inferencedata=False, progressbar=False
        )
    ll_ds = ll["log_likelihood"].dataset if "log_likelihood" in getattr(ll, "children", {}) else ll
    return RawFit(
        posterior=posterior,
        sample_stats=_stats(dt, sampler, max_tree_depth),
        log_likelihood={k: np.asarray(ll_ds[k].values) for k in model.observed},
        attrs={
            "inference_library": "pymc",
            "inference_library_version": pm.__version__,
            "sampler": sampler,
            "precision": get_precision(),
            "sampling_time": float(posterior_ds.attrs.get("sampling_time", elapsed)),
            "tuning_steps": warmup,
        },
    )


def prior_predictive(model: Model, data: ModelData, *, draws: int, seed: int):
    """Draws of every variable from the prior, shaped (1, draws, ...)."""
    data = data.with_values(**{name: None for name in model.observed})
    pm_model = build(model, data)
    with _floatx():
        dt = pm.sample_prior_predictive(draws, model=pm_model, random_seed=seed)
    # with the observed values left out, PyMC treats the outcome as a free
    # variable and puts it in `prior`; gather from every group it may be in
    pools = [dt[g].dataset for g in ("prior", "prior_predictive") if g in dt.children]

    def take(name):
        for ds in pools:
            if name in ds:
                return np.asarray(ds[name].values)
        raise KeyError(name)

    prior = {k: take(k) for k in model.var_dims()}
    predictive = {k: take(k) for k in model.observed}
    return prior, predictive


def posterior_predictive(
    model: Model, data: ModelData, posterior: dict[str, np.ndarray], *, seed: int
) -> dict[str, np.ndarray]:
    """Replicated observations, one per posterior draw, shaped (chain, draw, ...).

    The model is rebuilt on ``data`` with the outcome left out, so that new
    covariates (out-of-sample predictions) and in-sample replication take the
    same path.
    """
    data = data.with_values(**{name: None for name in model.observed})
    pm_model = build(model, data)
    dims = model.var_dims()
    trace = xr.Dataset(
        {
            name: (("chain", "draw", *dims[name]), np.asarray(values))
            for name, values in posterior.items()
            if name in dims
        },
        coords={d: data.coords[d] for name in dims for d in dims[name]},
    )
    with _floatx():
        out = pm.sample_posterior_predictive(
            trace,
            model=pm_model,
            var_names=list(model.observed),
            extend_inferencedata=False,
            random_seed=seed,
            progressbar=False,
        )
    ds = out["posterior_predictive"].dataset
    return {k: np.asarray(ds[k].values) for k in model.observed}


def log_density_fn(model: Model, data: ModelData):
    """A compiled function: constrained params -> log joint density (no Jacobian)."""
    from pymc.model.transform.conditioning import remove_value_transforms

    pm_model = remove_value_transforms(build(model, data))
    with _floatx():
        logp = pm_model.compile_logp()
    names = [rv.name for rv in pm_model.free_RVs]
    return lambda params: float(logp({n: np.asarray(params[n]) for n in names}))


def log_density(model: Model, data: ModelData, params: dict[str, Any]) -> float:
    """Log joint density at constrained ``params`` (value transforms removed)."""
    return log_density_fn(model, data)(params)
