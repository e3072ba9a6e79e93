"""``probgen.sample``: one entry point for NUTS on either backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

from probgen.backends import get_backend
from probgen.data import ModelData
from probgen.errors import UntrustworthyFitWarning, warn_user
from probgen.model import Model
from probgen.registry import get_model
from probgen.results import build_datatree
from probgen.settings import make_settings


def sample(
    model: str | Model,
    data: Mapping[str, Any] | ModelData | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    backend: str = "numpyro",
    sampler: str | None = None,
    chains: int = 4,
    draws: int | None = None,
    warmup: int = 1000,
    seed: int = 0,
    target_accept: float | None = None,
    max_tree_depth: int | None = None,
    dense_mass: bool | None = None,
    chain_method: str | None = None,
    cores: int | None = None,
    coords: Mapping[str, Any] | None = None,
    progress: bool = False,
    check: bool = True,
) -> xr.DataTree:
    """Fit a model with NUTS and return an ArviZ DataTree.

    Parameters
    ----------
    model : str or Model
        Registry name (``probgen.list_models()``) or a model instance.
    data : mapping, DataFrame or None
        The model's inputs; None uses its bundled data set.
    config : mapping, optional
        The model's configuration when ``model`` is a name (e.g.
        ``{"centered": True}``), as for ``probgen.get_model(model, **config)``:
        each value checked against the type the model declares. An error with a
        model instance (configure the instance instead).
    backend : {"numpyro", "pymc"}
    sampler : str, optional
        For ``backend="pymc"``: "pymc" (default), "nutpie", "numpyro" or
        "blackjax", always passed to PyMC explicitly. For NumPyro: "numpyro".
    chains, draws, warmup : int
        Number of chains (4), kept draws per chain (default the model's
        ``sampler_defaults`` or 1000) and warm-up (tuning) draws (1000).
    seed : int
        The same seed gives identical draws on the same machine and backend.
    target_accept : float, optional
        NUTS target acceptance; default the model's ``sampler_defaults`` or 0.8.
    max_tree_depth : int, optional
        Default from the model's ``sampler_defaults`` or 10.
    dense_mass : bool, optional
        Adapt a dense mass matrix; default from the model's ``sampler_defaults``.
    chain_method : str, optional
        NumPyro only: "parallel" (default on CPU when there are enough devices),
        "vectorized" (default on accelerators) or "sequential".
    cores : int, optional
        PyMC's own sampler only: processes to run chains in.
    coords : mapping, optional
        Labels for the data's dimensions (e.g. ``{"school": [...]}``).
    progress : bool
        Show a progress bar while sampling.
    check : bool
        Run :func:`probgen.diagnose` and warn (``UntrustworthyFitWarning``, a
        short message: what failed and one thing to try) when the verdict is not
        ok, including when a check could not be computed (R-hat with one chain).
        A failure of the diagnostics themselves is a warning too: the draws are
        returned whatever happens after sampling.

    Returns
    -------
    xarray.DataTree
        Groups posterior, sample_stats, log_likelihood, observed_data and
        constant_data; the same names, dims and coords from both backends.
    """
    for name, flag in (("progress", progress), ("check", check)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {type(flag).__name__} {flag!r}")
    model = _resolve_model(model, config)
    defaults = model.sampler_defaults
    settings = make_settings(
        backend=backend,
        sampler=sampler,
        chains=chains,
        draws=defaults.get("draws", 1000) if draws is None else draws,
        warmup=warmup,
        seed=seed,
        target_accept=defaults.get("target_accept", 0.8)
        if target_accept is None
        else target_accept,
        max_tree_depth=defaults.get("max_tree_depth", 10)
        if max_tree_depth is None
        else max_tree_depth,
        dense_mass=defaults.get("dense_mass", False) if dense_mass is None else dense_mass,
        chain_method=chain_method,
        cores=cores,
    )
    prepared = model.prepare(data, coords=coords)
    raw = get_backend(settings.backend).fit(model, prepared, settings, progress=progress)
    dt = build_datatree(model, prepared, raw, settings=settings.as_attrs())
    if check:
        _warn_if_untrustworthy(dt, model)
    return dt


def _resolve_model(model: str | Model, config: Mapping[str, Any] | None) -> Model:
    """The model instance for ``sample``'s ``model`` and ``config`` arguments."""
    if config is None:
        return get_model(model)
    if isinstance(model, Model):
        raise TypeError(
            f"config= cannot be given with a model instance ({model!r}); configure the "
            "instance itself, or pass the model's name"
        )
    if not isinstance(config, Mapping):
        raise TypeError(
            f"config must be a mapping of configuration key to value, got "
            f"{type(config).__name__} {config!r}"
        )
    bad = [k for k in config if not isinstance(k, str)]
    if bad:
        raise TypeError(f"config keys must be strings, got {bad[0]!r}")
    return get_model(model, **config)


def _warn_if_untrustworthy(dt: xr.DataTree, model: Model) -> None:
    """Warn, attributed to the user's call, when the fit should not be trusted.

    Never raises: the draws exist by now and a failure of the diagnostics must
    not lose them, so it becomes a warning as well.
    """
    from probgen.diagnostics import diagnose

    try:
        verdict = diagnose(dt)
        message = None if verdict.ok else verdict.warning_message(model.name)
    except Exception as exc:  # any failure: the fit is still returned
        message = (
            f"the diagnostics of this {model.name} fit failed ({type(exc).__name__}: {exc}); "
            "the draws are returned unchecked. Retry with probgen.diagnose(fit)."
        )
    if message is not None:
        warn_user(message, UntrustworthyFitWarning)
