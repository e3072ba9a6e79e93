"""Generating from a model: prior predictive, posterior predictive, predictions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from probgen.backends import check_backend, get_backend
from probgen.data import (
    ModelData,
    TableEncoding,
    design_matrix,
    encoding_attrs,
    encodings_from_attrs,
)
from probgen.errors import DataError
from probgen.model import Model
from probgen.registry import get_model
from probgen.results import (
    add_groups,
    build_tree,
    clean_attrs,
    data_from_fit,
    data_groups,
    model_from_fit,
)
from probgen.settings import check_count


def _posterior(fit: xr.DataTree, model: Model) -> dict:
    ds = fit["posterior"].dataset
    return {name: ds[name].values for name in model.var_dims() if name in ds}


def _fit_backend(fit: xr.DataTree, backend: str | None) -> str:
    return check_backend(backend if backend is not None else fit.attrs.get("backend", "numpyro"))


def sample_prior_predictive(
    model: str | Model,
    data: Mapping[str, Any] | ModelData | None = None,
    *,
    backend: str = "numpyro",
    draws: int = 500,
    seed: int = 0,
    coords: Mapping[str, Any] | None = None,
) -> xr.DataTree:
    """Draw parameters and whole data sets from the prior.

    Returns a DataTree with ``prior``, ``prior_predictive`` (one chain) and the
    data groups. Observed values in ``data`` are not used, only covariates.
    """
    model = get_model(model)
    backend = check_backend(backend)
    draws = check_count("draws", draws)
    seed = check_count("seed", seed, minimum=0)
    prepared = model.prepare(data, coords=coords, require_observed=False)
    prior, predictive = get_backend(backend).prior_predictive(
        model, prepared, draws=draws, seed=seed
    )
    dt = build_tree(
        {"prior": prior, "prior_predictive": predictive, **data_groups(model, prepared)},
        model,
        prepared.coords,
    )
    dt.attrs.update(
        clean_attrs(
            {
                "probgen_model": model.name,
                "probgen_config": model.config_json(),
                "backend": backend,
                "seed": seed,
            }
        )
    )
    return dt


def sample_posterior_predictive(
    fit: xr.DataTree,
    model: str | Model | None = None,
    *,
    backend: str | None = None,
    seed: int = 0,
) -> xr.DataTree:
    """Replicate the observed data once per posterior draw.

    Returns a copy of ``fit`` with a ``posterior_predictive`` group. The model
    and data are read from the fit when not given; the backend defaults to the
    one that produced the fit.
    """
    model = model_from_fit(fit) if model is None else get_model(model)
    backend = _fit_backend(fit, backend)
    seed = check_count("seed", seed, minimum=0)
    data = data_from_fit(fit, model)
    draws = get_backend(backend).posterior_predictive(
        model, data, _posterior(fit, model), seed=seed
    )
    return add_groups(fit, model, {"posterior_predictive": draws}, data.coords)


def _fit_encodings(fit: xr.DataTree, model: Model, old: ModelData) -> dict[str, TableEncoding]:
    """How the fit encoded each 2-D covariate: as recorded in its ``constant_data``,
    else numeric columns named by the fit's labels of the covariate's second dim."""
    recorded = (
        encodings_from_attrs(fit["constant_data"].attrs) if "constant_data" in fit.children else {}
    )
    out: dict[str, TableEncoding] = {}
    for name in model.covariates:
        dims = model.field(name).dims
        if name in recorded:
            out[name] = recorded[name]
        elif len(dims) == 2 and dims[1] in old.coords:
            out[name] = TableEncoding.numeric(old.coords[dims[1]])
    return out


def predict(
    fit: xr.DataTree,
    data: Mapping[str, Any],
    model: str | Model | None = None,
    *,
    backend: str | None = None,
    seed: int = 0,
    coords: Mapping[str, Any] | None = None,
) -> xr.DataTree:
    """Out-of-sample predictions for new covariates.

    Parameters
    ----------
    fit : DataTree
        A fit of a model with ``covariates`` (e.g. a regression).
    data : mapping
        New covariates only (e.g. ``{"X": X_new}``); the outcome is generated.
        A design matrix such as a regression's ``X`` is matched to the fit's
        columns:

        * a pandas DataFrame by column **name**, in any order: it must hold
          exactly the columns the fit was made from (for a fit from a plain
          array, ``x0, x1, ...`` or the ``feature`` coords given then), and is
          encoded as the fit's table was (booleans as 0/1, categories against
          the fit's levels: an unseen level is an error);
        * a plain array by **position**: it is the design matrix itself, with
          the fit's number of columns in the order of the fit's ``feature``
          labels (``fit["posterior"]["coef"].coords["feature"]``, dummy
          columns included).
    coords : mapping, optional
        Labels for the new observations' dimension. Default: the new data's own
        row labels (a DataFrame's or Series' index); for plain arrays, integers
        continuing after the fit's labels (n, n+1, ... for a fit of n
        observations), so new rows never take the label of a training row.

    Returns
    -------
    DataTree
        A copy of ``fit`` with ``predictions`` (draws of the outcome, one per
        posterior draw, plus the model's ``prediction_vars``: e.g. the class
        probability ``p`` and linear predictor ``eta`` of a logistic
        regression, the latent ``f`` of a GP) and ``predictions_constant_data``.
    """
    model = model_from_fit(fit) if model is None else get_model(model)
    if not model.covariates:
        raise ValueError(f"{model.name} has no covariates to predict for")
    backend = _fit_backend(fit, backend)
    seed = check_count("seed", seed, minimum=0)
    if not isinstance(data, Mapping):
        raise DataError(f"data must be a mapping of covariates, got {type(data).__name__}")
    given_obs = [k for k in model.observed if data.get(k) is not None]
    if given_obs:
        raise DataError(f"predict generates {given_obs}; pass covariates only")
    old = data_from_fit(fit, model)
    encodings = _fit_encodings(fit, model, old)
    data = dict(data)
    coords = _prediction_labels(model, data, old, coords)
    for name, encoding in encodings.items():
        if data.get(name) is not None:
            data[name] = design_matrix(data[name], encoding, what=name)
    new = model.prepare(data, coords=coords, require_observed=False)
    # dims shared with the posterior (e.g. coefficients) must match the fit
    param_dims = {d for dims in model.var_dims().values() for d in dims}
    for dim in param_dims & set(new.coords):
        if dim in old.coords and len(new.coords[dim]) != len(old.coords[dim]):
            raise DataError(
                f"the new data has {len(new.coords[dim])} entries along {dim!r} "
                f"but the fit has {len(old.coords[dim])}"
            )
        if dim in old.coords:
            new.coords[dim] = old.coords[dim]
    for dim in param_dims - set(new.coords):
        if dim in old.coords:  # parameter-only dims (e.g. lags) come from the fit
            new.coords[dim] = old.coords[dim]
    posterior = _posterior(fit, model)
    draws = model.predict_draws(fit, new, seed=seed)
    if draws is None:
        draws = get_backend(backend).posterior_predictive(model, new, posterior, seed=seed)
    draws = {**draws, **model.prediction_quantities(posterior, new)}
    undeclared = sorted(set(draws) - set(model.observed) - set(model.prediction_vars))
    if undeclared:
        raise TypeError(f"{model.name} predicts {undeclared}, not declared in prediction_vars")
    groups = {"predictions": draws, **data_groups(model, new, prefix="predictions_")}
    out = add_groups(fit, model, groups, new.coords)
    if encodings and "predictions_constant_data" in out.children:
        out["predictions_constant_data"].attrs.update(encoding_attrs(encodings))
    return out


def _prediction_labels(
    model: Model, data: Mapping[str, Any], old: ModelData, coords: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Labels of the new observations: the user's ``coords``, else the new data's
    row labels, else integers continuing after the fit's labels."""
    coords = dict(coords or {})
    for name in model.covariates:
        value = data.get(name)
        dims = model.field(name).dims
        if value is None or not dims or dims[0] in coords:
            continue
        dim = dims[0]
        index = getattr(value, "index", None)
        if index is not None and (hasattr(value, "columns") or hasattr(value, "name")):
            coords[dim] = [v.item() if hasattr(v, "item") else v for v in index]
            continue
        n = np.shape(value)[0] if np.ndim(value) else 0
        labels = old.coords.get(dim, [])
        if n and labels and all(isinstance(v, int | np.integer) for v in labels):
            start = int(max(labels)) + 1
            coords[dim] = list(range(start, start + n))
    return coords or None


