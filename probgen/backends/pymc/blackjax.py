"""BlackJAX NUTS on a PyMC model.

PyMC 6.4's own ``nuts_sampler="blackjax"`` path passes its ``progress_bar``
option into BlackJAX's window adaptation, which rejects it, so it fails on every
call. This module runs the same algorithm PyMC intends — BlackJAX's window
adaptation, then NUTS — on PyMC's jaxified log density, and returns a DataTree
laid out as ``pm.sample`` would.
"""

from __future__ import annotations

import time

import arviz_base
import blackjax
import jax
import jax.numpy as jnp
import numpy as np
import pymc as pm
from pymc.backends.arviz import coords_and_dims_for_inferencedata
from pymc.sampling.jax import (
    _get_batched_jittered_initial_points,
    _postprocess_samples,
    get_jaxified_graph,
    get_jaxified_logp,
)
from pymc.util import get_default_varnames

from probgen.settings import SamplerSettings


def sample(pm_model: pm.Model, settings: SamplerSettings, *, progress: bool = False):
    """Window adaptation then NUTS, one chain per device (or vmapped); a DataTree."""
    chains, draws, warmup, seed = settings.chains, settings.draws, settings.warmup, settings.seed
    target_accept, max_tree_depth = settings.target_accept, settings.max_tree_depth
    logp_fn = get_jaxified_logp(pm_model)  # log density of the unconstrained values
    init = _get_batched_jittered_initial_points(
        model=pm_model, chains=chains, initvals=None, random_seed=seed, logp_fn=logp_fn
    )
    if chains == 1:
        init = [np.asarray(v)[None] for v in init]

    def one_chain(key, position):
        warm_key, draw_key = jax.random.split(key)
        adapt = blackjax.window_adaptation(
            blackjax.nuts,
            logp_fn,
            is_mass_matrix_diagonal=not settings.dense_mass,
            target_acceptance_rate=target_accept,
            max_num_doublings=max_tree_depth,
        )
        (state, params), _ = adapt.run(warm_key, position, num_steps=warmup)
        # params holds step_size, inverse_mass_matrix and max_num_doublings
        kernel = blackjax.nuts(logp_fn, **params).step

        def step(state, key):
            state, info = kernel(key, state)
            stats = {
                "diverging": info.is_divergent,
                "energy": info.energy,
                "tree_depth": info.num_trajectory_expansions,
                "n_steps": info.num_integration_steps,
                "acceptance_rate": info.acceptance_rate,
                "lp": state.logdensity,
                "step_size": params["step_size"],
            }
            return state, (state.position, stats)

        _, (positions, stats) = jax.lax.scan(step, state, jax.random.split(draw_key, draws))
        return positions, stats

    keys = jax.random.split(jax.random.key(seed), chains)
    map_fn = jax.pmap if jax.local_device_count() >= chains else jax.vmap
    start = time.perf_counter()
    raw, stats = map_fn(one_chain)(keys, [jnp.asarray(v) for v in init])
    raw = jax.block_until_ready(raw)
    elapsed = time.perf_counter() - start

    names = list(get_default_varnames(pm_model.unobserved_value_vars, include_transformed=False))
    jax_fn = get_jaxified_graph(inputs=pm_model.value_vars, outputs=names)
    values = _postprocess_samples(jax_fn, raw, postprocessing_vectorize="vmap")
    coords, dims = coords_and_dims_for_inferencedata(pm_model)
    stats = {k: np.asarray(v) for k, v in stats.items()}
    stats["reached_max_treedepth"] = stats["tree_depth"] >= max_tree_depth
    return arviz_base.from_dict(
        {
            "posterior": {v.name: np.asarray(x) for v, x in zip(names, values, strict=True)},
            "sample_stats": stats,
        },
        coords=coords,
        dims=dims,
        attrs={"posterior": {"sampling_time": elapsed, "inference_library": "blackjax"}},
    )
