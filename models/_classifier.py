"""What the generative classifiers share: labels, the class prior, features given the class.

A generative classifier models the joint distribution of features and labels,
p(x, y) = p(y) p(x | y): both ``X`` (obs, feature) and ``y`` (obs,) are
observed sites. Every classifier has the same class prior (site names as in
both backends)::

    class_prob ~ Dirichlet(class_concentration · 1_C)
    y[n]       ~ Categorical(class_prob)
    X[n, :]    ~ p(x | y = y[n], ...)          (the subclass's class-conditional)

and implements, vectorized in NumPy over posterior draws,

* :meth:`GenerativeClassifier.class_log_density` — log p(x_n | y = c) for every
  draw, row and class, with missing (NaN) features integrated out exactly;
* :meth:`GenerativeClassifier.sample_features` — features drawn given classes.

:mod:`probgen.classify` builds the public functions on these two
(``class_probabilities``, ``predict_proba``, ``sample_labelled``). The
features are an observed site, not a covariate, so :func:`probgen.predict`
(new covariates, outcome generated) does not apply; classifying new rows is
``predict_proba``, generating labelled rows ``sample_labelled``, and
``probgen.sample_posterior_predictive`` replicates the whole training set
(labels and features).

**Labels.** ``y`` may hold labels of any kind: text, integers, booleans, a
pandas Series or Categorical. :meth:`GenerativeClassifier.prepare` encodes them
as integer codes 0..C-1 (the values of the ``y`` site) and labels the
``class`` dimension with

1. the user's ``coords={"class": [...]}`` when given (every label in ``y`` must
   be one of them; classes absent from ``y`` are kept, their parameters then
   informed by the prior only);
2. else a pandas Categorical's categories (absent categories kept);
3. else with a Stan-style size ``C`` and integer labels all in 0..C-1: the
   classes 0..C-1 (absent ones kept); with ``C`` and other labels, the labels
   found in ``y`` must number exactly ``C``;
4. else the sorted distinct labels found in ``y``.

A classifier needs at least two classes. Generating (``y`` absent) needs the
classes from ``C`` or ``coords["class"]``, and the sizes ``N`` (rows) and ``D``
(features) when ``X`` is absent too: ``{"N": 100, "D": 4, "C": 3}`` is enough.

**Features.** ``X`` is a 2-D array or a pandas DataFrame; a DataFrame's column
names label the ``feature`` dimension (an array's features are 0..D-1 unless
``coords={"feature": [...]}`` names them). A table with a ``y`` column (a CSV,
or a DataFrame given as the whole data set) is split by :meth:`from_table`:
``y`` the labels, every other column a feature. Missing values are refused when
fitting (remove those rows); :mod:`probgen.classify` accepts them in new rows
and integrates them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
import pymc as pm
import pytensor

from probgen import DataError, Field, Model, ModelData
from probgen.data import is_frame, is_series

#: how many (draw, row, class, feature) numbers a chunk of a vectorized
#: computation may hold at once (about 64 MB of float64)
CHUNK_ELEMENTS = 8_000_000


def floatx(x) -> np.ndarray:
    """A constant in PyTensor's current floatX (probgen's precision)."""
    return np.asarray(x, dtype=pytensor.config.floatX)


def classifier_fields(kind: str, doc: str) -> tuple[Field, ...]:
    """The two observed fields of a generative classifier: ``X`` of ``kind`` and ``y``."""
    return (
        Field("X", ("obs", "feature"), kind=kind, observed=True, doc=doc),
        Field("y", ("obs",), kind="count", observed=True, doc="class labels (any kind)"),
    )


def check_positive(model: Model, *names: str) -> None:
    """Configuration values that must be finite and > 0; the first bad one is named."""
    for name in names:
        value = getattr(model, name)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _plain(value: Any) -> Any:
    """A label as a plain Python value (NumPy scalars compare and print as themselves)."""
    return value.item() if isinstance(value, np.generic) else value


def _check_labels(labels: Sequence[Any], what: str) -> list:
    labels = [_plain(v) for v in labels]
    if len(labels) == 0:
        raise DataError(f"{what} is empty; a classifier needs at least two classes")
    bad = [v for v in labels if not isinstance(v, str | int | bool | float) or v is None]
    if bad:
        raise DataError(f"{what} must hold text, integers or booleans, got {bad[:3]!r}")
    if any(isinstance(v, float) for v in labels):
        raise DataError(
            f"{what} holds floating-point labels {labels[:3]!r}; class labels must be "
            "text, integers or booleans (e.g. y.astype(int) for whole numbers)"
        )
    if len({(type(v), v) for v in labels}) != len(labels):
        raise DataError(f"{what} labels must be unique, got {labels!r}")
    kinds = {"text" if isinstance(v, str) else "number" for v in labels}
    if len(kinds) > 1:
        raise DataError(f"{what} mixes text and numbers ({labels[:4]!r}...); use one kind")
    return labels


def encode_labels(
    y: Any, classes: Sequence[Any] | None = None, size: int | None = None
) -> tuple[np.ndarray, list]:
    """Class labels as integer codes, and the labels of the ``class`` dimension.

    Parameters
    ----------
    y : array-like or pandas Series / Categorical
        One label per row (text, integers or booleans).
    classes : sequence, optional
        The user's ``coords["class"]``: every label of ``y`` must be one of them.
    size : int, optional
        A Stan-style ``C`` (see the module docstring, rule 3).

    Returns
    -------
    codes : ndarray of int64, shape (N,)
        ``classes[codes[n]] == y[n]``.
    classes : list
        The labels of the ``class`` dimension.

    Raises
    ------
    DataError
        Naming ``data['y']`` and what is wrong (missing labels, floats, labels
        outside ``coords['class']``, a ``C`` that does not match).
    """
    categories = None
    if isinstance(y, pd.Categorical) or (is_series(y) and isinstance(y.dtype, pd.CategoricalDtype)):
        cat = y if isinstance(y, pd.Categorical) else y.array
        categories = list(cat.categories.tolist())
        values = np.asarray(cat.astype(object), dtype=object)
    elif is_series(y):
        values = np.asarray(y.to_numpy(dtype=object), dtype=object)
    else:
        try:
            values = np.asarray(y)
        except Exception as exc:  # ragged lists and the like
            raise DataError(f"data['y'] could not be read as an array of labels: {exc}") from None
    if values.ndim != 1:
        raise DataError(f"data['y'] must be one label per row (1-D), got shape {values.shape}")
    if values.size == 0:
        raise DataError("data['y'] is empty along 'obs'")
    flat = [_plain(v) for v in values.tolist()]
    missing = [i for i, v in enumerate(flat) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise DataError(
            f"data['y'] has missing labels at rows {missing[:5]}; remove those rows first"
        )
    found = _check_labels(sorted(set(flat), key=lambda v: (str(type(v)), v)), "data['y']")
    if classes is not None:
        classes = _check_labels(list(classes), "coords['class']")
    elif categories is not None:
        classes = _check_labels(categories, "the Categorical's categories of data['y']")
    elif (
        size is not None
        and all(isinstance(v, int) and not isinstance(v, bool) for v in found)
        and all(0 <= v < size for v in found)
    ):
        classes = list(range(size))
    else:
        classes = found
    if size is not None and len(classes) != size:
        raise DataError(
            f"data['C'] = {size} classes but the labels are {classes!r} ({len(classes)}); "
            "give coords={'class': [...]} to name every class"
        )
    index = {(type(v) if not isinstance(v, bool) else bool, v): i for i, v in enumerate(classes)}
    # booleans and integers are different labels (True is not the class 1)
    codes = np.empty(len(flat), dtype=np.int64)
    unknown = []
    for i, v in enumerate(flat):
        key = (bool if isinstance(v, bool) else type(v), v)
        if key not in index:
            unknown.append(v)
        else:
            codes[i] = index[key]
    if unknown:
        raise DataError(
            f"data['y'] has label(s) {sorted(set(map(str, unknown)))} that are not classes "
            f"{classes!r} (coords['class'])"
        )
    return codes, classes


def frame_features(X: pd.DataFrame, what: str = "data['X']") -> tuple[np.ndarray, list[str]]:
    """A DataFrame of features as an array, and its column names as feature labels.

    Numeric and boolean columns only (a text column is named in the error).
    Missing values become NaN here; whether they are allowed is the caller's
    business (refused when fitting, integrated out when classifying).
    """
    names = [str(c) for c in X.columns]
    if len(set(names)) != len(names):
        raise DataError(f"{what} has repeated column names {names}; they must be unique")
    if not names:
        raise DataError(f"{what} has no columns")
    for col in X.columns:
        dtype = X[col].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            raise DataError(
                f"{what} column {str(col)!r} holds {dtype} values; features must be numbers "
                "or booleans"
            )
        if pd.api.types.is_complex_dtype(dtype):
            raise DataError(f"{what} column {str(col)!r} holds complex numbers")
    return X.to_numpy(dtype=np.float64, na_value=np.nan), names


def standardized_iris() -> dict[str, Any]:
    """Fisher's iris (scikit-learn's bundled copy), each feature standardized over
    the 150 flowers (ddof=0), species as a Categorical: the default data of the
    Gaussian classifiers."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    X = np.asarray(iris.data, dtype=float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    labels = pd.Categorical.from_codes(iris.target, categories=list(iris.target_names))
    return {"X": pd.DataFrame(X, columns=list(iris.feature_names)), "y": labels}


