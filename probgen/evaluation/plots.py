"""Pictures of a fit's predictive checks, saved as PNG (arviz_plots underneath).

Each ``plot_*`` function draws one view of a fit with arviz_plots' matplotlib
backend, saves it when ``path`` is given, and returns the
:class:`arviz_plots.PlotCollection` (``.savefig`` it again, or inspect
``.viz``). Drawing happens on matplotlib's non-interactive Agg backend inside a
context that restores the previous backend afterwards, so no display is
needed and the caller's choice of backend is left alone; the figures are
released from pyplot once drawn (the returned collection still holds them).

Several dimensions. arviz_plots reduces every non-sample dimension of a
variable into one distribution per variable, so a variable such as ``X``
(obs, feature), ``y`` (rat, age) or 784 pixels gives one panel whose
predictive distribution pools all its elements (and whose PIT / LOO-PIT values
are those of every element), never one panel per feature. Test statistics are
computed on the whole data set of one variable (the statistic's own
definition of how to reduce its dims), one panel per (variable, statistic).

The layers follow arviz-stats: the NumPy functions of
:mod:`probgen.evaluation.ppc` compute the statistics, :func:`tstat_draws` /
:func:`tstat_tree` and :func:`pooled` turn a fit into the small DataTrees
arviz_plots draws, then the ``plot_*`` functions draw and save.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

if TYPE_CHECKING:
    from arviz_plots import PlotCollection

    from probgen.model import Model

#: field kinds whose values are integers: shown as ECDFs and rootograms, not KDEs
DISCRETE_KINDS = ("int", "binary", "count")

#: models whose observed data are images: model name -> the image variable.
#: Only these get an image grid; a square number of features alone (iris's 4
#: measurements) does not make a picture.
IMAGE_MODELS = {
    "bernoulli_mixture": "x",
    "bernoulli_naive_bayes": "X",
    "multinomial_naive_bayes": "X",
}

#: classifiers among IMAGE_MODELS: their images come with class labels
_LABELLED = ("bernoulli_naive_bayes", "multinomial_naive_bayes")


# --------------------------------------------------------------------------
# the matplotlib context


@contextlib.contextmanager
def agg_backend() -> Iterator[None]:
    """Draw on matplotlib's Agg backend, then restore the backend in use before.

    Figures pyplot opened inside the context are closed (released from pyplot's
    registry) on exit, so repeated reports do not accumulate open figures; the
    Figure objects themselves stay usable by whoever holds them.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    previous = matplotlib.get_backend()
    before = set(plt.get_fignums())
    switched = previous.lower() != "agg"
    if switched:
        plt.switch_backend("agg")
    try:
        with plt.ioff():
            yield
    finally:
        for num in set(plt.get_fignums()) - before:
            plt.close(num)
        if switched:
            plt.switch_backend(previous)


def _layout(kwargs: dict[str, Any]) -> dict[str, Any]:
    """kwargs with matplotlib's constrained layout unless the caller chose one:
    wrapped panels (several rows) otherwise overlap titles and tick labels."""
    figure_kwargs = dict(kwargs.get("figure_kwargs") or {})
    figure_kwargs.setdefault("layout", "constrained")
    return {**kwargs, "figure_kwargs": figure_kwargs}


def _save(pc: PlotCollection, path: str | os.PathLike | None) -> None:
    if path is None:
        return
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must name a .png file, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    pc.savefig(path, dpi=100, bbox_inches="tight")


# --------------------------------------------------------------------------
# reading a fit


def _check_fit(fit: Any, function: str) -> None:
    if not isinstance(fit, xr.DataTree):
        raise TypeError(f"{function}: fit must be an xarray.DataTree, got {type(fit).__name__}")
    if "observed_data" not in fit.children:
        raise ValueError(f"{function}: the fit has no observed_data group (nothing to check)")


def _model(fit: xr.DataTree) -> Model:
    from probgen.results import model_from_fit

    return model_from_fit(fit)


