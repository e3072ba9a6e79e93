"""Data augmentation: a discriminative learner trained on real plus generated rows.

:class:`AugmentedClassifier` is an ordinary scikit-learn classifier, so the
harness compares it on the same splits as everything else: ``fit`` standardizes
the real rows, fits a generative classifier (one with ``sample(n)``: probgen's
Bayesian ones draw from the posterior predictive p(x, y | data)), draws
``n_synthetic`` labelled rows from it, and fits the learner on real and synthetic
rows together; ``predict_proba`` is the learner's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data


class AugmentedClassifier(ClassifierMixin, BaseEstimator):
    """A learner fitted on the training rows plus rows a generative model drew.

    Parameters
    ----------
    generator : estimator
        A classifier with ``fit(X, y)`` and ``sample(n, random_state=)`` returning
        ``(X, y)`` (e.g. :class:`probgen.estimators.GaussianNaiveBayes`); it sees
        standardized features.
    learner : estimator
        The discriminative classifier trained on real and synthetic rows.
    n_synthetic : int
        Rows to draw.
    synthetic_weight : float
        Sample weight of each synthetic row (real rows weigh 1), when the learner's
        ``fit`` takes ``sample_weight``; 1 treats them alike.
    random_state : None or int
        Seeds the generator's fit and its draws.
    """

    def __init__(
        self,
        generator: Any = None,
        learner: Any = None,
        n_synthetic: int = 200,
        synthetic_weight: float = 1.0,
        random_state: Any = None,
    ):
        self.generator = generator
        self.learner = learner
        self.n_synthetic = n_synthetic
        self.synthetic_weight = synthetic_weight
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> AugmentedClassifier:
        """Fit the generator, draw rows from it, fit the learner on both."""
        for name in ("generator", "learner"):
            if getattr(self, name) is None:
                raise ValueError(f"AugmentedClassifier needs a {name}")
        if not callable(getattr(self.generator, "sample", None)):
            raise TypeError(
                f"generator {type(self.generator).__name__} has no sample(n) method: it must "
                "be a generative classifier (probgen.estimators' naive Bayes / discriminant)"
            )
        if isinstance(self.n_synthetic, bool) or int(self.n_synthetic) != self.n_synthetic:
            raise ValueError(f"n_synthetic must be an integer >= 0, got {self.n_synthetic!r}")
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.classes_ = np.unique(y)
        self.mean_ = X.mean(axis=0)
        sd = X.std(axis=0)
        # a constant feature keeps scale 1 (as StandardScaler) instead of dividing by 0
        self.scale_ = np.where(sd > 0, sd, 1.0)
        Z = (X - self.mean_) / self.scale_
        weight = np.ones(len(y))
        self.generator_ = None
        if self.n_synthetic > 0:  # no rows to draw: the learner alone, nothing else fitted
            gen = clone(self.generator)
            if "random_state" in gen.get_params():
                gen.set_params(random_state=self.random_state)
            gen.fit(Z, y)
            self.generator_ = gen
            Zs, ys = gen.sample(int(self.n_synthetic), random_state=self.random_state)
            Z = np.vstack([Z, Zs])
            y = np.concatenate([y, ys])
            weight = np.concatenate([weight, np.full(len(ys), float(self.synthetic_weight))])
        learner = clone(self.learner)
        if self.synthetic_weight != 1.0:
            learner.fit(Z, y, sample_weight=weight)
        else:
            learner.fit(Z, y)
        self.learner_ = learner
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The learner's class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        proba = self.learner_.predict_proba((X - self.mean_) / self.scale_)
        out = np.zeros((X.shape[0], self.classes_.size))
        cols = np.searchsorted(self.classes_, self.learner_.classes_)
        out[:, cols] = proba
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class per row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
