"""Regressors over the zoo's regressions: linear, robust (Student-t), Poisson, negative binomial.

Each fits its zoo model with NUTS (:func:`probgen.sample`) and predicts from the
stored draws: ``predict`` is the posterior mean of the model's ``mu`` at the new
rows (the mean of y given x: intercept + x @ coef for the linear model, the
location for the robust one, exposure * exp(intercept + x @ coef) for the count
models), computed by the model's own ``prediction_quantities``; ``sample_y``
draws outcomes from the posterior predictive through the fit's backend;
``predict_interval`` gives equal-tailed posterior predictive intervals from such
draws. ``score`` is scikit-learn's R^2 of ``predict``.

The count regressions take an optional ``exposure`` (one positive number per
row) in ``fit``, ``predict`` and ``sample_y``: the mean count scales with it.
Outcomes must be non-negative integer counts (no rounding is done).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from probgen.estimators.base import ZooEstimator, n_draws, pick_draws


class _Regressor(RegressorMixin, ZooEstimator):
    """Shared ``fit`` / ``predict`` / ``sample_y`` of the regressors."""

    #: the outcome must be non-negative integer counts
    counts: ClassVar[bool] = False

    # ----------------------------------------------------------------- data
    def _exposure(self, exposure: Any, n: int) -> dict[str, np.ndarray]:
        if exposure is None:
            return {}
        if not self.counts:
            raise TypeError(f"{type(self).__name__} takes no exposure (count regressions do)")
        exposure = np.asarray(exposure, dtype=np.float64)
        if exposure.shape != (n,):
            raise ValueError(
                f"exposure must have one value per row of X, shape ({n},), got {exposure.shape}"
            )
        if not (np.isfinite(exposure).all() and (exposure > 0).all()):
            raise ValueError("exposure must hold finite numbers > 0")
        return {"exposure": exposure}

    def _fit(self, X: Any, y: Any, exposure: Any = None) -> _Regressor:
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.counts:
            bad = (y < 0) | (y != np.round(y))
            if bad.any():
                raise ValueError(
                    f"y must hold non-negative integer counts for {type(self).__name__}; "
                    f"got values {np.unique(y[bad])[:5].tolist()}"
                )
            y = y.astype(np.int64)
        data = {"X": X, "y": y, **self._exposure(exposure, X.shape[0])}
        self._sample(self._make_model(), data)
        return self

    def _new_data(self, X: Any, exposure: Any):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.model_.prepare(
            {"X": X, **self._exposure(exposure, X.shape[0])}, require_observed=False
        )

    # ---------------------------------------------------------- predictions
    def _mu(self, X: Any, exposure: Any = None) -> np.ndarray:
        """The model's ``mu`` at ``X`` for every stored draw: (S, n)."""
        data = self._new_data(X, exposure)
        posterior = {k: v[None] for k, v in self.draws_.items()}  # the draws as one chain
        return self.model_.prediction_quantities(posterior, data)["mu"][0]

    def _predict(self, X: Any, exposure: Any = None) -> np.ndarray:
        return self._mu(X, exposure).mean(axis=0)

    def _sample_y(
        self, X: Any, n_samples: int = 1, random_state: Any = None, exposure: Any = None
    ) -> np.ndarray:
        from probgen.backends import get_backend

        if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
        if n_samples < 1:
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
        data = self._new_data(X, exposure)
        rng = self._draw_rng(random_state)
        pick = rng.integers(n_draws(self.draws_), size=int(n_samples))
        posterior = {k: v[None] for k, v in pick_draws(self.draws_, pick).items()}
        draws = get_backend(self.backend).posterior_predictive(
            self.model_, data, posterior, seed=int(rng.integers(2**31 - 1))
        )
        return np.asarray(draws["y"])[0].T  # (n_rows, n_samples)

    def _predict_interval(
        self,
        X: Any,
        prob: float = 0.89,
        n_samples: int = 1000,
        random_state: Any = None,
        exposure: Any = None,
    ) -> np.ndarray:
        if not (isinstance(prob, float | int) and 0 < prob < 1):
            raise ValueError(f"prob must be a number in (0, 1), got {prob!r}")
        y = self._sample_y(X, n_samples, random_state, exposure)
        tail = (1.0 - prob) / 2.0
        return np.quantile(y, [tail, 1.0 - tail], axis=1).T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.counts:
            tags.target_tags.positive_only = True
        return tags


