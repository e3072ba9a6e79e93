"""Shared test helpers: cheap stand-ins for fits of any registry model.

``prior_fit`` builds, WITHOUT NUTS, a DataTree shaped exactly like the one
``probgen.sample`` returns: the posterior is a set of prior draws (split into
2 chains), the log likelihood is the backend's pointwise log likelihood of the
model's default data at those draws, the data groups and attrs are built by
``probgen.results.build_datatree``. Anything that reads a fit (predictive
checks, LOO, plots, reports) can be exercised on every model and backend for
the price of one compiled prior predictive and one log likelihood.

``quick_fit`` is a real (short) NUTS fit. Both are cached for the session:
treat the returned trees as read-only (``.copy()`` before mutating).

Import from test files as ``from fits import prior_fit, quick_fit`` (pytest
puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

import probgen
from probgen.backends import get_backend
from probgen.backends.base import STAT_NAMES, RawFit
from probgen.registry import get_model
from probgen.results import add_groups, build_datatree
from probgen.settings import make_settings

_PRIOR_CACHE: dict[tuple, xr.DataTree] = {}

#: configurations with proper priors to draw the stand-in "posterior" from, for
#: models whose default priors are improper (nothing can be generated from a flat
#: prior); the fit still records the requested configuration, whose likelihood is
#: the same (priors do not enter the log likelihood)
PROPER_PRIORS: dict[str, dict[str, Any]] = {
    "garch11": {"mu_prior": "normal(0, 1)", "alpha0_prior": "half_normal(1)"},
}
_QUICK_CACHE: dict[tuple, xr.DataTree] = {}


def _key(config: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(config or {}), sort_keys=True, default=str)


def _neutral_stats(chains: int, draws: int) -> dict[str, np.ndarray]:
    """Sample stats of a sampler that did nothing wrong (no divergences, depth 1)."""
    shape = (chains, draws)
    values = {
        "diverging": np.zeros(shape, dtype=bool),
        "lp": np.zeros(shape),
        "energy": np.zeros(shape),
        "step_size": np.ones(shape),
        "tree_depth": np.ones(shape, dtype=np.int64),
        "n_steps": np.ones(shape, dtype=np.int64),
        "acceptance_rate": np.full(shape, 0.8),
        "reached_max_treedepth": np.zeros(shape, dtype=bool),
    }
    assert set(values) == set(STAT_NAMES), "STAT_NAMES changed: update _neutral_stats"
    return values


def prior_fit(
    name: str,
    backend: str = "numpyro",
    config: Mapping[str, Any] | None = None,
    draws: int = 40,
    seed: int = 0,
    predictive: bool = False,
) -> xr.DataTree:
    """A fit-shaped DataTree of ``name`` on its default data, from prior draws.

    Parameters
    ----------
    name : str
        Registry name.
    backend : {"numpyro", "pymc"}
    config : mapping, optional
        The model's configuration (as ``probgen.get_model(name, **config)``).
    draws : int
        Total prior draws (even: they are split into 2 chains).
    seed : int
    predictive : bool
        Also add a ``posterior_predictive`` group: the observed sites drawn
        jointly with the stand-in posterior (one replicate per draw, exactly
        what ``sample_posterior_predictive`` would give for these draws) —
        without compiling a second program.

    Returns
    -------
    DataTree
        posterior (prior draws, 2 chains), sample_stats (neutral values),
        log_likelihood (of the default data), observed_data, constant_data and
        the attrs ``probgen.sample`` sets (``probgen_model``, ``probgen_config``,
        ``backend``, the sampler settings). Cached per arguments: do not mutate.
        A model whose default priors are improper (garch11) draws its stand-in
        posterior from the proper priors of :data:`PROPER_PRIORS`.
    """
    if draws % 2:
        raise ValueError(f"draws must be even (2 chains), got {draws}")
    key = (name, backend, _key(config), draws, seed, predictive)
    if key in _PRIOR_CACHE:
        return _PRIOR_CACHE[key]
    model = get_model(name, **dict(config or {}))
    data = model.prepare(None)
    impl = get_backend(backend)
    drawing = model
    if name in PROPER_PRIORS and not config:
        drawing = get_model(name, **PROPER_PRIORS[name])
    latent, observed = impl.prior_predictive(drawing, data, draws=draws, seed=seed)

    def chains(arrays: dict) -> dict:
        # (1, draws, ...) -> (2, draws / 2, ...): two "chains" so R-hat-like code runs
        return {
            k: np.asarray(v).reshape((2, draws // 2, *np.shape(v)[2:])) for k, v in arrays.items()
        }

    posterior = chains(latent)
    log_lik = impl.log_likelihood(model, data, posterior)
    settings = make_settings(backend=backend, chains=2, draws=draws // 2, warmup=0, seed=seed)
    raw = RawFit(
        posterior=posterior,
        sample_stats=_neutral_stats(2, draws // 2),
        log_likelihood={k: np.asarray(v) for k, v in log_lik.items()},
        attrs={"prior_fit": 1},
    )
    dt = build_datatree(model, data, raw, settings=settings.as_attrs())
    if predictive:
        dt = add_groups(dt, model, {"posterior_predictive": chains(observed)}, data.coords)
    _PRIOR_CACHE[key] = dt
    return dt


def quick_fit(name: str, backend: str = "numpyro", **kw: Any) -> xr.DataTree:
    """A short real NUTS fit, ``probgen.sample(name, ..., chains=2, draws=100, warmup=100)``.

    Keyword arguments go to :func:`probgen.sample` (``data=``, ``config=``,
    ``seed=``, or overrides of the sizes). Cached per arguments (data by its
    values): do not mutate the result.
    """
    opts: dict[str, Any] = {
        "chains": 2,
        "draws": 100,
        "warmup": 100,
        "check": False,
        "progress": False,
        **kw,
    }
    key = (name, backend, _freeze(opts))
    if key not in _QUICK_CACHE:
        _QUICK_CACHE[key] = probgen.sample(name, backend=backend, **opts)
    return _QUICK_CACHE[key]


def _freeze(obj: Any) -> Any:
    """A hashable stand-in for sample's arguments (arrays and frames by value)."""
    if isinstance(obj, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in obj.items()))
    if isinstance(obj, list | tuple):
        return tuple(_freeze(v) for v in obj)
    if hasattr(obj, "to_numpy"):  # pandas
        obj = obj.to_numpy()
    if isinstance(obj, np.ndarray):
        return (obj.shape, str(obj.dtype), obj.tobytes())
    return obj


# ----------------------------------------------------- simulated data sets
def linear_data(n: int = 120, seed: int = 1, noise: str = "normal") -> dict[str, np.ndarray]:
    """Data for ``linear_regression``: y = 1 + X @ (0.5, -1) + noise, X (n, 2).

    ``noise="normal"`` (sd 1) is the model's own; ``"t"`` (Student t, 1.5
    degrees of freedom) is heavy-tailed, a misspecification.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    eps = rng.normal(size=n) if noise == "normal" else rng.standard_t(1.5, size=n)
    return {"X": X, "y": 1.0 + X @ np.array([0.5, -1.0]) + eps}


def nb_counts(n: int = 150, seed: int = 2, phi: float = 1.0) -> dict[str, np.ndarray]:
    """Negative binomial counts, mean exp(0.5 + 0.8 x), dispersion ``phi``
    (variance mu + mu²/phi): overdispersed and zero-heavy for a Poisson model,
    well specified for ``negative_binomial_regression``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 1))
    mu = np.exp(0.5 + 0.8 * X[:, 0])
    return {"X": X, "y": rng.negative_binomial(phi, phi / (phi + mu))}
