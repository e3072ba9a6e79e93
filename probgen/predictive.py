"""Generating from a model: prior predictive, posterior predictive, predictions.

Generation at scale
-------------------
Every function here produces whole data sets in one call to the backend: on
NumPyro one compiled program (NumPyro's ``Predictive``, compiled once per
shapes and cached, see :mod:`probgen.backends.numpyro`) draws all of them, so
thousands of data sets cost little more than one (the figures are in
``benchmarks/RESULTS.md``, "Generation at scale").

Replicates
----------
``replicates=R`` (posterior predictive, predictions, generated data sets)
draws R independent data sets per posterior draw. They are stored as more
*draws*, not along a new dimension, so that the result keeps the
``(chain, draw, ...)`` shape every ArviZ function expects (``plot_ppc_dist``,
``summary``, ...). The layout is replicate-major: with D posterior draws per
chain, draw ``j`` of the generated group is replicate ``j // D`` of posterior
draw ``j % D``. The first D draws are therefore exactly one replicate per
posterior draw, aligned with the posterior and the log likelihood
(``out["posterior_predictive"].isel(draw=slice(0, D))`` is what functions that
pair draws with the log likelihood, such as ``arviz_stats.loo_pit``, need).
The generated group's attrs record ``replicates``, ``posterior_draws`` (D) and
``replicate_layout``; :func:`posterior_draw_index` and
:func:`probgen.tidy.to_frame` read them back.
"""

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

#: how a group of replicated draws is laid out (the group's ``replicate_layout`` attr)
REPLICATE_LAYOUT = (
    "replicate-major: draw j = replicate j // posterior_draws of draw j % posterior_draws"
)


def posterior_arrays(fit: xr.DataTree, model: Model) -> dict:
    ds = fit["posterior"].dataset
    return {name: ds[name].values for name in model.var_dims() if name in ds}


def _check_fit(fit: object) -> xr.DataTree:
    """The fit itself, after checking that it is a DataTree with a posterior."""
    if not isinstance(fit, xr.DataTree):
        raise TypeError(f"fit must be an xarray.DataTree (a probgen fit), got {type(fit).__name__}")
    if "posterior" not in fit.children:
        raise ValueError(
            f"fit has no 'posterior' group (it has {sorted(fit.children)}); "
            "generate from the prior with probgen.sample_prior_predictive"
        )
    return fit


def tile_draws(values: np.ndarray, replicates: int) -> np.ndarray:
    """Repeat (chain, draw, ...) draws ``replicates`` times along draw, replicate-major.

    Parameters
    ----------
    values : ndarray, shape (chain, draw, ...)
    replicates : int
        >= 1.

    Returns
    -------
    ndarray, shape (chain, replicates * draw, ...)
        Entry ``[c, j]`` is ``values[c, j % draw]``.
    """
    values = np.asarray(values)
    if values.ndim < 2:
        raise ValueError(f"values must be shaped (chain, draw, ...), got shape {values.shape}")
    replicates = check_count("replicates", replicates)
    return np.tile(values, (1, replicates) + (1,) * (values.ndim - 2))


