"""NumPyro backend: NUTS on JAX (CPU devices in parallel, vectorized on a GPU).

Compiled once
-------------
Every JAX program this backend runs (NUTS warm-up and sampling for all chains,
the pointwise log likelihood, prior and posterior predictive draws, the log
density) takes the data as an *argument*, never as a constant baked into the
program. A program is compiled ahead of time on first use and kept in a
process-wide LRU cache (:data:`PROGRAM_CACHE_SIZE` entries) keyed by what it
was compiled for:

* the model class and configuration (``type(model)``, ``model.config_json()``);
* the data's structure: its keys, dimension lengths, array shapes and dtypes
  (not its values nor its coordinate labels);
* the precision, and for the sampler every setting but the seed (chains, draws,
  warm-up, target_accept, max_tree_depth, dense_mass, chain method, progress).

A new seed or new data values of the same shapes reuse the compiled program, so
a second ``probgen.sample`` of the same model takes about its sampling time; a
new shape or setting compiles a program of its own. The same seed, data and
settings give identical draws whether the program was just compiled or came
from the cache. Across processes, JAX's persistent compilation cache (set up in
:mod:`probgen._runtime`) saves the XLA compilation; tracing still runs once per
process. :func:`cache_info` and :func:`clear_cache` inspect and empty the
in-process cache.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import jax
import numpy as np
import numpyro
from numpyro import handlers
from numpyro.infer import NUTS, Predictive
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.util import log_density as _log_density
from numpyro.infer.util import unconstrain_fn
from numpyro.util import fori_collect

from probgen._runtime import apply_precision
from probgen.backends.base import RawFit, initial_points, tree_depth_from_steps
from probgen.data import ModelData
from probgen.errors import ProbgenError, warn_user
from probgen.model import Model
from probgen.settings import SamplerSettings


def _bind_numpyro_submodules() -> None:
    """Make every loaded ``numpyro.*`` module an attribute of its parent package.

    arviz_base registers numpyro with ``lazy_loader`` when it is imported first,
    and numpyro's own import then leaves some submodules unbound on their
    parent (``numpyro.distributions.distribution`` among them), which breaks
    ``numpyro.factor`` in the middle of sampling. Binding them is what a plain
    import would have done.
    """
    for name, module in list(sys.modules.items()):
        parent_name, _, child = name.rpartition(".")
        if name.startswith("numpyro.") and module is not None:
            parent = sys.modules.get(parent_name)
            if parent is not None and not hasattr(parent, child):
                setattr(parent, child, module)


_bind_numpyro_submodules()


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

#: per-draw fields of NUTS' state recorded besides the draws ("diverging" first)
EXTRA_FIELDS = (
    "potential_energy",
    "energy",
    "num_steps",
    "accept_prob",
    "adapt_state.step_size",
    "diverging",
)

#: how many compiled programs one process keeps (least recently used dropped)
PROGRAM_CACHE_SIZE = 32


# ------------------------------------------------------------ the program cache
@dataclass(frozen=True)
class CacheInfo:
    """Counts of the in-process program cache (see :func:`cache_info`)."""

    hits: int
    misses: int
    size: int
    maxsize: int


class _ProgramCache:
    """A thread-safe LRU of compiled programs, with hit and miss counts."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, build: Callable[[], Any]) -> tuple[Any, float]:
        """The program stored under ``key``, building it on a miss.

        Returns the program and the seconds spent building (tracing, lowering and
        compiling) it: 0.0 on a hit. Building runs outside the lock, so two
        threads missing the same key at once both compile; the last one is kept.
        """
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key], 0.0
            self.misses += 1
        start = time.perf_counter()
        program = build()
        seconds = time.perf_counter() - start
        with self._lock:
            self._entries[key] = program
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return program, seconds

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = 0
            self.misses = 0

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self.hits, self.misses, len(self._entries), self.maxsize)


_PROGRAMS = _ProgramCache(PROGRAM_CACHE_SIZE)