def observed_variables(
    fit: xr.DataTree, var_names: str | Sequence[str] | None, function: str
) -> list[str]:
    """The observed variables to draw: all of them, or ``var_names`` checked against them."""
    _check_fit(fit, function)
    present = list(fit["observed_data"].data_vars)
    if var_names is None:
        return present
    names = [var_names] if isinstance(var_names, str) else list(var_names)
    if not names or not all(isinstance(n, str) for n in names):
        raise TypeError(
            f"{function}: var_names must be a name or a list of names, got {var_names!r}"
        )
    unknown = [n for n in names if n not in present]
    if unknown:
        raise ValueError(
            f"{function}: var_names {unknown} are not observed variables of this fit; "
            f"its observed variables are {present}"
        )
    return names


def variable_kind(fit: xr.DataTree, name: str) -> str:
    """The field kind ("real", "int", "binary", "count") of an observed variable."""
    try:
        return _model(fit).field(name).kind
    except (ValueError, KeyError):
        # a tree probgen did not make: judge by the stored values
        values = np.asarray(fit["observed_data"][name].values)
        return "int" if np.issubdtype(values.dtype, np.integer) else "real"


def is_discrete(fit: xr.DataTree, name: str) -> bool:
    return variable_kind(fit, name) in DISCRETE_KINDS


def with_predictive(
    fit: xr.DataTree, group: str = "posterior_predictive", *, seed: int = 0
) -> xr.DataTree:
    """``fit`` itself when it has ``group``; else, for the posterior predictive, a
    copy with replicated data generated (a prior predictive must come with the fit)."""
    if group in fit.children:
        return fit
    if group != "posterior_predictive":
        raise ValueError(
            f"the fit has no {group!r} group; draw one with probgen.sample_prior_predictive"
        )
    if "posterior" not in fit.children:
        raise ValueError("the fit has no posterior group to replicate the data from")
    from probgen.predictive import sample_posterior_predictive

    return sample_posterior_predictive(fit, seed=seed)


# --------------------------------------------------------------------------
# test statistics: arrays, then trees


#: at most this many panels in the test-statistic figure (the table has them all)
MAX_TSTAT_PANELS = 24


def tstat_draws(
    fit: xr.DataTree,
    statistics: Sequence[str | Callable] | Mapping[str, Callable] | None = None,
    *,
    var_names: str | Sequence[str] | None = None,
    group: str = "posterior_predictive",
) -> tuple[dict[str, np.ndarray], dict[str, float], list[str]]:
    """T(y_rep) per draw and T(y) of each (variable, statistic), as the ppc table has them.

    The statistics are resolved and computed by :mod:`probgen.evaluation.ppc`
    (same names, defaults, NaN masking, errors for unknown names).
    ``class_prop`` gives one entry per class; ``class_mean`` (one per feature
    and class) is left to the table.

    Returns
    -------
    replicated : dict
        ``"<var> · <stat>"`` -> (S,) values over the draws.
    observed : dict
        ``"<var> · <stat>"`` -> the observed value.
    omitted : list of str
        Statistics not drawn, with the reason.
    """
    import importlib

    # the module, not the function probgen.evaluation re-exports under the same name
    P = importlib.import_module("probgen.evaluation.ppc")

    names = observed_variables(fit, var_names, "plot_ppc_tstat")
    if group not in fit.children:
        raise ValueError(f"plot_ppc_tstat: the fit has no {group!r} group")
    model = _model(fit)
    specs = P.resolve_statistics(statistics)
    replicated: dict[str, np.ndarray] = {}
    observed: dict[str, float] = {}
    omitted: list[str] = []
    for var in names:
        obs, rep = P.predictive_draws(fit, group, var)
        chosen = specs
        if chosen is None:
            chosen = [
                P.StatisticSpec(n, P.STATISTICS.get(n)) for n in P.default_statistics(model, var)
            ]
        for spec in chosen:
            if spec.fn is not None:
                label = f"{var} · {spec.name}"
                observed[label] = P.as_scalar(spec.fn(obs), spec.name)
                replicated[label] = P.statistic_draws(spec.fn, rep, name=spec.name)
            elif spec.name == "class_prop" and var == "y":
                obs_y, rep_y = obs.astype(np.int64), rep.astype(np.int64)
                labels = P.class_labels(fit, obs_y, rep_y)
                t_obs = P.class_proportions(obs_y, len(labels))
                t_rep = P.class_proportions(rep_y, len(labels))
                for c, lab in enumerate(labels):
                    observed[f"y · prop[{lab}]"] = float(t_obs[c])
                    replicated[f"y · prop[{lab}]"] = t_rep[:, c]
            else:
                omitted.append(
                    f"{var} · {spec.name} (a value per feature and class: see the table)"
                )
    return replicated, observed, omitted