def posterior_draw_index(group: xr.DataTree | xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Which posterior draw and which replicate each draw of a generated group is.

    Parameters
    ----------
    group : DataTree node or Dataset
        A group made by this module (``posterior_predictive``, ``predictions``),
        with ``replicates`` in its attrs; a group without them holds one
        replicate per posterior draw.

    Returns
    -------
    posterior_draw, replicate : ndarray of int, shape (draw,)
        Positions (0-based) along the posterior's draw dimension, and the
        replicate number of each draw.
    """
    ds = group.dataset if isinstance(group, xr.DataTree) else group
    if "draw" not in ds.dims:
        raise ValueError("group has no 'draw' dimension: it is not a group of draws")
    n = ds.sizes["draw"]
    replicates = int(ds.attrs.get("replicates", 1))
    per = int(ds.attrs.get("posterior_draws", n))
    if replicates * per != n:
        raise ValueError(
            f"the group's attrs say {replicates} replicates of {per} posterior draws, "
            f"but it has {n} draws"
        )
    j = np.arange(n)
    return j % per, j // per


def _replicated_fit(fit: xr.DataTree, replicates: int) -> xr.DataTree:
    """A shallow copy of ``fit`` whose posterior repeats every draw ``replicates``
    times (replicate-major), so that every generating path (the backends, the
    models' own hooks) draws ``replicates`` independent data sets per draw."""
    if replicates == 1:
        return fit
    post = fit["posterior"].dataset
    n = post.sizes["draw"]
    tiled = post.isel(draw=np.tile(np.arange(n), replicates))
    tiled = tiled.assign_coords(draw=np.arange(n * replicates))
    out = fit.copy(deep=False)
    out["posterior"] = xr.DataTree(dataset=tiled)
    return out


def _replicate_attrs(fit: xr.DataTree, replicates: int) -> dict[str, Any]:
    return {
        "replicates": replicates,
        "posterior_draws": int(fit["posterior"].dataset.sizes["draw"]),
        "replicate_layout": REPLICATE_LAYOUT,
    }


def fit_backend(fit: xr.DataTree, backend: str | None) -> str:
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

    Parameters
    ----------
    model : str or Model
    data : mapping or ModelData, optional
        The covariates and sizes of the data sets to generate. Default: the
        model's bundled data (covariates left as observed). New covariates may
        have any number of rows (e.g. ``{"X": X_new}`` for a regression), and a
        model without covariates takes its sizes (``{"N": 50}``). Observed
        values in ``data`` are not used.
    backend : {"numpyro", "pymc"}
    draws : int
        How many (parameters, data set) pairs (>= 1). On NumPyro all of them
        come from one compiled program, so thousands are cheap.
    seed : int
    coords : mapping, optional
        Labels of the data's dimensions.

    Returns
    -------
    DataTree
        ``prior``, ``prior_predictive`` (one chain, ``draws`` draws) and the data
        groups (``constant_data``; ``observed_data`` when ``data`` held the
        outcome).

    Raises
    ------
    ValueError
        ``draws`` < 1 or a negative ``seed``.
    ProbgenError
        A model whose priors are improper (flat) cannot be sampled.
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
    replicates: int = 1,
    covariates: Mapping[str, Any] | None = None,
    coords: Mapping[str, Any] | None = None,
) -> xr.DataTree:
    """Replicate the observed data: ``replicates`` data sets per posterior draw.

    Parameters
    ----------
    fit : DataTree
        A fit (``probgen.sample``) or anything shaped like one: a posterior and
        the data groups, with the ``probgen_model`` attrs.
    model : str or Model, optional
        Default: the model recorded in the fit.
    backend : {"numpyro", "pymc"}, optional
        Which twin generates; default the backend that produced the fit.
    seed : int
    replicates : int
        Independent data sets per posterior draw (>= 1). They are stored as
        more draws, replicate-major (see the module docstring): with D draws per
        chain the group has ``replicates * D`` draws and its first D are one
        replicate per posterior draw.
    covariates : mapping, optional
        New covariates (e.g. ``{"X": X_new}``, any number of rows): generate at
        them instead of at the observed ones. The draws then go to the
        ``predictions`` group, as in :func:`predict` (ArviZ keeps
        ``posterior_predictive`` for replicates of the observed data, aligned
        with ``observed_data``). Default None: the covariates as observed.
    coords : mapping, optional
        Labels of the new observations (with ``covariates`` only).

    Returns
    -------
    DataTree
        A copy of ``fit`` with a ``posterior_predictive`` group (or
        ``predictions`` and ``predictions_constant_data`` with
        ``covariates``), (chain, draw, ...) like the posterior; its attrs hold
        ``replicates``, ``posterior_draws``, ``replicate_layout`` and ``seed``.

    Raises
    ------
    ValueError
        ``replicates`` < 1, a negative seed, a fit without a posterior.
    """
    _check_fit(fit)
    replicates = check_count("replicates", replicates)
    if covariates is not None:
        return predict(
            fit, covariates, model, backend=backend, seed=seed, coords=coords, replicates=replicates
        )
    if coords is not None:
        raise ValueError("coords label new observations: pass it with covariates=, or not at all")
    model = model_from_fit(fit) if model is None else get_model(model)
    backend = fit_backend(fit, backend)
    seed = check_count("seed", seed, minimum=0)
    data = data_from_fit(fit, model)
    source = _replicated_fit(fit, replicates)
    draws = get_backend(backend).posterior_predictive(
        model, data, posterior_arrays(source, model), seed=seed
    )
    out = add_groups(fit, model, {"posterior_predictive": draws}, data.coords)
    out["posterior_predictive"].attrs.update(
        clean_attrs({**_replicate_attrs(fit, replicates), "seed": seed, "backend": backend})
    )
    return out


def fit_encodings(fit: xr.DataTree, model: Model, old: ModelData) -> dict[str, TableEncoding]:
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
    replicates: int = 1,
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
    replicates : int
        Independent draws of the outcome per posterior draw (>= 1), stored as
        more draws, replicate-major (see the module docstring).

    Returns
    -------
    DataTree
        A copy of ``fit`` with ``predictions`` (draws of the outcome, one per
        posterior draw, plus the model's ``prediction_vars``: e.g. the class
        probability ``p`` and linear predictor ``eta`` of a logistic
        regression, the latent ``f`` of a GP) and ``predictions_constant_data``.
    """
    _check_fit(fit)
    model = model_from_fit(fit) if model is None else get_model(model)
    if not model.covariates:
        raise ValueError(f"{model.name} has no covariates to predict for")
    backend = fit_backend(fit, backend)
    seed = check_count("seed", seed, minimum=0)
    replicates = check_count("replicates", replicates)
    if not isinstance(data, Mapping):
        raise DataError(f"data must be a mapping of covariates, got {type(data).__name__}")
    given_obs = [k for k in model.observed if data.get(k) is not None]
    if given_obs:
        raise DataError(f"predict generates {given_obs}; pass covariates only")
    old = data_from_fit(fit, model)
    encodings = fit_encodings(fit, model, old)
    data = dict(data)
    coords = prediction_labels(model, data, old, coords)
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
    source = _replicated_fit(fit, replicates)
    posterior = posterior_arrays(source, model)
    draws = model.predict_draws(source, new, seed=seed)
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
    out["predictions"].attrs.update(
        clean_attrs({**_replicate_attrs(fit, replicates), "seed": seed, "backend": backend})
    )
    return out


def prediction_labels(
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
        posterior_arrays(fit, model), data, steps=steps, rng=np.random.default_rng(seed)
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
    replicates: int = 1,
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
    replicates : int
        Data sets per posterior draw (>= 1), stored as more draws,
        replicate-major (see the module docstring).

    Returns
    -------
    DataTree
        A copy of ``fit`` with a ``predictions`` group: the observed sites with
        ``n`` new observations along the observation dimension, labelled as the
        model labels a data set of that size (0..n-1; a series after its K
        presample values, K..K+n-1), (chain, draw, ...) like the posterior
        (``replicates`` times as many draws). Other dimensions (features,
        classes, pixels) keep the fit's labels.

    Raises
    ------
    ValueError
        For a model whose observations depend on covariates or on other
        per-observation inputs (use :func:`predict`).
    """
    _check_fit(fit)
    model = model_from_fit(fit) if model is None else get_model(model)
    backend = fit_backend(fit, backend)
    n = check_count("n", n)
    seed = check_count("seed", seed, minimum=0)
    replicates = check_count("replicates", replicates)
    old = data_from_fit(fit, model)
    attrs = clean_attrs(
        {**_replicate_attrs(fit, replicates), "generated_n": n, "seed": seed, "backend": backend}
    )
    source = _replicated_fit(fit, replicates)
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
            posterior_arrays(source, model), old, n=n, rng=np.random.default_rng(seed)
        )
        if draws is None:
            raise ValueError(
                f"{model.name} has parameters along {obs_dim!r}, so new observations "
                "need new units drawn from the population distribution, which it does "
                "not implement (Model.generate_draws)"
            )
        coords = {**old.coords, obs_dim: list(range(n))}
        out = add_groups(fit, model, {"predictions": draws}, coords)
        out["predictions"].attrs.update(attrs)
        return out
    values: dict[str, Any] = {
        f.name: old[f.name] for f in model.fields if not f.observed and old.get(f.name) is not None
    }
    for dim in dims_needed:
        values[key_of[dim]] = n if dim == obs_dim else len(old.coords[dim])
    coords = {d: list(old.coords[d]) for d in dims_needed if d != obs_dim and d in old.coords}
    # the other sized dims keep the fit's sizes and labels: without the observed
    # data a classifier cannot tell its classes otherwise
    for key, dim in model.sizes.items():
        if dim != obs_dim and dim not in dims_needed and dim in old.coords:
            values.setdefault(key, len(old.coords[dim]))
            coords.setdefault(dim, list(old.coords[dim]))
    _size_obs_key(model, values, key_of[obs_dim], obs_dim, n)
    new = model.prepare(values, coords=coords or None, require_observed=False)
    for dim in param_dims:
        if dim in old.coords:  # parameter dims keep the fit's labels
            new.coords[dim] = old.coords[dim]
    draws = get_backend(backend).posterior_predictive(
        model, new, posterior_arrays(source, model), seed=seed
    )
    out = add_groups(fit, model, {"predictions": draws}, new.coords)
    out["predictions"].attrs.update(attrs)
    return out


def _size_obs_key(model: Model, values: dict[str, Any], key: str, dim: str, n: int) -> None:
    """Set the size key of the observation dim so that the model makes ``n`` observations.

    A key may count more than its dimension (AR(K)'s ``T`` counts the K
    presample values in ``y_init`` as well as the modelled ones): the key is
    shifted by that offset, found from the model's own ``size_hints``.
    """
    values[key] = n
    got = model.size_hints(values).get(dim, (n, key))[0]
    if got != n:
        values[key] = n + (n - got)
        if values[key] < 1 or model.size_hints(values).get(dim, (n, key))[0] != n:
            raise ValueError(
                f"{model.name} cannot make {n} observations along {dim!r} from its size key {key!r}"
            )
