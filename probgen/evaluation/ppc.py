"""Posterior (and prior) predictive checks: test statistics, p-values, LOO-PIT.

A predictive check compares a test statistic T of the observed data y with its
distribution over replicated data sets y_rep, one per posterior (or prior) draw.
The posterior predictive p-value is

    p = P(T(y_rep) >= T(y) | y),

estimated by the fraction of draws whose replicate's statistic is at least the
observed one. Values near 0 or 1 say the model does not reproduce that aspect
of the data; a value near 0.5 says it does (for that statistic: a check can
expose a misfit, never prove a fit). ArviZ 1.x has no such function, so it is
here; LOO-PIT and its uniformity test come from arviz_stats.

Layers (as arviz-stats):

* array functions — :func:`statistic_draws` (a statistic over ``(S, *dims)``
  replicates), :func:`predictive_pvalue`, :func:`summarize_draws`,
  :func:`class_proportions`, :func:`class_means`: NumPy in, NumPy out;
* wrappers that find the arrays in a fit — :func:`check_fit`,
  :func:`predictive_draws`;
* the public functions — :func:`ppc`, :func:`loo_pit`, :func:`loo_pit_values`,
  :func:`ppc_verdict`, :func:`default_statistics`.

**Which statistics by default** (:func:`default_statistics`), by the observed
field's kind and dims:

* real data: ``mean``, ``sd``, ``q05``, ``q50``, ``q95``, ``min``, ``max``;
* counts: the same plus ``prop_zero`` (the proportion of zeros);
* binary data: ``mean`` (the proportion of ones);
* a series (a ``time`` dim, one dimension): also ``acf1``, the lag-1
  autocorrelation;
* a two-dimensional variable (``y (rat, age)``, ``x (obs, pixel)``,
  ``y (item, person)``, ``X (obs, feature)``): every statistic is computed over
  **all elements** (one number per data set, so the table stays one row per
  statistic whatever the number of columns), plus ``row_mean_sd``, the
  standard deviation across the first dim of the per-row means — how much the
  units (rats, images, items, rows) differ from one another, which a pooled
  statistic cannot see;
* the generative classifiers (family ``"classification"``): for the labels
  ``y``, ``class_prop`` — one row per class, ``prop[<label>]``, the proportion
  of that class (labels from the fit's ``class`` coords); for the features
  ``X``, the pooled ``mean`` and ``sd`` and ``class_mean`` — the mean of each
  feature within each class, ``mean[<feature>|<label>]``, where the replicate's
  features are grouped by the same replicate's labels (the joint p(x, y) is
  checked, not p(x | observed y)). With more than :data:`MAX_FEATURE_ROWS`
  feature-by-class rows the features are pooled within each class instead,
  ``mean[all|<label>]``, to keep the table readable.

Missing observed values (NaN, e.g. a digit's unseen pixels) are masked in the
replicates too, so T(y) and T(y_rep) are computed over the same elements.

**Ties.** For a discrete statistic (a proportion, a count's max, the
``prop_zero`` of data without zeros) T(y_rep) = T(y) happens with positive
probability and counts towards ``P(T(y_rep) >= T(y))``: a p-value of 1 can then
mean "always equal", not "always larger". Read such rows with the interval: if
``lower == upper == observed`` the model reproduces the statistic exactly.
The table keeps the contract's columns; P(T(y_rep) > T(y)) of every row is in
``table.attrs["p_value_strict"]`` (keyed ``"variable·statistic"``), and
:func:`ppc_verdict` uses it for the upper tail so ties are not flagged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from probgen.errors import warn_user
from probgen.model import Model
from probgen.results import ATTR_MODEL, model_from_fit

COLUMNS = ["variable", "statistic", "observed", "mean", "lower", "upper", "p_value"]
PIT_COLUMNS = ["variable", "n", "p_value", "method"]
#: above this many (feature, class) pairs, ``class_mean`` pools the features
MAX_FEATURE_ROWS = 24
GROUPS = ("posterior_predictive", "prior_predictive")


# ======================================================== built-in statistics
# Each maps one data set (any shape; NaN = missing) to a float. They ignore NaN
# because observed NaNs are masked into the replicates (see predictive_draws).
def mean(x: np.ndarray) -> float:
    """Mean of all (non-missing) elements; for binary data, the proportion of ones."""
    return float(np.nanmean(x))


def sd(x: np.ndarray) -> float:
    """Standard deviation of all elements (ddof=0)."""
    return float(np.nanstd(x))


def _quantile(q: float) -> Callable[[np.ndarray], float]:
    def statistic(x: np.ndarray) -> float:
        return float(np.nanquantile(x, q))

    statistic.__name__ = f"q{round(q * 100):02d}"
    statistic.__doc__ = f"The {q:.0%} quantile of all elements."
    return statistic


def minimum(x: np.ndarray) -> float:
    """Smallest element."""
    return float(np.nanmin(x))


def maximum(x: np.ndarray) -> float:
    """Largest element."""
    return float(np.nanmax(x))


def prop_zero(x: np.ndarray) -> float:
    """Proportion of elements equal to zero (counts: zero inflation)."""
    x = np.asarray(x, dtype=float)
    seen = ~np.isnan(x)
    return float(np.mean(x[seen] == 0)) if seen.any() else math.nan


def acf1(x: np.ndarray) -> float:
    """Lag-1 autocorrelation of a series (missing steps dropped pairwise)."""
    x = np.asarray(x, dtype=float).ravel()
    a, b = x[:-1], x[1:]
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.size < 2:
        return math.nan
    centre = np.nanmean(x)
    denom = np.nansum((x - centre) ** 2)
    # the usual sample autocorrelation: lag-1 autocovariance over the variance
    return float(np.sum((a - centre) * (b - centre)) / denom) if denom > 0 else math.nan


def row_mean_sd(x: np.ndarray) -> float:
    """Standard deviation across the first dim of the per-row means (heterogeneity
    of units: rats, images, items); for a 1-D variable, the sd of its elements."""
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        return sd(x)
    rows = np.nanmean(x.reshape(x.shape[0], -1), axis=1)
    return float(np.nanstd(rows))


STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "mean": mean,
    "sd": sd,
    "q05": _quantile(0.05),
    "q25": _quantile(0.25),
    "q50": _quantile(0.50),
    "q75": _quantile(0.75),
    "q95": _quantile(0.95),
    "min": minimum,
    "max": maximum,
    "prop_zero": prop_zero,
    "acf1": acf1,
    "row_mean_sd": row_mean_sd,
}

#: statistics of a generative classifier that expand into one row per class
#: (``class_prop`` for the labels) or per (feature, class) (``class_mean`` for
#: the features); accepted by name in ``statistics=`` like the built-ins
CLASS_STATISTICS = ("class_prop", "class_mean")


def default_statistics(model: Model, variable: str) -> list[str]:
    """The statistics :func:`ppc` checks for one observed variable by default.

    Parameters
    ----------
    model : Model
    variable : str
        One of ``model.observed``.

    Returns
    -------
    list of str
        Names in :data:`STATISTICS` or :data:`CLASS_STATISTICS` (see the module
        docstring for the rules).
    """
    if variable not in model.observed:
        raise ValueError(
            f"variable must be an observed site of {model.name} "
            f"({', '.join(model.observed)}), got {variable!r}"
        )
    field = model.field(variable)
    classifier = model.family == "classification" and {"X", "y"} <= set(model.observed)
    if classifier and variable == "y":
        return ["class_prop"]
    if field.kind == "binary":
        names = ["mean"]
    else:
        names = ["mean", "sd", "q05", "q50", "q95", "min", "max"]
        if field.kind == "count":
            names.append("prop_zero")
    if classifier and variable == "X":
        names = [n for n in names if n in ("mean", "sd", "prop_zero")] + ["class_mean"]
        return names
    if len(field.dims) == 1 and field.dims[0] == "time":
        names.append("acf1")
    if len(field.dims) >= 2:
        names.append("row_mean_sd")
    return names


# ============================================================ array functions
def statistic_draws(
    fn: Callable[[np.ndarray], float], draws: np.ndarray, *, name: str = "statistic"
) -> np.ndarray:
    """T of each replicate: ``draws`` shaped ``(S, *dims)`` -> ``(S,)`` floats.

    Raises
    ------
    TypeError
        When ``fn`` returns something that is not one real number.
    """
    out = np.empty(draws.shape[0])
    for s in range(draws.shape[0]):
        out[s] = as_scalar(fn(draws[s]), name)
    return out


def as_scalar(value: object, name: str) -> float:
    """``value`` as a float, or a TypeError naming the statistic and what it returned."""
    arr = np.asarray(value)
    if arr.ndim != 0 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(
            f"statistic {name!r} must return one number per data set, got "
            f"{type(value).__name__} of shape {arr.shape}"
        )
    return float(arr)


def predictive_pvalue(t_rep: np.ndarray, t_obs: float) -> float:
    """P(T(y_rep) >= T(y)): the fraction of (finite) replicate statistics >= observed.

    NaN when the observed statistic or every replicate's is undefined.
    """
    t_rep = np.asarray(t_rep, dtype=float)
    t_rep = t_rep[np.isfinite(t_rep)]
    if not np.isfinite(t_obs) or t_rep.size == 0:
        return math.nan
    return float(np.mean(t_rep >= t_obs))


def strict_pvalue(t_rep: np.ndarray, t_obs: float) -> float:
    """P(T(y_rep) > T(y)): as :func:`predictive_pvalue` without the ties."""
    t_rep = np.asarray(t_rep, dtype=float)
    t_rep = t_rep[np.isfinite(t_rep)]
    if not np.isfinite(t_obs) or t_rep.size == 0:
        return math.nan
    return float(np.mean(t_rep > t_obs))


def summarize_draws(t_rep: np.ndarray, t_obs: float, prob: float) -> dict[str, float]:
    """observed, mean, central ``prob`` interval and p-value of one statistic
    (plus ``p_strict``, P(T(y_rep) > T(y)), which :func:`ppc` keeps in attrs)."""
    finite = np.asarray(t_rep, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        lo = hi = centre = math.nan
    else:
        lo, hi = np.quantile(finite, [(1 - prob) / 2, (1 + prob) / 2])
        centre = float(np.mean(finite))
    return {
        "observed": float(t_obs),
        "mean": centre,
        "lower": float(lo),
        "upper": float(hi),
        "p_value": predictive_pvalue(t_rep, t_obs),
        "p_strict": strict_pvalue(t_rep, t_obs),
    }


def class_proportions(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Proportion of each class code 0..C-1 among ``codes`` (..., n) -> (..., C)."""
    codes = np.asarray(codes)
    onehot = codes[..., None] == np.arange(n_classes)
    return onehot.mean(axis=-2)


