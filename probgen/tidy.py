"""Draws as tidy pandas frames: one row per (chain, draw, element).

Layout
------
:func:`to_frame` turns one group of a fit (``posterior``, ``prior``,
``prior_predictive``, ``posterior_predictive``, ``predictions``, or a data
group without draws) into a long ("tidy") frame:

* one row per (chain, draw, element), where an element is one position along
  the variable's own dims; columns ``chain`` and ``draw`` (when the group has
  them), then one column per dim, named as the dim and holding the coords'
  labels (e.g. ``obs`` = 0, 1, ...; ``feature`` = "mom_hs", "mom_iq");
* for a group of replicated draws (``replicates`` > 1 in its attrs, see
  :mod:`probgen.predictive`) two more columns after ``draw``:
  ``posterior_draw`` (position of the posterior draw it came from) and
  ``replicate``;
* **wide** when every selected variable has the same dims (a regression's
  ``y``; a posterior's ``mu`` and ``sigma`` if both are scalars): one column
  per variable, named as the variable, in its own dtype;
* **long** otherwise (naive Bayes' ``X`` (obs, feature) beside ``y`` (obs,)):
  columns ``variable`` and ``value``, one block of rows per variable; a dim
  column is missing (``<NA>``) in the rows of a variable that does not have
  that dim, and integer labels are then held as pandas' nullable ``Int64``
  so that they stay integers. ``value`` takes the variables' common dtype
  (NumPy's ``result_type``: int codes beside real features become float).

Pivoting back (``frame.set_index([...dims]).to_xarray()``) gives the arrays
again; the tests check that for every zoo model.

Memory
------
A frame holds every draw of every element: rows = chains x draws x elements,
8 bytes per row for each numeric column (labels that are strings are Python
objects and cost more). 10,000 replicated data sets of the 919 radon
observations are 9.2 million rows, 441 MB in six columns (chain, draw,
posterior_draw, replicate, obs, log_radon), built in about 4 s on a shared
2-core machine. :func:`to_frame` refuses more than ``max_rows`` rows (default
50 million) rather than exhausting memory: select ``var_names``, generate
from a thinned fit (``arviz_stats.thin``), or raise the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from probgen.predictive import posterior_draw_index

#: columns describing a draw, in order, when a group has them
SAMPLE_COLUMNS = ("chain", "draw", "posterior_draw", "replicate")

#: the most rows :func:`to_frame` builds unless told otherwise
MAX_ROWS = 50_000_000


# ------------------------------------------------------------- array layer
def axis_column(labels: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """The label of ``axis`` at every entry of an array of ``shape``, in C order."""
    inner = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    return np.tile(np.repeat(np.asarray(labels), inner), outer)


def array_columns(
    values: np.ndarray, labels: Sequence[np.ndarray], names: Sequence[str]
) -> dict[str, np.ndarray]:
    """The long layout of one array: a label column per axis and the values.

    Parameters
    ----------
    values : ndarray, shape (n_0, ..., n_k)
    labels : sequence of 1-D arrays
        Labels of each axis, ``len(labels[i]) == n_i``.
    names : sequence of str
        Column name of each axis.

    Returns
    -------
    dict of str to 1-D ndarray
        One column per axis (in C order: the last axis varies fastest) and
        ``"value"``, each of length ``prod(n_i)``.
    """
    values = np.asarray(values)
    if len(labels) != values.ndim or len(names) != values.ndim:
        raise ValueError(
            f"values has {values.ndim} axes but {len(labels)} label arrays and "
            f"{len(names)} names were given"
        )
    shape = values.shape
    columns: dict[str, np.ndarray] = {}
    for axis, (name, lab) in enumerate(zip(names, labels, strict=True)):
        lab = np.asarray(lab)
        if lab.shape != (shape[axis],):
            raise ValueError(
                f"labels of axis {axis} ({name!r}) have shape {lab.shape}, expected ({shape[axis]},)"
            )
        columns[name] = axis_column(lab, shape, axis)
    if "value" in columns:
        raise ValueError("an axis cannot be named 'value'")
    columns["value"] = values.reshape(-1)
    return columns


# ----------------------------------------------------------- xarray layer
def _sample_labels(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """chain/draw labels, and posterior_draw/replicate for replicated groups."""
    out: dict[str, np.ndarray] = {}
    for dim in ("chain", "draw"):
        if dim in ds.dims:
            out[dim] = np.asarray(ds[dim].values)
    replicates = ds.attrs.get("replicates")
    if replicates is not None and int(replicates) > 1 and "draw" in ds.dims:
        posterior_draw, replicate = posterior_draw_index(ds)
        out["posterior_draw"] = posterior_draw
        out["replicate"] = replicate
    return out


def dataarray_columns(da: xr.DataArray, sample: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The long layout of one variable of a group (see :func:`array_columns`).

    ``sample`` holds the group's chain/draw labels and, for replicated groups,
    per-draw ``posterior_draw`` and ``replicate``, added as columns beside
    ``draw``.
    """
    lead = [d for d in ("chain", "draw") if d in da.dims]
    dims = lead + [d for d in da.dims if d not in lead]
    da = da.transpose(*dims)
    labels = [np.asarray(da[d].values) if d in da.coords else np.arange(da.sizes[d]) for d in dims]
    columns = array_columns(da.values, labels, dims)
    if "replicate" in sample and "draw" in dims:
        # per-draw columns, expanded like the draw column itself, right after it
        axis = dims.index("draw")
        extra = {k: axis_column(sample[k], da.shape, axis) for k in ("posterior_draw", "replicate")}
        ordered: dict[str, np.ndarray] = {}
        for k, v in columns.items():
            ordered[k] = v
            if k == "draw":
                ordered.update(extra)
        columns = ordered
    return columns


