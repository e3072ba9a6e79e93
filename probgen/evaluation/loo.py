"""Predictive accuracy: PSIS-LOO, comparison of fits, held-out log predictive density.

All three measure how well a fit predicts observations it did not see, by the
log predictive density of an **observation**: the joint density of every
observed site's values for that observation. For a model with one observed
site of one dim (a regression's ``y (obs,)``) that is the site's pointwise log
likelihood; for several sites or dims the backend's pointwise terms are summed
over every dim except the observation dim — the first dim of each observed
field, which the sites must share. So a naive Bayes classifier's observation
is a row: ``log p(X[n, :], y[n] | theta)`` = the features' terms summed plus
the label's; a ``rats`` observation is one rat's whole growth curve (all ages);
an IRT observation is one item's responses.

Models of one series (``ar``, ``arma11``, ``garch11``, ``hmm_gaussian``,
``stochastic_volatility``) have the observation dim ``time``: their pointwise
terms are the one-step conditional densities (given the past), and LOO over
them is leave-one-time-point-out, which is what arviz_stats does with them;
for forecasting accuracy use leave-future-out (``arviz_stats.loo_lfo``) or a
held-out continuation of the series with :func:`log_predictive_density`.

Layers (as arviz-stats): array functions (:func:`joint_pointwise`,
:func:`lpd_pointwise`), wrappers that find the arrays in a fit
(:func:`joint_log_likelihood`, :func:`observation_dim`), public functions
(:func:`loo`, :func:`compare`, :func:`log_predictive_density`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from probgen.errors import DataError, HighParetoKWarning, warn_user
from probgen.evaluation.ppc import check_fit
from probgen.model import Model

#: arviz_stats' own high-k warning, replaced by HighParetoKWarning with advice
_ARVIZ_K_WARNING = "Estimated shape parameter of Pareto distribution"


class NotPointwiseError(ValueError):
    """The model's observations are jointly distributed given the parameters
    (e.g. a Gaussian process' marginal likelihood), so there are no
    per-observation log likelihood terms to cross-validate."""


# ============================================================ array functions
def joint_pointwise(arrays: Mapping[str, np.ndarray], ndims: Mapping[str, int]) -> np.ndarray:
    """Sum pointwise log likelihoods into one term per observation.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        Each site's log likelihood, shaped ``(chain, draw, n, ...)`` with the
        observation dim third.
    ndims : mapping of str to int
        Each site's number of data dims (1 for ``(chain, draw, n)``).

    Returns
    -------
    ndarray, shape (chain, draw, n)
    """
    total = None
    for name, arr in arrays.items():
        arr = np.asarray(arr, dtype=float)
        if arr.ndim != 2 + ndims[name]:
            raise ValueError(
                f"log likelihood of {name!r} has {arr.ndim - 2} data dims, expected {ndims[name]}"
            )
        summed = arr.reshape((*arr.shape[:3], -1)).sum(axis=-1)
        if total is not None and summed.shape != total.shape:
            raise ValueError(
                f"log likelihood of {name!r} has shape {summed.shape} after summing, "
                f"others {total.shape}: the sites do not share the observation dim"
            )
        total = summed if total is None else total + summed
    if total is None:
        raise ValueError("no log likelihood arrays given")
    return total


def lpd_pointwise(log_lik: np.ndarray) -> np.ndarray:
    """log of the mean over draws of p(y_i | theta): ``(chain, draw, n)`` -> ``(n,)``."""
    log_lik = np.asarray(log_lik, dtype=float)
    flat = log_lik.reshape((-1, *log_lik.shape[2:]))
    return logsumexp(flat, axis=0) - math.log(flat.shape[0])


# =================================================================== wrappers
def observation_dim(model: Model) -> str:
    """The dim every observed field starts with (LOO leaves out one entry of it)."""
    firsts = {model.field(n).dims[0] for n in model.observed if model.field(n).dims}
    if len(firsts) != 1 or any(not model.field(n).dims for n in model.observed):
        raise NotPointwiseError(
            f"{model.name}'s observed sites do not share a first dimension "
            f"({ {n: model.field(n).dims for n in model.observed} }): there is no single "
            "observation to leave out"
        )
    return firsts.pop()


def _site_arrays(
    model: Model, log_lik: Mapping[str, xr.DataArray | np.ndarray], dims: Mapping[str, tuple]
) -> tuple[dict[str, np.ndarray], dict[str, int], str]:
    """Each observed site's log lik with the observation dim third; a clear error
    when a site's terms are not per observation."""
    obs_dim = observation_dim(model)
    arrays, ndims = {}, {}
    for name in model.observed:
        if name not in log_lik:
            raise ValueError(f"the log likelihood has no values for the observed site {name!r}")
        site_dims = tuple(dims[name])
        if obs_dim not in site_dims:
            raise NotPointwiseError(
                f"{model.name}'s log likelihood of {name!r} is one joint term for all "
                f"observations (dims {site_dims}, no {obs_dim!r}): its observations are "
                "dependent given the parameters (e.g. a Gaussian process' marginal "
                "likelihood), so they cannot be left out one at a time by importance "
                "sampling, nor scored one by one on new data without conditioning on "
                "the training data. Compare such models by K-fold cross-validation "
                "with held-out fits"
            )
        arr = log_lik[name]
        if isinstance(arr, xr.DataArray):
            arr = arr.transpose("chain", "draw", obs_dim, ...).values
            site_dims = (obs_dim, *tuple(d for d in site_dims if d != obs_dim))
        elif site_dims[0] != obs_dim:
            raise ValueError(f"log likelihood of {name!r}: {obs_dim!r} must be its first data dim")
        arrays[name] = np.asarray(arr)
        ndims[name] = len(site_dims)
    return arrays, ndims, obs_dim


def joint_log_likelihood(fit: xr.DataTree) -> xr.DataArray:
    """The per-observation joint log likelihood of a fit, ``(chain, draw, obs_dim)``.

    Named after the observed site (several sites: their names joined by
    ``"+"``), labelled by the fit's observation coords.
    """
    model = check_fit(fit, need=("log_likelihood",))
    ds = fit["log_likelihood"].dataset
    dims = {n: tuple(d for d in ds[n].dims if d not in ("chain", "draw")) for n in ds.data_vars}
    arrays, ndims, obs_dim = _site_arrays(model, dict(ds.data_vars), dims)
    total = joint_pointwise(arrays, ndims)
    first = ds[model.observed[0]]
    coords = {d: first.coords[d].values for d in ("chain", "draw", obs_dim) if d in first.coords}
    return xr.DataArray(
        total, dims=("chain", "draw", obs_dim), coords=coords, name="+".join(model.observed)
    )


def loo_terms(fit: xr.DataTree) -> xr.DataArray:
    """The per-observation terms PSIS-LOO weights, ``(chain, draw, obs_dim)``.

    The joint log likelihood of each observation (:func:`joint_log_likelihood`),
    or, for a model whose observations are dependent given the parameters and
    which provides :meth:`probgen.Model.loo_log_likelihood` (gp_regression),
    log p(y_i | y_-i, theta) from that hook (non-factorized LOO, Bürkner, Gabry &
    Vehtari 2021).
    """
    model = check_fit(fit, need=("posterior", "log_likelihood"))
    from probgen.results import data_from_fit

    post = fit["posterior"].dataset
    posterior = {k: np.asarray(post[k].values) for k in model.var_dims() if k in post}
    terms = model.loo_log_likelihood(posterior, data_from_fit(fit, model))
    if terms is None:
        return joint_log_likelihood(fit)
    obs_dim = model.field(model.observed[0]).dims[0]
    total = sum(np.asarray(v, dtype=float) for v in terms.values())
    first = fit["observed_data"][model.observed[0]] if "observed_data" in fit.children else None
    coords = {"chain": post["chain"].values, "draw": post["draw"].values}
    if first is not None and obs_dim in first.coords:
        coords[obs_dim] = first.coords[obs_dim].values
    return xr.DataArray(
        total, dims=("chain", "draw", obs_dim), coords=coords, name="+".join(sorted(terms))
    )


def _loo_tree(fit: xr.DataTree, ll: xr.DataArray) -> xr.DataTree:
    """A minimal tree for arviz_stats.loo: the posterior (for the relative
    efficiency of the draws) and the one joint log likelihood variable."""
    return xr.DataTree.from_dict(
        {"posterior": fit["posterior"].dataset, "log_likelihood": xr.Dataset({ll.name: ll})}
    )


# ==================================================================== public
def loo(fit: xr.DataTree, *, pointwise: bool = True):
    """PSIS-LOO expected log predictive density of a fit's observations.

    The log likelihood of each observation is the joint over the observed
    sites (see the module docstring); arviz_stats.loo does the Pareto-smoothed
    importance sampling. For a series the observation dim is ``time``: LOO is
    leave-one-time-point-out. eight_schools' observation is a school.

    Parameters
    ----------
    fit : DataTree
        A fit from :func:`probgen.sample` (posterior and log_likelihood).
    pointwise : bool
        Keep the per-observation ``elpd_i`` and ``pareto_k`` (needed by
        :func:`compare` and the LOO plots).

    Returns
    -------
    arviz_stats.ELPDData
        ``elpd``, ``se``, ``p``, ``good_k``, ``pareto_k``, ``elpd_i``, ...

    Warns
    -----
    HighParetoKWarning
        When some observations have Pareto k above arviz's threshold
        (``good_k``, 0.7 or less for few draws) or undefined: their LOO
        estimates are unreliable. The warning gives how many and what to do.

    Raises
    ------
    NotPointwiseError
        For a model whose log likelihood is one joint term and that has no
        :meth:`probgen.Model.loo_log_likelihood` (gp_regression has one: its
        terms are log p(y_i | y_-i, theta)).
    """
    from arviz_stats import loo as az_loo

    if not isinstance(pointwise, bool):
        raise TypeError(f"pointwise must be True or False, got {pointwise!r}")
    model = check_fit(fit, need=("posterior", "log_likelihood"))
    ll = loo_terms(fit)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_ARVIZ_K_WARNING)
        # we always need the pointwise k for our own warning
        result = az_loo(_loo_tree(fit, ll), pointwise=True, var_name=ll.name)
    k = np.asarray(result.pareto_k.values, dtype=float).ravel()
    # an undefined k (NaN: the tail fit failed, e.g. on extreme weights) is no
    # more reliable than a large one
    bad = int(np.sum(~(k <= result.good_k)))
    if bad:
        warn_user(
            f"PSIS-LOO is unreliable for {bad} of {k.size} observations of this "
            f"{model.name} fit ({bad / k.size:.1%} with Pareto k > {result.good_k:.2f} "
            "or undefined); "
            "the ELPD estimate may be off. Try more draws, moment matching "
            "(arviz_stats.loo_moment_match), K-fold cross-validation "
            "(arviz_stats.loo_kfold), or check the model: many high k often mean it is "
            "misspecified or too flexible for influential observations",
            HighParetoKWarning,
        )
    if not pointwise:
        result.elpd_i = None
        result.pareto_k = None
    return result


