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


def make_contenders(
    names: list[str] | tuple[str, ...], settings: SamplerSettings | None = None
) -> dict[str, Any]:
    """Fresh estimators for the named contenders.

    Raises
    ------
    ValueError
        An unknown name (the message lists the known ones).
    """
    settings = settings or SamplerSettings()
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown:
        raise ValueError(f"unknown contender(s) {unknown}; choose from {', '.join(CONTENDERS)}")
    return {n: CONTENDERS[n][0](settings) for n in names}
