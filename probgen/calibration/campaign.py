"""SBC campaigns: prior draws -> simulated data sets -> fits -> ranks.

One simulation (:func:`simulate_and_fit`) or many (:func:`run_batch`) are
seeded from ``numpy.random.SeedSequence([seed, index])`` alone, so a simulation
gives the same ranks wherever and with whatever else it runs: in a loop, in a
batch, in another process or on a Dask worker. The sequence is spawned into four
children, always in this order:

0. the simulation's seed (the simulator's prior draw and its data set);
1. the fit's seed (NUTS' key, and the model's starting points);
2. the generator that breaks ties among ranks;
3. the generator of the PIT values' jitter (:mod:`.results`).

Quantities ranked, each a scalar: every variable of the fitted model's
``var_dims()`` (sampled and deterministic), vectors flattened as ``name[i]``
and arrays as ``name[i,j]`` with 0-based positions (not coordinate labels), and
the test quantities: ``"loglik"`` (log p(y | theta) summed over every observed
site and element: the rank of its value at the truth among its values at the
draws) and user functions ``f(params, data) -> float`` (``params``: one draw's
constrained values of every variable of ``var_dims()``; ``data``: the fitted
:class:`probgen.ModelData`).

Speed: with NumPyro a batch of data sets of one shape is fitted by ONE compiled
program (:func:`probgen.backends.numpyro.fit_batch`, ``vmap`` of warm-up and
sampling), compiled once per shapes and settings and reused by every later
batch. A batch of one is the same program with a batch axis of one, which is
what :func:`simulate_and_fit` runs. With PyMC the zoo's twins take the observed
values as constants (``observed=data["y"]``), not as ``pm.Data``, so a data
set cannot be swapped into a built model with ``pm.set_data``; every fit builds
its twin afresh (PyTensor's compile cache on disk makes the second and later
builds of one graph cheaper; see ``benchmarks/RESULTS.md`` for the cost).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probgen.calibration.ranks import rank_statistics, thin_factor
from probgen.data import ModelData
from probgen.errors import ConfigError
from probgen.model import Model
from probgen.settings import SamplerSettings, check_count, make_settings

__all__ = [
    "LOGLIK",
    "SBCSettings",
    "SimulationResult",
    "quantity_names",
    "run_batch",
    "sbc",
    "sbc_settings",
    "simulate_and_fit",
    "simulation_seeds",
]

#: the name of the log-likelihood test quantity
LOGLIK = "loglik"

TestQuantity = Callable[[Mapping[str, np.ndarray], ModelData], float]


# ------------------------------------------------------------------ results
@dataclass
class SimulationResult:
    """The outcome of one simulation of a campaign.

    Attributes
    ----------
    index : int
        The simulation's index in the campaign.
    seed : int
        The campaign's seed (with ``index``, all the randomness of this simulation).
    ranks : dict of str to int
        Rank of the true value among the ``n_draws`` thinned draws, per scalar
        quantity: ``mu``, ``theta[0]``, ``W[0,1]`` (0-based positions), then the
        test quantities (``loglik``, user functions' names). Empty on error.
    n_draws : int
        ``L``: pooled draws after thinning (ranks lie in ``0..L``); 0 on error.
    diagnostics : dict
        ``divergences`` (int), ``max_rhat`` (float; NaN with one chain),
        ``min_ess_bulk`` (float), ``thin`` (int), ``ok`` (bool: no divergence,
        R-hat <= ``rhat_max`` where computable, bulk ESS >= ``ess_min``).
    error : str or None
        What went wrong when the simulation or its fit raised; None otherwise.
    """

    index: int
    seed: int
    ranks: dict[str, int]
    n_draws: int
    diagnostics: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class SBCSettings:
    """How every fit of a campaign runs (picklable: workers receive it).

    Attributes
    ----------
    sampler : SamplerSettings
        Chains, draws, warm-up, NUTS options (its seed is replaced per fit).
    data : mapping or None
        The raw data the simulator generates at (covariates, sizes such as
        ``J``); None: the model's bundled data set. Observed values in it are
        ignored.
    rhat_max, ess_min : float
        A fit passes its diagnostics with no divergence, R-hat at most
        ``rhat_max`` and smallest bulk ESS at least ``ess_min``.
    batch_method : {None, "map", "vmap"}
        NumPyro only: how a batch's data sets share one compiled program
        (:func:`probgen.backends.numpyro.fit_batch`; None: "vmap", side by
        side; "map": in turn inside the program). It changes the speed, not the
        draws, so it is not part of a campaign's identity.
    """

    sampler: SamplerSettings
    data: Mapping[str, Any] | None = None
    rhat_max: float = 1.01
    ess_min: float = 100.0
    batch_method: str | None = None

    def as_attrs(self) -> dict[str, Any]:
        """JSON-ready description (the data by its fingerprint)."""
        return {
            "sampler": {k: v for k, v in self.sampler.as_attrs().items() if k != "seed"},
            "rhat_max": self.rhat_max,
            "ess_min": self.ess_min,
        }


def sbc_settings(
    model: str | Model,
    *,
    backend: str = "numpyro",
    sampler: str | None = None,
    chains: int = 2,
    draws: int = 500,
    warmup: int = 500,
    target_accept: float | None = None,
    max_tree_depth: int | None = None,
    dense_mass: bool | None = None,
    data: Mapping[str, Any] | None = None,
    rhat_max: float = 1.01,
    ess_min: float = 100.0,
    batch_method: str | None = None,
) -> SBCSettings:
    """Validated :class:`SBCSettings`; NUTS options default to the model's
    ``sampler_defaults`` as in :func:`probgen.sample`.

    PyMC's own sampler runs its chains in one process (``cores=1``): a campaign
    parallelises over simulations instead.
    """
    model = _resolve(model, "model")
    defaults = model.sampler_defaults
    settings = make_settings(
        backend=backend,
        sampler=sampler,
        chains=chains,
        draws=draws,
        warmup=warmup,
        seed=0,
        target_accept=defaults.get("target_accept", 0.8)
        if target_accept is None
        else target_accept,
        max_tree_depth=defaults.get("max_tree_depth", 10)
        if max_tree_depth is None
        else max_tree_depth,
        dense_mass=defaults.get("dense_mass", False) if dense_mass is None else dense_mass,
        chain_method="vectorized" if backend == "numpyro" else None,
        cores=1 if backend == "pymc" and sampler in (None, "pymc") else None,
    )
    if data is not None and not isinstance(data, Mapping):
        raise TypeError(
            f"data must be a mapping of field name to values, got {type(data).__name__}"
        )
    for name, value in (("rhat_max", rhat_max), ("ess_min", ess_min)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if batch_method not in (None, "map", "vmap"):
        raise ValueError(f"batch_method must be None, 'map' or 'vmap', got {batch_method!r}")
    return SBCSettings(
        settings,
        None if data is None else dict(data),
        float(rhat_max),
        float(ess_min),
        batch_method,
    )


# ------------------------------------------------------------------- seeding
def simulation_seeds(seed: int, index: int) -> list[np.random.SeedSequence]:
    """The four seed sequences of simulation ``index`` (see the module docstring)."""
    seed = check_count("seed", seed, minimum=0)
    index = check_count("index", index, minimum=0)
    return np.random.SeedSequence([seed, index]).spawn(4)


def _int_seed(seq: np.random.SeedSequence) -> int:
    # a non-negative int32: both backends and jax.random.key accept it
    return int(seq.generate_state(1, np.uint32)[0] >> 1)


# -------------------------------------------------------------- validation
def _resolve(model: str | Model | None, what: str) -> Model:
    from probgen.registry import get_model

    if isinstance(model, Model):
        return model
    if isinstance(model, str):
        return get_model(model)
    raise TypeError(
        f"{what} must be a registry name or a probgen Model, got {type(model).__name__}"
    )


def _test_quantities(
    test_quantities: Mapping[str, TestQuantity | str] | Sequence[TestQuantity | str] | None,
) -> dict[str, TestQuantity | str]:
    """Name -> ``"loglik"`` or a callable, checked."""
    if test_quantities is None:
        return {}
    if isinstance(test_quantities, str) or callable(test_quantities):
        test_quantities = (test_quantities,)
    if isinstance(test_quantities, Mapping):
        items = list(test_quantities.items())
    elif isinstance(test_quantities, Iterable):
        items = []
        for q in test_quantities:
            if isinstance(q, str):
                items.append((q, q))
            elif callable(q):
                items.append((getattr(q, "__name__", ""), q))
            else:
                raise TypeError(
                    f"test_quantities must hold {LOGLIK!r} or callables f(params, data) -> float, "
                    f"got {type(q).__name__} {q!r}"
                )
    else:
        raise TypeError(
            "test_quantities must be a sequence or a mapping of name to "
            f"{LOGLIK!r} / callable, got {type(test_quantities).__name__}"
        )
    out: dict[str, TestQuantity | str] = {}
    for name, q in items:
        if not isinstance(name, str) or not name or not name.isidentifier():
            raise ValueError(
                f"test quantity names must be identifiers, got {name!r} (name a lambda "
                "through a mapping: {'name': f})"
            )
        if isinstance(q, str) and q != LOGLIK:
            raise ValueError(f"the only built-in test quantity is {LOGLIK!r}, got {q!r}")
        if not isinstance(q, str) and not callable(q):
            raise TypeError(f"test quantity {name!r} must be callable, got {type(q).__name__}")
        if name in out:
            raise ValueError(f"test quantity {name!r} is given twice")
        out[name] = q
    return out


def _check_simulator(model: Model, simulator: Model) -> None:
    """The simulator must generate every parameter of the fitted model and its outcome."""
    missing = sorted(set(model.var_dims()) - set(simulator.var_dims()))
    if missing:
        raise ConfigError(
            f"simulate_with={simulator!r} does not generate the fitted model's parameters "
            f"{missing}: the simulator's parameters must be named like {model.name}'s "
            f"({sorted(model.var_dims())})"
        )
    sim_fields = {f.name for f in simulator.fields}
    lacking = sorted(set(model.observed) - sim_fields)
    if lacking:
        raise ConfigError(
            f"simulate_with={simulator!r} does not generate the fitted model's observed "
            f"fields {lacking}"
        )
    clash = sorted(q for q in model.var_dims() if q == LOGLIK)
    if clash:
        raise ConfigError(f"a parameter is named {LOGLIK!r}, the log-likelihood test quantity")


def quantity_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """Scalar names of a variable: ``mu``; ``theta[0]``..; ``W[0,0]``, ``W[0,1]``.."""
    if shape == ():
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


# ---------------------------------------------------------------- simulate
@dataclass
class _Simulated:
    index: int
    data: ModelData | None = None
    truth: dict[str, np.ndarray] = field(default_factory=dict)
    error: str | None = None


def _simulate(
    model: Model, simulator: Model, backend: str, index: int, seed: int, settings: SBCSettings
) -> _Simulated:
    from probgen.backends import get_backend

    seqs = simulation_seeds(seed, index)
    try:
        base_sim = simulator.prepare(settings.data, require_observed=False).with_values(
            **{name: None for name in simulator.observed}
        )
        full, truth = get_backend(backend).simulate(
            simulator, base_sim, params=None, seed=_int_seed(seqs[0])
        )
        base_fit = model.prepare(settings.data, require_observed=False)
        values = {name: np.asarray(full[name]) for name in model.observed}
        bad = [name for name, v in values.items() if not np.all(np.isfinite(v))]
        if bad:
            raise FloatingPointError(f"the simulated {bad} hold non-finite values")
        for name, v in values.items():
            expected = np.shape(base_fit[name]) if base_fit[name] is not None else None
            want = tuple(base_fit.size(d) for d in model.field(name).dims)
            if v.shape != want and v.shape != expected:
                raise ValueError(
                    f"the simulator generated {name} of shape {v.shape}; "
                    f"{model.name} expects {want}"
                )
        data = base_fit.with_values(**values)
        truth = {k: np.asarray(truth[k]) for k in model.var_dims()}
    except Exception as exc:  # one simulation failing must not stop a campaign
        return _Simulated(index, error=_describe(exc, "simulation"))
    return _Simulated(index, data, truth)


def _describe(exc: BaseException, stage: str) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{stage} failed: {type(exc).__name__}: {exc}{where}"


# --------------------------------------------------------------------- fits
@dataclass
class _Fit:
    posterior: dict[str, np.ndarray]  # (chain, draw, ...)
    loglik: np.ndarray  # (chain, draw) summed over sites and elements
    loglik_truth: float
    divergences: int


def _sum_loglik(ll: Mapping[str, np.ndarray], lead: int) -> np.ndarray:
    """Sum pointwise log likelihoods over sites and every axis after the first ``lead``."""
    total = 0.0
    for v in ll.values():
        v = np.asarray(v, dtype=float)
        total = total + v.reshape(*v.shape[:lead], -1).sum(axis=-1)
    return np.asarray(total)


def _fit_numpyro(
    model: Model, sims: list[_Simulated], seed: int, settings: SBCSettings
) -> dict[int, _Fit | str]:
    """Every simulated data set fitted by one compiled program per data shape."""
    import jax

    from probgen.backends import numpyro as nb

    out: dict[int, _Fit | str] = {}
    groups: dict[Any, list[_Simulated]] = {}
    for s in sims:
        groups.setdefault(nb._signature(s.data), []).append(s)
    for group in groups.values():
        try:
            inits, keys = [], []
            for s in group:
                fit_seed = _int_seed(simulation_seeds(seed, s.index)[1])
                keys.append(np.asarray(jax.random.key_data(jax.random.key(fit_seed))))
                own = dataclasses.replace(settings.sampler, seed=fit_seed)
                inits.append(nb.initial_params(model, s.data, own))
            if any(i is None for i in inits):
                stacked_init = None
            else:
                stacked_init = {k: np.stack([np.asarray(i[k]) for i in inits]) for k in inits[0]}
            truths = {
                k: np.stack([np.asarray(s.truth[k], dtype=float) for s in group])
                for k in model.var_dims()
            }
            draws, fields, ll, ll_truth, _ = nb.fit_batch(
                model,
                nb.stack_data([s.data for s in group]),
                settings.sampler,
                np.stack(keys),
                truths,
                stacked_init,
                method=settings.batch_method,
            )
        except Exception as exc:
            for s in group:
                out[s.index] = _describe(exc, "fit")
            continue
        ll_sum = _sum_loglik(ll, 3)
        ll_truth_sum = _sum_loglik(ll_truth, 1)
        for b, s in enumerate(group):
            out[s.index] = _Fit(
                posterior={k: draws[k][b] for k in model.var_dims()},
                loglik=ll_sum[b],
                loglik_truth=float(ll_truth_sum[b]),
                divergences=int(np.sum(fields["diverging"][b])),
            )
    return out


def _fit_pymc(
    model: Model, sims: list[_Simulated], seed: int, settings: SBCSettings
) -> dict[int, _Fit | str]:
    """Every data set fitted in turn; the twin is rebuilt per fit (see the module docstring)."""
    from probgen.backends import get_backend

    backend = get_backend("pymc")
    out: dict[int, _Fit | str] = {}
    with _quiet_pymc():
        for s in sims:
            out[s.index] = _fit_pymc_one(backend, model, s, seed, settings)
    return out


@contextlib.contextmanager
def _quiet_pymc():
    """PyMC's per-fit INFO lines ("Initializing NUTS ...") silenced: a campaign
    runs hundreds of fits and reports its own progress."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _fit_pymc_one(
    backend: Any, model: Model, s: _Simulated, seed: int, settings: SBCSettings
) -> _Fit | str:
    """One PyMC fit and the log likelihood at the truth (an error's text on failure)."""
    fit_seed = _int_seed(simulation_seeds(seed, s.index)[1])
    try:
        raw = backend.fit(
            model, s.data, dataclasses.replace(settings.sampler, seed=fit_seed), progress=False
        )
        at_truth = backend.log_likelihood(
            model, s.data, {k: np.asarray(v)[None, None] for k, v in s.truth.items()}
        )
    except Exception as exc:
        return _describe(exc, "fit")
    return _Fit(
        posterior={k: np.asarray(raw.posterior[k]) for k in model.var_dims()},
        loglik=_sum_loglik(raw.log_likelihood, 2),
        loglik_truth=float(_sum_loglik(at_truth, 2).ravel()[0]),
        divergences=int(np.sum(raw.sample_stats["diverging"])),
    )


