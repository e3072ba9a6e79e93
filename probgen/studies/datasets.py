"""The real data sets of the studies (nothing is downloaded).

scikit-learn's wheel ships iris, wine, breast_cancer and digits; the zoo ships the
Bangladesh wells survey and 200 binarized MNIST digits (``models/data/``); the
ovarian p >> n data set is read from the shared posteriordb data folder when it is
there (it is not part of the package).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: where the shared copy of posteriordb's data sets lives (ovarian)
SHARED_DATASETS = Path(os.environ.get("PROBGEN_SHARED_DATASETS", "/work/shared/datasets"))


@dataclass(frozen=True)
class Dataset:
    """Features, labels and where they came from.

    Attributes
    ----------
    name : str
    X : ndarray (n, p)
        float64 features.
    y : ndarray (n,)
        Class labels.
    features : list of str
    kind : {"real", "binary", "count"}
        What the features are (picks the generative model that fits them).
    source : str
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    features: list[str]
    kind: str
    source: str

    def describe(self) -> str:
        counts = np.unique(self.y, return_counts=True)[1]
        return (
            f"{self.name}: n={len(self.y)}, p={self.X.shape[1]} {self.kind} features, "
            f"{len(counts)} classes (smallest {counts.min()}); {self.source}"
        )


def _sklearn(name: str) -> Dataset:
    import sklearn.datasets as skd

    bunch = getattr(skd, f"load_{name}")()
    return Dataset(
        name,
        np.asarray(bunch.data, dtype=np.float64),
        np.asarray(bunch.target),
        [str(f) for f in bunch.feature_names],
        "real",
        f"scikit-learn's bundled {name} data",
    )


def _zoo_json(name: str) -> dict:
    from importlib import resources

    from probgen.registry import zoo_package

    return json.loads(resources.files(zoo_package()).joinpath("data", name).read_text())


def _wells() -> Dataset:
    raw = _zoo_json("wells.json")
    cols = ["arsenic", "dist", "assoc", "educ"]
    X = np.column_stack([np.asarray(raw[c], dtype=np.float64) for c in cols])
    return Dataset(
        "wells",
        X,
        np.asarray(raw["switched"], dtype=np.int64),
        cols,
        "real",
        "Bangladesh wells survey (Gelman & Hill; posteriordb), shipped in the zoo",
    )


def _mnist_100() -> Dataset:
    raw = _zoo_json("bmm_mnist_100.json")
    rows = raw["x"] + raw["xt"]
    X = np.array([[c == "1" for c in r] for r in rows], dtype=np.float64)
    return Dataset(
        "mnist_100",
        X,
        np.asarray(raw["y"] + raw["yt"], dtype=np.int64),
        [f"px{i}" for i in range(X.shape[1])],
        "binary",
        "200 MNIST digits binarized at 128 (posteriordb's mnist_100), shipped in the zoo",
    )


def _ovarian() -> Dataset:
    path = SHARED_DATASETS / "ovarian.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"the ovarian data set is read from {str(path)!r}, which does not exist; set "
            "PROBGEN_SHARED_DATASETS to the folder holding posteriordb's ovarian.json"
        )
    raw = json.loads(path.read_text())
    X = np.asarray(raw["x"], dtype=np.float64)
    return Dataset(
        "ovarian",
        X,
        np.asarray(raw["y"], dtype=np.int64),
        [f"g{i}" for i in range(X.shape[1])],
        "real",
        "ovarian cancer microarray, 54 cases x 1,536 predictors (posteriordb)",
    )


_LOADERS = {
    "iris": lambda: _sklearn("iris"),
    "wine": lambda: _sklearn("wine"),
    "breast_cancer": lambda: _sklearn("breast_cancer"),
    "digits": lambda: _sklearn("digits"),
    "wells": _wells,
    "mnist_100": _mnist_100,
    "ovarian": _ovarian,
}

#: the names :func:`load` takes
NAMES = tuple(_LOADERS)


def load(name: str) -> Dataset:
    """One of the study data sets by name (see :data:`NAMES`)."""
    if name not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; choose from {', '.join(NAMES)}")
    return _LOADERS[name]()