def tstat_tree(
    fit: xr.DataTree,
    statistics: Sequence[str | Callable] | Mapping[str, Callable] | None = None,
    *,
    var_names: str | Sequence[str] | None = None,
    group: str = "posterior_predictive",
) -> xr.DataTree:
    """Test statistics of a fit as a tree arviz_plots can draw.

    One variable per (observed variable, statistic), named ``"<var> · <stat>"``:
    in ``group`` its (chain, draw) values T(y_rep); in ``observed_data`` the
    scalar T(y). ``fit`` must already hold ``group``. At most
    :data:`MAX_TSTAT_PANELS` statistics, in table order; the tree's attr
    ``omitted`` lists what was left out and why.
    """
    replicated, observed, omitted = tstat_draws(fit, statistics, var_names=var_names, group=group)
    labels = list(replicated)
    if len(labels) > MAX_TSTAT_PANELS:
        omitted += [
            f"{lab} (beyond {MAX_TSTAT_PANELS} panels)" for lab in labels[MAX_TSTAT_PANELS:]
        ]
        labels = labels[:MAX_TSTAT_PANELS]
    if not labels:
        raise ValueError("plot_ppc_tstat: no statistic to draw; " + "; ".join(omitted))
    chains, draws = fit[group].sizes["chain"], fit[group].sizes["draw"]
    tree = xr.DataTree.from_dict(
        {
            group: xr.Dataset(
                {
                    lab: (("chain", "draw"), replicated[lab].reshape(chains, draws))
                    for lab in labels
                },
                coords={"chain": fit[group]["chain"].values, "draw": fit[group]["draw"].values},
            ),
            "observed_data": xr.Dataset({lab: ((), observed[lab]) for lab in labels}),
        }
    )
    tree.attrs["omitted"] = omitted
    return tree


def pooled(
    fit: xr.DataTree,
    names: Sequence[str],
    groups: Sequence[str],
    *,
    max_elements: int | None = None,
    seed: int = 0,
) -> xr.DataTree:
    """The variables ``names`` of ``groups``, each multi-dim variable flattened to one dim.

    arviz_plots' PIT and rootogram views want one non-sample dim per variable;
    a variable such as ``X`` (obs, feature) becomes ``X`` along ``X_element``
    (row-major: obs-major, then feature), so every element takes part in one
    pooled panel. One-dim variables are passed through unchanged, and so is
    the ``posterior`` group when asked for (arviz reads its sample sizes).

    With ``max_elements``, a variable with more elements keeps a seeded random
    subset of that many (the same elements in every group); the tree's attr
    ``subset`` records {variable: (kept, total)}.
    """
    nodes = {}
    subset: dict[str, tuple[int, int]] = {}
    keep: dict[str, np.ndarray] = {}
    for group in groups:
        ds = fit[group].to_dataset()
        if group == "posterior":
            nodes[group] = ds
            continue
        out = {}
        for var in names:
            if var not in ds.data_vars:
                continue
            da = ds[var]
            sample = [d for d in ("chain", "draw") if d in da.dims]
            own = [d for d in da.dims if d not in sample]
            total = int(np.prod([da.sizes[d] for d in own]))
            if len(own) <= 1 and (max_elements is None or total <= max_elements):
                out[var] = da.drop_vars([c for c in da.coords if c not in da.dims])
                continue
            values = da.transpose(*sample, *own).values
            flat = values.reshape((*values.shape[: len(sample)], -1))
            if max_elements is not None and total > max_elements:
                if var not in keep:
                    rng = np.random.default_rng(seed)
                    keep[var] = np.sort(rng.choice(total, size=max_elements, replace=False))
                    subset[var] = (max_elements, total)
                flat = flat[..., keep[var]]
            out[var] = xr.DataArray(
                flat,
                dims=(*sample, f"{var}_element"),
                coords={d: da[d].values for d in sample},
            )
        nodes[group] = xr.Dataset(out)
    tree = xr.DataTree.from_dict(nodes)
    tree.attrs.update(fit.attrs)
    tree.attrs["subset"] = subset
    return tree