# -------------------------------------------------------------------- ranks
def _fit_diagnostics(stacked: np.ndarray, divergences: int, settings: SBCSettings) -> dict:
    """R-hat and bulk ESS over the (chain, draw, quantity) array, and the verdict."""
    import warnings

    from arviz_stats.base import array_stats

    chains, draws = stacked.shape[:2]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        ess = np.asarray(array_stats.ess(stacked, chain_axis=0, draw_axis=1, method="bulk"))
        rhat = (
            np.asarray(array_stats.rhat(stacked, chain_axis=0, draw_axis=1))
            if chains > 1
            else np.full(stacked.shape[2], np.nan)
        )
    # a constant quantity (a fixed deterministic) has no ESS or R-hat: left out
    ess_min = float(np.nanmin(ess)) if np.any(np.isfinite(ess)) else math.nan
    rhat_max = float(np.nanmax(rhat)) if np.any(np.isfinite(rhat)) else math.nan
    ok = (
        divergences == 0
        and ((math.isnan(rhat_max) and chains == 1) or rhat_max <= settings.rhat_max)
        and (not math.isnan(ess_min) and ess_min >= settings.ess_min)
    )
    return {
        "divergences": int(divergences),
        "max_rhat": rhat_max,
        "min_ess_bulk": ess_min,
        "thin": thin_factor(ess_min, chains, draws),
        "ok": bool(ok),
    }