def forecast(
    fit: xr.DataTree,
    steps: int,
    *,
    model: str | Model | None = None,
    seed: int = 0,
) -> xr.DataTree:
    """Forecast a fitted series ``steps`` ahead, one path per posterior draw.

    Conditional on the observed series and on each posterior draw of the
    parameters, the model's recursion is run forward (AR, ARMA, GARCH: the
    next values from the last ones and the last residual or volatility; HMM:
    the filtered state at the end of the series, then the chain). The spread
    of the paths is the forecast's uncertainty, parameters included; for
    intervals use ``arviz_stats.summary(out, group="predictions")`` (equal-tailed
    89% by default) or quantiles of ``out["predictions"]``.

    Parameters
    ----------
    fit : DataTree
        A fit of a time-series model (``probgen.sample``).
    steps : int
        How many steps ahead (>= 1).
    model : str or Model, optional
        Default: the model recorded in the fit.
    seed : int

    Returns
    -------
    DataTree
        A copy of ``fit`` with a ``predictions`` group: the series along
        ``time``, labelled after the fit's last time label (T, T+1, ...).
    """
    model = model_from_fit(fit) if model is None else get_model(model)
    steps = check_count("steps", steps)
    seed = check_count("seed", seed, minimum=0)
    data = data_from_fit(fit, model)
    draws = model.forecast_draws(
        _posterior(fit, model), data, steps=steps, rng=np.random.default_rng(seed)
    )
    if draws is None:
        raise ValueError(
            f"{model.name} does not forecast (it is not a model of one series); "
            "use probgen.predict for new covariates"
        )
    dims = {name: model.field(name).dims for name in draws}
    time_dims = {d[0] for d in dims.values()}
    if len(time_dims) != 1:
        raise TypeError(f"{model.name}.forecast_draws returned series along {time_dims}")
    (dim,) = time_dims
    last = data.coords[dim][-1]
    coords = {**data.coords, dim: list(range(int(last) + 1, int(last) + 1 + steps))}
    out = add_groups(fit, model, {"predictions": draws}, coords)
    out["predictions"].attrs.update({"forecast_steps": steps, "seed": seed})
    return out