def _observed_signature(fit: xr.DataTree, model: Model) -> tuple[int, list[np.ndarray]]:
    obs_dim = observation_dim(model)
    ds = fit["observed_data"].dataset
    return ds.sizes[obs_dim], [np.asarray(ds[n].values) for n in model.observed]


def compare(fits: Mapping[str, xr.DataTree]) -> pd.DataFrame:
    """Rank fits of the same observations by PSIS-LOO (arviz_stats.compare).

    Parameters
    ----------
    fits : mapping of str to DataTree
        At least two fits, by name, of the same observed data: the same number
        of observations and identical observed values (site by site, in each
        model's order of observed sites).

    Returns
    -------
    pandas.DataFrame
        arviz_stats.compare's table: one row per fit, best first (``rank``,
        ``elpd``, ``p``, ``elpd_diff``, ``weight``, ``se``, ``dse``, ``warning``).
        A difference is convincing when ``elpd_diff`` is several ``dse``.
        The numbers are not rounded (``elpd`` equals :func:`loo`'s); round
        for display (``table.round(1)``).

    Raises
    ------
    ValueError
        Fewer than two fits, or fits of different data.
    """
    from arviz_stats import compare as az_compare

    if not isinstance(fits, Mapping):
        raise TypeError(f"fits must be a mapping {{name: fit}}, got {type(fits).__name__}")
    if len(fits) < 2:
        raise ValueError(f"compare needs at least two fits, got {len(fits)}")
    bad = [k for k in fits if not isinstance(k, str)]
    if bad:
        raise TypeError(f"fits' names must be strings, got {bad[0]!r}")
    signatures = {}
    for name, fit in fits.items():
        model = check_fit(fit, need=("posterior", "log_likelihood", "observed_data"), what=name)
        signatures[name] = _observed_signature(fit, model)
    first, (n0, values0) = next(iter(signatures.items()))
    for name, (n, values) in signatures.items():
        if n != n0:
            raise ValueError(
                f"fits of different data: {first!r} has {n0} observations, {name!r} has {n}; "
                "compare needs fits of the same observations"
            )
        same = len(values) == len(values0) and all(
            a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
            for a, b in zip(values, values0, strict=False)
        )
        if not same:
            raise ValueError(
                f"fits of different data: {name!r}'s observed values differ from {first!r}'s; "
                "compare needs fits of the same observations"
            )
    elpds = {name: loo(fit, pointwise=True) for name, fit in fits.items()}
    # unrounded: arviz_stats' default ("auto") rounds elpd to the digits its se
    # supports (-228.47 became -230.0 beside an elpd_diff of -8.0), which is for
    # printing; the table is data that users compute with
    return az_compare(elpds, round_to="none")