def _result(
    model: Model,
    sim: _Simulated,
    fit: _Fit,
    seed: int,
    settings: SBCSettings,
    quantities: Mapping[str, TestQuantity | str],
) -> SimulationResult:
    """Ranks and diagnostics of one fit."""
    names: list[str] = []
    columns: list[np.ndarray] = []
    truths: list[float] = []
    for var in model.var_dims():
        draws = np.asarray(fit.posterior[var], dtype=float)
        chains, n = draws.shape[:2]
        truth = np.asarray(sim.truth[var], dtype=float)
        if truth.shape != draws.shape[2:]:
            raise ConfigError(
                f"the simulator's {var} has shape {truth.shape}, the fitted model's "
                f"{draws.shape[2:]}"
            )
        names += quantity_names(var, truth.shape)
        columns.append(draws.reshape(chains, n, -1))
        truths.extend(truth.ravel().tolist())
    if LOGLIK in quantities.values():
        name = next(k for k, q in quantities.items() if q == LOGLIK)
        names.append(name)
        columns.append(fit.loglik[:, :, None])
        truths.append(fit.loglik_truth)
    stacked = np.concatenate(columns, axis=2)
    diagnostics = _fit_diagnostics(stacked, fit.divergences, settings)
    thin = diagnostics["thin"]
    rng = np.random.default_rng(simulation_seeds(seed, sim.index)[2])
    ranks_arr, n_draws = rank_statistics(np.asarray(truths), stacked, thin=thin, rng=rng)
    ranks = dict(zip(names, (int(r) for r in ranks_arr), strict=True))
    users = {k: q for k, q in quantities.items() if q != LOGLIK}
    if users:
        # evaluated at the thinned draws only: those are the ones ranked
        chains, n = stacked.shape[:2]
        kept = [(c, d) for c in range(chains) for d in range(0, n, thin)]
        for name, f in users.items():
            at_truth = float(f(dict(sim.truth), sim.data))
            values = np.array(
                [
                    float(f({k: v[c, d] for k, v in fit.posterior.items()}, sim.data))
                    for c, d in kept
                ]
            )
            r, _ = rank_statistics(at_truth, values[:, None], thin=1, rng=rng)
            ranks[name] = int(r)
    return SimulationResult(sim.index, seed, ranks, n_draws, diagnostics)