def class_means(X: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean of each feature within each class: X (n, F), codes (n,) -> (C, F).

    NaN for a class with no rows (or a feature with no seen value in it).
    """
    X = np.asarray(X, dtype=float)
    onehot = (np.asarray(codes)[:, None] == np.arange(n_classes)).astype(float)
    seen = ~np.isnan(X)
    total = onehot.T @ np.where(seen, X, 0.0)
    count = onehot.T @ seen.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def class_pooled_means(X: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean of all features within each class: X (n, F), codes (n,) -> (C,)."""
    X = np.asarray(X, dtype=float)
    onehot = (np.asarray(codes)[:, None] == np.arange(n_classes)).astype(float)
    seen = ~np.isnan(X)
    total = onehot.T @ np.where(seen, X, 0.0).sum(axis=1)
    count = onehot.T @ seen.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


# =================================================================== wrappers
def check_fit(fit: object, *, need: Sequence[str] = (), what: str = "fit") -> Model:
    """The model of a probgen fit, or a clear error for anything else.

    Parameters
    ----------
    fit : object
        Should be a DataTree made by ``probgen.sample`` (or a probgen
        predictive function), carrying the ``probgen_model`` attribute.
    need : sequence of str
        Groups that must be present.
    """
    if not isinstance(fit, xr.DataTree):
        raise TypeError(
            f"{what} must be an xarray.DataTree returned by probgen.sample, got "
            f"{type(fit).__name__}"
        )
    if ATTR_MODEL not in fit.attrs:
        raise ValueError(
            f"{what} is not a probgen fit: it has no 'probgen_model' attribute (make it "
            "with probgen.sample, or read one with probgen.load_fit)"
        )
    missing = [g for g in need if g not in fit.children]
    if missing:
        raise ValueError(
            f"{what} has no {', '.join(repr(m) for m in missing)} group "
            f"(it has {', '.join(fit.children) or 'none'})"
        )
    return model_from_fit(fit)


def _with_group(fit: xr.DataTree, group: str, seed: int) -> xr.DataTree:
    """``fit`` with ``group`` present: posterior predictive draws are generated
    when missing (this needs the posterior); a prior predictive group cannot be."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(map(repr, GROUPS))}, got {group!r}")
    if group in fit.children:
        return fit
    if group == "prior_predictive":
        raise ValueError(
            "fit has no 'prior_predictive' group: pass the result of "
            "probgen.sample_prior_predictive(model, data) for a prior predictive check"
        )
    if "posterior" not in fit.children:
        raise ValueError(
            "fit has no 'posterior' group, so no posterior predictive draws can be made; "
            "pass a fit from probgen.sample"
        )
    from probgen.predictive import sample_posterior_predictive

    return sample_posterior_predictive(fit, seed=seed)


def _var_names(
    var_names: str | Sequence[str] | None, model: Model, available: Sequence[str]
) -> list[str]:
    observed = [v for v in model.observed if v in available]
    if var_names is None:
        if not observed:
            raise ValueError(f"the fit has no observed data for {model.name}")
        return observed
    names = [var_names] if isinstance(var_names, str) else list(var_names)
    bad = [v for v in names if v not in observed]
    if bad or not names:
        raise ValueError(
            f"var_names must name observed variables of this fit ({', '.join(observed)}), "
            f"got {names!r}"
        )
    return names


def predictive_draws(fit: xr.DataTree, group: str, variable: str) -> tuple[np.ndarray, np.ndarray]:
    """(observed values (*dims), replicates (S, *dims)) of one variable.

    Replicates take the observed data's NaN mask, so both sides of a check
    cover the same elements.
    """
    obs = np.asarray(fit["observed_data"][variable].values, dtype=float)
    da = fit[group][variable]
    if tuple(da.dims[:2]) != ("chain", "draw"):
        raise ValueError(f"{group}.{variable} must have dims (chain, draw, ...), got {da.dims}")
    rep = np.asarray(da.transpose("chain", "draw", *fit["observed_data"][variable].dims).values)
    rep = rep.reshape((-1, *rep.shape[2:])).astype(float)
    if rep.shape[1:] != obs.shape:
        raise ValueError(
            f"{group}.{variable} has shape {rep.shape[1:]} per draw but the observed data "
            f"{obs.shape}"
        )
    missing = np.isnan(obs)
    if missing.any():
        rep = np.where(missing, np.nan, rep)
    return obs, rep


@dataclass(frozen=True)
class StatisticSpec:
    name: str
    fn: Callable[[np.ndarray], float] | None  # None: a class statistic


def resolve_statistics(
    statistics: Sequence[str | Callable] | Mapping[str, Callable] | None,
) -> list[StatisticSpec] | None:
    """The user's statistics as named specs (None: the defaults per variable)."""
    if statistics is None:
        return None
    known = ", ".join([*STATISTICS, *CLASS_STATISTICS])
    if isinstance(statistics, Mapping):
        items = list(statistics.items())
        for name, fn in items:
            if not isinstance(name, str) or not callable(fn):
                raise TypeError(
                    "statistics as a mapping must be {name: callable}, got "
                    f"{name!r}: {type(fn).__name__}"
                )
        specs = [StatisticSpec(name, fn) for name, fn in items]
    elif isinstance(statistics, str | bytes) or callable(statistics):
        raise TypeError(
            "statistics must be a list of names or callables (e.g. ['sd', np.median]) or a "
            f"dict {{name: callable}}, got {statistics!r}"
        )
    else:
        specs = []
        for item in statistics:
            if isinstance(item, str):
                if item in STATISTICS:
                    specs.append(StatisticSpec(item, STATISTICS[item]))
                elif item in CLASS_STATISTICS:
                    specs.append(StatisticSpec(item, None))
                else:
                    raise ValueError(f"unknown statistic {item!r}; the built-ins are: {known}")
            elif callable(item):
                name = getattr(item, "__name__", None)
                if not name or name == "<lambda>":
                    raise ValueError(
                        f"statistic {item!r} has no usable __name__; pass a dict "
                        "{name: callable} to name it"
                    )
                specs.append(StatisticSpec(name, item))
            else:
                raise TypeError(
                    f"each statistic must be a name (str) or a callable, got "
                    f"{type(item).__name__} {item!r}"
                )
    if not specs:
        raise ValueError("statistics is empty; pass None for the defaults")
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"statistics named more than once: {dupes}")
    return specs