def _frames_by_name(model: Model, values: dict[str, Any], old: Any) -> dict[str, Any]:
    """Put the columns of DataFrame fields in the fit's order, matched by name.

    A table field without an encoding (PPCA's ``x``, a naive Bayes ``X``) would
    otherwise be read by position, so held-out columns in another order would
    be scored against the wrong features without any error.
    """
    out = dict(values)
    for name, value in values.items():
        if not isinstance(value, pd.DataFrame) or name not in {f.name for f in model.fields}:
            continue
        dims = model.field(name).dims
        if len(dims) != 2 or dims[1] not in old.coords:
            continue
        fitted = [str(label) for label in old.coords[dims[1]]]
        got = [str(col) for col in value.columns]
        missing = [c for c in fitted if c not in got]
        unknown = [c for c in got if c not in fitted]
        if missing or unknown or len(set(got)) != len(got):
            raise DataError(
                f"data[{name!r}]'s columns are matched to the fit's {dims[1]!r} labels by name "
                f"(any order): expected {fitted}; missing {missing}, unknown {unknown}"
                + (", duplicated names" if len(set(got)) != len(got) else "")
                + ". Pass an array to give the columns by position"
            )
        frame = value.set_axis(got, axis=1)
        out[name] = frame[fitted]
    return out