def _failed(index: int, seed: int, error: str) -> SimulationResult:
    return SimulationResult(index, seed, {}, 0, {}, error)


# --------------------------------------------------------------- public API
def _check_common(
    model, backend, seed, settings, simulate_with, test_quantities
) -> tuple[Model, Model, str, int, SBCSettings, dict]:
    model = _resolve(model, "model")
    simulator = model if simulate_with is None else _resolve(simulate_with, "simulate_with")
    if backend not in ("numpyro", "pymc"):
        raise ValueError(f"backend must be 'numpyro' or 'pymc', got {backend!r}")
    seed = check_count("seed", seed, minimum=0)
    if settings is None:
        settings = sbc_settings(model, backend=backend)
    if not isinstance(settings, SBCSettings):
        raise TypeError(
            f"settings must be an SBCSettings (probgen.calibration.campaign.sbc_settings), "
            f"got {type(settings).__name__}"
        )
    if settings.sampler.backend != backend:
        raise ValueError(
            f"settings were made for backend={settings.sampler.backend!r}, not {backend!r}"
        )
    _check_simulator(model, simulator)
    quantities = _test_quantities(test_quantities)
    clash = sorted(set(quantities) & set(model.var_dims()))
    if clash:
        raise ValueError(f"test quantities {clash} are named like parameters of {model.name}")
    return model, simulator, backend, seed, settings, quantities


