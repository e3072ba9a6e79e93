"""NumPyro backend: NUTS on JAX (CPU devices in parallel, vectorized on a GPU)."""

from __future__ import annotations

import time
from typing import Any

import jax
import numpy as np
import numpyro
from numpyro import handlers
from numpyro.infer import MCMC, NUTS, Predictive
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.util import log_density as _log_density

from probgen._runtime import apply_precision
from probgen.backends._common import RawFit, tree_depth_from_steps
from probgen.data import ModelData
from probgen.errors import ProbgenError
from probgen.model import Model

_compile_seconds = [0.0]


def _on_duration(event: str, duration: float, **kwargs) -> None:
    # tracing, lowering and XLA compilation: the part of a run that is not sampling
    if event.startswith("/jax/core/compile/"):
        _compile_seconds[0] += duration


jax.monitoring.register_event_duration_secs_listener(_on_duration)

EXTRA_FIELDS = (
    "potential_energy",
    "energy",
    "num_steps",
    "accept_prob",
    "adapt_state.step_size",
    "diverging",
)


def model_args(data: ModelData) -> dict[str, Any]:
    """The data as the NumPyro twin takes it (observed None stays None)."""
    return dict(data.values)


def default_chain_method(chains: int) -> str:
    """vectorized on accelerators; parallel over CPU devices when there are enough."""
    if jax.default_backend() != "cpu":
        return "vectorized"
    return "parallel" if jax.local_device_count() >= chains else "sequential"


def build_mcmc(
    model: Model,
    *,
    chains: int,
    draws: int,
    warmup: int,
    target_accept: float,
    max_tree_depth: int,
    dense_mass: bool,
    chain_method: str | None,
    progress: bool,
) -> MCMC:
    kernel = NUTS(
        model.numpyro_model,
        target_accept_prob=target_accept,
        max_tree_depth=max_tree_depth,
        dense_mass=dense_mass,
    )
    return MCMC(
        kernel,
        num_warmup=warmup,
        num_samples=draws,
        num_chains=chains,
        chain_method=chain_method or default_chain_method(chains),
        progress_bar=progress,
    )


def fit(
    model: Model,
    data: ModelData,
    *,
    chains: int,
    draws: int,
    warmup: int,
    seed: int,
    target_accept: float,
    max_tree_depth: int = 10,
    dense_mass: bool = False,
    chain_method: str | None = None,
    progress: bool = False,
) -> RawFit:
    """Run NUTS and return draws, statistics and pointwise log likelihood."""
    precision = apply_precision()
    mcmc = build_mcmc(
        model,
        chains=chains,
        draws=draws,
        warmup=warmup,
        target_accept=target_accept,
        max_tree_depth=max_tree_depth,
        dense_mass=dense_mass,
        chain_method=chain_method,
        progress=progress,
    )
    args = model_args(data)
    compiled_before = _compile_seconds[0]
    start = time.perf_counter()
    mcmc.run(jax.random.key(seed), args, extra_fields=EXTRA_FIELDS)
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
        "reached_max_treedepth": depth >= max_tree_depth,
    }
    loglik = numpyro.infer.log_likelihood(model.numpyro_model, samples, args, batch_ndims=2)
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
            "tuning_steps": warmup,
        },
    )


def _predict(model: Model, data: ModelData, seed: int, **kwargs) -> dict[str, np.ndarray]:
    apply_precision()
    try:
        out = Predictive(model.numpyro_model, **kwargs)(jax.random.key(seed), model_args(data))
    except NotImplementedError as exc:
        # ImproperUniform (flat priors) cannot be sampled
        raise ProbgenError(
            f"{model!r} cannot generate from its prior: a prior is improper (flat). "
            "Configure proper priors to draw from the prior predictive."
        ) from exc
    return {k: np.asarray(v) for k, v in out.items()}


def prior_predictive(model: Model, data: ModelData, *, draws: int, seed: int):
    """Draws of every variable from the prior, shaped (1, draws, ...)."""
    data = data.with_values(**{name: None for name in model.observed})
    out = _predict(model, data, seed, num_samples=draws)
    prior = {k: out[k][None] for k in model.var_dims()}
    predictive = {k: out[k][None] for k in model.observed}
    return prior, predictive


def posterior_predictive(
    model: Model, data: ModelData, posterior: dict[str, np.ndarray], *, seed: int
) -> dict[str, np.ndarray]:
    """Replicated observations, one per posterior draw, shaped (chain, draw, ...)."""
    data = data.with_values(**{name: None for name in model.observed})
    return _predict(
        model,
        data,
        seed,
        posterior_samples=posterior,
        batch_ndims=2,
        return_sites=list(model.observed),
    )


def random_trace(model: Model, data: ModelData, key) -> dict:
    """A NumPyro trace of the model at a random point of its support.

    Unconstrained values uniform in (-2, 2), mapped to each site's support:
    the way Stan and NumPyro pick initial points, so flat priors work too.
    """
    substituted = handlers.substitute(
        handlers.seed(model.numpyro_model, key), substitute_fn=init_to_uniform(radius=2)
    )
    return handlers.trace(substituted).get_trace(model_args(data))


def random_points(model: Model, data: ModelData, n: int, seed: int) -> list[dict[str, np.ndarray]]:
    """``n`` random points (constrained values of every latent sample site)."""
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


def log_density(model: Model, data: ModelData, params: dict[str, Any]) -> float:
    """Log joint density at constrained ``params`` (no Jacobian)."""
    apply_precision()
    value, _ = _log_density(model.numpyro_model, (model_args(data),), {}, params)
    return float(value)


def simulate(model: Model, data: ModelData, *, params=None, seed: int = 0):
    """One whole data set: parameters from ``params`` or the prior, then the outcome."""
    apply_precision()
    fn = model.numpyro_model
    if params is not None:
        fn = handlers.condition(fn, {k: np.asarray(v) for k, v in params.items()})
    try:
        trace = handlers.trace(handlers.seed(fn, jax.random.key(seed))).get_trace(model_args(data))
    except NotImplementedError as exc:
        raise ProbgenError(
            f"{model!r} cannot simulate from its prior: a prior is improper (flat). "
            "Pass `params=` or configure proper priors."
        ) from exc
    truth = {k: np.asarray(trace[k]["value"]) for k in model.var_dims()}
    full = {k: v for k, v in data.values.items()}
    full.update({k: np.asarray(trace[k]["value"]) for k in model.observed})
    return full, truth
