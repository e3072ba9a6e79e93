"""The table that drives the generic tests: one row per model configuration.

Every registered model is covered with its default configuration; add a row
here for any other configuration worth holding both backends to.
"""

from __future__ import annotations

import probgen

#: (registry name, config) beyond each model's defaults
EXTRA_CONFIGS: list[tuple[str, dict]] = [
    ("eight_schools", {"centered": True}),
    (
        "linear_regression",
        {"intercept_prior": "flat", "coef_prior": "flat", "sigma_prior": "half_flat"},
    ),
    (
        "linear_regression",
        {
            "intercept_prior": "student_t(3, 8, 10)",
            "coef_prior": "cauchy(0, 2.5)",
            "sigma_prior": "half_student_t(3, 10)",
        },
    ),
    ("linear_regression", {"intercept": False, "sigma_prior": "half_normal(10)"}),
    ("logistic_regression", {"intercept": False}),
    ("garch11", {"mu_prior": "normal(0, 10)", "alpha0_prior": "half_normal(1)"}),
    ("hmm_gaussian", {"K": 3, "sigma": None, "mu_positive": False, "mu_loc": (1.0, 5.0, 9.0)}),
    ("gaussian_mixture", {"K": 3, "weight_concentration": 1.0}),
    ("gaussian_mixture_mv", {"K": 3}),
    ("poisson_regression", {"intercept": False}),
    (
        "negative_binomial_regression",
        {"phi_prior": "exponential(0.5)", "coef_prior": "student_t(3, 0, 1)"},
    ),
    (
        "robust_regression",
        {"intercept": False, "nu_prior": "exponential(0.1)", "sigma_prior": "half_normal(2)"},
    ),
    ("radon", {"centered": True}),
    ("radon", {"county_predictor": True}),
    ("radon", {"pooling": "complete", "county_predictor": True}),
    ("radon", {"pooling": "none"}),
    ("radon", {"pooling": "varying_slope", "centered": True, "county_predictor": True}),
    ("radon", {"pooling": "varying_intercept_slope"}),
    ("radon", {"pooling": "varying_intercept_slope", "correlated": True}),
    (
        "radon",
        {
            "pooling": "varying_intercept_slope",
            "correlated": True,
            "centered": True,
            "county_predictor": True,
        },
    ),
    ("rats", {"centered": False}),
    ("gaussian_discriminant", {"covariance": "per_class"}),
    ("lda_topic_model", {"K": 3, "alpha": 0.5, "beta": 0.3, "anchor_word": 4}),
    (
        "bernoulli_mixture",
        {"K": 2, "order_pixel": 28, "theta_a": 0.5, "theta_b": 2.0, "weight_concentration": 1.0},
    ),
    ("probabilistic_pca", {"Q": 1}),
    ("probabilistic_pca", {"Q": 3, "w_scale": 2.0, "sigma_scale": 0.5}),
    ("factor_analysis", {"Q": 3}),
    ("stochastic_volatility", {"centered": True}),
    ("irt_2pl", {"centered": False}),
    ("gaussian_naive_bayes", {"shared_variance": True}),
]


def model_cases() -> list[tuple[str, dict]]:
    return [(name, {}) for name in probgen.list_models()] + EXTRA_CONFIGS


def case_id(case: tuple[str, dict]) -> str:
    name, config = case
    if not config:
        return name
    return name + "[" + ",".join(f"{k}={v}" for k, v in config.items()) + "]"


def has_proper_prior(model) -> bool:
    cfg = model.get_config()
    return not any(isinstance(v, str) and v.strip() in ("flat", "half_flat") for v in cfg.values())