def _select(dt: Any, group: str, var_names: Sequence[str] | str | None) -> xr.Dataset:
    if isinstance(dt, xr.Dataset):
        ds = dt
    elif isinstance(dt, xr.DataTree):
        if not isinstance(group, str):
            raise TypeError(f"group must be a group name (str), got {type(group).__name__}")
        if group not in dt.children:
            raise ValueError(
                f"the DataTree has no group {group!r}; its groups are {sorted(dt.children)}"
            )
        ds = dt[group].to_dataset()
    else:
        raise TypeError(
            f"dt must be an xarray.DataTree (a fit) or Dataset, got {type(dt).__name__}"
        )
    if var_names is None:
        names = list(ds.data_vars)
    else:
        names = [var_names] if isinstance(var_names, str) else list(var_names)
        if not names or not all(isinstance(n, str) for n in names):
            raise TypeError(
                f"var_names must be a variable name or a list of them, got {var_names!r}"
            )
        missing = [n for n in names if n not in ds.data_vars]
        if missing:
            raise ValueError(
                f"var_names: {missing} not in group {group!r} (it has {list(ds.data_vars)})"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"var_names repeats a name: {names}")
    if not names:
        raise ValueError(f"group {group!r} has no variables")
    return ds[names]


# ------------------------------------------------------------ public function
def to_frame(
    dt: xr.DataTree | xr.Dataset,
    group: str = "posterior_predictive",
    var_names: Sequence[str] | str | None = None,
    *,
    max_rows: int | None = MAX_ROWS,
) -> pd.DataFrame:
    """One group of a fit as a tidy pandas frame (see the module docstring).

    Parameters
    ----------
    dt : DataTree or Dataset
        A fit or a generated tree (``probgen.sample``,
        ``sample_prior_predictive``, ``sample_posterior_predictive``,
        ``predict``, ``generate``); a Dataset is taken as the group itself.
    group : str
        ``posterior_predictive`` (default), ``prior_predictive``,
        ``predictions``, ``posterior``, ``prior``, or a data group.
    var_names : str or list of str, optional
        Variables to include; default all of the group's.
    max_rows : int or None
        Refuse to build a frame of more rows than this (default 50 million,
        several GB); None for no limit.

    Returns
    -------
    pandas.DataFrame
        Wide (one column per variable) when the variables share their dims,
        else long (``variable``, ``value``). Columns in order: ``chain``,
        ``draw``, [``posterior_draw``, ``replicate``], the dims, then the
        values. ``attrs`` hold ``group``, ``layout`` ("wide" or "long") and the
        group's ``replicates`` when it has them.

    Raises
    ------
    ValueError
        An unknown group or variable, or more rows than ``max_rows``.
    TypeError
        ``dt`` is not a DataTree or Dataset.
    """
    ds = _select(dt, group, var_names)
    if max_rows is not None and (
        isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1
    ):
        raise ValueError(f"max_rows must be a positive integer or None, got {max_rows!r}")
    names = list(ds.data_vars)
    dims_of = {n: tuple(ds[n].dims) for n in names}
    wide = len(set(dims_of.values())) == 1
    rows = int(ds[names[0]].size) if wide else sum(int(ds[n].size) for n in names)
    if max_rows is not None and rows > max_rows:
        raise ValueError(
            f"the frame would have {rows:,} rows, more than max_rows={max_rows:,}: select "
            "var_names, generate from a thinned fit, or pass a larger max_rows (or None)"
        )
    sample = _sample_labels(ds)
    if wide:
        frame = _wide(ds, names, sample)
    else:
        frame = _long(ds, names, sample)
    frame.attrs["group"] = group if isinstance(dt, xr.DataTree) else "dataset"
    frame.attrs["layout"] = "wide" if wide else "long"
    frame.attrs["variables"] = names
    frame.attrs["dims"] = [d for d in dict.fromkeys(d for n in names for d in dims_of[n])]
    if "replicate" in frame.columns:
        frame.attrs["replicates"] = int(ds.attrs["replicates"])
    return frame


