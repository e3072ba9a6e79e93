"""scikit-learn estimators over zoo models, and each model's discriminative counterparts.

* ``base.py``          the shared estimator machinery: ``fit`` samples a zoo model
                       (seeded from ``random_state``) and keeps the draws as NumPy
                       arrays; predictions average over the stored draws;
* ``classifiers.py`` / ``regressors.py``  one estimator class per zoo model
                       (``GaussianNaiveBayes``, ``BayesianLogisticRegression``, ...),
                       following scikit-learn's conventions (``__init__`` stores
                       parameters, fitted attributes end in ``_``), checked with
                       ``parametrize_with_checks``;
* ``counterparts.py``  a zoo model's discriminative counterparts as fresh
                       estimators (``counterparts(model)``: Bayesian logistic
                       regression, scikit-learn's ``LogisticRegression``, ``SVC``,
                       a flexible learner), resolved from the model class's
                       ``counterparts`` declaration (estimator class paths and
                       their arguments); ``as_estimator(model)``, the estimator
                       wrapping a zoo model.

Estimators reach models through :mod:`probgen.registry` and sampling through
:func:`probgen.sample`; nothing here knows a backend.
"""

from probgen.estimators.base import ZooEstimator
from probgen.estimators.classifiers import (
    BayesianLogisticRegression,
    BernoulliNaiveBayes,
    GaussianDiscriminant,
    GaussianNaiveBayes,
    MultinomialNaiveBayes,
)
from probgen.estimators.counterparts import ESTIMATORS, as_estimator, counterparts
from probgen.estimators.regressors import (
    BayesianLinearRegression,
    BayesianNegativeBinomialRegression,
    BayesianPoissonRegression,
    BayesianRobustRegression,
)

__all__ = [
    "ESTIMATORS",
    "BayesianLinearRegression",
    "BayesianLogisticRegression",
    "BayesianNegativeBinomialRegression",
    "BayesianPoissonRegression",
    "BayesianRobustRegression",
    "BernoulliNaiveBayes",
    "GaussianDiscriminant",
    "GaussianNaiveBayes",
    "MultinomialNaiveBayes",
    "ZooEstimator",
    "as_estimator",
    "counterparts",
]