def run_batch(
    model: str | Model,
    backend: str,
    indices: Sequence[int],
    *,
    seed: int,
    settings: SBCSettings | None = None,
    simulate_with: str | Model | None = None,
    test_quantities: Mapping[str, TestQuantity | str] | Sequence[TestQuantity | str] | None = (
        LOGLIK,
    ),
) -> list[SimulationResult]:
    """Many simulations in one call; the same ranks as :func:`simulate_and_fit` per index.

    Parameters
    ----------
    model : str or Model
        The fitted model (a registry name or an instance).
    backend : {"numpyro", "pymc"}
        Simulates with and fits that backend's twin. NumPyro fits every data
        set of one shape in one compiled program; PyMC fits them in turn.
    indices : sequence of int
        Simulation indices (each seeds its simulation with ``[seed, index]``).
    seed : int
        The campaign's seed.
    settings : SBCSettings, optional
        From :func:`sbc_settings`; default ``sbc_settings(model, backend=backend)``.
    simulate_with : str or Model, optional
        Another model or configuration to simulate with; its parameters must be
        named like the fitted model's.
    test_quantities : sequence or mapping
        ``"loglik"`` and/or callables ``f(params, data) -> float``; a mapping
        names them.

    Returns
    -------
    list of SimulationResult
        In the order of ``indices``; a simulation or fit that raised has
        ``error`` set (never dropped).
    """
    model, simulator, backend, seed, settings, quantities = _check_common(
        model, backend, seed, settings, simulate_with, test_quantities
    )
    indices = [check_count("index", i, minimum=0) for i in indices]
    if len(set(indices)) != len(indices):
        raise ValueError("indices must be distinct")
    sims = [_simulate(model, simulator, backend, i, seed, settings) for i in indices]
    good = [s for s in sims if s.error is None]
    fits = (_fit_numpyro if backend == "numpyro" else _fit_pymc)(model, good, seed, settings)
    results = []
    for s in sims:
        if s.error is not None:
            results.append(_failed(s.index, seed, s.error))
            continue
        fit = fits[s.index]
        if isinstance(fit, str):
            results.append(_failed(s.index, seed, fit))
            continue
        try:
            results.append(_result(model, s, fit, seed, settings, quantities))
        except ConfigError:
            raise
        except Exception as exc:  # a user's test quantity raising, say
            results.append(_failed(s.index, seed, _describe(exc, "ranking")))
    return results