def cache_info() -> CacheInfo:
    """Hits, misses and size of this process's cache of compiled NumPyro programs."""
    return _PROGRAMS.info()


def clear_cache() -> None:
    """Drop every compiled program of this process (the next call compiles afresh).

    JAX's persistent cache on disk is left alone; see :mod:`probgen._runtime`.
    """
    _PROGRAMS.clear()


def _model_key(model: Model) -> tuple:
    """The model's part of a cache key: class, configuration and NumPyro twin.

    The class itself, not its name (a class redefined in a notebook is a new
    model), and the twin's function, so that a twin replaced on the class or the
    instance (a patched model in a test) is never served a stale program.
    """
    twin = model.numpyro_model
    return (type(model), model.config_json(), getattr(twin, "__func__", twin))


def _signature(tree: Any) -> tuple:
    """What a compiled program depends on in its arguments: structure, shapes, dtypes."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef, tuple((np.shape(x), _dtype(x).str) for x in leaves)


def _dtype(x: Any) -> np.dtype:
    return x.dtype if isinstance(x, np.ndarray | jax.Array) else np.result_type(x)


def _compile(fn: Callable, *args) -> Callable:
    """``fn`` jitted and compiled ahead of time for arguments like ``args``.

    A compiled program refuses arguments of other shapes instead of silently
    compiling again, which keeps the cache keys honest.
    """
    return jax.jit(fn).lower(*args).compile()


# ------------------------------------------------------------------ progress
_progress_lock = threading.Lock()
_progress_bar: list[Any] = [None]


def _advance_progress(steps) -> None:
    # runs on the host from inside compiled programs; the bar is looked up at
    # call time so a cached program reports to the current fit's bar
    with _progress_lock:
        bar = _progress_bar[0]
        if bar is not None:
            bar.update(int(steps))


def _tick(when, steps: int) -> None:
    """Inside a compiled loop: move the progress bar by ``steps`` when ``when`` holds."""
    jax.lax.cond(when, lambda: jax.debug.callback(_advance_progress, steps), lambda: None)


def _progress_every(settings: SamplerSettings) -> int:
    """Iterations between progress updates: about 50 updates per chain."""
    return max(1, (settings.warmup + settings.draws) // 50)


# ------------------------------------------------------------------ sampling
def default_chain_method(chains: int) -> str:
    """vectorized on accelerators; parallel over CPU devices when there are enough."""
    if jax.default_backend() != "cpu":
        return "vectorized"
    return "parallel" if jax.local_device_count() >= chains else "sequential"


def _chain_method(settings: SamplerSettings) -> str:
    method = settings.chain_method or default_chain_method(settings.chains)
    if method == "parallel" and settings.chains > jax.local_device_count():
        # NumPyro's MCMC makes the same fallback, with a warning like this one
        warn_user(
            f"chain_method='parallel' needs a device per chain: {settings.chains} chains "
            f"but {jax.local_device_count()} devices; the chains run sequentially"
        )
        method = "sequential"
    return method


def _nuts(model: Model, settings: SamplerSettings) -> NUTS:
    return NUTS(
        model.numpyro_model,
        target_accept_prob=settings.target_accept,
        max_tree_depth=settings.max_tree_depth,
        dense_mass=settings.dense_mass,
    )


def _one_chain(
    model: Model, settings: SamplerSettings, *, progress: bool, batch: int = 1
) -> Callable:
    """A function (key, data) -> (draws, fields) running warm-up and sampling of one chain.

    It does what NumPyro's ``MCMC.run`` does for one chain (the kernel's ``init``,
    then ``fori_collect`` over warm-up and draws keeping the draws), with the
    data as an argument. A fresh kernel is made on every trace: NUTS keeps
    functions built from the traced data on itself. ``batch``: how many chains
    one progress update stands for (under ``vmap`` the host hears once for all).
    """
    getters = tuple(attrgetter(f) for f in EXTRA_FIELDS)
    every = _progress_every(settings)
    warmup, total = settings.warmup, settings.warmup + settings.draws

    def run(rng_key, data: ModelData, init=None):
        kernel = _nuts(model, settings)
        state = kernel.init(rng_key, warmup, init, model_args=(data,), model_kwargs={})
        constrain = kernel.postprocess_fn((data,), {})

        def collect(val):
            state = val[0] if progress else val
            return constrain(state.z), tuple(get(state) for get in getters)

        if not progress:
            step = lambda state: kernel.sample(state, (data,), {})  # noqa: E731
            init = state
        else:
            # a step counter beside the state; every `every` steps the host's bar moves
            def step(val):
                state, i = val
                state = kernel.sample(state, (data,), {})
                i = i + 1
                _tick(i % every == 0, every * batch)
                if total % every:
                    _tick(i == total, (total % every) * batch)
                return state, i

            init = (state, jax.numpy.asarray(0))

        return fori_collect(
            warmup,
            total,
            step,
            init,
            transform=collect,
            progbar=False,
            collection_size=settings.draws,
        )

    return run


def _sampler(
    model: Model, settings: SamplerSettings, method: str, *, progress: bool, key, data, init
):
    """A compiled program (key, data, init) -> (draws, fields), each (chain, draw, ...).

    ``init``: None (NumPyro's default start) or the model's starting points on
    the unconstrained scale, stacked over chains.

    Chains are split from one key as NumPyro's MCMC does (one chain uses the
    key itself) and mapped with ``jax.pmap`` (parallel), ``jax.lax.map``
    (sequential) or ``jax.vmap`` (vectorized).
    """
    chains = settings.chains
    one = _one_chain(
        model, settings, progress=progress, batch=chains if method == "vectorized" else 1
    )
    if chains == 1:
        return _compile(
            lambda k, d, i: jax.tree.map(
                lambda x: x[None], one(k, d, jax.tree.map(lambda v: v[0], i))
            ),
            key,
            data,
            init,
        )
    if method == "parallel":
        split = _compile(lambda k: jax.random.split(k, chains), key)
        if init is None:  # pmap cannot map an axis of an empty argument
            mapped = jax.pmap(one, in_axes=(0, None)).lower(split(key), data).compile()
            return lambda k, d, i: mapped(split(k), d)
        mapped = jax.pmap(one, in_axes=(0, None, 0)).lower(split(key), data, init).compile()
        return lambda k, d, i: mapped(split(k), d, i)
    if method == "sequential":
        return _compile(
            lambda k, d, i: jax.lax.map(
                lambda ki: one(ki[0], d, ki[1]), (jax.random.split(k, chains), i)
            ),
            key,
            data,
            init,
        )
    return _compile(
        lambda k, d, i: jax.vmap(one, in_axes=(0, None, 0))(jax.random.split(k, chains), d, i),
        key,
        data,
        init,
    )


def _initial_params(model: Model, data: ModelData, settings: SamplerSettings):
    """The model's starting points (``Model.initial_point``) on the unconstrained
    scale, stacked over chains, or None for NumPyro's default start."""
    points = initial_points(model, data, settings.chains, settings.seed)
    if points is None:
        return None
    float_type = jax.numpy.result_type(float)
    z = [
        unconstrain_fn(
            model.numpyro_model,
            (data,),
            {},
            {k: jax.numpy.asarray(v, dtype=float_type) for k, v in p.items()},
        )
        for p in points
    ]
    return {k: jax.numpy.stack([zi[k] for zi in z]) for k in z[0]}