class _ContinuousRegressor(_Regressor):
    def fit(self, X: Any, y: Any) -> _ContinuousRegressor:
        """Sample the posterior given rows ``X`` (n, K, no intercept column) and outcomes ``y``.

        Returns
        -------
        self
        """
        return self._fit(X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Posterior mean of ``mu`` (the location of y given x) at each row, shape (n,)."""
        return self._predict(X)

    def sample_y(self, X: Any, n_samples: int = 1, random_state: Any = None) -> np.ndarray:
        """Outcomes at ``X`` from the posterior predictive, one posterior draw per
        replicate (chosen uniformly): shape (n_rows, n_samples)."""
        return self._sample_y(X, n_samples, random_state)

    def predict_interval(
        self, X: Any, prob: float = 0.89, n_samples: int = 1000, random_state: Any = None
    ) -> np.ndarray:
        """Equal-tailed posterior predictive interval of y at each row, (n_rows, 2),
        from ``n_samples`` draws of :meth:`sample_y`."""
        return self._predict_interval(X, prob, n_samples, random_state)


class _CountRegressor(_Regressor):
    counts = True

    def fit(self, X: Any, y: Any, exposure: Any = None) -> _CountRegressor:
        """Sample the posterior given rows ``X``, counts ``y`` and an optional exposure (n,)."""
        return self._fit(X, y, exposure)

    def predict(self, X: Any, exposure: Any = None) -> np.ndarray:
        """Posterior mean of the expected count ``mu`` = exposure * exp(eta) at each row."""
        return self._predict(X, exposure)

    def sample_y(
        self, X: Any, n_samples: int = 1, random_state: Any = None, exposure: Any = None
    ) -> np.ndarray:
        """Counts at ``X`` from the posterior predictive: shape (n_rows, n_samples)."""
        return self._sample_y(X, n_samples, random_state, exposure)

    def predict_interval(
        self,
        X: Any,
        prob: float = 0.89,
        n_samples: int = 1000,
        random_state: Any = None,
        exposure: Any = None,
    ) -> np.ndarray:
        """Equal-tailed posterior predictive interval of the count at each row, (n_rows, 2)."""
        return self._predict_interval(X, prob, n_samples, random_state, exposure)


class BayesianLinearRegression(_ContinuousRegressor):
    """Bayesian linear regression (normal errors): the zoo's ``linear_regression``.

    Parameters
    ----------
    intercept : bool
    intercept_prior, coef_prior, sigma_prior : str
        Prior strings, e.g. ``"normal(0, 10)"``, ``"half_cauchy(10)"``.
    backend, chains, draws, warmup, random_state, progress, check
        Sampler settings as for :class:`probgen.estimators.GaussianNaiveBayes`.
    """

    model_name = "linear_regression"
    config_params = ("intercept", "intercept_prior", "coef_prior", "sigma_prior")

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 100)",
        coef_prior: str = "normal(0, 10)",
        sigma_prior: str = "half_cauchy(10)",
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
        self.sigma_prior = sigma_prior
        self.backend = backend
        self.chains = chains
        self.draws = draws
        self.warmup = warmup
        self.random_state = random_state
        self.progress = progress
        self.check = check


class BayesianRobustRegression(_ContinuousRegressor):
    """Bayesian robust regression (Student-t errors): the zoo's ``robust_regression``.

    Parameters
    ----------
    intercept : bool
    intercept_prior, coef_prior, sigma_prior, nu_prior : str
        Prior strings.
    backend, chains, draws, warmup, random_state, progress, check
        Sampler settings as for :class:`probgen.estimators.GaussianNaiveBayes`.
    """

    model_name = "robust_regression"
    config_params = ("intercept", "intercept_prior", "coef_prior", "sigma_prior", "nu_prior")

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 100)",
        coef_prior: str = "normal(0, 10)",
        sigma_prior: str = "half_cauchy(10)",
        nu_prior: str = "gamma(2, 0.1)",
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
        self.sigma_prior = sigma_prior
        self.nu_prior = nu_prior
        self.backend = backend
        self.chains = chains
        self.draws = draws
        self.warmup = warmup
        self.random_state = random_state
        self.progress = progress
        self.check = check


class BayesianPoissonRegression(_CountRegressor):
    """Bayesian Poisson regression (log link, optional exposure): ``poisson_regression``.

    Parameters
    ----------
    intercept : bool
    intercept_prior, coef_prior : str
        Prior strings.
    backend, chains, draws, warmup, random_state, progress, check
        Sampler settings as for :class:`probgen.estimators.GaussianNaiveBayes`.
    """

    model_name = "poisson_regression"
    config_params = ("intercept", "intercept_prior", "coef_prior")

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 5)",
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


class BayesianNegativeBinomialRegression(_CountRegressor):
    """Bayesian negative binomial regression (log link, overdispersion ``phi``):
    ``negative_binomial_regression``.

    Parameters
    ----------
    intercept : bool
    intercept_prior, coef_prior, phi_prior : str
        Prior strings.
    backend, chains, draws, warmup, random_state, progress, check
        Sampler settings as for :class:`probgen.estimators.GaussianNaiveBayes`.
    """

    model_name = "negative_binomial_regression"
    config_params = ("intercept", "intercept_prior", "coef_prior", "phi_prior")

    def __init__(
        self,
        intercept: bool = True,
        intercept_prior: str = "normal(0, 5)",
        coef_prior: str = "normal(0, 2.5)",
        phi_prior: str = "gamma(2, 0.1)",
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
        self.phi_prior = phi_prior
        self.backend = backend
        self.chains = chains
        self.draws = draws
        self.warmup = warmup
        self.random_state = random_state
        self.progress = progress
        self.check = check