def _value(x: np.ndarray) -> float:
    """The statistic already computed: tstat_tree stores one number per data set."""
    return float(np.asarray(x))


_value.__name__ = "T"


# --------------------------------------------------------------------------
# the views


def plot_ppc_dist(
    fit: xr.DataTree,
    path: str | os.PathLike | None = None,
    *,
    var_names: str | Sequence[str] | None = None,
    group: str = "posterior_predictive",
    seed: int = 0,
    **kwargs: Any,
) -> PlotCollection:
    """Observed data's distribution over replicated data sets' (arviz_plots.plot_ppc_dist).

    One panel per variable; a variable with several dims is pooled over them.
    Discrete variables are drawn as ECDFs (a KDE of counts is misleading)
    unless ``kind`` is given. The predictive group is generated when missing
    (``seed``). ``kwargs`` go to :func:`arviz_plots.plot_ppc_dist`.
    """
    import arviz_plots

    names = observed_variables(fit, var_names, "plot_ppc_dist")
    discrete = any(is_discrete(fit, n) for n in names)
    fit = pooled(with_predictive(fit, group, seed=seed), names, ("observed_data", group))
    if "kind" not in kwargs and discrete:
        kwargs["kind"] = "ecdf"
    with agg_backend():
        pc = arviz_plots.plot_ppc_dist(
            fit, var_names=names, group=group, backend="matplotlib", **_layout(kwargs)
        )
        _save(pc, path)
    return pc


def plot_ppc_pit(
    fit: xr.DataTree,
    path: str | os.PathLike | None = None,
    *,
    var_names: str | Sequence[str] | None = None,
    group: str = "posterior_predictive",
    seed: int = 0,
    max_elements: int | None = None,
    **kwargs: Any,
) -> PlotCollection:
    """PIT Δ-ECDF of the observed data under the predictive distribution
    (arviz_plots.plot_ppc_pit), with its simultaneous band.

    A variable with several dims contributes the PIT value of every element to
    one panel; with ``max_elements``, of a seeded random subset of that many
    elements (the uniformity test's cost grows with their number). ``kwargs``
    go to :func:`arviz_plots.plot_ppc_pit`.
    """
    import arviz_plots

    names = observed_variables(fit, var_names, "plot_ppc_pit")
    fit = pooled(
        with_predictive(fit, group, seed=seed),
        names,
        ("observed_data", group),
        max_elements=max_elements,
        seed=seed,
    )
    with agg_backend():
        pc = arviz_plots.plot_ppc_pit(
            fit, var_names=names, group=group, backend="matplotlib", **_layout(kwargs)
        )
        _save(pc, path)
    return pc


