"""Classifiers over zoo models: four generative ones and a Bayesian logistic regression.

The generative classifiers (:class:`GaussianNaiveBayes`, :class:`GaussianDiscriminant`,
:class:`BernoulliNaiveBayes`, :class:`MultinomialNaiveBayes`) fit p(x, y) with
NUTS and classify by Bayes' rule draw by draw (:func:`probgen.classify.bayes_rule`):
``predict_proba`` is the mean over the stored posterior draws of
P(y = c | x, draw). A missing feature (NaN) in a row to classify is integrated
out exactly by the model; fitting needs complete rows (the zoo models are fitted
on complete data), so NaN in ``fit`` is an error that says so. They also
*generate*: ``sample(n, y=None)`` draws labelled rows from the posterior
predictive. Their ``allow_nan`` tag stays False because ``fit`` refuses NaN;
scikit-learn's NaN check, which also wants ``predict`` to refuse it, is an
expected failure of theirs (``tests/test_estimator_checks.py``).

:class:`BayesianLogisticRegression` fits the zoo's ``logistic_regression``
(binary outcome). It refuses more than two classes: a one-vs-rest ensemble of
binary fits is not the zoo model, so it is left to the user to ask for it
explicitly (``sklearn.multiclass.OneVsRestClassifier(BayesianLogisticRegression())``).
It refuses NaN features (a discriminative model has no p(x) to integrate over).

Labels may be of any kind scikit-learn accepts for classification (integers,
text, booleans); ``classes_`` holds them sorted, and the model sees their codes
0..C-1.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from probgen.classify import bayes_rule
from probgen.estimators.base import ZooEstimator, n_draws, pick_draws

#: how many (draw, row, class) numbers ``predict_proba`` holds at once
_CHUNK = 4_000_000


def _encode_targets(estimator: ClassifierMixin, y: np.ndarray) -> np.ndarray:
    """Set ``classes_`` from ``y`` and return its codes 0..C-1; at least two classes."""
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in y; "
            f"got only one class {classes.tolist()!r}"
        )
    estimator.classes_ = classes
    return codes.astype(np.int64)


class _GenerativeClassifier(ClassifierMixin, ZooEstimator):
    """Shared ``fit`` / ``predict_proba`` / ``sample`` of the generative classifiers."""

    #: fewest features the model takes
    min_features: ClassVar[int] = 1

    def _features(self, X: np.ndarray) -> np.ndarray:
        """Hook: the feature array the model sees (Bernoulli binarizes, multinomial
        may round); the identity by default."""
        return X

    def fit(self, X: Any, y: Any) -> _GenerativeClassifier:
        """Sample the posterior of the model's p(x, y) given labelled rows.

        Parameters
        ----------
        X : array-like or pandas DataFrame, shape (n_samples, n_features)
            Complete rows (no NaN): the zoo model is fitted on complete data.
        y : array-like, shape (n_samples,)
            Class labels; at least two classes.

        Returns
        -------
        self
        """
        # NaN passes validate_data here only to be refused below with the reason
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        codes = _encode_targets(self, y)
        if X.shape[1] < self.min_features:
            # "n_features = 1" is scikit-learn's wording (its checks look for it)
            raise ValueError(
                f"{type(self).__name__} needs at least {self.min_features} features, got "
                f"n_features = {X.shape[1]}; for one feature use GaussianNaiveBayes"
            )
        missing = np.flatnonzero(np.isnan(X).any(axis=1))
        if missing.size:
            raise ValueError(
                f"X has missing values (NaN) in rows {missing[:5].tolist()}: "
                f"{type(self).__name__} is fitted on complete rows (it integrates missing "
                "features out only when classifying, in predict_proba / predict); remove "
                "or impute those rows before fit"
            )
        X = self._features(X)
        model = self._make_model()
        self._sample(
            model,
            {"X": X, "y": codes},
            coords={"class": list(range(self.classes_.size))},
        )
        return self

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return self.model_.check_features(self._features(X), "X")

    def _per_draw_proba(self, draws: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_prior = np.log(np.asarray(draws["class_prob"], dtype=float))
        return bayes_rule(log_prior, self.model_.class_log_density(draws, X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Posterior predictive class probabilities: the mean over draws of P(y = c | x).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            NaN marks a missing feature, integrated out exactly (a row with
            nothing observed gets the posterior mean of the class proportions).

        Returns
        -------
        ndarray, shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1. Deterministic
            for a fitted estimator.
        """
        X = self._check_X(X)
        s = n_draws(self.draws_)
        step = max(1, _CHUNK // (s * self.classes_.size))
        # rows in chunks: the per-draw array (S, n, C) of many rows need not fit in memory
        parts = [
            self._per_draw_proba(self.draws_, X[i : i + step]).mean(axis=0)
            for i in range(0, X.shape[0], step)
        ]
        return np.concatenate(parts) if parts else np.empty((0, self.classes_.size))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The class of highest posterior predictive probability, per row."""
        proba = self.predict_proba(X)  # first: it checks that the estimator is fitted
        return self.classes_[np.argmax(proba, axis=1)]

    def sample_y(self, X: Any, n_samples: int = 1, random_state: Any = None) -> np.ndarray:
        """Labels of the rows ``X`` drawn from the posterior predictive.

        Each replicate takes one posterior draw (uniformly among the stored
        draws) and a label from that draw's P(y | x).

        Returns
        -------
        ndarray, shape (n_rows, n_samples)
            Labels from ``classes_``.
        """
        X = self._check_X(X)
        n_samples = _check_n("n_samples", n_samples)
        rng = self._draw_rng(random_state)
        pick = rng.integers(n_draws(self.draws_), size=n_samples)
        probs = self._per_draw_proba(pick_draws(self.draws_, pick), X)  # (n_samples, n, C)
        return self.classes_[_categorical(probs, rng)].T

    def sample(
        self, n: int = 1, y: Any = None, random_state: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Labelled rows drawn from the posterior predictive p(x, y | training data).

        Each row takes its own posterior draw, then a class from that draw's
        class proportions (or the class ``y`` for every row), then features from
        that draw's class-conditional distribution
        (:func:`probgen.classify.sample_labelled`).

        Parameters
        ----------
        n : int
            How many rows (>= 1).
        y : optional
            One label of ``classes_``: every row is of that class.
        random_state : None, int or RandomState

        Returns
        -------
        X : ndarray, shape (n, n_features)
        y : ndarray, shape (n,)
            Labels from ``classes_``.
        """
        from probgen.classify import sample_labelled

        check_is_fitted(self)
        n = _check_n("n", n)
        code = None
        if y is not None:
            hits = np.flatnonzero(self.classes_ == y) if np.ndim(y) == 0 else []
            if len(hits) != 1:
                raise ValueError(
                    f"y must be one class label of this estimator, one of "
                    f"{self.classes_.tolist()}; got {y!r}"
                )
            code = int(hits[0])
        X_new, y_new = sample_labelled(
            self.idata_, n, label=code, seed=int(self._draw_rng(random_state).integers(2**31 - 1))
        )
        return X_new.to_numpy(dtype=np.float64), self.classes_[y_new.cat.codes.to_numpy()]


def _check_n(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row of the probabilities ``probs`` (..., C) by inverse CDF."""
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random(probs.shape[:-1]) * cdf[..., -1]
    return np.minimum((u[..., None] >= cdf).sum(axis=-1), probs.shape[-1] - 1)


class GaussianNaiveBayes(_GenerativeClassifier):
    """Bayesian Gaussian naive Bayes: the zoo's ``gaussian_naive_bayes`` as a classifier.

    Parameters
    ----------
    shared_variance : bool
        One sd per feature for all classes (True) or one per class and feature.
    mu_loc, mu_scale, sigma_scale, class_concentration : float
        The model's priors (see ``probgen.get_model("gaussian_naive_bayes").describe()``);
        they assume standardized features.
    backend : {"numpyro", "pymc"}
    chains, draws, warmup : int
        NUTS settings of :func:`probgen.sample`.
    random_state : None, int or RandomState
        Seeds the sampler (and nothing else in ``fit``).
    progress : bool
        Show the sampler's progress bar.
    check : bool
        Warn (``UntrustworthyFitWarning``) when the fit's diagnostics fail.

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X was a DataFrame with string column names.
    idata_ : xarray.DataTree
        The fit.
    draws_ : dict of str to ndarray
        Posterior draws, (S, ...).
    model_ : probgen.Model
    """

    model_name = "gaussian_naive_bayes"
    config_params = ("shared_variance", "mu_loc", "mu_scale", "sigma_scale", "class_concentration")

    def __init__(
        self,
        shared_variance: bool = False,
        mu_loc: float = 0.0,
        mu_scale: float = 2.0,
        sigma_scale: float = 1.0,
        class_concentration: float = 1.0,
        *,
        backend: str = "numpyro",
        chains: int = 4,
        draws: int = 1000,
        warmup: int = 1000,
        random_state: Any = None,
        progress: bool = False,
        check: bool = True,
    ):
        self.shared_variance = shared_variance
        self.mu_loc = mu_loc
        self.mu_scale = mu_scale
        self.sigma_scale = sigma_scale
        self.class_concentration = class_concentration
        self.backend = backend
        self.chains = chains
        self.draws = draws
        self.warmup = warmup
        self.random_state = random_state
        self.progress = progress
        self.check = check


class GaussianDiscriminant(_GenerativeClassifier):
    """Bayesian Gaussian discriminant analysis (LDA with ``covariance="shared"``, QDA
    with ``"per_class"``): the zoo's ``gaussian_discriminant`` as a classifier.

    Parameters
    ----------
    covariance : {"shared", "per_class"}
    mu_loc, mu_scale, sigma_scale, lkj_eta, class_concentration : float
        The model's priors; they assume standardized features.
    backend, chains, draws, warmup, random_state, progress, check
        As for :class:`GaussianNaiveBayes`.
    """

    model_name = "gaussian_discriminant"
    min_features = 2  # a correlation matrix needs two
    config_params = (
        "covariance",
        "mu_loc",
        "mu_scale",
        "sigma_scale",
        "lkj_eta",
        "class_concentration",
    )

    def __init__(
        self,
        covariance: Literal["shared", "per_class"] = "shared",
        mu_loc: float = 0.0,
        mu_scale: float = 2.0,
        sigma_scale: float = 1.0,
        lkj_eta: float = 2.0,
        class_concentration: float = 1.0,
        *,
        backend: str = "numpyro",
        chains: int = 4,
        draws: int = 1000,
        warmup: int = 1000,
        random_state: Any = None,
        progress: bool = False,
        check: bool = True,
    ):
        self.covariance = covariance
        self.mu_loc = mu_loc
        self.mu_scale = mu_scale
        self.sigma_scale = sigma_scale
        self.lkj_eta = lkj_eta
        self.class_concentration = class_concentration
        self.backend = backend
        self.chains = chains
        self.draws = draws
        self.warmup = warmup
        self.random_state = random_state
        self.progress = progress
        self.check = check


class BernoulliNaiveBayes(_GenerativeClassifier):
    """Bayesian Bernoulli naive Bayes: the zoo's ``bernoulli_naive_bayes`` as a classifier.

    Parameters
    ----------
    theta_a, theta_b, class_concentration : float
        The model's priors (Beta(theta_a, theta_b) per class and feature).
    binarize : float or None
        None (default): features must already be 0/1 (NaN where missing), else
        an error. A number: each feature becomes 1 where it is > ``binarize``
        and 0 elsewhere (NaN stays missing), as scikit-learn's ``BernoulliNB``
        does by default with 0.0 — an explicit choice here, never made silently.
    backend, chains, draws, warmup, random_state, progress, check
        As for :class:`GaussianNaiveBayes`.
    """

    model_name = "bernoulli_naive_bayes"
    config_params = ("theta_a", "theta_b", "class_concentration")

    def __init__(
        self,
        theta_a: float = 1.0,
        theta_b: float = 1.0,
        class_concentration: float = 1.0,
        binarize: float | None = None,
        *,
        backend: str = "numpyro",
        chains: int = 4,
        draws: int = 1000,
        warmup: int = 1000,
        random_state: Any = None,
        progress: bool = False,
        check: bool = True,
    ):
        self.theta_a = theta_a
        self.theta_b = theta_b
        self.class_concentration = class_concentration
        self.binarize = binarize
        self.backend = backend
        self.chains = chains
        self.draws = draws
        self.warmup = warmup
        self.random_state = random_state
        self.progress = progress
        self.check = check

    def _features(self, X: np.ndarray) -> np.ndarray:
        if self.binarize is None:
            seen = X[~np.isnan(X)]
            bad = ~np.isin(seen, (0.0, 1.0))
            if bad.any():
                raise ValueError(
                    f"X must be binary (0 or 1, NaN where missing) for {type(self).__name__}; "
                    f"got values {np.unique(seen[bad])[:5].tolist()}. Set binarize=<threshold> "
                    "to turn features into 0/1"
                )
            return X
        if isinstance(self.binarize, bool) or not isinstance(self.binarize, int | float):
            raise ValueError(f"binarize must be None or a number, got {self.binarize!r}")
        out = np.greater(X, self.binarize).astype(np.float64)
        out[np.isnan(X)] = np.nan
        return out


class MultinomialNaiveBayes(_GenerativeClassifier):
    """Bayesian multinomial naive Bayes: the zoo's ``multinomial_naive_bayes``.

    Parameters
    ----------
    feature_concentration, class_concentration : float
        The model's Dirichlet priors.
    round_counts : bool
        False (default): features must be non-negative integer counts (NaN
        where missing), else an error. True: non-negative values are rounded to
        the nearest integer first (an explicit choice for scaled or averaged
        counts; negative values are still an error).
    backend, chains, draws, warmup, random_state, progress, check
        As for :class:`GaussianNaiveBayes`.
    """

    model_name = "multinomial_naive_bayes"
    config_params = ("feature_concentration", "class_concentration")

    def __init__(
        self,
        feature_concentration: float = 1.0,
        class_concentration: float = 1.0,
        round_counts: bool = False,
        *,
        backend: str = "numpyro",
        chains: int = 4,
        draws: int = 1000,
        warmup: int = 1000,
        random_state: Any = None,
        progress: bool = False,
        check: bool = True,
    ):
        self.feature_concentration = feature_concentration
        self.class_concentration = class_concentration
        self.round_counts = round_counts
        self.backend = backend
        self.chains = chains
        self.draws = draws
        self.warmup = warmup
        self.random_state = random_state
        self.progress = progress
        self.check = check

    def _features(self, X: np.ndarray) -> np.ndarray:
        if not isinstance(self.round_counts, bool):
            raise ValueError(f"round_counts must be True or False, got {self.round_counts!r}")
        if (X < 0).any():  # NaN compares False: missing values pass
            # "Negative values in data" is scikit-learn's wording (its checks look for it)
            raise ValueError(
                f"Negative values in data passed to {type(self).__name__}: X must hold "
                f"non-negative counts; got {np.unique(X[X < 0])[:5].tolist()}"
            )
        if self.round_counts:
            return np.round(X)
        seen = X[~np.isnan(X)]
        bad = seen != np.round(seen)
        if bad.any():
            raise ValueError(
                f"X must hold integer counts for {type(self).__name__}; got values "
                f"{np.unique(seen[bad])[:5].tolist()}. Set round_counts=True to round them"
            )
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        # as scikit-learn's MultinomialNB: the checks' Gaussian blobs are not counts
        tags.classifier_tags.poor_score = True
        return tags


class BayesianLogisticRegression(ClassifierMixin, ZooEstimator):
    """Bayesian logistic regression (binary): the zoo's ``logistic_regression``.

    ``predict_proba`` is the posterior mean of P(y = 1 | x) = expit(intercept +
    x @ coef). Binary only: more than two classes is an error (wrap it in
    ``sklearn.multiclass.OneVsRestClassifier`` to ask for one-vs-rest, which is
    not the zoo model). NaN features are refused.

    Parameters
    ----------
    intercept : bool
    intercept_prior, coef_prior : str
        Prior strings (``"normal(0, 2.5)"``); the default assumes standardized X.
    backend, chains, draws, warmup, random_state, progress, check
        As for :class:`GaussianNaiveBayes`.
    """

    model_name = "logistic_regression"
    config_params = ("intercept", "intercept_prior", "coef_prior")

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 2.5)",
        coef_prior: str = "normal(0, 2.5)",
        *,
        backend: str = "numpyro",
        chains: int = 4,
        draws: int = 1000,
        warmup: int = 1000,
        random_state: Any = None,
        progress: bool = False,
        check: bool = True,
    ):
        self.intercept = intercept
        self.intercept_prior = intercept_prior
        self.coef_prior = coef_prior
        self.backend = backend
        self.chains = chains
        self.draws = draws
        self.warmup = warmup
        self.random_state = random_state
        self.progress = progress
        self.check = check

    def fit(self, X: Any, y: Any) -> BayesianLogisticRegression:
        """Sample the posterior of the coefficients given rows ``X`` and binary labels ``y``.

        ``classes_[1]`` (the larger label in sorted order) is the event y = 1.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        if type_of_target(y, input_name="y", raise_unknown=True) == "multiclass":
            # scikit-learn's wording first (its checks look for it), then the way out
            raise ValueError(
                f"Only binary classification is supported. BayesianLogisticRegression is "
                f"the zoo's binary model; y has {np.unique(y).size} classes. For "
                "one-vs-rest, wrap it explicitly: "
                "sklearn.multiclass.OneVsRestClassifier(BayesianLogisticRegression(...))"
            )
        codes = _encode_targets(self, y)
        self._sample(self._make_model(), {"X": X, "y": codes})
        return self

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _eta(self, draws: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        # the model's own linear predictor, the draws as one chain: (S, n)
        data = self.model_.prepare({"X": X}, require_observed=False)
        posterior = {k: v[None] for k, v in draws.items()}
        return self.model_.prediction_quantities(posterior, data)["eta"][0]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Posterior mean of (P(y = classes_[0] | x), P(y = classes_[1] | x)); rows sum to 1."""
        X = self._check_X(X)
        p1 = expit(self._eta(self.draws_, X)).mean(axis=0)
        return np.column_stack([1.0 - p1, p1])

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def decision_function(self, X: Any) -> np.ndarray:
        """Log odds of the posterior predictive probability of ``classes_[1]``."""
        p = self.predict_proba(X)[:, 1]
        with np.errstate(divide="ignore"):
            return np.log(p) - np.log1p(-p)

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` where its posterior predictive probability exceeds 1/2."""
        p1 = self.predict_proba(X)[:, 1]  # first: it checks that the estimator is fitted
        return self.classes_[(p1 > 0.5).astype(np.int64)]

    def sample_y(self, X: Any, n_samples: int = 1, random_state: Any = None) -> np.ndarray:
        """Labels at ``X`` from the posterior predictive, shape (n_rows, n_samples)."""
        X = self._check_X(X)
        n_samples = _check_n("n_samples", n_samples)
        rng = self._draw_rng(random_state)
        pick = rng.integers(n_draws(self.draws_), size=n_samples)
        p1 = expit(self._eta(pick_draws(self.draws_, pick), X))  # (n_samples, n)
        return self.classes_[(rng.random(p1.shape) < p1).astype(np.int64)].T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
