"""Model inputs: declared fields, validation and loading from files.

A model declares its inputs as :class:`Field` objects; :func:`prepare_data`
checks a user's data against them (every problem named, before any compilation)
and returns a :class:`ModelData` with plain NumPy arrays and the coordinates of
every dimension.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from probgen.errors import DataError

Kind = Literal["real", "int", "binary", "count"]


@dataclass(frozen=True)
class Field:
    """One input of a model.

    Parameters
    ----------
    name : str
        Key in the data mapping.
    dims : tuple of str
        Dimension names, e.g. ``("obs", "coef")``; ``()`` for a scalar.
    kind : {"real", "int", "binary", "count"}
        ``real``: finite floats; ``int``: integers; ``binary``: 0/1;
        ``count``: non-negative integers.
    observed : bool
        True for the modelled outcome (a site name of the model); it may be
        missing (``None``) when generating.
    positive : bool
        Values must be > 0 (e.g. known standard deviations).
    doc : str
        One line for ``probgen describe``.
    """

    name: str
    dims: tuple[str, ...]
    kind: Kind = "real"
    observed: bool = False
    positive: bool = False
    doc: str = ""


@dataclass
class ModelData:
    """Validated model inputs.

    Attributes
    ----------
    values : dict of str to ndarray or None
        One entry per field; observed fields may be None (generate them).
    coords : dict of str to list
        Labels of every dimension used by the fields.
    """

    values: dict[str, np.ndarray | None]
    coords: dict[str, list] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray | None:
        return self.values[key]

    def get(self, key: str, default=None):
        return self.values.get(key, default)

    def size(self, dim: str) -> int:
        return len(self.coords[dim])

    def with_values(self, **values) -> ModelData:
        new = dict(self.values)
        new.update(values)
        return ModelData(new, dict(self.coords))


def _as_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists and the like
            raise DataError(f"data[{name!r}] could not be read as an array: {exc}") from None
    if arr.dtype == object:
        raise DataError(
            f"data[{name!r}] must be numeric; got an array of Python objects "
            "(ragged lists, strings or None inside?)"
        )
    return arr


def _check_kind(f: Field, arr: np.ndarray) -> np.ndarray:
    name = f.name
    if arr.dtype.kind in "USV":
        raise DataError(f"data[{name!r}] must be numeric, got strings ({arr.dtype})")
    if arr.dtype.kind == "c":
        raise DataError(f"data[{name!r}] must be real, got complex numbers")
    if arr.dtype.kind == "b" and f.kind != "binary":
        raise DataError(f"data[{name!r}] must be {f.kind} numbers, got booleans")
    if arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise DataError(
                f"data[{name!r}] contains NaN at index "
                f"{tuple(int(i) for i in np.argwhere(np.isnan(arr))[0])}; "
                "missing values are not supported here: remove those rows first"
            )
        if np.isinf(arr).any():
            raise DataError(f"data[{name!r}] contains inf; every value must be finite")
    if f.kind in ("int", "binary", "count"):
        if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
            raise DataError(f"data[{name!r}] must hold integers ({f.kind}), got fractions")
        arr = arr.astype(np.int64)
        if f.kind == "binary" and not np.isin(arr, (0, 1)).all():
            raise DataError(f"data[{name!r}] must be binary (0 or 1)")
        if f.kind == "count" and (arr < 0).any():
            raise DataError(f"data[{name!r}] must be non-negative counts")
    else:
        arr = arr.astype(np.float64)
    if f.positive and (arr <= 0).any():
        raise DataError(f"data[{name!r}] must be strictly positive")
    return arr


def check_size(key: str, value: Any) -> int:
    """A Stan-style size (``J``, ``N``, ``T``...) as a non-negative int, or a DataError."""
    given = np.asarray(value)
    if (
        given.ndim != 0
        or given.dtype.kind not in "iuf"
        or not np.isfinite(given)
        or given != np.round(given)
        or given < 0
    ):
        raise DataError(f"data[{key!r}] must be a non-negative integer (a size), got {value!r}")
    return int(given)


def prepare_data(
    fields: tuple[Field, ...],
    data: Mapping[str, Any],
    *,
    size_keys: Collection[str] = (),
    size_hints: Mapping[str, tuple[int, str]] | None = None,
    coords: Mapping[str, Any] | None = None,
    require_observed: bool = True,
    model_name: str = "model",
) -> ModelData:
    """Validate ``data`` against ``fields``.

    Parameters
    ----------
    fields : tuple of Field
    data : mapping
        Field name to array-like. Keys in ``size_keys`` (e.g. Stan's ``J``) are
        accepted and dropped; what they say is in ``size_hints``.
    size_keys : collection of str
        Stan-style size keys accepted in ``data``.
    size_hints : mapping, optional
        Dimension -> (length, the key that said so). A hint is checked against
        the arrays along that dimension, and gives its length when no array
        does (generating an outcome of a chosen length).
    coords : mapping, optional
        Labels for dimensions; each must have the length of its dimension.
    require_observed : bool
        If False, observed fields may be missing or None.

    Raises
    ------
    DataError
        Naming the offending key and what was expected.
    """
    if not isinstance(data, Mapping):
        raise DataError(
            f"data for {model_name} must be a mapping of field name to array, "
            f"got {type(data).__name__}"
        )
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise DataError(f"data keys must be strings (field names), got {bad_keys!r}")
    size_keys = set(size_keys)
    known = {f.name for f in fields} | size_keys
    unknown = sorted(set(data) - known)
    if unknown:
        raise DataError(
            f"unexpected data key(s) {unknown} for {model_name}; expected "
            f"{sorted(f.name for f in fields)}"
            + (f" (and optionally the sizes {sorted(size_keys)})" if size_keys else "")
        )
    values: dict[str, np.ndarray | None] = {}
    dim_sizes: dict[str, tuple[int, str]] = {}
    for f in fields:
        raw = data.get(f.name)
        if raw is None:
            if f.observed and not require_observed:
                values[f.name] = None
                continue
            raise DataError(f"data for {model_name} is missing {f.name!r} ({f.doc or f.kind})")
        arr = _check_kind(f, _as_array(f.name, raw))
        if arr.ndim != len(f.dims):
            raise DataError(
                f"data[{f.name!r}] must have {len(f.dims)} dimension(s) {f.dims}, "
                f"got shape {arr.shape}"
            )
        for dim, n in zip(f.dims, arr.shape, strict=True):
            if dim in dim_sizes and dim_sizes[dim][0] != n:
                other_n, other = dim_sizes[dim]
                raise DataError(
                    f"data[{f.name!r}] has {n} entries along {dim!r} but "
                    f"data[{other!r}] has {other_n}"
                )
            dim_sizes.setdefault(dim, (n, f.name))
            if n == 0:
                raise DataError(f"data[{f.name!r}] is empty along {dim!r}")
        values[f.name] = arr
    for dim, (n, key) in (size_hints or {}).items():
        if dim in dim_sizes and dim_sizes[dim][0] != n:
            raise DataError(
                f"data[{key!r}] says {n} entries along {dim!r} but "
                f"data[{dim_sizes[dim][1]!r}] has {dim_sizes[dim][0]}"
            )
        if n < 1:
            raise DataError(f"data[{key!r}] leaves no entries along {dim!r}")
        dim_sizes.setdefault(dim, (n, key))
    for f in fields:  # an outcome to generate needs every one of its dims sized
        if values.get(f.name) is None:
            unsized = [d for d in f.dims if d not in dim_sizes]
            if unsized:
                raise DataError(
                    f"cannot generate {f.name!r} for {model_name}: the length of "
                    f"{unsized} is unknown; give it as a size"
                    + (f" ({sorted(size_keys)})" if size_keys else "")
                )
    out = ModelData(values, {dim: list(range(n)) for dim, (n, _) in dim_sizes.items()})
    return apply_coords(out, coords) if coords else out


def apply_coords(data: ModelData, coords: Mapping[str, Any]) -> ModelData:
    """Replace dimension labels, checking each against its dimension's length."""
    out = dict(data.coords)
    for dim, labels in coords.items():
        labels = list(np.asarray(labels).tolist())
        if dim not in out:
            raise DataError(
                f"coords given for unknown dimension {dim!r}; the data has {sorted(out)}"
            )
        if len(labels) != len(out[dim]):
            raise DataError(
                f"coords[{dim!r}] has {len(labels)} labels but the data has "
                f"{len(out[dim])} entries along {dim!r}"
            )
        if len(set(labels)) != len(labels):
            raise DataError(f"coords[{dim!r}] labels must be unique")
        out[dim] = labels
    return ModelData(dict(data.values), out)


def read_data_file(path: str | Path) -> dict[str, Any]:
    """Read a data file: ``.json`` (an object of arrays, Stan layout) or ``.csv``.

    A CSV becomes a mapping of column name to column; the model's
    ``from_table`` decides how columns map to fields.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            obj = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"data file {str(path)!r} is not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise DataError(f"data file {str(path)!r} must hold a JSON object of arrays")
        return obj
    if suffix == ".csv":
        import pandas as pd

        try:
            frame = pd.read_csv(path)
        except Exception as exc:
            raise DataError(f"data file {str(path)!r} could not be read as CSV: {exc}") from None
        if frame.empty:
            raise DataError(f"data file {str(path)!r} has no rows")
        return {"__table__": frame}
    raise DataError(f"data file {str(path)!r} must end in .json or .csv, not {suffix!r}")
