"""Model inputs: declared fields, validation, tables and loading from files.

A model declares its inputs as :class:`Field` objects; :func:`prepare_data`
checks a user's data against them (every problem named, before any compilation)
and returns a :class:`ModelData` with plain NumPy arrays and the coordinates of
every dimension.

Tables (a pandas DataFrame given in Python, or a CSV read by
:func:`read_data_file`) become design matrices through one path,
:func:`encode_table`, which learns a :class:`TableEncoding` at fit time;
:meth:`TableEncoding.encode` applies the same encoding to new tables
(predictions), matching columns by name. The rules:

* numeric columns (NumPy or pandas nullable ``Int64`` / ``Float64``) are used
  as they are; boolean columns (``bool`` or nullable ``boolean``) become 0/1;
* text and categorical columns are dummy-coded against a reference level (the
  first level in sorted order for text, the first category of a pandas
  ``Categorical``): one 0/1 column per other level, labelled
  ``column[T.level]`` (the patsy / statsmodels convention). New tables may only
  hold the levels seen at fit time;
* a missing value (NA, NaN) or an infinite value is an error naming the column
  and the row label;
* column names must be unique and non-empty, except a first column without a
  name holding unique values: that is the index ``DataFrame.to_csv()`` writes,
  dropped with a :class:`DataWarning` and used as the row labels.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from probgen.errors import DataError, warn_user

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
    encodings : dict of str to TableEncoding
        For fields read from a table (or a design matrix), how its columns were
        encoded; a fit records them (:func:`encoding_attrs`) so that new data is
        encoded the same way.
    """

    values: dict[str, np.ndarray | None]
    coords: dict[str, list] = field(default_factory=dict)
    encodings: dict[str, TableEncoding] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray | None:
        return self.values[key]

    def get(self, key: str, default=None):
        return self.values.get(key, default)

    def size(self, dim: str) -> int:
        return len(self.coords[dim])

    def with_values(self, **values) -> ModelData:
        new = dict(self.values)
        new.update(values)
        return ModelData(new, dict(self.coords), dict(self.encodings))

    def with_encodings(self, **encodings: TableEncoding) -> ModelData:
        return ModelData(dict(self.values), dict(self.coords), {**self.encodings, **encodings})


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
    return ModelData(dict(data.values), out, dict(data.encodings))


# ------------------------------------------------------------------ files
def _read_text(path: Path) -> str:
    """A data file's text, decoded as UTF-8 (a byte-order mark is allowed)."""
    raw = path.read_bytes()
    if b"\x00" in raw:
        # UTF-8 text never holds NUL bytes; UTF-16 text and binary files do
        raise DataError(
            f"data file {str(path)!r} is not UTF-8 text (it contains NUL bytes: a binary "
            "file, or text in UTF-16); save it as UTF-8 .json or .csv"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"data file {str(path)!r} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at "
            f"offset {exc.start} cannot be decoded ({exc.reason}); re-save it as UTF-8 "
            "(e.g. a latin-1 / Windows-1252 export)"
        ) from None


def _read_csv(path: Path) -> pd.DataFrame:
    text = _read_text(path)
    try:
        header = next(csv.reader(io.StringIO(text)))
    except StopIteration:
        raise DataError(f"data file {str(path)!r} is empty") from None
    except csv.Error as exc:
        raise DataError(f"data file {str(path)!r} could not be read as CSV: {exc}") from None
    if len(header) == 1:
        for sep, name in ((";", "';'"), ("\t", "a tab"), ("|", "'|'")):
            if sep in header[0]:
                raise DataError(
                    f"data file {str(path)!r} has a single column named {header[0]!r}: it "
                    f"looks separated by {name}, but probgen reads comma-separated files; "
                    "save it with commas (pandas: frame.to_csv(path, index=False))"
                )
    # pandas renames a repeated name 'a' to 'a.1': only the header line tells
    named = [h for h in header if h != ""]
    repeated = sorted({h for h in named if named.count(h) > 1})
    if repeated:
        raise DataError(
            f"data file {str(path)!r} has more than one column named "
            f"{', '.join(map(repr, repeated))}; column names must be unique"
        )
    try:
        frame = pd.read_csv(io.StringIO(text))
    except Exception as exc:
        raise DataError(f"data file {str(path)!r} could not be read as CSV: {exc}") from None
    if frame.empty:
        raise DataError(f"data file {str(path)!r} has no rows")
    return clean_table(frame, what=f"data file {str(path)!r}")