def _improper(model: Model, what: str, exc: Exception) -> ProbgenError:
    return ProbgenError(
        f"{model!r} cannot {what}: a prior is improper (flat). "
        "Pass `params=` or configure proper priors."
    )


class NumPyroBackend:
    """NumPyro's NUTS on the NumPyro twin (see :class:`probgen.backends.base.Backend`).

    Programs are compiled once per model configuration, data shapes and
    settings, and reused (see the module docstring).
    """

    name = "numpyro"

    def fit(
        self, model: Model, data: ModelData, settings: SamplerSettings, *, progress: bool
    ) -> RawFit:
        precision = apply_precision()
        method = _chain_method(settings)
        key = jax.random.key(settings.seed)
        init = _initial_params(model, data, settings)
        cache_key = (
            # None and a dict of starts are different programs
            _signature(init),
            "sample",
            _model_key(model),
            _signature(data),
            precision,
            settings.chains,
            settings.draws,
            settings.warmup,
            settings.target_accept,
            settings.max_tree_depth,
            settings.dense_mass,
            method,
            progress,
        )
        program, compile_time = _PROGRAMS.get(
            cache_key,
            lambda: _sampler(
                model, settings, method, progress=progress, key=key, data=data, init=init
            ),
        )
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=settings.chains * (settings.warmup + settings.draws), desc="NUTS")
        with _progress_lock:
            _progress_bar[0] = bar
        start = time.perf_counter()
        try:
            draws, fields = jax.block_until_ready(program(key, data, init))
        finally:
            sampling_time = time.perf_counter() - start
            with _progress_lock:
                _progress_bar[0] = None
            if bar is not None:
                bar.close()
        fields = dict(zip(EXTRA_FIELDS, (np.asarray(f) for f in fields), strict=True))
        draws = {name: np.asarray(value) for name, value in draws.items()}
        posterior = {name: draws[name] for name in model.var_dims()}
        n_steps = fields["num_steps"].astype(np.int64)
        depth = tree_depth_from_steps(n_steps)
        stats = {
            "diverging": fields["diverging"].astype(bool),
            "lp": -fields["potential_energy"],
            "energy": fields["energy"],
            "step_size": fields["adapt_state.step_size"],
            "tree_depth": depth,
            "n_steps": n_steps,
            "acceptance_rate": fields["accept_prob"],
            "reached_max_treedepth": depth >= settings.max_tree_depth,
        }
        loglik, loglik_compile = self._log_likelihood(model, data, draws, precision)
        return RawFit(
            posterior=posterior,
            sample_stats=stats,
            log_likelihood=loglik,
            attrs={
                "inference_library": "numpyro",
                "inference_library_version": numpyro.__version__,
                "sampler": "numpyro",
                "chain_method": method,
                "precision": precision,
                # like PyMC's: warm-up and sampling, compilation excluded
                "sampling_time": sampling_time,
                # tracing, lowering and compiling this fit's programs; 0 when reused
                "compile_time": compile_time + loglik_compile,
                "tuning_steps": settings.warmup,
            },
        )

    def _log_likelihood(
        self, model: Model, data: ModelData, draws: Mapping, precision: str
    ) -> tuple[dict[str, np.ndarray], float]:
        """Pointwise log likelihood of every observed site at every draw, and compile time."""

        def loglik(draws, data):
            return numpyro.infer.log_likelihood(model.numpyro_model, draws, data, batch_ndims=2)

        program, seconds = _PROGRAMS.get(
            ("loglik", _model_key(model), _signature(data), _signature(draws), precision),
            lambda: _compile(loglik, draws, data),
        )
        return {k: np.asarray(v) for k, v in program(draws, data).items()}, seconds

    def _predict(
        self,
        model: Model,
        data: ModelData,
        seed: int,
        *,
        what: str,
        num_samples: int | None = None,
        posterior: dict[str, np.ndarray] | None = None,
        return_sites: tuple[str, ...] | None = None,
    ) -> dict[str, np.ndarray]:
        """Draws of NumPyro's ``Predictive``, compiled once per shapes (data and draws)."""
        precision = apply_precision()

        options: dict[str, Any] = {}
        if num_samples is not None:
            options["num_samples"] = num_samples
        if return_sites is not None:
            options["return_sites"] = list(return_sites)

        def predict(rng_key, data, posterior):
            if posterior is None:
                return Predictive(model.numpyro_model, **options)(rng_key, data)
            return Predictive(
                model.numpyro_model, posterior_samples=posterior, batch_ndims=2, **options
            )(rng_key, data)

        key = jax.random.key(seed)
        cache_key = (
            "predict",
            _model_key(model),
            _signature(data),
            _signature(posterior),
            num_samples,
            return_sites,
            precision,
        )
        try:
            program, _ = _PROGRAMS.get(cache_key, lambda: _compile(predict, key, data, posterior))
        except NotImplementedError as exc:  # ImproperUniform (flat priors) cannot be sampled
            raise _improper(model, what, exc) from exc
        return {k: np.asarray(v) for k, v in program(key, data, posterior).items()}

    def log_likelihood(
        self, model: Model, data: ModelData, posterior: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        precision = apply_precision()
        draws = {k: np.asarray(v) for k, v in posterior.items()}
        return self._log_likelihood(model, data, draws, precision)[0]

    def prior_predictive(self, model: Model, data: ModelData, *, draws: int, seed: int):
        data = data.with_values(**{name: None for name in model.observed})
        out = self._predict(model, data, seed, what="generate from its prior", num_samples=draws)
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
            what="generate from its posterior",
            posterior={k: np.asarray(v) for k, v in posterior.items()},
            return_sites=tuple(model.observed),
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
        precision = apply_precision()

        def logp(params, data):
            return _log_density(model.numpyro_model, (data,), {}, params)[0]

        # jitted, not compiled ahead: the parameters' shapes are known only when
        # called; jit compiles once per shapes of (params, data)
        jitted, _ = _PROGRAMS.get(("logp", _model_key(model), precision), lambda: jax.jit(logp))
        return lambda params: float(jitted({k: np.asarray(v) for k, v in params.items()}, data))


def random_trace(model: Model, data: ModelData, key) -> dict:
    """A NumPyro trace of the model at a random point of its support.

    Unconstrained values uniform in (-2, 2), mapped to each site's support:
    the way Stan and NumPyro pick initial points, so flat priors work too.
    """
    substituted = handlers.substitute(
        handlers.seed(model.numpyro_model, key), substitute_fn=init_to_uniform(radius=2)
    )
    return handlers.trace(substituted).get_trace(data)


# ------------------------------------------------------ many data sets at once
def stack_data(datas: list[ModelData]) -> ModelData:
    """Data sets of one structure stacked along a new leading axis (for :func:`fit_batch`).

    Every data set must have the same keys, dimension lengths, shapes and dtypes;
    the first one's coordinate labels are kept.
    """
    if not datas:
        raise ValueError("datas must hold at least one data set")
    first = _signature(datas[0])
    for i, d in enumerate(datas[1:], start=1):
        if _signature(d) != first:
            raise ValueError(
                f"datas[{i}] differs in structure, shapes or dtypes from datas[0]; "
                "fit_batch stacks data sets of one shape only"
            )
    keys = sorted(datas[0].values)
    values = {
        k: None if datas[0].values[k] is None else np.stack([np.asarray(d[k]) for d in datas])
        for k in keys
    }
    return ModelData(values, dict(datas[0].coords))


def fit_batch(
    model: Model,
    datas: ModelData,
    settings: SamplerSettings,
    keys: np.ndarray,
    truths: Mapping[str, np.ndarray],
    inits: Mapping[str, np.ndarray] | None = None,
    method: str | None = None,
) -> tuple[dict, dict, dict, dict, float]:
    """NUTS on many data sets of one shape in ONE compiled program.

    Each data set gets exactly what :func:`_one_chain` does for a chain of a
    vectorized fit: its chains are split from its own key, run warm-up and
    sampling; then the pointwise log likelihood is evaluated at every draw and
    at the data set's true parameters (for simulation-based calibration).

    ``method="vmap"`` runs the data sets side by side: NumPyro's NUTS under
    ``vmap`` masks the finished lanes of its tree-building loop, so every data
    set's draws are those it would get alone, but each iteration costs the
    longest trajectory in the batch, which pays where lanes run in parallel (an
    accelerator) or where per-operation overhead dominates (small models on a
    CPU). ``method="map"`` (``jax.lax.map``) runs them one after the other
    inside the same compiled program: no longest-trajectory penalty, which can
    pay for larger models on a CPU. Default "vmap"; ``benchmarks/RESULTS.md``
    has both on CPU. Both give the same draws.

    Parameters
    ----------
    model : Model
    datas : ModelData
        Data sets stacked along a leading axis of length B (:func:`stack_data`).
    settings : SamplerSettings
        chains, draws, warm-up, target_accept, max_tree_depth, dense_mass; the
        seed is not used (``keys`` seed each data set).
    keys : array of uint32, shape (B, 2)
        Raw PRNG keys (``jax.random.key_data``), one per data set.
    truths : mapping
        True values of every variable of ``model.var_dims()``, each (B, ...).
    inits : mapping, optional
        Unconstrained starting points, each (B, chains, ...), or None.
    method : {"map", "vmap"}, optional
        How the data sets share the program (see above).

    Returns
    -------
    draws : dict
        Every site NUTS returns (latent and deterministic), (B, chain, draw, ...).
    fields : dict
        :data:`EXTRA_FIELDS`, each (B, chain, draw).
    loglik : dict
        Observed site -> (B, chain, draw, ...) pointwise log likelihood.
    loglik_truth : dict
        Observed site -> (B, ...) pointwise log likelihood at the truth.
    compile_time : float
        Seconds spent compiling (0.0 when the program came from the cache).
    """
    precision = apply_precision()
    one = _one_chain(model, settings, progress=False)
    chains = settings.chains

    def per_data(key, data, truth, init):
        chain_keys = jax.random.split(jax.random.wrap_key_data(key), chains)
        draws, fields = jax.vmap(one, in_axes=(0, None, 0))(chain_keys, data, init)
        ll = numpyro.infer.log_likelihood(model.numpyro_model, draws, data, batch_ndims=2)
        at_truth = numpyro.infer.log_likelihood(
            model.numpyro_model, jax.tree.map(lambda v: v[None, None], truth), data, batch_ndims=2
        )
        return draws, fields, ll, jax.tree.map(lambda v: v[0, 0], at_truth)

    if method is None:
        method = "vmap"
    if method not in ("map", "vmap"):
        raise ValueError(f"method must be 'map' or 'vmap', got {method!r}")
    if method == "vmap":
        program_fn = jax.vmap(per_data)
    else:

        def program_fn(keys, datas, truths, inits):
            return jax.lax.map(lambda a: per_data(*a), (keys, datas, truths, inits))

    keys = np.asarray(keys)
    truths = {k: np.asarray(v) for k, v in truths.items()}
    cache_key = (
        "sbc_batch",
        method,
        _model_key(model),
        _signature(datas),
        _signature(truths),
        _signature(inits),
        keys.shape,
        precision,
        chains,
        settings.draws,
        settings.warmup,
        settings.target_accept,
        settings.max_tree_depth,
        settings.dense_mass,
    )
    program, compile_time = _PROGRAMS.get(
        cache_key, lambda: _compile(program_fn, keys, datas, truths, inits)
    )
    draws, fields, ll, ll_truth = jax.block_until_ready(program(keys, datas, truths, inits))
    return (
        {k: np.asarray(v) for k, v in draws.items()},
        dict(zip(EXTRA_FIELDS, (np.asarray(f) for f in fields), strict=True)),
        {k: np.asarray(v) for k, v in ll.items()},
        {k: np.asarray(v) for k, v in ll_truth.items()},
        compile_time,
    )


def initial_params(model: Model, data: ModelData, settings: SamplerSettings):
    """The model's unconstrained starting points for a fit with ``settings``
    (stacked over chains), or None for NumPyro's default start."""
    return _initial_params(model, data, settings)
