"""A zoo model's discriminative counterparts, and the Bayesian estimator wrapping a model.

Each zoo model declares its counterparts in code, as the class attribute
``counterparts``: the import path of each estimator class mapped to its
constructor arguments (``{"sklearn.svm.SVC": {"probability": True}, ...}``).
:func:`counterparts` resolves those paths and returns fresh, unfitted
estimators; the tests resolve every declaration, so a renamed class or a wrong
argument fails there rather than in a study. A model with no discriminative
counterpart that fits its data as (X, y) declares ``{}`` and its docstring says
why (an unsupervised model, a series, a hierarchical model).

:func:`as_estimator` goes the other way: the scikit-learn estimator of
:mod:`probgen.estimators` that wraps a zoo model, configured like it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from sklearn.base import BaseEstimator

from probgen.estimators.base import ZooEstimator
from probgen.estimators.classifiers import (
    BayesianLogisticRegression,
    BernoulliNaiveBayes,
    GaussianDiscriminant,
    GaussianNaiveBayes,
    MultinomialNaiveBayes,
)
from probgen.estimators.regressors import (
    BayesianLinearRegression,
    BayesianNegativeBinomialRegression,
    BayesianPoissonRegression,
    BayesianRobustRegression,
)
from probgen.model import Model
from probgen.registry import get_model

#: the estimator classes over zoo models, by model name
ESTIMATORS: dict[str, type[ZooEstimator]] = {
    cls.model_name: cls
    for cls in (
        GaussianNaiveBayes,
        GaussianDiscriminant,
        BernoulliNaiveBayes,
        MultinomialNaiveBayes,
        BayesianLogisticRegression,
        BayesianLinearRegression,
        BayesianRobustRegression,
        BayesianPoissonRegression,
        BayesianNegativeBinomialRegression,
    )
}


def resolve_estimator(path: str) -> type[BaseEstimator]:
    """The estimator class at an import path ``"package.module.Class"``.

    Raises
    ------
    ValueError
        The path is not of that form, or does not name a scikit-learn estimator class.
    """
    if not isinstance(path, str) or "." not in path:
        raise ValueError(f"an estimator path must be 'module.Class', got {path!r}")
    module_name, _, class_name = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"estimator path {path!r} does not resolve: {exc}") from None
    if not (isinstance(obj, type) and issubclass(obj, BaseEstimator)):
        raise ValueError(f"{path!r} is {obj!r}, not a scikit-learn estimator class")
    return obj


def build_estimator(path: str, kwargs: Mapping[str, Any]) -> BaseEstimator:
    """A fresh estimator from its import path and constructor arguments.

    An argument that is itself a one-entry mapping ``{"module.Class": {...}}``
    is built the same way, so wrappers can be declared as data (e.g.
    ``CalibratedClassifierCV`` around an ``SVC``).
    """
    if not isinstance(kwargs, Mapping):
        raise TypeError(f"the arguments of {path!r} must be a mapping, got {type(kwargs).__name__}")
    built = {}
    for name, value in kwargs.items():
        if (
            isinstance(value, Mapping)
            and len(value) == 1
            and isinstance(next(iter(value)), str)
            and "." in next(iter(value))
        ):
            ((inner_path, inner_kwargs),) = value.items()
            value = build_estimator(inner_path, inner_kwargs)
        built[name] = value
    return resolve_estimator(path)(**built)


def counterparts(model: str | Model, *, n_classes: int | None = None) -> dict[str, BaseEstimator]:
    """Fresh, unfitted discriminative counterparts of a zoo model.

    Parameters
    ----------
    model : str or Model
        A registry name (``"gaussian_naive_bayes"``) or a model instance.
    n_classes : int, optional
        How many classes the data has, for a classifier's counterparts. The
        zoo's Bayesian logistic regression is binary: with ``n_classes > 2`` it
        is given wrapped in ``OneVsRestClassifier`` under the key
        ``"BayesianLogisticRegression[ovr]"`` (one binary fit per class, which is
        not the zoo model; asked for here explicitly, never silently).
        Default: the declaration as it is.

    Returns
    -------
    dict of str to estimator
        Keyed by class name, in the order the model declares them (e.g.
        ``BayesianLogisticRegression``, ``LogisticRegression``, ``SVC``,
        ``HistGradientBoostingClassifier`` for naive Bayes). Empty for a model
        with none (``model.describe()`` says why and names the classical
        counterpart).
    """
    model = get_model(model)
    spec = type(model).counterparts
    if not isinstance(spec, Mapping):
        raise TypeError(
            f"{model.name}.counterparts must map 'module.Class' to constructor arguments, "
            f"got {type(spec).__name__}"
        )
    if n_classes is not None and (
        isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2
    ):
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    out: dict[str, BaseEstimator] = {}
    for path, kwargs in spec.items():
        estimator = build_estimator(path, kwargs)
        cls = type(estimator)
        inner = [
            type(v).__name__
            for v in estimator.get_params(deep=False).values()
            if isinstance(v, BaseEstimator)
        ]
        key = f"{cls.__name__}({', '.join(inner)})" if inner else cls.__name__
        if n_classes is not None and n_classes > 2 and cls is BayesianLogisticRegression:
            from sklearn.multiclass import OneVsRestClassifier

            estimator, key = OneVsRestClassifier(estimator), f"{key}[ovr]"
        if key in out:
            raise ValueError(f"{model.name}.counterparts declares {key} twice")
        out[key] = estimator
    return out


def as_estimator(model: str | Model, **params: Any) -> ZooEstimator:
    """The scikit-learn estimator of :mod:`probgen.estimators` that wraps a zoo model.

    Parameters
    ----------
    model : str or Model
        A registry name, or a model instance whose configuration is copied to
        the estimator (e.g. ``GaussianDiscriminant(covariance="per_class")``).
    **params
        Further estimator parameters (sampler settings such as ``chains``,
        ``random_state``); they win over the model's configuration.

    Raises
    ------
    ValueError
        The model has no estimator (only classifiers and regressions of X -> y
        have one: see :data:`ESTIMATORS`).
    """
    instance = get_model(model)
    cls = ESTIMATORS.get(instance.name)
    if cls is None:
        raise ValueError(
            f"{instance.name} has no scikit-learn estimator; the models with one are "
            f"{sorted(ESTIMATORS)}"
        )
    config = instance.get_config() if isinstance(model, Model) else {}
    return cls(**{**config, **params})