def simulate_and_fit(
    model: str | Model,
    backend: str,
    index: int,
    *,
    seed: int,
    settings: SBCSettings | None = None,
    simulate_with: str | Model | None = None,
    test_quantities: Mapping[str, TestQuantity | str] | Sequence[TestQuantity | str] | None = (
        LOGLIK,
    ),
) -> SimulationResult:
    """ONE simulation: prior draw, data set, fit, ranks (see :func:`run_batch`)."""
    return run_batch(
        model,
        backend,
        [index],
        seed=seed,
        settings=settings,
        simulate_with=simulate_with,
        test_quantities=test_quantities,
    )[0]


def data_fingerprint(model: Model, data: Mapping[str, Any] | None) -> str:
    """SHA-256 of the prepared data's arrays (what a resumed campaign must match)."""
    prepared = model.prepare(data, require_observed=False)
    h = hashlib.sha256()
    # the dimension lengths too: a series of 50 and one of 100 are other campaigns
    h.update(json.dumps(sorted((d, len(c)) for d, c in prepared.coords.items())).encode())
    for k in sorted(prepared.values):
        if k in model.observed:
            continue  # simulated, whatever the file holds
        v = prepared.values[k]
        h.update(k.encode())
        if v is not None:
            arr = np.ascontiguousarray(v)
            h.update(str(arr.dtype).encode() + str(arr.shape).encode() + arr.tobytes())
    return h.hexdigest()