def plot_ppc_tstat(
    fit: xr.DataTree,
    path: str | os.PathLike | None = None,
    *,
    var_names: str | Sequence[str] | None = None,
    statistics: Sequence[str | Callable] | Mapping[str, Callable] | None = None,
    group: str = "posterior_predictive",
    seed: int = 0,
    **kwargs: Any,
) -> PlotCollection:
    """Distribution of each test statistic over replicated data sets, the
    observed value marked (arviz_plots.plot_ppc_tstat).

    The statistics are the ppc table's (``statistics`` as in
    :func:`probgen.evaluation.ppc.ppc`; None: each variable's defaults), one
    panel per (variable, statistic), each computed on the whole data set of
    the variable; a classifier's ``class_prop`` gives a panel per class. Left
    out, with a warning: ``class_mean`` (a value per feature and class) and
    panels beyond :data:`MAX_TSTAT_PANELS`. ``kwargs`` go to
    :func:`arviz_plots.plot_ppc_tstat`.
    """
    import arviz_plots

    observed_variables(fit, var_names, "plot_ppc_tstat")
    fit = with_predictive(fit, group, seed=seed)
    tree = tstat_tree(fit, statistics, var_names=var_names, group=group)
    if tree.attrs["omitted"]:
        from probgen.errors import warn_user

        warn_user("plot_ppc_tstat leaves out " + "; ".join(tree.attrs["omitted"]))
    kwargs.setdefault("visuals", {"title": {}})
    with agg_backend():
        pc = arviz_plots.plot_ppc_tstat(
            tree, t_stat=_value, group=group, backend="matplotlib", **_layout(kwargs)
        )
        _save(pc, path)
    return pc


def plot_loo_pit(
    fit: xr.DataTree,
    path: str | os.PathLike | None = None,
    *,
    var_names: str | Sequence[str] | None = None,
    values: xr.Dataset | None = None,
    **kwargs: Any,
) -> PlotCollection:
    """LOO-PIT Δ-ECDF: calibration of the leave-one-out predictive distributions.

    What :func:`arviz_plots.plot_loo_pit` draws (the Pareto-smoothed LOO-PIT
    values, then :func:`arviz_plots.plot_ecdf_pit` with the "pot_c" test), with
    the values from :func:`probgen.evaluation.ppc.loo_pit_values`, so the
    figure shows exactly the values whose uniformity test the LOO-PIT table
    reports: a multivariate site (one log-likelihood term per row) is judged
    leave-row-out, a joint one (gp_regression) is refused, and a variable with
    several dims is pooled into one panel. Undefined (NaN) values, where the
    smoothing failed, are left out with a warning giving their number (arviz's
    own uniformity test cannot take them).

    Parameters
    ----------
    fit : DataTree
        Needs posterior, log_likelihood and observed_data (a posterior
        predictive group is generated, seed 0, when missing).
    path : path, optional
        Where to save the PNG.
    var_names : str or list of str, optional
        The variables, one panel each; default all observed variables.
    values : Dataset, optional
        LOO-PIT values already computed by ``loo_pit_values`` (saves the
        Pareto smoothing, which is the expensive part).
    **kwargs
        Passed to :func:`arviz_plots.plot_ecdf_pit`.
    """
    import arviz_plots

    from probgen.evaluation.ppc import loo_pit_values

    names = observed_variables(fit, var_names, "plot_loo_pit")
    if values is None:
        values = loo_pit_values(fit, names)
    missing = [n for n in names if n not in values.data_vars]
    if missing:
        raise ValueError(f"plot_loo_pit: values has no LOO-PIT values of {missing}")
    flat, dropped = {}, {}
    for name in names:
        v = np.asarray(values[name].values, dtype=float).ravel()
        finite = np.isfinite(v)
        if not finite.all():
            dropped[name] = int((~finite).sum())
        flat[name] = xr.DataArray(v[finite], dims=(f"{name}_element",))
    if dropped:
        from probgen.errors import warn_user

        warn_user(f"plot_loo_pit leaves out undefined (NaN) LOO-PIT values: {dropped}")
    tree = xr.DataTree.from_dict({"loo_pit": xr.Dataset(flat)})
    visuals = dict(kwargs.pop("visuals", None) or {})
    visuals.setdefault("ylabel", {})
    visuals.setdefault("remove_axis", False)
    visuals.setdefault("xlabel", {"text": "LOO-PIT"})
    with agg_backend():
        pc = arviz_plots.plot_ecdf_pit(
            tree,
            group="loo_pit",
            sample_dims=[f"{n}_element" for n in names],
            method=kwargs.pop("method", "pot_c"),
            visuals=visuals,
            backend="matplotlib",
            **_layout(kwargs),
        )
        _save(pc, path)
    return pc