def _wide(ds: xr.Dataset, names: list[str], sample: dict[str, np.ndarray]) -> pd.DataFrame:
    columns: dict[str, np.ndarray] = {}
    for name in names:
        cols = dataarray_columns(ds[name], sample)
        value = cols.pop("value")
        if not columns:
            columns.update(cols)
        columns[name] = value
    return pd.DataFrame(columns)


def _long(ds: xr.Dataset, names: list[str], sample: dict[str, np.ndarray]) -> pd.DataFrame:
    order = [c for c in SAMPLE_COLUMNS if c in ds.dims or c in sample]
    element_dims: list[str] = []
    for name in names:
        for d in ds[name].dims:
            if d not in order and d not in element_dims:
                element_dims.append(d)
    value_type = np.result_type(*(ds[n].dtype for n in names))
    blocks = []
    for name in names:
        cols = dataarray_columns(ds[name], sample)
        n = len(cols["value"])
        block: dict[str, Any] = {c: cols[c] for c in order if c in cols}
        block["variable"] = np.full(n, name, dtype=object)
        for d in element_dims:
            block[d] = (
                _nullable(cols[d]) if d in cols else _missing(ds[d] if d in ds.coords else None, n)
            )
        block["value"] = cols["value"].astype(value_type, copy=False)
        blocks.append(pd.DataFrame(block))
    frame = pd.concat(blocks, ignore_index=True)
    return frame[[*(c for c in order if c in frame.columns), "variable", *element_dims, "value"]]


def _nullable(labels: np.ndarray) -> Any:
    """Integer labels as pandas' nullable Int64, so that missing entries keep them ints."""
    if np.issubdtype(labels.dtype, np.integer):
        return pd.array(labels, dtype="Int64")
    return labels


def _missing(coord: xr.DataArray | None, n: int) -> Any:
    if coord is not None and np.issubdtype(coord.dtype, np.integer):
        return pd.array([pd.NA] * n, dtype="Int64")
    return pd.array([pd.NA] * n, dtype=object)


def from_frame(frame: pd.DataFrame, variable: str | None = None) -> xr.DataArray:
    """One variable of a :func:`to_frame` frame back as a DataArray.

    Parameters
    ----------
    frame : DataFrame
        A frame made by :func:`to_frame` (its ``attrs["layout"]`` says which).
    variable : str, optional
        The variable to take; may be omitted when the frame holds only one.

    Returns
    -------
    xarray.DataArray
        dims ``chain``, ``draw`` (when present), then the variable's dims, with
        the frame's labels as coords.
    """
    layout = frame.attrs.get("layout")
    if layout not in ("wide", "long"):
        raise ValueError("frame was not made by probgen.tidy.to_frame (no 'layout' in its attrs)")
    skip = {"posterior_draw", "replicate"}
    if layout == "wide":
        values = list(frame.attrs.get("variables", ()))
        if variable is None:
            if len(values) != 1:
                raise ValueError(f"the frame holds {values}: name the variable")
            variable = values[0]
        if variable not in values:
            raise ValueError(f"variable {variable!r} is not in the frame (it holds {values})")
        dims = [c for c in frame.attrs["dims"] if c in frame.columns]
        return _in_frame_order(frame.set_index(dims)[variable].to_xarray(), frame, dims)
    names = list(pd.unique(frame["variable"]))
    if variable is None:
        if len(names) != 1:
            raise ValueError(f"the frame holds {names}: name the variable")
        variable = names[0]
    if variable not in names:
        raise ValueError(f"variable {variable!r} is not in the frame (it holds {names})")
    sub = frame[frame["variable"] == variable]
    dims = [
        c
        for c in sub.columns
        if c not in skip and c not in ("variable", "value") and not sub[c].isna().all()
    ]
    sub = sub[[*dims, "value"]].copy()
    for d in dims:
        if isinstance(sub[d].dtype, pd.Int64Dtype):
            sub[d] = sub[d].astype(np.int64)
        elif sub[d].dtype == object:
            sub[d] = sub[d].to_numpy()
    da = sub.set_index(dims)["value"].to_xarray().rename(variable)
    return _in_frame_order(da, sub, dims)


def _in_frame_order(da: xr.DataArray, frame: pd.DataFrame, dims: list[str]) -> xr.DataArray:
    """``da`` with each dim's labels in the order they first appear in the frame
    (pandas sorts them when unstacking; the fit's order is the frame's)."""
    return da.reindex({d: pd.unique(frame[d].to_numpy()) for d in dims})