@dataclass(frozen=True)
class LPD:
    """Held-out log predictive density of new observations.

    Attributes
    ----------
    lpd : float
        Sum over new observations of log mean over draws of p(y_i | theta).
    se : float
        Its standard error, sqrt(n) * sd(lpd_i) (NaN for one observation).
    pointwise : pandas.Series
        lpd_i, labelled by the new observations' coords.
    n : int
        Number of new observations.
    """

    lpd: float
    se: float
    pointwise: pd.Series
    n: int


def log_predictive_density(
    fit: xr.DataTree, data: Mapping[str, Any] | pd.DataFrame, *, backend: str | None = None
) -> LPD:
    """Log predictive density of held-out observations under a fit.

    ``lpd = sum_i log( (1/S) sum_s p(y_i | theta_s) )`` over the new
    observations i and the S posterior draws, p the joint density of every
    observed site of observation i (see the module docstring).

    Parameters
    ----------
    fit : DataTree
        A fit from :func:`probgen.sample`.
    data : mapping or DataFrame
        The new observations, observed values included, like the data of
        ``probgen.sample`` (covariates matched to the fit as in
        :func:`probgen.predict`: a DataFrame by column name, an array by
        position). A DataFrame is read as ``probgen.sample`` reads a table
        (e.g. a regression's ``y`` column and its predictor columns, in any
        order). A new series for the models of one series.
    backend : {"numpyro", "pymc"}, optional
        Which twin evaluates the density; default the fit's.

    Returns
    -------
    LPD
        ``.lpd``, ``.se``, ``.pointwise``, ``.n``.

    Raises
    ------
    ValueError
        When new observations would need new latent units — posterior variables
        along a dim of the new data with a different size (a GP's latent ``f``
        at new inputs, stochastic volatility's ``h`` for a new series, IRT
        persons or items, eight_schools' schools, LDA's documents): a fit has
        no draws of them. New data that reuse the fit's units (radon homes in
        the fit's counties, new tokens of the fit's documents) work. Also
        (:class:`NotPointwiseError`) for models whose observations are jointly
        distributed given the parameters (gp_regression).
    DataError
        Missing observed values or invalid data.
    """
    from probgen.backends import get_backend
    from probgen.data import design_matrix
    from probgen.predictive import (
        fit_backend,
        fit_encodings,
        posterior_arrays,
        prediction_labels,
    )
    from probgen.results import data_from_fit

    model = check_fit(fit, need=("posterior",))
    if isinstance(data, pd.DataFrame):
        # a table of new rows, read as probgen.sample reads one (the model's
        # from_table: columns by name, in any order), so held-out rows can be
        # given the way the training rows were
        data = model.resolve_data(data)
    if not isinstance(data, Mapping):
        raise DataError(
            "data must be a mapping of the new observations' fields or a pandas "
            f"DataFrame of new rows (read by column name), got {type(data).__name__}"
        )
    missing = [name for name in model.observed if data.get(name) is None]
    if missing:
        raise DataError(
            f"data must hold the new observed values {missing} (held-out data to score), "
            f"beside the covariates"
        )
    backend = fit_backend(fit, backend)
    obs_dim = observation_dim(model)
    old = data_from_fit(fit, model)
    values = dict(data)
    for name, encoding in fit_encodings(fit, model, old).items():
        if values.get(name) is not None:
            values[name] = design_matrix(values[name], encoding, what=name)
    values = _frames_by_name(model, values, old)
    # labels for the new observations only (a table's index, or integers after the
    # fit's); the units of parameter dims are checked and labelled below
    coords = {
        d: v for d, v in (prediction_labels(model, data, old, None) or {}).items() if d == obs_dim
    }
    new = model.prepare(values, coords=coords or None, require_observed=True)
    posterior_vars = model.var_dims()
    # dims labelled from the data itself, not by a field's shape (a classifier's
    # classes, read from the labels in y): new data lacking a class would
    # otherwise be coded against fewer classes than the fit's parameters have.
    # When the new labels are some of the fit's, code them against all of the fit's.
    field_dims = {d for f in model.fields for d in f.dims}
    relabel = {}
    for dims in posterior_vars.values():
        for d in dims:
            if d in field_dims or d not in new.coords or d not in old.coords:
                continue
            got, fitted = list(new.coords[d]), list(old.coords[d])
            if got != fitted and {str(v) for v in got} <= {str(v) for v in fitted}:
                relabel[d] = fitted
    if relabel:
        new = model.prepare(values, coords={**coords, **relabel}, require_observed=True)
    param_dims = sorted({d for dims in posterior_vars.values() for d in dims})
    new_units = [
        d
        for d in param_dims
        if d in new.coords and d in old.coords and len(new.coords[d]) != len(old.coords[d])
    ]
    posterior = posterior_arrays(fit, model)
    if new_units:
        # units the fit has no draws of (new schools, new rats): only the model can
        # integrate their parameters out, given the population-level draws
        population = {
            k: v for k, v in posterior.items() if not set(posterior_vars[k]) & set(new_units)
        }
        log_lik = model.new_unit_log_likelihood(population, new)
        if log_lik is None:
            dim = new_units[0]
            along = sorted(v for v, dims in posterior_vars.items() if dim in dims)
            raise ValueError(
                f"{model.name} has posterior variables along {dim!r} ({', '.join(along)}): "
                f"the new data has {len(new.coords[dim])} entries along {dim!r} but the "
                f"fit {len(old.coords[dim])}, so scoring them would need new latent "
                f"units the fit has no draws of, and {model.name} does not integrate "
                "them out (Model.new_unit_log_likelihood). Held-out data must reuse the "
                f"fit's {dim!r} units (the same {len(old.coords[dim])})"
            )
    else:
        for dim in param_dims:
            if dim in old.coords:  # the units (and parameter-only dims) are the fit's
                new.coords[dim] = old.coords[dim]
        log_lik = get_backend(backend).log_likelihood(model, new, posterior)
    # a site's terms run along the leading dims of its field (a multivariate row,
    # e.g. PPCA's x[n, :], is one term per n); none at all is one joint term,
    # which _site_arrays refuses with the reason
    dims = {n: model.field(n).dims[: np.ndim(log_lik[n]) - 2] for n in model.observed}
    arrays, ndims, _ = _site_arrays(model, log_lik, dims)
    pointwise = lpd_pointwise(joint_pointwise(arrays, ndims))
    n = pointwise.size
    se = float(math.sqrt(n) * np.std(pointwise, ddof=1)) if n > 1 else math.nan
    labels = new.coords.get(obs_dim, list(range(n)))
    series = pd.Series(pointwise, index=pd.Index(labels, name=obs_dim), name="lpd")
    return LPD(lpd=float(pointwise.sum()), se=se, pointwise=series, n=int(n))
