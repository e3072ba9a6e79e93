"""Classifying with a fitted generative classifier: Bayes' rule, draw by draw.

A generative classifier (the zoo's naive Bayes models, Gaussian discriminant
analysis) models p(x, y) = p(y) p(x | y). For every posterior draw s, Bayes'
rule gives the class probabilities of a new row x::

    P(y = c | x, draw s) = class_prob[s, c] p(x | y = c, draw s)
                           / sum_c' class_prob[s, c'] p(x | y = c', draw s)

and the posterior predictive class probability is their mean over the draws.
Missing features (NaN) in x are integrated out of p(x | y = c) exactly by the
model (``class_log_density``), so a row with missing values is classified on
what it shows; a row with nothing observed gets the posterior mean of
``class_prob``.

Layering as in the rest of probgen: :func:`bayes_rule` works on NumPy arrays;
the public functions find the arrays in a fit (model, data, draws) and label
the results (xarray for per-draw values, pandas for summaries and new data).

A model takes part by providing ``class_log_density(params, X)`` and
``sample_features(params, classes, rng)`` (and optionally
``feature_inputs(data, classes, rng)``, ``check_features(X, what)``), as the
zoo's ``GenerativeClassifier`` does; probgen does not import the zoo's base
class, it asks the model for these methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from probgen.data import ModelData, is_frame, is_series
from probgen.errors import DataError
from probgen.model import Model
from probgen.results import data_from_fit, model_from_fit
from probgen.settings import check_count

#: how many (draw, row, class) numbers :func:`predict_proba` holds at once
_CHUNK = 4_000_000


# ------------------------------------------------------------------ arrays
def bayes_rule(log_class_prob: np.ndarray, class_log_density: np.ndarray) -> np.ndarray:
    """Per-draw class probabilities from the class prior and the class-conditional densities.

    Parameters
    ----------
    log_class_prob : ndarray, shape (S, C)
        log class_prob for every draw.
    class_log_density : ndarray, shape (S, N, C)
        log p(x_n | y = c) for every draw.

    Returns
    -------
    ndarray, shape (S, N, C)
        P(y = c | x_n) for every draw; sums to 1 over the last axis.
    """
    logits = np.asarray(log_class_prob)[:, None, :] + np.asarray(class_log_density)
    return np.exp(logits - logsumexp(logits, axis=-1, keepdims=True))


# ---------------------------------------------------------- finding arrays
def _classifier(fit: xr.DataTree, function: str) -> Model:
    model = model_from_fit(fit)
    if not (
        callable(getattr(model, "class_log_density", None))
        and callable(getattr(model, "sample_features", None))
    ):
        raise TypeError(
            f"{function} needs a fit of a generative classifier (a model of p(x, y) with "
            f"class_log_density and sample_features, e.g. gaussian_naive_bayes); this fit "
            f"is of {model.name!r}"
        )
    return model


def _flat_draws(fit: xr.DataTree, model: Model) -> tuple[dict[str, np.ndarray], tuple[int, int]]:
    """Every posterior variable with (chain, draw) flattened to one leading axis."""
    ds = fit["posterior"].dataset
    params = {}
    for name in model.var_dims():
        values = np.asarray(ds[name].values)
        params[name] = values.reshape(-1, *values.shape[2:])
    return params, (ds.sizes["chain"], ds.sizes["draw"])


def _classes(data: ModelData) -> list:
    return list(data.coords["class"])


def _features(model: Model, data: ModelData, X: Any, function: str) -> tuple[np.ndarray, list]:
    """New rows as the fit's (n, D) feature array, and their row labels.

    A DataFrame is matched to the fit's features by column name (any order);
    anything else is the array itself, with the fit's columns in its order.
    """
    names = [str(f) for f in data.coords["feature"]]
    what = f"{function}: X"
    if is_series(X):
        raise DataError(
            f"{what} is a Series; pass a DataFrame of rows (X.to_frame().T for one row) "
            "or a 2-D array"
        )
    if is_frame(X):
        columns = [str(c) for c in X.columns]
        if len(set(columns)) != len(columns):
            raise DataError(f"{what} has repeated column names {columns}")
        missing = [n for n in names if n not in columns]
        unknown = [c for c in columns if c not in names]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"is missing column(s) {missing}")
            if unknown:
                parts.append(f"has column(s) {unknown} the fit does not know")
            raise DataError(
                f"{what} {' and '.join(parts)}; the fit's features are {names} "
                "(matched by name, in any order)"
            )
        frame = X.set_axis(columns, axis=1)[names]
        for col in names:
            dtype = frame[col].dtype
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise DataError(f"{what} column {col!r} holds {dtype} values; it must hold numbers")
            if pd.api.types.is_complex_dtype(dtype):
                raise DataError(f"{what} column {col!r} holds complex numbers")
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
        rows = [v.item() if hasattr(v, "item") else v for v in X.index]
    else:
        try:
            arr = np.asarray(X)
        except Exception as exc:  # ragged lists and the like
            raise DataError(f"{what} could not be read as an array: {exc}") from None
        if arr.dtype.kind not in "biuf":
            raise DataError(f"{what} must hold numbers, got an array of {arr.dtype}")
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise DataError(
                f"{what} must be a 2-D array with the fit's {len(names)} feature columns "
                f"in the order {names}, got shape {arr.shape}; or pass a DataFrame with "
                "those column names"
            )
        values = arr.astype(np.float64)
        rows = list(range(values.shape[0]))
    if values.shape[0] == 0:
        raise DataError(f"{what} has no rows")
    check = getattr(model, "check_features", None)
    if callable(check):
        values = check(values, what)
    return values, rows


def _log_class_prob(params: dict[str, np.ndarray]) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(params["class_prob"], dtype=float))


# ----------------------------------------------------------------- public
def class_probabilities(fit: xr.DataTree, X: Any) -> xr.DataArray:
    """P(y = c | x) for every posterior draw and every new row.

    Parameters
    ----------
    fit : DataTree
        A fit of a generative classifier (``probgen.sample("gaussian_naive_bayes")``).
    X : pandas.DataFrame or array-like, shape (n, D)
        New rows. A DataFrame is matched to the fit's features by column name
        (in any order; a missing or unknown column is an error); an array must
        have the fit's D columns in the order of the fit's ``feature``
        coordinate. NaN marks a missing feature, integrated out.

    Returns
    -------
    xarray.DataArray
        Dims (chain, draw, obs, class); ``obs`` labelled by the DataFrame's
        index (0..n-1 for an array), ``class`` by the fit's class labels. Sums
        to 1 over ``class``.

    Raises
    ------
    TypeError
        The fit is not of a generative classifier.
    DataError
        X does not match the fit's features, or holds values the model cannot
        take (e.g. non-binary values for Bernoulli naive Bayes).
    """
    model = _classifier(fit, "class_probabilities")
    data = data_from_fit(fit, model)
    values, rows = _features(model, data, X, "class_probabilities")
    params, (chains, draws) = _flat_draws(fit, model)
    probs = bayes_rule(_log_class_prob(params), model.class_log_density(params, values))
    return xr.DataArray(
        probs.reshape(chains, draws, *probs.shape[1:]),
        dims=("chain", "draw", "obs", "class"),
        coords={
            "chain": np.arange(chains),
            "draw": np.arange(draws),
            "obs": rows,
            "class": _classes(data),
        },
        name="class_probability",
    )


def predict_proba(fit: xr.DataTree, X: Any) -> pd.DataFrame:
    """Posterior predictive class probabilities of new rows.

    The mean over posterior draws of P(y = c | x, draw) (see
    :func:`class_probabilities`, which takes the same ``X``): the probability
    that a new row with features x belongs to class c, given the training data.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``X`` (indexed like a DataFrame ``X``, else 0..n-1),
        one column per class (the fit's class labels); rows sum to 1.
    """
    model = _classifier(fit, "predict_proba")
    data = data_from_fit(fit, model)
    values, rows = _features(model, data, X, "predict_proba")
    params, _ = _flat_draws(fit, model)
    log_prior = _log_class_prob(params)
    classes = _classes(data)
    s = log_prior.shape[0]
    step = max(1, _CHUNK // (s * len(classes)))
    # rows in chunks: the per-draw array (S, n, C) of many rows need not fit in memory
    mean = np.concatenate(
        [
            bayes_rule(log_prior, model.class_log_density(params, values[i : i + step])).mean(
                axis=0
            )
            for i in range(0, values.shape[0], step)
        ]
    )
    index = X.index if is_frame(X) else pd.RangeIndex(len(rows))
    return pd.DataFrame(mean, index=index, columns=pd.Index(classes, name="class"))


def _class_code(label: Any, classes: Sequence[Any], function: str) -> int:
    label = label.item() if isinstance(label, np.generic) else label
    for i, c in enumerate(classes):
        # True is not the class 1, nor "1" the class 1
        same_kind = type(c) is type(label) or (
            isinstance(c, int | float)
            and isinstance(label, int | float)
            and not isinstance(c, bool)
            and not isinstance(label, bool)
        )
        if same_kind and c == label:
            return i
    raise DataError(
        f"{function}: label={label!r} is not a class of this fit; its classes are {list(classes)}"
    )


def sample_labelled(
    fit: xr.DataTree, n: int, *, label: Any = None, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """New labelled rows from the posterior predictive distribution.

    Each new row takes its own posterior draw (chosen uniformly among the
    fit's draws), then a class from that draw's ``class_prob`` (or the class
    ``label`` for every row), then its features from that draw's
    class-conditional distribution. Rows of a given class therefore follow the
    posterior predictive p(x | y = c, data), parameter uncertainty included.

    Parameters
    ----------
    fit : DataTree
        A fit of a generative classifier.
    n : int
        How many rows (>= 1).
    label : optional
        A class label of the fit (``fit["posterior"]["class_prob"].coords["class"]``):
        every row is of that class. Default: classes drawn from ``class_prob``.
    seed : int

    Returns
    -------
    X : pandas.DataFrame
        (n, D), columns the fit's feature labels.
    y : pandas.Series
        The rows' class labels, a Categorical whose categories are the fit's classes.
    """
    function = "sample_labelled"
    model = _classifier(fit, function)
    n = check_count("n", n)
    seed = check_count("seed", seed, minimum=0)
    data = data_from_fit(fit, model)
    classes = _classes(data)
    code = None if label is None else _class_code(label, classes, function)
    params, _ = _flat_draws(fit, model)
    rng = np.random.default_rng(seed)
    pick = rng.integers(params["class_prob"].shape[0], size=n)
    chosen = {name: values[pick] for name, values in params.items()}
    if code is None:
        cdf = np.cumsum(chosen["class_prob"], axis=-1)
        u = rng.random(n) * cdf[:, -1]
        drawn = np.minimum((u[:, None] >= cdf).sum(axis=-1), len(classes) - 1)
    else:
        drawn = np.full(n, code)
    drawn = drawn.reshape(n, 1)  # one new row per chosen draw
    inputs = getattr(model, "feature_inputs", lambda *a: {})(data, drawn, rng)
    features = np.asarray(model.sample_features(chosen, drawn, rng, **inputs))
    X = pd.DataFrame(
        features.reshape(n, -1), columns=pd.Index([str(f) for f in data.coords["feature"]])
    )
    y = pd.Series(
        pd.Categorical.from_codes(drawn[:, 0], categories=pd.Index(classes)),
        name="y",
    )
    return X, y