def plot_ppc_rootogram(
    fit: xr.DataTree,
    path: str | os.PathLike | None = None,
    *,
    var_names: str | Sequence[str] | None = None,
    group: str = "posterior_predictive",
    seed: int = 0,
    **kwargs: Any,
) -> PlotCollection:
    """Rootogram of a count (or other integer) outcome: observed frequency of each
    value against its predictive frequency (arviz_plots.plot_ppc_rootogram).

    ``var_names`` defaults to the fit's discrete observed variables; a
    real-valued variable is refused. ``kwargs`` go to
    :func:`arviz_plots.plot_ppc_rootogram`.
    """
    import arviz_plots

    names = observed_variables(fit, var_names, "plot_ppc_rootogram")
    if var_names is None:
        names = [n for n in names if is_discrete(fit, n)]
        if not names:
            raise ValueError("plot_ppc_rootogram: the fit has no discrete observed variable")
    real = [n for n in names if not is_discrete(fit, n)]
    if real:
        raise ValueError(
            f"plot_ppc_rootogram: {real} are real-valued; a rootogram needs counts "
            "(use plot_ppc_dist)"
        )
    fit = pooled(with_predictive(fit, group, seed=seed), names, ("observed_data", group))
    with agg_backend():
        pc = arviz_plots.plot_ppc_rootogram(
            fit, var_names=names, group=group, backend="matplotlib", **_layout(kwargs)
        )
        _save(pc, path)
    return pc


def plot_compare(
    comparison: pd.DataFrame | Mapping[str, xr.DataTree],
    path: str | os.PathLike | None = None,
    **kwargs: Any,
) -> PlotCollection:
    """ELPD of fits of the same data, best first (arviz_plots.plot_compare).

    ``comparison`` is a table from :func:`probgen.evaluation.loo.compare` (or
    arviz_stats.compare), or a mapping {name: fit} that is compared first.
    """
    import arviz_plots

    if isinstance(comparison, Mapping):
        from probgen.evaluation.loo import compare

        comparison = compare(comparison)
    if not isinstance(comparison, pd.DataFrame):
        raise TypeError(
            "plot_compare: comparison must be a compare table (DataFrame) or a "
            f"mapping {{name: fit}}, got {type(comparison).__name__}"
        )
    missing = {"elpd", "se", "elpd_diff", "dse"} - set(comparison.columns)
    if missing:
        raise ValueError(
            f"plot_compare: comparison lacks the columns {sorted(missing)} of a compare table"
        )
    with agg_backend():
        pc = arviz_plots.plot_compare(comparison, backend="matplotlib", **_layout(kwargs))
        _save(pc, path)
    return pc


# --------------------------------------------------------------------------
# images


def image_side(n_pixels: int, variable: str = "x") -> int:
    """The side of a square image of ``n_pixels`` pixels; refuses non-squares."""
    side = math.isqrt(int(n_pixels))
    if side * side != n_pixels or side < 2:
        raise ValueError(
            f"{variable} has {n_pixels} features per observation, not a square number of "
            "pixels, so it cannot be shown as square images"
        )
    return side


def image_variable(fit: xr.DataTree) -> tuple[str, str]:
    """(model name, image variable) of a fit of an image model; refuses other models."""
    _check_fit(fit, "plot_image_grid")
    name = _model(fit).name
    if name not in IMAGE_MODELS:
        raise ValueError(
            f"plot_image_grid: {name} is not an image model; image models are "
            f"{sorted(IMAGE_MODELS)}"
        )
    return name, IMAGE_MODELS[name]


