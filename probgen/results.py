"""Fit results as ArviZ DataTrees: building, provenance, saving and loading.

Both backends hand their arrays to :func:`build_datatree`, so a fit has the same
groups, variable names, dims and coords whichever backend produced it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import arviz_base
import numpy as np
import xarray as xr

from probgen.backends.base import RawFit
from probgen.data import ModelData, encoding_attrs
from probgen.model import Model

ATTR_MODEL = "probgen_model"
ATTR_CONFIG = "probgen_config"


def clean_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """Keep attributes netCDF can store (None becomes "none")."""
    out = {}
    for k, v in attrs.items():
        if v is None:
            v = "none"
        elif isinstance(v, bool):
            v = int(v)
        elif isinstance(v, (dict, list, tuple)):
            v = json.dumps(v, default=str)
        out[k] = v
    return out


def data_groups(model: Model, data: ModelData, *, prefix: str = "") -> dict[str, dict]:
    """observed_data / constant_data (or predictions_constant_data) groups."""
    groups: dict[str, dict] = {}
    observed = {k: data[k] for k in model.observed if data.get(k) is not None}
    constant = {f.name: data[f.name] for f in model.fields if not f.observed}
    if observed and not prefix:
        groups["observed_data"] = observed
    if constant:
        groups[f"{prefix}constant_data" if prefix else "constant_data"] = constant
    return groups


def build_tree(groups: dict[str, dict], model: Model, coords: dict[str, list]) -> xr.DataTree:
    used = {d for dims in model.all_dims().values() for d in dims}
    dims = {k: list(v) for k, v in model.all_dims().items()}
    coords = {d: c for d, c in coords.items() if d in used}
    # arviz reads the predictions groups' dims and coords from pred_* arguments
    return arviz_base.from_dict(
        {g: v for g, v in groups.items() if v},
        dims=dims,
        coords=coords,
        pred_dims=dims,
        pred_coords=coords,
    )


def build_datatree(
    model: Model, data: ModelData, raw: RawFit, *, settings: dict[str, Any]
) -> xr.DataTree:
    """Assemble a fit's DataTree from a backend's arrays."""
    groups = {
        "posterior": raw.posterior,
        "sample_stats": raw.sample_stats,
        "log_likelihood": raw.log_likelihood,
        **data_groups(model, data),
    }
    dt = build_tree(groups, model, data.coords)
    if "constant_data" in dt.children:
        # how a table's columns were encoded (dummy levels...), so predict and a
        # reloaded fit encode new data the same way
        dt["constant_data"].attrs.update(encoding_attrs(data.encodings))
    attrs = {
        ATTR_MODEL: model.name,
        ATTR_CONFIG: model.config_json(),
        **settings,
        **raw.attrs,
    }
    dt.attrs.update(clean_attrs(attrs))
    for group in ("posterior", "sample_stats"):
        dt[group].attrs.update(clean_attrs(raw.attrs))
    return dt


def add_groups(
    dt: xr.DataTree, model: Model, groups: dict[str, dict], coords: dict[str, list]
) -> xr.DataTree:
    """A copy of ``dt`` with new groups (existing groups of those names replaced)."""
    new = build_tree(groups, model, coords)
    out = dt.copy()
    for name in new.children:
        out[name] = new[name]
    return out


def model_from_fit(dt: xr.DataTree) -> Model:
    """Rebuild the model (with its configuration) that produced a fit."""
    from probgen.registry import get_model

    try:
        name = dt.attrs[ATTR_MODEL]
        config = json.loads(dt.attrs.get(ATTR_CONFIG, "{}"))
    except KeyError:
        raise ValueError(
            "this DataTree was not produced by probgen (no 'probgen_model' attribute); "
            "pass model= explicitly"
        ) from None
    return get_model(name, **config)


def data_from_fit(dt: xr.DataTree, model: Model) -> ModelData:
    """The data a fit was conditioned on, from its observed and constant data."""
    values: dict[str, np.ndarray | None] = {name: None for name in model.observed}
    coords: dict[str, list] = {}
    # parameter dims (e.g. an AR model's lags) are labelled in the posterior only
    for group in ("posterior", "observed_data", "constant_data"):
        if group not in dt.children:
            continue
        ds = dt[group].dataset
        if group != "posterior":
            for name, var in ds.data_vars.items():
                values[name] = np.asarray(var.values)
        for dim in ds.dims:
            if dim not in ("chain", "draw"):
                coords[dim] = list(ds[dim].values.tolist())
    return ModelData(values, coords)


def save_fit(dt: xr.DataTree, path: str | os.PathLike) -> Path:
    """Write a fit to netCDF atomically: an interrupted write leaves no half file.

    The tree is written to a temporary file beside ``path`` and renamed over it
    only once complete, so an existing file at ``path`` is either kept whole or
    replaced whole.
    """
    return write_netcdf_atomic(dt, path, what="fit")


def write_netcdf_atomic(dt: xr.DataTree, path: str | os.PathLike, *, what: str) -> Path:
    """Write any DataTree (a fit, an SBC campaign) as :func:`save_fit` does.

    ``what`` names the kind of file in the error for a path that is not netCDF.
    """
    path = Path(path)
    if path.suffix.lower() not in (".nc", ".netcdf", ".h5"):
        raise ValueError(f"{what} files are netCDF: path must end in .nc, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        dt.to_netcdf(tmp, engine="h5netcdf")
        # mkstemp makes the file private; give it the permissions a plain open would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_fit(path: str | os.PathLike) -> xr.DataTree:
    """Read a saved fit fully into memory (the file is closed afterwards)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no fit file at {str(path)!r}")
    with xr.open_datatree(path, engine="h5netcdf") as dt:
        return dt.load()