def _class_rows(
    fit: xr.DataTree, group: str, model: Model, variable: str, name: str, prob: float
) -> list[dict]:
    """Rows of a class statistic (``class_prop`` of y, ``class_mean`` of X)."""
    if not (model.family == "classification" and {"X", "y"} <= set(model.observed)):
        raise ValueError(
            f"statistic {name!r} applies to the generative classifiers (observed X and y), "
            f"not to {model.name}"
        )
    obs_y, rep_y = predictive_draws(fit, group, "y")
    labels = class_labels(fit, obs_y, rep_y)
    C = len(labels)
    rows = []
    if name == "class_prop":
        if variable != "y":
            raise ValueError("statistic 'class_prop' applies to the labels y, not to X")
        t_obs = class_proportions(obs_y.astype(np.int64), C)
        t_rep = class_proportions(rep_y.astype(np.int64), C)
        for c, label in enumerate(labels):
            rows.append(
                {"statistic": f"prop[{label}]", **summarize_draws(t_rep[:, c], t_obs[c], prob)}
            )
        return rows
    if variable != "X":
        raise ValueError("statistic 'class_mean' applies to the features X, not to y")
    obs_X, rep_X = predictive_draws(fit, group, "X")
    features = _labels_of(fit, "X", 1, obs_X.shape[1])
    per_feature = len(features) * C <= MAX_FEATURE_ROWS
    fn = class_means if per_feature else class_pooled_means
    t_obs = fn(obs_X, obs_y.astype(np.int64), C)
    # one replicate's features grouped by the same replicate's labels: the joint
    # p(x, y) is checked, as the model generates them together
    t_rep = np.stack([fn(rep_X[s], rep_y[s].astype(np.int64), C) for s in range(rep_X.shape[0])])
    for c, label in enumerate(labels):
        if per_feature:
            for f, feature in enumerate(features):
                if np.isfinite(t_obs[c, f]):  # a class absent from y has no mean
                    rows.append(
                        {
                            "statistic": f"mean[{feature}|{label}]",
                            **summarize_draws(t_rep[:, c, f], t_obs[c, f], prob),
                        }
                    )
        elif np.isfinite(t_obs[c]):
            rows.append(
                {"statistic": f"mean[all|{label}]", **summarize_draws(t_rep[:, c], t_obs[c], prob)}
            )
    return rows