def read_data_file(path: str | Path) -> dict[str, Any]:
    """Read a data file: ``.json`` (an object of arrays, Stan layout) or ``.csv``.

    Both must be UTF-8 text. A CSV must be comma-separated, with a header of
    unique column names; it becomes ``{"__table__": frame}`` and the model's
    ``from_table`` decides how columns map to fields (see the module docstring
    for how columns are encoded). A first column without a name (the index
    ``DataFrame.to_csv()`` writes) is dropped with a :class:`DataWarning`.

    Raises
    ------
    DataError
        Naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = _read_text(path)
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"data file {str(path)!r} is not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise DataError(f"data file {str(path)!r} must hold a JSON object of arrays")
        return obj
    if suffix == ".csv":
        return {"__table__": _read_csv(path)}
    raise DataError(f"data file {str(path)!r} must end in .json or .csv, not {suffix!r}")


# ----------------------------------------------------------------- tables
class DataWarning(UserWarning):
    """The data can be used, but part of it is probably not what was meant."""


class CollinearityWarning(DataWarning):
    """Constant or exactly collinear predictors: the data cannot tell their
    coefficients apart, so along those directions the posterior is the prior."""


ColumnKind = Literal["numeric", "boolean", "categorical"]

#: where a fit records its encodings: an attribute of its ``constant_data``
ENCODING_ATTR = "probgen_encoding"

_UNNAMED = re.compile(r"Unnamed: \d+")


def is_frame(obj: object) -> bool:
    """Whether ``obj`` is a pandas DataFrame."""
    return isinstance(obj, pd.DataFrame)


def is_series(obj: object) -> bool:
    """Whether ``obj`` is a pandas Series."""
    return isinstance(obj, pd.Series)


def _label(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _rows(index: pd.Index, mask: np.ndarray) -> str:
    """``row 3`` / ``rows 3, 'b', 9 (and 4 more)``: the row labels where mask is set."""
    labels = [_label(v) for v in index[mask][:3]]
    more = int(mask.sum()) - len(labels)
    return (
        ("row " if len(labels) == 1 else "rows ")
        + ", ".join(labels)
        + (f" (and {more} more)" if more else "")
    )


def _unnamed(name: Any) -> bool:
    return name is None or name == "" or bool(_UNNAMED.fullmatch(str(name)))


def clean_table(frame: pd.DataFrame, *, what: str = "the table") -> pd.DataFrame:
    """Check a table's column names; drop the index column ``to_csv()`` writes.

    Parameters
    ----------
    frame : DataFrame
    what : str
        How to name the table in messages.

    Returns
    -------
    DataFrame
        ``frame`` with string column names; a first column without a name and
        with unique, non-missing values is taken as the row labels (dropped
        with a :class:`DataWarning`, and used as the index).

    Raises
    ------
    DataError
        Repeated column names, or a column without a name elsewhere.
    """
    if not is_frame(frame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    if isinstance(frame.columns, pd.MultiIndex):
        raise DataError(f"{what} has multi-level column names; flatten them to strings first")
    first = frame.columns[0] if frame.shape[1] else None
    if frame.shape[1] and _unnamed(first):
        index = frame.iloc[:, 0]
        if not index.isna().any() and index.is_unique:
            warn_user(
                (
                    f"the first column of {what} has no name ({str(first)!r}): taken as the "
                    "row labels that DataFrame.to_csv() writes, not as a predictor "
                    "(write files with index=False, or name the column to use it)"
                ),
                DataWarning,
            )
            frame = frame.iloc[:, 1:].set_axis(pd.Index(index.to_numpy()), axis=0)
    unnamed = [i for i, c in enumerate(frame.columns) if _unnamed(c)]
    if unnamed:
        raise DataError(
            f"column(s) {[i + 1 for i in unnamed]} of {what} have no name "
            f"({[str(frame.columns[i]) for i in unnamed]}); give every column a name"
        )
    names = [str(c) for c in frame.columns]
    if len(names) == 1:
        for sep, sep_name in ((";", "';'"), ("\t", "a tab"), ("|", "'|'")):
            if sep in names[0]:
                raise DataError(
                    f"{what} has a single column named {names[0]!r}: it looks read with the "
                    f"wrong delimiter (separated by {sep_name}, not commas); read it with "
                    f"pandas.read_csv(path, sep={sep!r})"
                )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(
            f"{what} has more than one column named {', '.join(map(repr, repeated))}; "
            "column names must be unique"
        )
    if names != list(frame.columns):
        frame = frame.set_axis(names, axis=1)
    return frame


def _no_missing(series: pd.Series, what: str) -> None:
    mask = np.asarray(series.isna(), dtype=bool)
    if mask.any():
        raise DataError(
            f"{what} has missing values (NA/NaN) at {_rows(series.index, mask)}; "
            "missing values are not supported: remove or fill those rows first"
        )


def _column_kind(series: pd.Series, what: str) -> ColumnKind:
    """How a column is encoded, from its dtype (object columns: from their values)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_complex_dtype(dtype):
        raise DataError(f"{what} holds complex numbers; predictors must be real")
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise DataError(
            f"{what} holds dates or durations ({dtype}); convert it to numbers "
            "(e.g. days since a start date) or to text categories"
        )
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        types = {type(v) for v in series.dropna()}
        if all(issubclass(t, str) for t in types):
            return "categorical"
        if all(issubclass(t, bool | np.bool_) for t in types):
            return "boolean"
        if all(
            issubclass(t, int | float | np.integer | np.floating)
            and not issubclass(t, bool | np.bool_)
            for t in types
        ):
            return "numeric"
        raise DataError(
            f"{what} mixes value types ({sorted(t.__name__ for t in types)}); a column must "
            "hold only numbers, only booleans or only text"
        )
    raise DataError(f"{what} has a type probgen cannot use as a predictor ({dtype})")


