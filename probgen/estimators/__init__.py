"""scikit-learn estimators over zoo models, and each model's discriminative counterparts.

* ``base.py``          the shared estimator machinery: ``fit`` samples a zoo model
                       (seeded from ``random_state``) and keeps the draws as NumPy
                       arrays; predictions average over the stored draws;
* ``classifiers.py`` / ``regressors.py``  one estimator class per zoo model
                       (``GaussianNaiveBayes``, ``BayesianLogisticRegression``, ...),
                       following scikit-learn's conventions (``__init__`` stores
                       parameters, fitted attributes end in ``_``), checked with
                       ``parametrize_with_checks``;
* ``counterparts.py``  a zoo model's discriminative counterparts as estimators
                       (Bayesian logistic regression, scikit-learn's
                       ``LogisticRegression``, ``SVC``, a flexible learner), read
                       from the model class, never written as strings.

Estimators reach models through :mod:`probgen.registry` and sampling through
:func:`probgen.sample`; nothing here knows a backend.
"""