def _labels_of(fit: xr.DataTree, variable: str, axis: int, n: int) -> list:
    da = fit["observed_data"][variable]
    dim = da.dims[axis]
    if dim in da.coords:
        return [v.item() if hasattr(v, "item") else v for v in da.coords[dim].values]
    return list(range(n))


def class_labels(fit: xr.DataTree, obs_y: np.ndarray, rep_y: np.ndarray) -> list:
    """The classes' labels: the fit's ``class`` coords, else the codes 0..C-1."""
    for group in ("posterior", "prior", "constant_data", "observed_data"):
        if group in fit.children and "class" in fit[group].dataset.coords:
            return [v.item() if hasattr(v, "item") else v for v in fit[group]["class"].values]
    top = int(np.nanmax([np.nanmax(obs_y), np.nanmax(rep_y)]))
    return list(range(top + 1))


def ppc(
    fit: xr.DataTree,
    statistics: Sequence[str | Callable] | Mapping[str, Callable] | None = None,
    *,
    var_names: str | Sequence[str] | None = None,
    group: str = "posterior_predictive",
    prob: float = 0.89,
    seed: int = 0,
) -> pd.DataFrame:
    """Posterior (or prior) predictive check: test statistics and their p-values.

    Parameters
    ----------
    fit : DataTree
        A fit from :func:`probgen.sample` (for ``group="prior_predictive"``, the
        result of :func:`probgen.sample_prior_predictive` with observed values
        in its data). A missing ``posterior_predictive`` group is generated
        with :func:`probgen.sample_posterior_predictive` (``seed``).
    statistics : list or dict, optional
        None: :func:`default_statistics` for each variable. A list of built-in
        names (:data:`STATISTICS`, :data:`CLASS_STATISTICS`) and/or callables
        (named by their ``__name__``), or a dict ``{name: callable}``. A
        statistic maps one data set — the variable's values, shaped like its
        dims, NaN where the observation is missing — to one number.
    var_names : str or list of str, optional
        Observed variables to check; default all of them.
    group : {"posterior_predictive", "prior_predictive"}
    prob : float
        Mass of the central interval of the replicated statistic (0.89).
    seed : int
        Seed of the posterior predictive draws when they have to be made.

    Returns
    -------
    pandas.DataFrame
        One row per (variable, statistic), columns ``variable``, ``statistic``,
        ``observed`` (T(y)), ``mean``, ``lower``, ``upper`` (T(y_rep)'s mean and
        central ``prob`` interval over draws) and ``p_value``
        (P(T(y_rep) >= T(y)); see the module docstring on ties). ``attrs``:
        ``group``, ``prob``, ``model``, ``n_draws``.

    Raises
    ------
    TypeError, ValueError
        For anything that is not a probgen fit, missing groups, an unknown
        statistic name, a statistic that does not return one number.
    """
    model = check_fit(fit, need=("observed_data",))
    if not isinstance(prob, int | float) or isinstance(prob, bool) or not 0 < prob < 1:
        raise ValueError(f"prob must be a number in (0, 1), got {prob!r}")
    specs = resolve_statistics(statistics)
    fit = _with_group(fit, group, seed)
    names = _var_names(
        var_names, model, [v for v in fit["observed_data"].data_vars if v in fit[group].data_vars]
    )
    rows: list[dict] = []
    n_draws = None
    for variable in names:
        obs, rep = predictive_draws(fit, group, variable)
        n_draws = rep.shape[0]
        chosen = specs
        if chosen is None:
            chosen = [
                StatisticSpec(n, STATISTICS.get(n)) for n in default_statistics(model, variable)
            ]
        for spec in chosen:
            if spec.fn is None:
                class_rows = _class_rows(fit, group, model, variable, spec.name, prob)
                rows.extend({"variable": variable, **r} for r in class_rows)
                continue
            t_obs = as_scalar(spec.fn(obs), spec.name)
            t_rep = statistic_draws(spec.fn, rep, name=spec.name)
            _warn_undefined(variable, spec.name, t_obs, t_rep)
            rows.append(
                {
                    "variable": variable,
                    "statistic": spec.name,
                    **summarize_draws(t_rep, t_obs, prob),
                }
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    # P(T(y_rep) > T(y)) per row, keyed "variable·statistic": with ties (discrete
    # statistics) it differs from p_value, and ppc_verdict needs both tails
    strict = {f"{r['variable']}·{r['statistic']}": r["p_strict"] for r in rows}
    table.attrs.update(
        {
            "group": group,
            "prob": float(prob),
            "model": model.name,
            "n_draws": n_draws,
            "p_value_strict": strict,
        }
    )
    return table


def _warn_undefined(variable: str, statistic: str, t_obs: float, t_rep: np.ndarray) -> None:
    """Say when a statistic is NaN/inf: the p-value then leaves those data sets out
    (or is NaN), which must not happen silently."""
    bad = int((~np.isfinite(t_rep)).sum())
    if not np.isfinite(t_obs):
        warn_user(
            f"statistic {statistic!r} of {variable!r} is undefined ({t_obs}) for the "
            "observed data: its row has no p-value",
            UserWarning,
        )
    elif bad:
        warn_user(
            f"statistic {statistic!r} of {variable!r} is undefined (NaN or inf) for {bad} of "
            f"{t_rep.size} replicated data sets; its mean, interval and p-value use the "
            f"other {t_rep.size - bad}",
            UserWarning,
        )


def _format(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.3g}"


def ppc_verdict(table: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """One line per row of a :func:`ppc` table, saying whether the model reproduces it.

    A statistic is flagged when the observed value is in either tail of the
    replicated ones: ``P(T(y_rep) >= T(y)) < alpha/2`` (replicates almost never
    reach it) or ``P(T(y_rep) > T(y)) > 1 - alpha/2`` (they almost always
    exceed it). Using the strict inequality in the upper tail keeps ties from
    flagging a discrete statistic the model reproduces exactly (a count's 5%
    quantile that is 0 in the data and in every replicate has p = 1 but is
    consistent). Otherwise it is "consistent". A p-value of 0 from S draws is
    written ``p < 1/S``.

    Parameters
    ----------
    table : DataFrame
        The result of :func:`ppc`.
    alpha : float
        Two-sided level (0.05).

    Returns
    -------
    list of str
        e.g. ``"y · sd: observed 9.8, replicated 10.1 [8.2, 12], p = 0.43 — consistent"``.
    """
    if not isinstance(table, pd.DataFrame) or list(table.columns) != COLUMNS:
        raise ValueError(f"table must be a DataFrame from ppc() with columns {COLUMNS}")
    if not isinstance(alpha, int | float) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    n_draws = table.attrs.get("n_draws")
    strict = table.attrs.get("p_value_strict", {})
    lines = []
    for row in table.itertuples(index=False):
        p = row.p_value
        p_gt = strict.get(f"{row.variable}·{row.statistic}", p)
        if not np.isfinite(p):
            p_text, verdict = "p = n/a", "not defined for these data"
        else:
            if p == 0 and n_draws:
                p_text = f"p < {1 / n_draws:.2g}"
            elif p == 1 and n_draws:
                p_text = f"p > {1 - 1 / n_draws:.3g}"
            else:
                p_text = f"p = {p:.2g}"
            extreme = p < alpha / 2 or p_gt > 1 - alpha / 2
            verdict = "the model does not reproduce this" if extreme else "consistent"
        lines.append(
            f"{row.variable} · {row.statistic}: observed {_format(row.observed)}, replicated "
            f"{_format(row.mean)} [{_format(row.lower)}, {_format(row.upper)}], "
            f"{p_text} — {verdict}"
        )
    return lines


# ==================================================================== LOO-PIT
def loo_pit_values(fit: xr.DataTree, var_names: str | Sequence[str] | None = None) -> xr.Dataset:
    """LOO-PIT values of the observed variables (arviz_stats.loo_pit).

    The PIT of observation i is P(y_rep_i <= y_i | y_-i), estimated with PSIS
    weights from each variable's own pointwise log likelihood. Well-calibrated
    predictions give PIT values uniform on (0, 1). For real-valued variables
    the values are arviz_stats' Pareto-smoothed PIT (``pareto_pit=True``): the
    tails of the predictive distribution are smoothed, so finitely many draws
    never give a PIT of exactly 0 or 1 (which would make the uniformity test
    reject a good model). For discrete variables (binary, counts) arviz_stats
    randomizes within ties (seeded, so repeatable), which makes the values
    uniform under a correct model; an observed count beyond every replicated
    one would get a PIT of exactly 1 (0 below every one), which the uniformity
    test takes as impossible, so discrete values are clipped to the ECDF's
    resolution, S draws telling nothing apart within ``1/(S+1)`` of 0 or 1
    (:func:`clip_discrete_pit`).

    A posterior predictive group is generated (seed 0) when the fit lacks one.
    The importance weights leave out one **observation** at a time, as
    :func:`probgen.evaluation.loo.loo` does: one entry of the observation dim
    with all its observed sites (a classifier's row of features and its label,
    a mixture's whole image), so every element of observation n gets the
    weights of leaving n out. For a model with one observed site of one dim
    (a regression) this is arviz_stats' own default.

    Parameters
    ----------
    fit : DataTree
        A fit with posterior, log_likelihood and observed_data.
    var_names : str or list of str, optional

    Returns
    -------
    xarray.Dataset
        One variable per observed site, with the site's dims.
    """
    from arviz_stats import loo_pit as az_loo_pit

    model = check_fit(fit, need=("posterior", "log_likelihood", "observed_data"))
    fit = _with_group(fit, "posterior_predictive", 0)
    names = _var_names(var_names, model, list(fit["observed_data"].data_vars))
    weights = _observation_weights(fit)
    fit = _aligned_replicates(fit, fit["log_likelihood"].sizes["draw"])
    n_samples = fit["log_likelihood"].sizes["chain"] * fit["log_likelihood"].sizes["draw"]
    parts = []
    for name in names:
        obs = fit["observed_data"][name]
        kwargs = {
            key: xr.Dataset({name: value.broadcast_like(obs).transpose(*lead, *obs.dims)})
            for (key, value), lead in zip(weights.items(), (("chain", "draw"), ()), strict=True)
        }
        # continuous variables: Pareto-smoothed PIT. The tails of each weighted
        # predictive ECDF are refined by a generalized Pareto fit, so an
        # observation beyond every draw gets a PIT near (not exactly) 0 or 1:
        # plain PIT values of exactly 0 or 1, common with a few hundred draws,
        # make the uniformity test reject a well-specified model outright.
        # Discrete ones: ties randomized (arviz_stats' fixed seed); Pareto
        # smoothing is meant for continuous distributions.
        continuous = model.field(name).kind == "real"
        part = az_loo_pit(fit, var_names=[name], pareto_pit=continuous, **kwargs)
        if not continuous:
            part[name] = clip_discrete_pit(part[name], n_samples)
        parts.append(part)
    return xr.merge(parts, compat="no_conflicts", join="outer")[names]


def clip_discrete_pit(pit: xr.DataArray | np.ndarray, n_samples: int):
    """Keep discrete PIT values inside the resolution of the predictive ECDF.

    A weighted ECDF of ``n_samples`` draws cannot tell a predictive tail
    probability below about ``1 / (n_samples + 1)`` from zero: an observed count
    beyond every replicated one gets PIT exactly 1 although its true PIT lies
    in ``(1 - 1/(S+1), 1)``. The uniformity test (pointwise order-statistic
    tests) treats a value of exactly 1 among n values as impossible under
    uniformity and rejects a correct model with p ~ 1e-15 (seen on
    poisson_regression's own data with 600 draws). Values in the unresolved
    tails are set to the middle of their band, ``0.5/(S+1)`` or
    ``1 - 0.5/(S+1)`` (the band's mean under uniformity), which moves each by
    less than the Monte Carlo resolution it was computed with; NaN (missing
    observations) stays NaN.
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive number of draws, got {n_samples}")
    band = 1.0 / (n_samples + 1)
    clipped = np.asarray(pit, dtype=float).copy()
    clipped[clipped < band] = 0.5 * band
    clipped[clipped > 1.0 - band] = 1.0 - 0.5 * band
    if isinstance(pit, xr.DataArray):
        return pit.copy(data=clipped)
    return clipped


def _aligned_replicates(fit: xr.DataTree, n_draws: int) -> xr.DataTree:
    """``fit`` with one posterior predictive replicate per posterior draw.

    A group made with several replicates per draw (sample_posterior_predictive's
    ``replicates=``, replicate-major) is cut to its first ``posterior_draws``
    draws: one replicate per draw, aligned with the log likelihood as PSIS needs.
    """
    pp = fit["posterior_predictive"]
    if pp.sizes["draw"] == n_draws:
        return fit
    if int(pp.attrs.get("posterior_draws", -1)) != n_draws:
        raise ValueError(
            f"the posterior_predictive group has {pp.sizes['draw']} draws per chain but "
            f"the log likelihood {n_draws}, and no 'posterior_draws' attr saying how "
            "they pair up; regenerate it with probgen.sample_posterior_predictive(fit)"
        )
    fit = fit.copy()
    fit["posterior_predictive"] = xr.DataTree(pp.to_dataset().isel(draw=slice(0, n_draws)))
    return fit


def _observation_weights(fit: xr.DataTree) -> dict[str, xr.DataArray]:
    """PSIS log weights and Pareto k of leaving out each observation.

    The observation is :mod:`probgen.evaluation.loo`'s: one entry of the
    observation dim with every observed site's terms summed (a classifier's
    row X[n, :] and label y[n], a mixture's image). Each element of an
    observed variable then gets the weights of its observation, so its PIT is
    P(x_rep[n, ...] <= x[n, ...] | the other observations) — the same
    leave-one-out as :func:`probgen.evaluation.loo.loo`. Smoothing once per
    observation, not per element, keeps a 1797 x 64 image set cheap.
    """
    from probgen.evaluation.loo import joint_log_likelihood

    joint = joint_log_likelihood(fit)
    post = fit["posterior"].to_dataset()
    n_samples = post.sizes["chain"] * post.sizes["draw"]
    if post.sizes["chain"] > 1:
        # the relative efficiency arviz_stats uses: mean ESS of the posterior over S
        ess = post.azstats.ess(method="mean")
        r_eff = float(np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean()) / n_samples
    else:
        r_eff = 1.0
    log_weights, pareto_k = joint.azstats.psislw(r_eff=r_eff, dim=["chain", "draw"])
    return {"log_weights": log_weights, "pareto_k": pareto_k}


def loo_pit(fit: xr.DataTree, var_names: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Uniformity test of the LOO-PIT values of each observed variable.

    Parameters
    ----------
    fit : DataTree
        A fit with posterior, log_likelihood and observed_data (posterior
        predictive draws are made when missing).
    var_names : str or list of str, optional

    Returns
    -------
    pandas.DataFrame
        One row per variable: ``variable``, ``n`` (number of defined PIT values;
        missing observations have none),
        ``p_value`` of arviz_stats' uniformity test (``method`` "pot_c", the
        Cauchy combination of pointwise order-statistic tests): small means the
        predictive distributions are miscalibrated (too narrow gives a U shape,
        too wide a hump, biased a slope).
    """
    values = loo_pit_values(fit, var_names)
    rows = []
    for name, da in values.data_vars.items():
        flat = np.asarray(da.values, dtype=float).ravel()
        defined = np.isfinite(flat)
        missing = int(np.isnan(np.asarray(fit["observed_data"][name].values, float)).sum())
        if (~defined).sum() > missing:
            # beyond missing observations (which have no PIT): say so, never drop quietly
            warn_user(
                f"{int((~defined).sum()) - missing} LOO-PIT values of {name!r} are undefined "
                "(the Pareto tail fit failed: extreme draws or weights); the uniformity "
                f"test uses the other {int(defined.sum())}",
                UserWarning,
            )
        flat = flat[defined]
        rows.append(
            {
                "variable": name,
                "n": int(flat.size),
                "p_value": uniformity_pvalue(flat),
                "method": "pot_c",
            }
        )
    return pd.DataFrame(rows, columns=PIT_COLUMNS)


def uniformity_pvalue(pit: np.ndarray, method: str = "pot_c") -> float:
    """arviz_stats' uniformity test p-value of PIT values (a 1-D array)."""
    from arviz_stats.base import array_stats

    pit = np.asarray(pit, dtype=float).ravel()
    if pit.size == 0:
        return math.nan
    p_value, *_ = array_stats.uniformity_test(pit, axis=-1, method=method)
    return float(p_value)