def _numbers(series: pd.Series, what: str) -> np.ndarray:
    _no_missing(series, what)
    values = np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"{what} has infinite values at {_rows(series.index, bad)}; every value must be finite"
        )
    return values


def column_values(series: pd.Series, *, what: str) -> np.ndarray:
    """One column (e.g. an outcome) as a NumPy array of its own kind.

    Booleans stay booleans and numbers numbers (pandas nullable dtypes become
    NumPy ones); the field's declared kind is checked afterwards by
    :func:`prepare_data`. Missing values are an error naming the rows.
    """
    _no_missing(series, what)
    kind = _column_kind(series, what)
    if kind == "categorical":
        raise DataError(f"{what} holds text or categories ({series.dtype}); it must hold numbers")
    if kind == "boolean":
        return np.asarray(series.to_numpy(dtype=bool))
    if pd.api.types.is_integer_dtype(series.dtype):
        return np.asarray(series.to_numpy(dtype=np.int64))
    return _numbers(series, what)


@dataclass(frozen=True)
class ColumnCoding:
    """How one table column becomes design-matrix columns.

    Attributes
    ----------
    name : str
        The column's name.
    kind : {"numeric", "boolean", "categorical"}
        ``numeric``: used as is; ``boolean``: 0/1; ``categorical``: one 0/1
        column per level but the reference.
    levels : tuple
        Categorical only: every level, the reference first.
    """

    name: str
    kind: ColumnKind
    levels: tuple = ()

    @property
    def reference(self) -> Any:
        return self.levels[0] if self.kind == "categorical" else None

    @property
    def features(self) -> tuple[str, ...]:
        """The labels of the design-matrix columns made from this column."""
        if self.kind == "categorical":
            return tuple(f"{self.name}[T.{level}]" for level in self.levels[1:])
        return (self.name,)

    def encode(self, series: pd.Series, what: str) -> np.ndarray:
        """This column's design-matrix columns, (rows, len(features))."""
        what = f"{what} column {self.name!r}"
        _no_missing(series, what)
        kind = _column_kind(series, what)
        if self.kind == "categorical":
            if kind != "categorical":
                raise DataError(
                    f"{what} was categorical in the fit (levels {self._levels()}); "
                    f"got {series.dtype} values"
                )
            values = np.asarray(series.astype(object).to_numpy(), dtype=object)
            unseen = ~np.isin(values, np.asarray(self.levels, dtype=object))
            if unseen.any():
                new = sorted({str(v) for v in values[unseen]})
                raise DataError(
                    f"{what} has level(s) {new} not seen in the fit (at "
                    f"{_rows(series.index, unseen)}); the fit knows {self._levels()}"
                )
            return np.column_stack(
                [(values == level).astype(np.float64) for level in self.levels[1:]]
                or [np.empty((len(values), 0))]
            )
        if kind == "categorical":
            raise DataError(
                f"{what} holds text or categories ({series.dtype}); it must hold numbers"
            )
        values = _numbers(series, what)
        if self.kind == "boolean" and not np.isin(values, (0.0, 1.0)).all():
            raise DataError(f"{what} was boolean in the fit; it must hold True/False or 0/1")
        return values[:, None]

    def _levels(self) -> str:
        return ", ".join(
            _label(v) + (" (reference)" if i == 0 else "") for i, v in enumerate(self.levels)
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "categorical":
            out["levels"] = list(self.levels)
        return out


@dataclass(frozen=True)
class TableEncoding:
    """How a table becomes a design matrix, learned at fit time.

    Attributes
    ----------
    columns : tuple of ColumnCoding
        One per table column, in the design matrix's order.
    """

    columns: tuple[ColumnCoding, ...]

    @property
    def features(self) -> list[str]:
        """The design matrix's column labels (the ``feature`` coords)."""
        return [label for col in self.columns for label in col.features]

    @property
    def names(self) -> list[str]:
        """The table's column names."""
        return [col.name for col in self.columns]

    @classmethod
    def numeric(cls, labels: Sequence[Any]) -> TableEncoding:
        """The encoding of a plain array: numeric columns named by ``labels``."""
        return cls(tuple(ColumnCoding(str(label), "numeric") for label in labels))

    @classmethod
    def learn(cls, frame: pd.DataFrame, *, what: str = "X") -> TableEncoding:
        """Learn the encoding of a (cleaned, see :func:`clean_table`) table."""
        codings = []
        for name in frame.columns:
            series = frame[name]
            where = f"{what} column {name!r}"
            _no_missing(series, where)
            kind = _column_kind(series, where)
            levels: tuple = ()
            if kind == "categorical":
                if isinstance(series.dtype, pd.CategoricalDtype):
                    levels = tuple(pd.Index(series.cat.categories).tolist())
                    odd = [v for v in levels if not isinstance(v, str | int | float)]
                    if odd:  # the fit records levels as JSON: text and numbers only
                        raise DataError(
                            f"{where} has categories that are neither text nor numbers "
                            f"({odd[:3]}); convert them to text"
                        )
                else:
                    levels = tuple(sorted(set(series.tolist())))
                if len(levels) < 2:
                    warn_user(
                        (
                            f"{where} has a single level {list(levels)}: it carries no "
                            "information and adds no predictor"
                        ),
                        CollinearityWarning,
                    )
            codings.append(ColumnCoding(str(name), kind, levels))
        encoding = cls(tuple(codings))
        labels = encoding.features
        clash = sorted({f for f in labels if labels.count(f) > 1})
        if clash:
            raise DataError(
                f"{what}'s dummy-coded columns would be labelled like other columns: "
                f"{clash}; rename the column(s)"
            )
        if not labels:
            raise DataError(f"{what} has no predictor left after encoding its columns")
        return encoding

    def encode(self, frame: pd.DataFrame, *, what: str = "X") -> np.ndarray:
        """The design matrix of ``frame``, its columns matched to this encoding by name.

        Raises
        ------
        DataError
            A column of the encoding missing from ``frame``, a column of
            ``frame`` the encoding does not know, or a value the encoding
            cannot take (an unseen level, text for a number, NA).
        """
        frame = clean_table(frame, what=what)
        missing = [n for n in self.names if n not in frame.columns]
        unknown = [str(c) for c in frame.columns if c not in self.names]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"is missing column(s) {missing}")
            if unknown:
                parts.append(f"has column(s) {unknown} the fit does not know")
            raise DataError(
                f"{what} {' and '.join(parts)}; the fit's columns are {self.names} "
                "(matched by name, in any order)"
            )
        blocks = [col.encode(frame[col.name], what) for col in self.columns]
        return np.concatenate(blocks, axis=1) if blocks else np.empty((len(frame), 0))

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [col.to_dict() for col in self.columns]}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> TableEncoding:
        try:
            return cls(
                tuple(
                    ColumnCoding(str(c["name"]), c["kind"], tuple(c.get("levels", ())))
                    for c in obj["columns"]
                )
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a probgen table encoding: {obj!r} ({exc})") from None


def encode_table(frame: pd.DataFrame, *, what: str = "X") -> tuple[np.ndarray, TableEncoding]:
    """A table as a design matrix, and the encoding that made it (fit time).

    Returns
    -------
    matrix : ndarray
        (rows, features) float64.
    encoding : TableEncoding
        Its ``features`` label the matrix's columns.
    """
    frame = clean_table(frame, what=what)
    encoding = TableEncoding.learn(frame, what=what)
    return encoding.encode(frame, what=what), encoding


def design_matrix(value: Any, encoding: TableEncoding, *, what: str = "X") -> Any:
    """New covariates for a fit made with ``encoding`` (prediction time).

    A DataFrame (or a named Series) is encoded by column name
    (:meth:`TableEncoding.encode`); anything else is taken as the design matrix
    itself and must have the fit's number of columns, in the order of its
    ``features``. Its other checks (numbers, dimensions) are
    :func:`prepare_data`'s.
    """
    if is_series(value):
        value = value.to_frame()
    if is_frame(value):
        return encoding.encode(value, what=what)
    arr = _as_array(what, value)
    k = len(encoding.features)
    if arr.ndim == 2 and arr.shape[1] != k:
        raise DataError(
            f"data[{what!r}] has {arr.shape[1]} columns but the fit has {k} "
            f"({encoding.features}); pass a DataFrame with the fit's columns "
            f"{encoding.names}, or an array with columns in the order {encoding.features}"
        )
    return arr


def check_design(X: np.ndarray, labels: Sequence[Any], *, intercept: bool, what: str = "X") -> None:
    """Warn (:class:`CollinearityWarning`) about predictors the data cannot identify.

    Constant columns (with an intercept; an all-zero column always) and
    exactly collinear columns (the design matrix, with the intercept, not of
    full column rank: some column is a linear combination of others) are named.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    labels = [str(label) for label in labels]
    constant = np.all(X[:1] == X, axis=0) if intercept else np.all(X == 0, axis=0)
    if constant.any():
        warn_user(
            (
                f"{what} has constant column(s) {[labels[j] for j in np.flatnonzero(constant)]}"
                + (": not identified apart from the intercept" if intercept else " (all zero)")
                + "; their coefficients are informed only by the prior: drop them"
            ),
            CollinearityWarning,
        )
    keep = np.flatnonzero(~constant)
    Z = X[:, keep] - X[:, keep].mean(axis=0) if intercept else X[:, keep]
    m = Z.shape[1]
    if m == 0:
        return
    Z = Z / np.linalg.norm(Z, axis=0)  # scale-free rank: units must not matter
    # the right singular vectors of Z are those of R (Z = QR), a small m x m matrix
    R = np.linalg.qr(Z, mode="r") if n >= m else np.vstack([Z, np.zeros((m - n, m))])
    _, s, vt = np.linalg.svd(R)
    rank = int((s > s.max() * max(n, m) * np.finfo(np.float64).eps).sum())
    if rank == m:
        return
    null = vt[rank:]
    involved = [labels[keep[j]] for j in np.flatnonzero(np.abs(null).max(axis=0) > 1e-8)]
    warn_user(
        (
            f"{what}'s columns {involved} are exactly collinear"
            + (" (with the intercept)" if intercept else "")
            + f": rank {rank} for {m} column(s)"
            + (f" with only {n} rows" if n <= m else "")
            + "; the data cannot tell their coefficients apart (only the prior does): "
            "drop or combine some of them"
        ),
        CollinearityWarning,
    )


def encoding_attrs(encodings: Mapping[str, TableEncoding]) -> dict[str, str]:
    """The attributes that record ``encodings`` (e.g. ``ModelData.encodings``) in a
    fit's ``constant_data`` (JSON, so that they survive netCDF)."""
    if not encodings:
        return {}
    return {
        ENCODING_ATTR: json.dumps(
            {name: enc.to_dict() for name, enc in encodings.items()}, default=str
        )
    }


def encodings_from_attrs(attrs: Mapping[str, Any]) -> dict[str, TableEncoding]:
    """The encodings recorded by :func:`encoding_attrs` (empty when there are none)."""
    text = attrs.get(ENCODING_ATTR)
    if text is None:
        return {}
    try:
        obj = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the fit's {ENCODING_ATTR!r} attribute is not JSON: {exc}") from None
    return {name: TableEncoding.from_dict(enc) for name, enc in obj.items()}