def campaign_attrs(
    model: Model,
    simulator: Model,
    backend: str,
    seed: int,
    settings: SBCSettings,
    quantities: Mapping[str, TestQuantity | str],
) -> dict[str, str]:
    """What identifies a campaign (stored in its file; a resumed run must match)."""
    return {
        "sbc_model": model.name,
        "sbc_config": model.config_json(),
        "sbc_simulator": simulator.name,
        "sbc_simulator_config": simulator.config_json(),
        "sbc_simulator_class": f"{type(simulator).__module__}.{type(simulator).__qualname__}",
        "sbc_model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "sbc_backend": backend,
        "sbc_seed": str(seed),
        "sbc_settings": json.dumps(settings.as_attrs(), sort_keys=True),
        "sbc_data": data_fingerprint(model, settings.data),
        "sbc_test_quantities": json.dumps(sorted(quantities)),
    }


def sbc(
    model: str | Model,
    backend: str = "numpyro",
    num_simulations: int = 100,
    draws: int = 500,
    seed: int = 0,
    simulate_with: str | Model | None = None,
    test_quantities: Mapping[str, TestQuantity | str] | Sequence[TestQuantity | str] | None = (
        LOGLIK,
    ),
    out: str | None = None,
    batch_size: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    *,
    config: Mapping[str, Any] | None = None,
    chains: int = 2,
    warmup: int | None = None,
    data: Mapping[str, Any] | None = None,
    target_accept: float | None = None,
    max_tree_depth: int | None = None,
    batch_method: str | None = None,
    settings: SBCSettings | None = None,
):
    """Simulation-based calibration of a model's inference.

    Draws ``num_simulations`` parameter sets from the simulator's prior,
    simulates a data set from each, fits the model to it and ranks every true
    value among the thinned posterior draws of all chains.

    Parameters
    ----------
    model : str or Model
        The fitted model.
    backend : {"numpyro", "pymc"}
    num_simulations : int
        Simulations 0..num_simulations-1 (a resumed campaign may grow).
    draws : int
        Kept draws per chain (``warmup`` defaults to the same number).
    seed : int
        Simulation ``i`` is seeded from ``SeedSequence([seed, i])``.
    simulate_with : str or Model, optional
        A different simulator (another configuration or model) with parameters
        named like the fitted model's: how to check that SBC has power.
    test_quantities : sequence or mapping
        ``"loglik"`` (default) and/or callables ``f(params, data) -> float``.
    out : str, optional
        A netCDF file the campaign is appended to after every batch (written to
        a temporary file and renamed: never left half-written). When it exists,
        finished simulations are read back and skipped; its campaign must match
        these arguments (else :class:`probgen.errors.ConfigError`).
    batch_size : int, optional
        Simulations per batch (one compiled NumPyro program runs a batch);
        default 20 for NumPyro, 5 for PyMC.
    scheduler : {None, "local"} or str
        None runs here; "local" a Dask LocalCluster; otherwise a Dask
        scheduler's address (:func:`probgen.calibration.distributed.run_on_dask`).
    progress : bool
        A progress bar over simulations.
    config : mapping, optional
        The model's configuration when ``model`` is a name.
    chains, warmup, target_accept, max_tree_depth, data, batch_method :
        See :func:`sbc_settings`. ``settings`` overrides them all.

    Returns
    -------
    SBCResult
    """
    from probgen.calibration.results import SBCResult, load_sbc, write_sbc

    if config is not None:
        if not isinstance(model, str):
            raise TypeError("config= needs the model's name; configure an instance directly")
        from probgen.registry import get_model

        model = get_model(model, **dict(config))
    model = _resolve(model, "model")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    num_simulations = check_count("num_simulations", num_simulations)
    if settings is None:
        settings = sbc_settings(
            model,
            backend=backend,
            chains=chains,
            draws=draws,
            warmup=draws if warmup is None else warmup,
            data=data,
            target_accept=target_accept,
            max_tree_depth=max_tree_depth,
            batch_method=batch_method,
        )
    model, simulator, backend, seed, settings, quantities = _check_common(
        model, backend, seed, settings, simulate_with, test_quantities
    )
    batch_size = check_count(
        "batch_size", (20 if backend == "numpyro" else 5) if batch_size is None else batch_size
    )
    attrs = campaign_attrs(model, simulator, backend, seed, settings, quantities)
    done: dict[int, SimulationResult] = {}
    if out is not None:
        import os

        if os.path.exists(out):
            previous = load_sbc(out)
            stored = previous.attrs
            diff = sorted(k for k in attrs if stored.get(k) != attrs[k])
            if diff:
                detail = "; ".join(f"{k}: file {stored.get(k)!r} != {attrs[k]!r}" for k in diff)
                raise ConfigError(
                    f"{out} holds a different campaign ({detail}); pass another out= "
                    "or the same arguments to resume it"
                )
            done = {r.index: r for r in previous.results}
    todo = [i for i in range(num_simulations) if i not in done]
    var_dims = {k: model.var_dims()[k] for k in model.var_dims()}

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=num_simulations, initial=num_simulations - len(todo), desc="SBC")

    def finished(batch: list[SimulationResult]) -> None:
        for r in batch:
            done[r.index] = r
        if out is not None:
            write_sbc(out, list(done.values()), attrs, var_dims, quantities)
        if bar is not None:
            bar.update(len(batch))

    try:
        if todo and scheduler is not None:
            from probgen.calibration.distributed import run_on_dask

            if simulate_with is not None and not isinstance(simulate_with, str | Model):
                raise TypeError("simulate_with must be a name or a Model")
            run_on_dask(
                # the instance, not its name: a model registered or defined only in
                # this process (a notebook) is unknown to the workers' registries
                model,
                None,
                backend,
                todo,
                seed=seed,
                settings=settings,
                batch_size=batch_size,
                scheduler=scheduler,
                simulate_with=simulate_with,
                test_quantities=test_quantities,
                on_result=finished,
            )
        else:
            for start in range(0, len(todo), batch_size):
                finished(
                    run_batch(
                        model,
                        backend,
                        todo[start : start + batch_size],
                        seed=seed,
                        settings=settings,
                        simulate_with=simulator if simulate_with is not None else None,
                        test_quantities=quantities,
                    )
                )
    finally:
        if bar is not None:
            bar.close()
    results = [done[i] for i in sorted(done) if i < num_simulations]
    return SBCResult(results, attrs, var_dims, quantities)