def generate(
    fit: xr.DataTree,
    n: int,
    *,
    model: str | Model | None = None,
    backend: str | None = None,
    seed: int = 0,
) -> xr.DataTree:
    """Generate new data sets of ``n`` observations from the posterior predictive.

    One data set per posterior draw: the parameters of that draw, then ``n``
    fresh observations (for a classifier, labels and features; for a mixture,
    a component and a point; for a series, a new series of length ``n``). This
    is what a generative model is for beyond fitting: data that look like the
    data, with the posterior's uncertainty in them. For new observations at
    given covariates use :func:`predict`; for the observed data's own
    replicates, :func:`sample_posterior_predictive`.

    Parameters
    ----------
    fit : DataTree
        A fit of a model whose observations need no covariates (every dimension
        of its observed data has a size key, e.g. ``N``).
    n : int
        Observations per generated data set (>= 1).
    model : str or Model, optional
        Default: the model recorded in the fit.
    backend : {"numpyro", "pymc"}, optional
        Which twin generates; default the backend that produced the fit.
    seed : int

    Returns
    -------
    DataTree
        A copy of ``fit`` with a ``predictions`` group: the observed sites with
        ``n`` new observations labelled 0..n-1 along the observation dimension,
        (chain, draw, ...) like the posterior. Other dimensions (features,
        classes, pixels) keep the fit's labels.

    Raises
    ------
    ValueError
        For a model whose observations depend on covariates or on other
        per-observation inputs (use :func:`predict`).
    """
    model = model_from_fit(fit) if model is None else get_model(model)
    backend = _fit_backend(fit, backend)
    n = check_count("n", n)
    seed = check_count("seed", seed, minimum=0)
    old = data_from_fit(fit, model)
    obs_dims = {model.field(name).dims[0] for name in model.observed if model.field(name).dims}
    if len(obs_dims) != 1:
        raise ValueError(f"{model.name} has no single observation dimension to generate along")
    (obs_dim,) = obs_dims
    per_obs_inputs = [
        f.name for f in model.fields if not f.observed and f.dims and f.dims[0] == obs_dim
    ]
    if per_obs_inputs:
        raise ValueError(
            f"{model.name}'s observations depend on per-observation inputs {per_obs_inputs}; "
            "use probgen.predict(fit, {...}) with new values of them"
        )
    key_of = {dim: key for key, dim in model.sizes.items()}
    dims_needed = {d for name in model.observed for d in model.field(name).dims}
    missing = sorted(d for d in dims_needed if d not in key_of)
    if missing:
        raise ValueError(
            f"{model.name} cannot generate data sets of a new size: its dimension(s) "
            f"{missing} have no size key"
        )
    param_dims = {d for dims in model.var_dims().values() for d in dims}
    if obs_dim in param_dims:
        # parameters per observation unit (a hierarchical model's groups): new
        # units come from the population distribution, which only the model knows
        draws = model.generate_draws(
            _posterior(fit, model), old, n=n, rng=np.random.default_rng(seed)
        )
        if draws is None:
            raise ValueError(
                f"{model.name} has parameters along {obs_dim!r}, so new observations "
                "need new units drawn from the population distribution, which it does "
                "not implement (Model.generate_draws)"
            )
        coords = {**old.coords, obs_dim: list(range(n))}
        out = add_groups(fit, model, {"predictions": draws}, coords)
        out["predictions"].attrs.update({"generated_n": n, "seed": seed})
        return out
    values: dict[str, Any] = {
        f.name: old[f.name] for f in model.fields if not f.observed and old.get(f.name) is not None
    }
    for dim in dims_needed:
        values[key_of[dim]] = n if dim == obs_dim else len(old.coords[dim])
    coords = {d: list(old.coords[d]) for d in dims_needed if d != obs_dim and d in old.coords}
    new = model.prepare(values, coords=coords or None, require_observed=False)
    for dim in param_dims:
        if dim in old.coords:  # parameter dims keep the fit's labels
            new.coords[dim] = old.coords[dim]
    draws = get_backend(backend).posterior_predictive(model, new, _posterior(fit, model), seed=seed)
    out = add_groups(fit, model, {"predictions": draws}, new.coords)
    out["predictions"].attrs.update({"generated_n": n, "seed": seed})
    return out