def _generated_images(
    fit: xr.DataTree, name: str, var: str, n: int, seed: int
) -> tuple[np.ndarray, list[str] | None]:
    """n generated images (n, pixels) and, for classifiers, their class labels."""
    if name in _LABELLED:
        from probgen.classify import sample_labelled

        X, y = sample_labelled(fit, n, seed=seed)
        return X.to_numpy(dtype=float), [str(v) for v in y]
    from probgen.predictive import generate

    gen = generate(fit, n, seed=seed)["predictions"][var]
    # one generated data set per posterior draw: take each image from its own
    # randomly chosen draw so the grid shows posterior uncertainty too
    values = gen.stack(sample=("chain", "draw")).transpose("sample", ...).values
    rng = np.random.default_rng(seed)
    pick = rng.integers(values.shape[0], size=n)
    return values[pick, np.arange(n)].astype(float), None


def _real_images(
    fit: xr.DataTree, name: str, var: str, n: int, seed: int
) -> tuple[np.ndarray, list[str] | None]:
    obs = fit["observed_data"]
    values = np.asarray(obs[var].values, dtype=float)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(values.shape[0], size=min(n, values.shape[0]), replace=False))
    labels = None
    if name in _LABELLED and "y" in obs.data_vars:
        from probgen.results import data_from_fit

        # y is stored as class codes; the class labels are the fit's class coords
        classes = data_from_fit(fit, _model(fit)).coords.get("class")
        codes = np.asarray(obs["y"].values)[pick].astype(int)
        labels = [str(classes[c]) if classes is not None else str(c) for c in codes]
    return values[pick], labels


def image_grid_arrays(
    fit: xr.DataTree, *, n: int = 16, seed: int = 0
) -> dict[str, tuple[np.ndarray, list[str] | None]]:
    """{"generated": (images, labels), "real": (images, labels)} as (k, side, side) arrays."""
    from probgen.settings import check_count

    n = check_count("n", n)
    seed = check_count("seed", seed, minimum=0)
    name, var = image_variable(fit)
    side = image_side(int(np.prod(fit["observed_data"][var].shape[1:])), var)
    out = {}
    for key, fn in (("generated", _generated_images), ("real", _real_images)):
        images, labels = fn(fit, name, var, n, seed)
        out[key] = (images.reshape(-1, side, side), labels)
    return out


def plot_image_grid(
    fit: xr.DataTree, path: str | os.PathLike | None = None, *, n: int = 16, seed: int = 0
) -> Any:
    """Generated images beside real ones, in one PNG.

    For image models (:data:`IMAGE_MODELS`): ``n`` images generated from the
    posterior predictive (:func:`probgen.generate`; for the classifiers
    :func:`probgen.sample_labelled`, titled with their class) on the left,
    ``n`` of the fit's observed images (a seeded random choice, with their
    classes) on the right. An image is the variable's features read row-major
    as a square of side sqrt(features).

    Returns
    -------
    matplotlib.figure.Figure
        This view is drawn with matplotlib directly (arviz_plots has no image
        grid), so it returns the figure rather than a PlotCollection.

    Raises
    ------
    ValueError
        For a model that is not an image model, or images that are not square.
    """
    arrays = image_grid_arrays(fit, n=n, seed=seed)
    from matplotlib.figure import Figure

    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(2 * cols * 1.1 + 0.5, rows * 1.25 + 0.6), layout="constrained")
    halves = fig.subfigures(1, 2, wspace=0.05)
    for sub, key in zip(halves, ("generated", "real"), strict=True):
        images, labels = arrays[key]
        sub.suptitle(key, fontsize="x-large")
        axes = np.atleast_1d(sub.subplots(rows, cols)).ravel()
        vmax = max(float(np.max(arrays["real"][0])), 1.0)
        for i, ax in enumerate(axes):
            ax.set_axis_off()
            if i < len(images):
                ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=vmax, interpolation="nearest")
                if labels is not None:
                    ax.set_title(labels[i], fontsize="small")
    # a bare Figure needs no pyplot backend at all: nothing to switch or close
    if path is not None:
        path = Path(path)
        if path.suffix.lower() != ".png":
            raise ValueError(f"path must name a .png file, got {str(path)!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    return fig
