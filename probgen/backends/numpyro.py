"""NumPyro backend: NUTS on JAX (CPU devices in parallel, vectorized on a GPU)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np
import numpyro
from numpyro import handlers
from numpyro.infer import MCMC, NUTS, Predictive
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.util import log_density as _log_density

from probgen._runtime import apply_precision
from probgen.backends.base import RawFit, tree_depth_from_steps
from probgen.data import ModelData
from probgen.errors import ProbgenError
from probgen.model import Model
from probgen.settings import SamplerSettings

_compile_seconds = [0.0]


def _on_duration(event: str, duration: float, **kwargs) -> None:
    # tracing, lowering and XLA compilation: the part of a run that is not sampling
    if event.startswith("/jax/core/compile/"):
        _compile_seconds[0] += duration


jax.monitoring.register_event_duration_secs_listener(_on_duration)


# ModelData is a pytree: its arrays are the leaves (None for an outcome to
# generate), its dimension lengths the static structure. JAX can then pass the
# data into compiled programs as arguments. The labels travel in the structure
# but do not take part in its equality, so new labels of the same shapes reuse
# what was compiled.
class _Structure:
    __slots__ = ("coords", "keys", "shape")

    def __init__(self, keys: tuple[str, ...], coords: dict[str, list]):
        self.keys = keys
        self.coords = coords
        self.shape = tuple(sorted((d, len(c)) for d, c in coords.items()))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Structure) and self.keys == other.keys and self.shape == other.shape
        )

    def __hash__(self) -> int:
        return hash((self.keys, self.shape))


def _flatten(data: ModelData):
    keys = tuple(sorted(data.values))
    return [data.values[k] for k in keys], _Structure(keys, data.coords)


def _unflatten(structure: _Structure, leaves) -> ModelData:
    return ModelData(dict(zip(structure.keys, leaves, strict=True)), dict(structure.coords))


jax.tree_util.register_pytree_node(ModelData, _flatten, _unflatten)

EXTRA_FIELDS = (
    "potential_energy",
    "energy",
    "num_steps",
    "accept_prob",
    "adapt_state.step_size",
    "diverging",
)


def default_chain_method(chains: int) -> str:
    """vectorized on accelerators; parallel over CPU devices when there are enough."""
    if jax.default_backend() != "cpu":
        return "vectorized"
    return "parallel" if jax.local_device_count() >= chains else "sequential"


def build_mcmc(model: Model, settings: SamplerSettings, *, progress: bool) -> MCMC:
    kernel = NUTS(
        model.numpyro_model,
        target_accept_prob=settings.target_accept,
        max_tree_depth=settings.max_tree_depth,
        dense_mass=settings.dense_mass,
    )
    return MCMC(
        kernel,
        num_warmup=settings.warmup,
        num_samples=settings.draws,
        num_chains=settings.chains,
        chain_method=settings.chain_method or default_chain_method(settings.chains),
        progress_bar=progress,
    )


def _improper(model: Model, what: str, exc: Exception) -> ProbgenError:
    return ProbgenError(
        f"{model!r} cannot {what}: a prior is improper (flat). "
        "Pass `params=` or configure proper priors."
    )


class NumPyroBackend:
    """NumPyro's NUTS on the NumPyro twin (see :class:`probgen.backends.base.Backend`)."""

    name = "numpyro"

    def fit(
        self, model: Model, data: ModelData, settings: SamplerSettings, *, progress: bool
    ) -> RawFit:
        precision = apply_precision()
        mcmc = build_mcmc(model, settings, progress=progress)
        compiled_before = _compile_seconds[0]
        start = time.perf_counter()
        mcmc.run(jax.random.key(settings.seed), data, extra_fields=EXTRA_FIELDS)
        samples = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
        elapsed = time.perf_counter() - start
        compile_time = _compile_seconds[0] - compiled_before
        extra = mcmc.get_extra_fields(group_by_chain=True)
        posterior = {name: np.asarray(samples[name]) for name in model.var_dims()}
        n_steps = np.asarray(extra["num_steps"]).astype(np.int64)
        depth = tree_depth_from_steps(n_steps)
        stats = {
            "diverging": np.asarray(extra["diverging"]).astype(bool),
            "lp": -np.asarray(extra["potential_energy"]),
            "energy": np.asarray(extra["energy"]),
            "step_size": np.asarray(extra["adapt_state.step_size"]),
            "tree_depth": depth,
            "n_steps": n_steps,
            "acceptance_rate": np.asarray(extra["accept_prob"]),
            "reached_max_treedepth": depth >= settings.max_tree_depth,
        }
        loglik = numpyro.infer.log_likelihood(model.numpyro_model, samples, data, batch_ndims=2)
        return RawFit(
            posterior=posterior,
            sample_stats=stats,
            log_likelihood={k: np.asarray(v) for k, v in loglik.items()},
            attrs={
                "inference_library": "numpyro",
                "inference_library_version": numpyro.__version__,
                "sampler": "numpyro",
                "chain_method": mcmc.chain_method,
                "precision": precision,
                # like PyMC's: warm-up and sampling, compilation excluded
                "sampling_time": elapsed - compile_time,
                "compile_time": compile_time,
                "tuning_steps": settings.warmup,
            },
        )

    def _predict(self, model: Model, data: ModelData, seed: int, **kwargs) -> dict[str, np.ndarray]:
        apply_precision()
        try:
            out = Predictive(model.numpyro_model, **kwargs)(jax.random.key(seed), data)
        except NotImplementedError as exc:  # ImproperUniform (flat priors) cannot be sampled
            raise _improper(model, "generate from its prior", exc) from exc
        return {k: np.asarray(v) for k, v in out.items()}

    def prior_predictive(self, model: Model, data: ModelData, *, draws: int, seed: int):
        data = data.with_values(**{name: None for name in model.observed})
        out = self._predict(model, data, seed, num_samples=draws)
        prior = {k: out[k][None] for k in model.var_dims()}
        predictive = {k: out[k][None] for k in model.observed}
        return prior, predictive

    def posterior_predictive(
        self, model: Model, data: ModelData, posterior: Mapping[str, np.ndarray], *, seed: int
    ) -> dict[str, np.ndarray]:
        data = data.with_values(**{name: None for name in model.observed})
        return self._predict(
            model,
            data,
            seed,
            posterior_samples=dict(posterior),
            batch_ndims=2,
            return_sites=list(model.observed),
        )

    def simulate(
        self,
        model: Model,
        data: ModelData,
        *,
        params: Mapping[str, Any] | None,
        seed: int,
    ):
        apply_precision()
        fn = model.numpyro_model
        if params is not None:
            fn = handlers.condition(fn, {k: np.asarray(v) for k, v in params.items()})
        try:
            trace = handlers.trace(handlers.seed(fn, jax.random.key(seed))).get_trace(data)
        except NotImplementedError as exc:
            raise _improper(model, "simulate from its prior", exc) from exc
        truth = {k: np.asarray(trace[k]["value"]) for k in model.var_dims()}
        full = dict(data.values)
        full.update({k: np.asarray(trace[k]["value"]) for k in model.observed})
        return full, truth

    def random_points(self, model: Model, data: ModelData, *, n: int, seed: int):
        apply_precision()
        points = []
        for key in jax.random.split(jax.random.key(seed), n):
            trace = random_trace(model, data, key)
            points.append(
                {
                    name: np.asarray(site["value"])
                    for name, site in trace.items()
                    if site["type"] == "sample" and not site["is_observed"]
                }
            )
        return points

    def log_density_fn(self, model: Model, data: ModelData) -> Callable[[Mapping], float]:
        apply_precision()

        @jax.jit
        def logp(params):
            return _log_density(model.numpyro_model, (data,), {}, params)[0]

        return lambda params: float(logp({k: np.asarray(v) for k, v in params.items()}))


def random_trace(model: Model, data: ModelData, key) -> dict:
    """A NumPyro trace of the model at a random point of its support.

    Unconstrained values uniform in (-2, 2), mapped to each site's support:
    the way Stan and NumPyro pick initial points, so flat priors work too.
    """
    substituted = handlers.substitute(
        handlers.seed(model.numpyro_model, key), substitute_fn=init_to_uniform(radius=2)
    )
    return handlers.trace(substituted).get_trace(data)
