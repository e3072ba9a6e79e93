"""Named contenders for the CLI and the studies, built lazily (nothing heavy on import).

scikit-learn's estimators carry the many-split parts of a study cheaply; probgen's
Bayesian estimators (:mod:`probgen.estimators`) take the sampler settings given
here. Every discriminative contender that cannot take NaN features is wrapped in a
``Pipeline`` with an imputer, so that the same contender runs in the missing-feature
study (with complete features the imputer is the identity).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SamplerSettings:
    """Sampler settings handed to probgen's Bayesian estimators."""

    backend: str = "numpyro"
    chains: int = 2
    draws: int = 300
    warmup: int = 300
    check: bool = False
    extra: dict = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "chains": self.chains,
            "draws": self.draws,
            "warmup": self.warmup,
            "check": self.check,
            "progress": False,
            **self.extra,
        }


def _imputed(est: Any, imputer: str = "mean") -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if imputer == "iterative":
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401
        from sklearn.impute import IterativeImputer

        return make_pipeline(IterativeImputer(max_iter=10, random_state=0), StandardScaler(), est)
    return make_pipeline(SimpleImputer(strategy="mean"), StandardScaler(), est)


def _sk_gaussian_nb(_: SamplerSettings) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return _imputed(GaussianNB())


def _sk_logistic(_: SamplerSettings) -> Any:
    from sklearn.linear_model import LogisticRegression

    return _imputed(LogisticRegression(max_iter=2000))


def _sk_logistic_iterative(_: SamplerSettings) -> Any:
    from sklearn.linear_model import LogisticRegression

    return _imputed(LogisticRegression(max_iter=2000), "iterative")


def _sk_lda(_: SamplerSettings) -> Any:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    # shrinkage keeps LDA defined when p approaches n (small learning-curve sizes)
    return _imputed(LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))


def _sk_hist_gb(_: SamplerSettings) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100)  # takes NaN natively


def _bayes(
    cls_name: str, scale: bool = True, impute: bool = False
) -> Callable[[SamplerSettings], Any]:
    def build(settings: SamplerSettings) -> Any:
        import probgen.estimators as est_mod

        cls = getattr(est_mod, cls_name, None)
        if cls is None:
            raise ImportError(
                f"probgen.estimators has no {cls_name} in this installation; the Bayesian "
                "contenders need probgen's estimators"
            )
        est = cls(**settings.kwargs())
        if impute:  # a discriminative model has no p(x) to integrate a missing feature out
            return _imputed(est)
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        # the zoo's priors assume standardized features (StandardScaler passes NaN on);
        # binary and count features keep their scale
        return make_pipeline(StandardScaler(), est) if scale else est

    return build


#: name -> (factory, one line); the CLI's --models choices
CONTENDERS: Mapping[str, tuple[Callable[[SamplerSettings], Any], str]] = {
    "gaussian_nb": (_sk_gaussian_nb, "scikit-learn GaussianNB (generative, point estimates)"),
    "logistic": (_sk_logistic, "scikit-learn LogisticRegression, L2 C=1, standardized"),
    "logistic_iterative": (
        _sk_logistic_iterative,
        "the same, missing features imputed by IterativeImputer",
    ),
    "lda": (_sk_lda, "scikit-learn LinearDiscriminantAnalysis with Ledoit-Wolf shrinkage"),
    "hist_gradient_boosting": (_sk_hist_gb, "scikit-learn HistGradientBoostingClassifier"),
    "gaussian_naive_bayes": (_bayes("GaussianNaiveBayes"), "probgen Bayesian Gaussian naive Bayes"),
    "gaussian_discriminant": (
        _bayes("GaussianDiscriminant"),
        "probgen Bayesian Gaussian discriminant (shared covariance)",
    ),
    "bernoulli_naive_bayes": (
        _bayes("BernoulliNaiveBayes", scale=False),
        "probgen Bayesian Bernoulli naive Bayes",
    ),
    "multinomial_naive_bayes": (
        _bayes("MultinomialNaiveBayes", scale=False),
        "probgen Bayesian multinomial naive Bayes",
    ),
    "logistic_regression": (
        _bayes("BayesianLogisticRegression", impute=True),
        "probgen Bayesian logistic regression (binary targets), mean-imputed",
    ),
}