class GenerativeClassifier(Model):
    """Base of the generative classifiers: p(x, y) = p(y) p(x | y).

    Subclasses set ``fields = classifier_fields(kind, doc)``, declare their
    parameters in ``var_dims`` (``class_prob`` along ``class`` included), write
    their twins with :meth:`numpyro_labels` / :meth:`pymc_labels` for the class
    prior and labels, and implement :meth:`class_log_density` and
    :meth:`sample_features` (see the module docstring).
    """

    family: ClassVar[str] = "classification"
    sizes: ClassVar[dict[str, str]] = {"N": "obs", "D": "feature", "C": "class"}
    class_concentration: float

    # ------------------------------------------------------------------ data
    def from_table(self, frame) -> dict[str, Any]:
        """A table's ``y`` column holds the labels; every other column is a feature."""
        if "y" not in frame.columns:
            raise DataError(
                f"a table for {self.name} needs a label column named 'y'; the other "
                f"columns are the features. Got columns {[str(c) for c in frame.columns]}"
            )
        features = frame.drop(columns=["y"])
        if features.shape[1] == 0:
            raise DataError(f"a table for {self.name} needs at least one feature column")
        return {"X": features, "y": frame["y"]}

    def prepare(
        self,
        data: Mapping[str, Any] | ModelData | None = None,
        *,
        coords: Mapping[str, Any] | None = None,
        require_observed: bool = True,
    ) -> ModelData:
        """Validate data (default data if None), encode labels, name classes and features."""
        if isinstance(data, ModelData):
            return data
        data = self.resolve_data(data)
        if not isinstance(data, Mapping):  # Model.prepare says what a data set must be
            return super().prepare(data, coords=coords, require_observed=require_observed)
        data = dict(data)
        coords = dict(coords or {})
        classes = coords.pop("class", None)
        if classes is not None:
            classes = _check_labels(list(np.asarray(classes, dtype=object)), "coords['class']")
        X, y = data.get("X"), data.get("y")
        if is_series(X):  # one named feature
            X = X.to_frame()
        if is_frame(X):
            if "feature" in coords:
                raise DataError(
                    "coords['feature'] cannot be given with a DataFrame X: its column names "
                    "label the features (rename the columns instead)"
                )
            if is_series(y) and not X.index.equals(y.index):
                # pandas users expect rows to be matched by label, not position
                raise DataError(
                    "the DataFrame X and the Series y have different row labels (index); "
                    "align them (or pass y as an array, in X's row order)"
                )
            data["X"], coords["feature"] = frame_features(X)
        size = None
        if data.get("C") is not None:
            from probgen.data import check_size

            size = check_size("C", data["C"])
        if y is not None:
            data["y"], classes = encode_labels(y, classes, size)
        elif classes is not None and size is not None and len(classes) != size:
            raise DataError(f"data['C'] = {size} but coords['class'] names {len(classes)} classes")
        if classes is not None:
            data["C"] = len(classes)  # sizes the class dimension; labelled below
        prepared = super().prepare(data, coords=coords, require_observed=require_observed)
        if classes is not None:
            prepared.coords["class"] = classes
        if "class" not in prepared.coords:
            raise DataError(
                f"{self.name} cannot tell the classes: give labels y, the number of "
                "classes C, or coords={'class': [...]}"
            )
        if len(prepared.coords["class"]) < 2:
            raise DataError(
                f"{self.name} needs at least two classes, got {prepared.coords['class']!r}; "
                "name the others with coords={'class': [...]}"
            )
        return prepared

    def check_features(self, X: np.ndarray, what: str) -> np.ndarray:
        """New features for classification: a float (n, D) array; NaN marks a missing
        value. Subclasses check their kind of feature (binary, counts) on top."""
        X = np.asarray(X, dtype=np.float64)
        if np.isinf(X).any():
            raise DataError(f"{what} contains inf; features must be finite (or NaN if missing)")
        return X

    # ---------------------------------------------------------------- twins
    def numpyro_labels(self, data: ModelData):
        """NumPyro: the ``class_prob`` and ``y`` sites; returns y (observed or drawn)."""
        c, n = data.size("class"), data.size("obs")
        class_prob = numpyro.sample(
            "class_prob", dist.Dirichlet(jnp.full(c, float(self.class_concentration)))
        )
        with numpyro.plate("obs", n):
            return numpyro.sample("y", dist.Categorical(probs=class_prob), obs=data.get("y"))

    def pymc_labels(self, data: ModelData):
        """PyMC (inside the model's context): ``class_prob`` and ``y``; returns y."""
        c = data.size("class")
        class_prob = pm.Dirichlet(
            "class_prob", a=floatx(np.full(c, self.class_concentration)), dims="class"
        )
        return pm.Categorical("y", p=class_prob, observed=data.get("y"), dims="obs")

    # ----------------------------------------------------- NumPy, over draws
    def class_log_density(self, params: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        """log p(x_n | y = c, params_s), shape (S, N, C).

        Parameters
        ----------
        params : mapping
            Every posterior variable, with the draws flattened to a leading axis S.
        X : ndarray, shape (N, D)
            Features; NaN entries are missing and integrated out exactly (an
            all-NaN row gives 0).
        """
        raise NotImplementedError

    def sample_features(
        self, params: Mapping[str, np.ndarray], classes: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Features given integer classes (S, n), one parameter draw per leading
        index: shape (S, n, D)."""
        raise NotImplementedError

    def feature_inputs(
        self, data: ModelData, classes: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Extra keyword arguments of :meth:`sample_features` for new points of
        ``classes`` (S, n), from the training data ``data``. Default: none (the
        multinomial model's counts per row come from here)."""
        return {}


def gather_classes(param: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``param[s, classes[s, i], ...]`` for class-indexed draws (S, C, ...) -> (S, n, ...)."""
    param = np.asarray(param)
    idx = np.asarray(classes, dtype=np.int64)
    idx = idx.reshape(idx.shape + (1,) * (param.ndim - 2))
    return np.take_along_axis(param, idx, axis=1)


def draw_chunks(S: int, per_draw: int) -> list[slice]:
    """Slices of the draw axis so that a chunk holds at most :data:`CHUNK_ELEMENTS`."""
    step = max(1, CHUNK_ELEMENTS // max(per_draw, 1))
    return [slice(i, min(i + step, S)) for i in range(0, S, step)]
