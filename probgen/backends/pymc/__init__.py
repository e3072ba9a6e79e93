"""PyMC backend: PyMC's own NUTS, nutpie, or NumPyro/BlackJAX on the PyMC twin.

The sampler is always named explicitly: PyMC's own default depends on what
happens to be installed.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import xarray as xr

from probgen._runtime import get_precision, preserved_jax_precision
from probgen.backends.base import STAT_NAMES, RawFit, initial_points
from probgen.data import ModelData
from probgen.errors import ProbgenError
from probgen.model import Model
from probgen.settings import SamplerSettings

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
    for name in STAT_NAMES:
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


def _posterior_dataset(
    model: Model, data: ModelData, posterior: Mapping[str, np.ndarray], pm_model=None
) -> xr.Dataset:
    """The latent variables' draws as the Dataset PyMC's functions read.

    With ``pm_model``, also the free variables PyMC keeps beside the model's
    named ones (none in the zoo so far) are required to be present.
    """
    dims = model.var_dims()
    ds = xr.Dataset(
        {
            name: (("chain", "draw", *dims[name]), np.asarray(values))
            for name, values in posterior.items()
            if name in dims
        },
        coords={d: data.coords[d] for name in dims for d in dims[name] if d in data.coords},
    )
    if pm_model is not None:
        missing = sorted(
            rv.name
            for rv in pm_model.free_RVs
            if rv.name not in ds and rv.name not in model.observed
        )
        if missing:
            raise ValueError(f"posterior draws are missing latent variables {missing}")
    return ds


def _pointwise_log_likelihood(model: Model, pm_model: pm.Model, trace) -> dict[str, np.ndarray]:
    """``pm.compute_log_likelihood`` of every observed site at the draws in ``trace``
    (a DataTree with a ``posterior`` group)."""
    with _floatx():
        ll = pm.compute_log_likelihood(
            trace, model=pm_model, extend_inferencedata=False, progressbar=False
        )
    children = getattr(ll, "children", {})
    ll_ds = ll["log_likelihood"].dataset if "log_likelihood" in children else ll
    return {k: np.asarray(ll_ds[k].values) for k in model.observed}


class PyMCBackend:
    """The PyMC twin, sampled by PyMC's NUTS, nutpie, NumPyro or BlackJAX
    (see :class:`probgen.backends.base.Backend`)."""

    name = "pymc"

    def fit(
        self, model: Model, data: ModelData, settings: SamplerSettings, *, progress: bool
    ) -> RawFit:
        pm_model = build(model, data)
        sampler, chains = settings.sampler, settings.chains
        start = time.perf_counter()
        if sampler == "blackjax":
            from probgen.backends.pymc import blackjax

            dt = blackjax.sample(pm_model, settings, progress=progress)
        else:
            kwargs: dict[str, Any] = {}
            if sampler == "pymc":
                kwargs["cores"] = settings.cores or min(chains, os.cpu_count() or 1)
                kwargs["init"] = "jitter+adapt_full" if settings.dense_mass else "jitter+adapt_diag"
                points = initial_points(model, data, chains, settings.seed)
                if points is not None:
                    # the model's own starts, as on NumPyro: no jitter on top.
                    # (nutpie and PyMC's JAX samplers start from PyMC's default,
                    # the prior's center jittered by +-1 on the unconstrained scale.)
                    kwargs["initvals"] = points
                    kwargs["init"] = kwargs["init"].removeprefix("jitter+")
            with _floatx(), preserved_jax_precision(), warnings.catch_warnings():
                # PyMC forks its chain processes; Python warns because JAX threads
                # exist in this process, but the children run PyTensor's compiled
                # code only and never call into JAX, so its locks are never taken.
                # (forkserver/spawn would instead break every user script that lacks
                # an `if __name__ == "__main__":` guard.)
                warnings.filterwarnings("ignore", message=".*fork.*")
                dt = pm.sample(
                    settings.draws,
                    tune=settings.warmup,
                    chains=chains,
                    random_seed=settings.seed,
                    nuts_sampler=sampler,
                    nuts=_nuts_options(
                        sampler,
                        settings.target_accept,
                        settings.max_tree_depth,
                        settings.dense_mass,
                    ),
                    progressbar=progress,
                    compute_convergence_checks=False,
                    model=pm_model,
                    **kwargs,
                )
        elapsed = time.perf_counter() - start
        posterior_ds = dt["posterior"].dataset
        posterior = {name: np.asarray(posterior_ds[name].values) for name in model.var_dims()}
        return RawFit(
            posterior=posterior,
            sample_stats=_stats(dt, sampler, settings.max_tree_depth),
            log_likelihood=_pointwise_log_likelihood(model, pm_model, dt),
            attrs={
                "inference_library": "pymc",
                "inference_library_version": pm.__version__,
                "sampler": sampler,
                "precision": get_precision(),
                "sampling_time": float(posterior_ds.attrs.get("sampling_time", elapsed)),
                "tuning_steps": settings.warmup,
            },
        )

    def log_likelihood(
        self, model: Model, data: ModelData, posterior: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        pm_model = build(model, data)
        trace = xr.DataTree.from_dict(
            {"posterior": _posterior_dataset(model, data, posterior, pm_model)}
        )
        return _pointwise_log_likelihood(model, pm_model, trace)

    def prior_predictive(self, model: Model, data: ModelData, *, draws: int, seed: int):
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
        self, model: Model, data: ModelData, posterior: Mapping[str, np.ndarray], *, seed: int
    ) -> dict[str, np.ndarray]:
        # The model is rebuilt on `data` with the outcome left out, so that new
        # covariates (out-of-sample predictions) and in-sample replication take
        # the same path.
        data = data.with_values(**{name: None for name in model.observed})
        pm_model = build(model, data)
        trace = _posterior_dataset(model, data, posterior)
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

    def simulate(
        self,
        model: Model,
        data: ModelData,
        *,
        params: Mapping[str, Any] | None,
        seed: int,
    ):
        data = data.with_values(**{name: None for name in model.observed})
        pm_model = build(model, data)
        if params is not None:
            free = {rv.name for rv in pm_model.free_RVs} - set(model.observed)
            missing = sorted(free - set(params))
            if missing:
                raise ValueError(f"params must give every latent sample site; missing {missing}")
            with _floatx():
                pm_model = pm.do(
                    pm_model,
                    {k: np.asarray(v, dtype=pm_model[k].dtype) for k, v in params.items()},
                )
        improper = [
            rv.name
            for rv in pm_model.free_RVs
            if rv.owner is not None and type(rv.owner.op).__name__ in ("FlatRV", "HalfFlatRV")
        ]
        if improper:
            raise ProbgenError(
                f"{model!r} cannot simulate from its prior: {improper} have improper (flat) "
                "priors. Pass `params=` or configure proper priors."
            )
        names = [*model.var_dims(), *model.observed]
        with _floatx():
            values = pm.draw([pm_model[k] for k in names], random_seed=seed)
        drawn = {k: np.asarray(v) for k, v in zip(names, values, strict=True)}
        truth = {k: drawn[k] for k in model.var_dims()}
        if params is not None:
            truth.update({k: np.asarray(v) for k, v in params.items()})
        full = dict(data.values)
        full.update({k: drawn[k] for k in model.observed})
        return full, truth

    def random_points(self, model: Model, data: ModelData, *, n: int, seed: int):
        pm_model = build(model, data)
        rng = np.random.default_rng(seed)
        names = [rv.name for rv in pm_model.free_RVs]
        with _floatx():
            # the constrained value of each free variable, from the unconstrained ones
            to_constrained = pm_model.compile_fn(
                pm_model.replace_rvs_by_values(list(pm_model.free_RVs)),
                inputs=pm_model.value_vars,
                on_unused_input="ignore",
                point_fn=False,
            )
            start = pm_model.initial_point()
        points = []
        for _ in range(n):
            unconstrained = [
                rng.uniform(-2, 2, size=np.shape(start[v.name])).astype(v.dtype)
                for v in pm_model.value_vars
            ]
            values = to_constrained(*unconstrained)
            points.append({k: np.asarray(v) for k, v in zip(names, values, strict=True)})
        return points

    def log_density_fn(self, model: Model, data: ModelData) -> Callable[[Mapping], float]:
        from pymc.model.transform.conditioning import remove_value_transforms

        pm_model = remove_value_transforms(build(model, data))
        with _floatx():
            logp = pm_model.compile_logp()
        names = [rv.name for rv in pm_model.free_RVs]
        return lambda params: float(logp({n: np.asarray(params[n]) for n in names}))