class ScaledRegressor:
    """A regressor fitted on mean-imputed, standardized features and (optionally) a
    standardized target, whose predictions and predictive draws are mapped back.

    ``Pipeline`` and ``TransformedTargetRegressor`` would do the same but hide
    ``sample_y``, and without it the harness cannot score interval coverage; the
    zoo's regression priors (``coef ~ normal(0, 10)``, ``sigma ~ half_cauchy(10)``)
    assume a target of unit scale, hence ``scale_y`` for real targets. Count
    targets keep their scale (``scale_y=False``): a Poisson model needs counts.

    Parameters
    ----------
    regressor : estimator
        An unfitted scikit-learn regressor (cloned at ``fit``).
    scale_y : bool
        Standardize the target before fitting (real targets only).
    """

    def __init__(self, regressor: Any, scale_y: bool = True):
        self.regressor = regressor
        self.scale_y = scale_y

    # get_params/set_params by hand rather than BaseEstimator, so that this module
    # imports no scikit-learn (``probgen --help`` stays fast) and the class pickles
    # by name for joblib's worker processes; clone() needs nothing more
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = {"regressor": self.regressor, "scale_y": self.scale_y}
        if deep and hasattr(self.regressor, "get_params"):
            params.update(
                {f"regressor__{k}": v for k, v in self.regressor.get_params(deep=True).items()}
            )
        return params

    def set_params(self, **params: Any) -> ScaledRegressor:
        inner = {k[len("regressor__") :]: v for k, v in params.items() if "__" in k}
        for key, value in params.items():
            if "__" in key:
                if not key.startswith("regressor__"):
                    raise ValueError(f"invalid parameter {key!r} for ScaledRegressor")
            elif key in ("regressor", "scale_y"):
                setattr(self, key, value)
            else:
                raise ValueError(
                    f"invalid parameter {key!r} for ScaledRegressor; valid: regressor, scale_y"
                )
        if inner:
            self.regressor.set_params(**inner)
        return self

    def fit(self, X: Any, y: Any) -> ScaledRegressor:
        import numpy as np
        from sklearn.base import clone
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {y.shape}")
        self.features_ = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler())
        Xs = self.features_.fit_transform(X)
        self.y_mean_, self.y_scale_ = 0.0, 1.0
        if self.scale_y:
            sd = float(y.std())
            # a constant training target has no scale to divide by
            self.y_mean_, self.y_scale_ = float(y.mean()), sd if sd > 0 else 1.0
        self.regressor_ = clone(self.regressor).fit(Xs, (y - self.y_mean_) / self.y_scale_)
        self.n_features_in_ = Xs.shape[1]
        return self

    def predict(self, X: Any) -> Any:
        """Back-transformed point predictions of the inner regressor."""
        import numpy as np

        pred = np.asarray(self.regressor_.predict(self.features_.transform(X)), dtype=float)
        return self.y_mean_ + self.y_scale_ * pred

    def sample_y(self, X: Any, n_samples: int = 1, random_state: Any = None) -> Any:
        """Back-transformed predictive draws of the inner regressor (same shape)."""
        import numpy as np

        draws = self.regressor_.sample_y(
            self.features_.transform(X), n_samples=n_samples, random_state=random_state
        )
        return self.y_mean_ + self.y_scale_ * np.asarray(draws, dtype=float)


def _sk_ridge(_: SamplerSettings) -> Any:
    from sklearn.linear_model import Ridge

    return _imputed(Ridge(alpha=1.0))


