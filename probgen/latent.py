"""Latent scores, reconstructions and decoding for latent linear models (PPCA, factor analysis).

A model supports these functions when it provides the per-draw methods

* ``latent_scores_draws(posterior, X)`` -> (chain, draw, N, Q): E[z | x] per draw;
* ``reconstruct_draws(posterior, X)`` -> (chain, draw, N, D): the reconstruction
  ``mu + W E[z | x]`` per draw;
* ``decode_draws(posterior, Z, *, noise, rng)`` -> (chain, draw, M, D): new
  observations at chosen latent positions,

with ``posterior`` a dict of (chain, draw, ...) NumPy arrays of the model's
variables (the zoo's ``probabilistic_pca`` and ``factor_analysis`` do). The
functions here find those arrays in a fit, match the new data to the fitted
features and label the results; they know no particular model.

New data ``X`` is an (N, D) array whose columns are in the fit's feature order,
or a pandas DataFrame whose columns are matched to the fit's features by name
(every fitted feature must be there, and nothing else: a column that the fit
does not know is an error, not silently dropped).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from probgen.data import clean_table, column_values, is_frame
from probgen.errors import DataError
from probgen.model import Model
from probgen.results import data_from_fit, model_from_fit
from probgen.settings import check_count

__all__ = ["decode", "latent_scores", "reconstruct", "reconstruction_error"]


def _model(fit: xr.DataTree, method: str) -> Model:
    if not isinstance(fit, xr.DataTree) or "posterior" not in fit.children:
        raise TypeError(
            f"fit must be a probgen fit (a DataTree with a posterior group), got {type(fit).__name__}"
        )
    model = model_from_fit(fit)
    if not callable(getattr(model, method, None)):
        raise TypeError(
            f"{model.name} is not a latent linear model: it has no {method}() "
            "(use probabilistic_pca or factor_analysis)"
        )
    return model


def _posterior(fit: xr.DataTree, model: Model) -> dict[str, np.ndarray]:
    ds = fit["posterior"].dataset
    return {name: np.asarray(ds[name].values) for name in model.var_dims() if name in ds}


def _features(fit: xr.DataTree) -> list:
    return list(fit["posterior"].dataset["feature"].values.tolist())


def as_matrix(fit: xr.DataTree, X: Any, *, what: str = "X") -> tuple[np.ndarray, list]:
    """New data as an (N, D) float array in the fit's feature order, and its row labels.

    Parameters
    ----------
    fit : DataTree
        A fit of a latent linear model.
    X : array-like (N, D) or pandas.DataFrame
        An array's columns must be in the fit's feature order; a DataFrame's are
        matched by name.
    what : str
        The argument's name, for messages.

    Returns
    -------
    X : ndarray, shape (N, D)
    rows : list
        The DataFrame's index, or 0..N-1 for an array.

    Raises
    ------
    DataError
        Wrong shape, missing or unknown columns, non-numeric or non-finite values.
    """
    features = _features(fit)
    names = [str(f) for f in features]
    if is_frame(X):
        frame = clean_table(X, what=what)
        missing = [f for f in names if f not in frame.columns]
        unknown = [c for c in frame.columns if c not in names]
        if missing or unknown:
            raise DataError(
                f"the columns of {what} must be the fitted features {names}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and unknown else "")
                + (f"not in the fit {unknown}" if unknown else "")
            )
        cols = []
        for name in names:
            col = column_values(frame[name], what=f"column {name!r} of {what}")
            if col.dtype.kind == "b":
                raise DataError(f"column {name!r} of {what} is boolean; features are real numbers")
            cols.append(np.asarray(col, dtype=float))
        return np.column_stack(cols), list(frame.index)
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise DataError(f"{what} could not be read as an array: {exc}") from None
    if arr.dtype.kind not in "iuf":
        raise DataError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != len(features) or arr.shape[0] < 1:
        raise DataError(
            f"{what} must be an (N, {len(features)}) array (rows x the fitted features "
            f"{names}), got shape {arr.shape}"
        )
    arr = arr.astype(float)
    if not np.isfinite(arr).all():
        raise DataError(f"{what} contains NaN or inf; every value must be finite")
    return arr, list(range(arr.shape[0]))


def _fitted_data(fit: xr.DataTree, model: Model) -> np.ndarray:
    (name,) = model.observed
    values = data_from_fit(fit, model)[name]
    if values is None:
        raise DataError("the fit holds no observed data; pass X")
    return np.asarray(values, dtype=float)


def latent_scores(fit: xr.DataTree, X: Any = None) -> xr.DataArray:
    """The posterior of E[z | x] for each row of ``X``: one value per draw.

    For each posterior draw of the parameters, the latent ``z`` of a row ``x``
    is Gaussian given ``x``; its mean ``E[z | x, mu, W, noise]`` is reported
    for every draw, so the spread over draws is the parameters' uncertainty
    (the latent's own conditional sd is not included).

    Parameters
    ----------
    fit : DataTree
        A fit of a latent linear model (``probabilistic_pca``, ``factor_analysis``).
    X : array-like (N, D) or DataFrame, optional
        Rows to score (see the module docstring); default the fitted data.

    Returns
    -------
    DataArray
        Dims (chain, draw, obs, latent).
    """
    model = _model(fit, "latent_scores_draws")
    if X is None:
        arr, rows = _fitted_data(fit, model), None
    else:
        arr, rows = as_matrix(fit, X)
    scores = model.latent_scores_draws(_posterior(fit, model), arr)
    post = fit["posterior"].dataset
    return xr.DataArray(
        scores,
        dims=("chain", "draw", "obs", "latent"),
        coords={
            "chain": post["chain"].values,
            "draw": post["draw"].values,
            "obs": rows if rows is not None else np.arange(arr.shape[0]),
            "latent": post["latent"].values,
        },
        name="latent_scores",
    )


def reconstruct(fit: xr.DataTree, X: Any = None) -> np.ndarray | pd.DataFrame:
    """The posterior-mean reconstruction of each row of ``X``.

    ``x̂ = mean over draws of (mu + W E[z | x])``: each row is projected onto
    the latent space and mapped back, for every posterior draw, and the draws
    are averaged. (The probabilistic projection shrinks towards ``mu``
    compared with PCA's orthogonal projection, by how much the noise blurs the
    latent.)

    Parameters
    ----------
    fit : DataTree
        A fit of a latent linear model.
    X : array-like (N, D) or DataFrame, optional
        Rows to reconstruct; default the fitted data. A DataFrame is matched to
        the fitted features by column name.

    Returns
    -------
    ndarray (N, D) or DataFrame
        A DataFrame (X's index, the fitted feature names as columns, in the
        fit's order) when X is one, else an array in the fit's feature order.
    """
    model = _model(fit, "reconstruct_draws")
    arr = _fitted_data(fit, model) if X is None else as_matrix(fit, X)[0]
    recon = model.reconstruct_draws(_posterior(fit, model), arr).mean(axis=(0, 1))
    if is_frame(X):
        return pd.DataFrame(recon, index=X.index, columns=[str(f) for f in _features(fit)])
    return recon


def reconstruction_error(fit: xr.DataTree, X_heldout: Any) -> float:
    """Mean squared reconstruction error of held-out rows.

    ``mean over rows n and features d of (x[n, d] - x̂[n, d])²``, with ``x̂`` the
    posterior-mean reconstruction of :func:`reconstruct` (averaged over draws
    before the error is taken). Predicting every row by the feature means
    gives the features' mean variance; a useful latent space does better.

    Parameters
    ----------
    fit : DataTree
        A fit of a latent linear model.
    X_heldout : array-like (N, D) or DataFrame
        Rows not used in the fit (see the module docstring).

    Returns
    -------
    float
    """
    model = _model(fit, "reconstruct_draws")
    arr, _ = as_matrix(fit, X_heldout, what="X_heldout")
    recon = model.reconstruct_draws(_posterior(fit, model), arr).mean(axis=(0, 1))
    return float(np.mean((arr - recon) ** 2))


def decode(fit: xr.DataTree, Z: Any, *, noise: bool = False, seed: int = 0) -> xr.DataArray:
    """Generate observations at chosen latent positions, one set per posterior draw.

    ``x = mu + W z`` (``noise=False``: the mean of ``x | z``) or a draw of
    ``x | z ~ Normal(mu + W z, noise covariance)`` (``noise=True``), for each
    row ``z`` of ``Z`` and each posterior draw. Walking ``Z`` along one latent
    axis shows what that factor does to the features. (For whole new data sets
    with ``z`` drawn from its prior, use :func:`probgen.generate`.)

    Parameters
    ----------
    fit : DataTree
        A fit of a latent linear model.
    Z : array-like, shape (M, Q)
        Latent positions, one row each (Q = the fit's latent dimensions).
    noise : bool, default False
    seed : int, default 0
        Seeds the noise (unused when ``noise=False``).

    Returns
    -------
    DataArray
        Dims (chain, draw, obs, feature), ``obs`` labelling the rows of ``Z``.
    """
    model = _model(fit, "decode_draws")
    seed = check_count("seed", seed, minimum=0)
    if not isinstance(noise, bool | np.bool_):
        raise TypeError(f"noise must be True or False, got {noise!r}")
    post = fit["posterior"].dataset
    q = post.sizes["latent"]
    try:
        z = np.asarray(Z, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"Z could not be read as an array of numbers: {exc}") from None
    if z.ndim != 2 or z.shape[1] != q or z.shape[0] < 1:
        raise DataError(f"Z must be an (M, {q}) array of latent positions, got shape {z.shape}")
    if not np.isfinite(z).all():
        raise DataError("Z contains NaN or inf; every value must be finite")
    draws = model.decode_draws(
        _posterior(fit, model), z, noise=bool(noise), rng=np.random.default_rng(seed)
    )
    return xr.DataArray(
        draws,
        dims=("chain", "draw", "obs", "feature"),
        coords={
            "chain": post["chain"].values,
            "draw": post["draw"].values,
            "obs": np.arange(z.shape[0]),
            "feature": post["feature"].values,
        },
        name="decoded",
    )