def _sk_hist_gb_reg(_: SamplerSettings) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=100)  # takes NaN natively


def _sk_poisson_glm(_: SamplerSettings) -> Any:
    from sklearn.linear_model import PoissonRegressor

    return _imputed(PoissonRegressor(alpha=1.0, max_iter=1000))


def _bayes_reg(cls_name: str, scale_y: bool) -> Callable[[SamplerSettings], Any]:
    def build(settings: SamplerSettings) -> Any:
        import probgen.estimators as est_mod

        cls = getattr(est_mod, cls_name, None)
        if cls is None:
            raise ImportError(
                f"probgen.estimators has no {cls_name} in this installation; the Bayesian "
                "contenders need probgen's estimators"
            )
        return ScaledRegressor(cls(**settings.kwargs()), scale_y=scale_y)

    return build


#: regression contenders: name -> (factory, one line)
REGRESSION_CONTENDERS: Mapping[str, tuple[Callable[[SamplerSettings], Any], str]] = {
    "ridge": (_sk_ridge, "scikit-learn Ridge, alpha=1, mean-imputed and standardized"),
    "hist_gb_reg": (_sk_hist_gb_reg, "scikit-learn HistGradientBoostingRegressor"),
    "linear_regression": (
        _bayes_reg("BayesianLinearRegression", scale_y=True),
        "probgen Bayesian linear regression (features and target standardized)",
    ),
    "robust_regression": (
        _bayes_reg("BayesianRobustRegression", scale_y=True),
        "probgen Bayesian Student-t regression (features and target standardized)",
    ),
    "poisson_regression": (
        _bayes_reg("BayesianPoissonRegression", scale_y=False),
        "probgen Bayesian Poisson regression (count targets)",
    ),
    "negative_binomial_regression": (
        _bayes_reg("BayesianNegativeBinomialRegression", scale_y=False),
        "probgen Bayesian negative binomial regression (count targets)",
    ),
    "poisson_glm": (_sk_poisson_glm, "scikit-learn PoissonRegressor, alpha=1 (count targets)"),
}

#: regression contenders that model counts: they need non-negative integer targets
COUNT_CONTENDERS = frozenset({"poisson_regression", "negative_binomial_regression", "poisson_glm"})

#: the contenders run when none are named
DEFAULT_CONTENDERS: Mapping[str, tuple[str, ...]] = {
    "classification": ("gaussian_nb", "logistic"),
    "regression": ("ridge", "hist_gb_reg", "linear_regression"),
}


def contenders_for(task: str) -> Mapping[str, tuple[Callable[[SamplerSettings], Any], str]]:
    """The named contenders of a task (``"classification"`` or ``"regression"``)."""
    if task == "classification":
        return CONTENDERS
    if task == "regression":
        return REGRESSION_CONTENDERS
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")


def make_contenders(
    names: list[str] | tuple[str, ...],
    settings: SamplerSettings | None = None,
    task: str = "classification",
) -> dict[str, Any]:
    """Fresh estimators for the named contenders of ``task``.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`CONTENDERS` (classification) or
        :data:`REGRESSION_CONTENDERS` (regression).
    settings : SamplerSettings, optional
        For the Bayesian contenders.
    task : {"classification", "regression"}

    Raises
    ------
    ValueError
        A name unknown for ``task`` (the message lists the valid ones, and says
        when the name belongs to the other task).
    """
    settings = settings or SamplerSettings()
    table = contenders_for(task)
    unknown = [n for n in names if n not in table]
    if unknown:
        other = "regression" if task == "classification" else "classification"
        wrong = [n for n in unknown if n in contenders_for(other)]
        hint = f" ({', '.join(wrong)}: {other} only)" if wrong else ""
        raise ValueError(
            f"unknown contender(s) {unknown} for a {task} target{hint}; choose from "
            f"{', '.join(table)}"
        )
    return {n: table[n][0](settings) for n in names}
