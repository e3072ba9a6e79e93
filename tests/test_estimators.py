"""The scikit-learn estimators over zoo models, on real data, and the counterparts as code.

Accuracy is compared with scikit-learn's own estimator on the same split. The
tolerance is a binomial bound: with n test rows and accuracies near p, the
difference of two accuracies on the *same* rows is at most the share of rows
where the two disagree, and we allow that share to be 3 binomial standard
errors above a small base rate (the two methods differ in priors and in
averaging over draws, so a few borderline rows may flip). Each comparison has a
twin that must fail it: the same estimator fitted on shuffled labels.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from sklearn.naive_bayes import BernoulliNB, GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
    BayesianPoissonRegression,
)
from probgen.registry import get_model, get_model_class, list_models

#: enough draws for predictions averaged over the posterior; one compile per shape.
#: The comparisons below are the check of these fits (short chains would only
#: repeat "run longer" warnings)
SETTINGS = {"chains": 2, "draws": 200, "warmup": 200, "random_state": 0, "check": False}
#: for tests that only need a working fit (meta-estimators, pickling)
CHEAP = {"chains": 1, "draws": 50, "warmup": 50, "random_state": 0, "check": False}


def _disagreement_bound(n: int, base: float = 0.02) -> float:
    """Largest share of test rows on which two good classifiers may disagree:
    a base rate plus three binomial standard errors of it."""
    return base + 3.0 * np.sqrt(base * (1.0 - base) / n)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, names[y], test_size=0.4, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


@pytest.fixture(scope="module")
def gnb(iris):
    X_tr, _, y_tr, _ = iris
    return GaussianNaiveBayes(**SETTINGS).fit(X_tr, y_tr)


# ------------------------------------------------------------ accuracy on real data
def test_gaussian_naive_bayes_iris_agrees_with_sklearn(iris, gnb):
    X_tr, X_te, y_tr, y_te = iris
    ours, theirs = gnb.predict(X_te), GaussianNB().fit(X_tr, y_tr).predict(X_te)
    disagree = np.mean(ours != theirs)
    assert disagree <= _disagreement_bound(len(y_te))
    assert abs(gnb.score(X_te, y_te) - np.mean(theirs == y_te)) <= _disagreement_bound(len(y_te))
    assert list(gnb.classes_) == ["setosa", "versicolor", "virginica"]
    # can fail: labels shuffled, the same estimator disagrees with scikit-learn on most rows
    shuffled = np.random.default_rng(0).permutation(y_tr)
    bad = GaussianNaiveBayes(**SETTINGS).fit(X_tr, shuffled).predict(X_te)
    assert np.mean(bad != theirs) > _disagreement_bound(len(y_te))


@pytest.mark.parametrize(
    ("covariance", "reference"),
    [
        ("shared", LinearDiscriminantAnalysis),
        pytest.param("per_class", QuadraticDiscriminantAnalysis, marks=pytest.mark.slow),
    ],
)
def test_gaussian_discriminant_iris_agrees_with_sklearn(iris, covariance, reference):
    X_tr, X_te, y_tr, y_te = iris
    est = GaussianDiscriminant(covariance=covariance, **SETTINGS).fit(X_tr, y_tr)
    theirs = reference().fit(X_tr, y_tr).predict(X_te)
    assert np.mean(est.predict(X_te) != theirs) <= _disagreement_bound(len(y_te))


def test_logistic_regression_breast_cancer_agrees_with_sklearn():
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    est = BayesianLogisticRegression(**SETTINGS).fit(X_tr, y_tr)
    theirs = LogisticRegression(max_iter=5000).fit(X_tr, y_tr).predict(X_te)
    assert np.mean(est.predict(X_te) != theirs) <= _disagreement_bound(len(y_te))
    proba = est.predict_proba(X_te)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # decision_function and predict tell the same story
    np.testing.assert_array_equal(
        est.classes_[(est.decision_function(X_te) > 0).astype(int)], est.predict(X_te)
    )
    # NaN features: a clear error naming X (no marginal p(x) to integrate over)
    X_nan = X_te.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.predict_proba(X_nan)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        BayesianLogisticRegression(**CHEAP).fit(X_nan, y_te)


def test_logistic_regression_refuses_more_than_two_classes(iris):
    X_tr, _, y_tr, _ = iris
    with pytest.raises(ValueError, match="binary.*OneVsRestClassifier"):
        BayesianLogisticRegression(**CHEAP).fit(X_tr, y_tr)


@pytest.mark.slow
def test_bernoulli_naive_bayes_digits_agrees_with_sklearn():
    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, (3, 5, 8))  # three similar digits: a subset keeps it cheap
    X, y = (X[keep] > 7).astype(float)[:360], y[keep][:360]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    est = BernoulliNaiveBayes(**SETTINGS).fit(X_tr, y_tr)
    theirs = BernoulliNB(alpha=1.0).fit(X_tr, y_tr).predict(X_te)
    assert np.mean(est.predict(X_te) != theirs) <= _disagreement_bound(len(y_te))
    # non-binary features without binarize: refused with a way out
    with pytest.raises(ValueError, match="binary.*binarize"):
        BernoulliNaiveBayes(**CHEAP).fit(X_tr * 2, y_tr)


def test_linear_regression_diabetes_agrees_with_least_squares():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    est = BayesianLinearRegression(**SETTINGS).fit(X_tr, y_tr)
    ols = LinearRegression().fit(X_tr, y_tr)
    # weak priors on standardized data: the posterior mean is the least-squares fit
    # up to MCSE; 4 posterior sds of the mean prediction is a generous MCSE bound
    mu = est._mu(X_te)
    mcse = mu.std(axis=0) / np.sqrt(mu.shape[0] / 4)  # ESS taken as S/4
    assert np.all(np.abs(est.predict(X_te) - ols.predict(X_te)) <= 4 * mcse + 1e-3)
    assert abs(est.score(X_te, y_te) - ols.score(X_te, y_te)) < 0.02
    # can fail: a shifted prediction is outside the bound
    assert not np.all(np.abs(est.predict(X_te) + 0.2 - ols.predict(X_te)) <= 4 * mcse + 1e-3)
    draws = est.sample_y(X_te[:5], n_samples=300, random_state=1)
    assert draws.shape == (5, 300)
    # replicates spread like the residuals: their sd is sigma plus parameter uncertainty
    resid_sd = np.std(y_tr - ols.predict(X_tr))
    assert 0.8 * resid_sd < draws.std(axis=1).mean() < 1.25 * resid_sd
    lo, hi = est.predict_interval(X_te[:5], prob=0.89, n_samples=300, random_state=1).T
    assert np.all(lo < est.predict(X_te[:5])) and np.all(est.predict(X_te[:5]) < hi)


@pytest.mark.slow
def test_poisson_regression_matches_maximum_likelihood_and_exposure():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 2))
    exposure = rng.uniform(0.5, 2.0, size=200)
    y = rng.poisson(exposure * np.exp(0.5 + X @ np.array([0.4, -0.3])))
    est = BayesianPoissonRegression(**SETTINGS).fit(X, y, exposure=exposure)
    # PoissonRegressor has no exposure argument: rate y/exposure weighted by exposure
    ml = PoissonRegressor(alpha=0.0).fit(X, y / exposure, sample_weight=exposure)
    rate = est.predict(X[:20], exposure=np.ones(20))
    np.testing.assert_allclose(rate, ml.predict(X[:20]), rtol=0.05)
    # the mean count scales with the exposure
    np.testing.assert_allclose(est.predict(X[:20], exposure=np.full(20, 3.0)), 3 * rate, rtol=1e-10)
    counts = est.sample_y(X[:3], n_samples=4, random_state=0)
    assert counts.shape == (3, 4) and np.all(counts == np.round(counts)) and np.all(counts >= 0)
    with pytest.raises(ValueError, match="non-negative integer counts"):
        BayesianPoissonRegression(**CHEAP).fit(X, y + 0.5)


# ------------------------------------------------------ predict_proba, NaN, sample
def test_predict_proba_rows_sum_to_one_and_are_deterministic(iris, gnb):
    _, X_te, _, _ = iris
    p1, p2 = gnb.predict_proba(X_te), gnb.predict_proba(X_te)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_allclose(p1.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert p1.shape == (len(X_te), 3)


def test_generative_classifier_marginalizes_nan_features(iris, gnb):
    _, X_te, _, _ = iris
    X_nan = X_te.copy()
    X_nan[:, 0] = np.nan  # sepal length unknown
    p = gnb.predict_proba(X_nan)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    # naive Bayes: dropping a feature is the same as fitting without it, draw by draw;
    # the class probabilities from the other three features differ from the full ones
    assert not np.allclose(p, gnb.predict_proba(X_te))
    # nothing observed: the posterior mean of the class proportions
    p_none = gnb.predict_proba(np.full((1, 4), np.nan))
    np.testing.assert_allclose(p_none[0], gnb.draws_["class_prob"].mean(axis=0), atol=1e-12)
    # fitting needs complete rows, and says so
    X_tr, _, y_tr, _ = iris
    X_bad = X_tr.copy()
    X_bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"missing values \(NaN\) in rows \[3\]"):
        GaussianNaiveBayes(**CHEAP).fit(X_bad, y_tr)


def test_sample_returns_points_of_the_requested_class(iris, gnb):
    X_tr, _, y_tr, _ = iris
    X_new, y_new = gnb.sample(400, y="setosa", random_state=0)
    assert X_new.shape == (400, 4) and set(y_new) == {"setosa"}
    # the rows follow setosa's features: their mean is within 4 standard errors of
    # setosa's training mean (sd of the new rows / sqrt(n) plus the mean's own error)
    own = X_tr[y_tr == "setosa"]
    se = np.sqrt(X_new.var(axis=0) / 400 + own.var(axis=0) / len(own))
    assert np.all(np.abs(X_new.mean(axis=0) - own.mean(axis=0)) < 4 * se)
    # can fail: virginica's mean is far outside that bound
    other = X_tr[y_tr == "virginica"]
    assert not np.all(np.abs(X_new.mean(axis=0) - other.mean(axis=0)) < 4 * se)
    X_any, y_any = gnb.sample(50, random_state=1)
    assert set(y_any) <= set(gnb.classes_)
    np.testing.assert_array_equal(
        gnb.sample(5, random_state=2)[0], gnb.sample(5, random_state=2)[0]
    )
    with pytest.raises(ValueError, match="one class label"):
        gnb.sample(3, y="rose")
    draws = gnb.sample_y(X_tr[:4], n_samples=7, random_state=0)
    assert draws.shape == (4, 7) and set(draws.ravel()) <= set(gnb.classes_)


@pytest.mark.slow
def test_multinomial_naive_bayes_counts_and_rounding():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]
    with pytest.raises(ValueError, match="integer counts.*round_counts"):
        MultinomialNaiveBayes(**CHEAP).fit(X + 0.3, y)
    est = MultinomialNaiveBayes(**CHEAP).fit(X, y)
    assert est.score(X, y) > 0.8
    rounded = MultinomialNaiveBayes(round_counts=True, **CHEAP).fit(X + 0.3, y)
    np.testing.assert_array_equal(rounded.predict_proba(X), est.predict_proba(X))


# --------------------------------------------------------- scikit-learn machinery
def test_pickle_round_trip_gives_identical_predictions(iris, gnb):
    _, X_te, _, _ = iris
    again = pickle.loads(pickle.dumps(gnb))
    np.testing.assert_array_equal(again.predict_proba(X_te), gnb.predict_proba(X_te))
    np.testing.assert_array_equal(
        again.sample(5, random_state=3)[0], gnb.sample(5, random_state=3)[0]
    )


def test_clone_gives_an_unfitted_copy(iris, gnb):
    copy = clone(gnb)
    assert copy.get_params() == gnb.get_params()
    assert not hasattr(copy, "idata_") and not hasattr(copy, "draws_")
    with pytest.raises(NotFittedError):
        copy.predict(iris[1])


def test_same_random_state_same_draws_and_dataframe_names(iris):
    import pandas as pd

    X_tr, _, y_tr, _ = iris
    frame = pd.DataFrame(X_tr, columns=["sl", "sw", "pl", "pw"])
    a = GaussianNaiveBayes(**CHEAP).fit(frame, y_tr)
    b = GaussianNaiveBayes(**CHEAP).fit(X_tr, y_tr)
    np.testing.assert_array_equal(a.draws_["mu"], b.draws_["mu"])
    assert list(a.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    assert not hasattr(b, "feature_names_in_")
    c = GaussianNaiveBayes(**{**CHEAP, "random_state": 1}).fit(X_tr, y_tr)
    assert not np.array_equal(a.draws_["mu"], c.draws_["mu"])


def test_pipeline_cross_validate_and_grid_search(iris):
    X_tr, _, y_tr, _ = iris
    # 3 folds of 60 training rows: one data shape, so one compiled program per
    # configuration (cross_validate and the grid's shared_variance=False share it)
    pipe = make_pipeline(StandardScaler(), GaussianNaiveBayes(**CHEAP))
    scores = cross_validate(pipe, X_tr, y_tr, cv=3)
    assert scores["test_score"].shape == (3,) and np.all(scores["test_score"] > 0.7)
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), GaussianNaiveBayes(**CHEAP)),
        {"gaussiannaivebayes__shared_variance": [False, True]},
        cv=3,
    ).fit(X_tr, y_tr)
    assert len(grid.cv_results_["mean_test_score"]) == 2
    assert np.all(grid.cv_results_["mean_test_score"] > 0.7)
    best = grid.best_estimator_[-1]
    assert best.shared_variance == grid.best_params_["gaussiannaivebayes__shared_variance"]
    assert best.idata_.attrs["probgen_model"] == "gaussian_naive_bayes"


def test_bad_configuration_is_an_error_at_fit_naming_it(iris):
    X_tr, _, y_tr, _ = iris
    with pytest.raises((TypeError, ValueError), match="shared_variance"):
        GaussianNaiveBayes(shared_variance="yes", **CHEAP).fit(X_tr, y_tr)
    with pytest.raises(ValueError, match="at least 2 classes"):
        GaussianNaiveBayes(**CHEAP).fit(X_tr, np.zeros(len(X_tr), dtype=int))


# ------------------------------------------------------------------- counterparts
def test_every_declared_counterpart_resolves_to_a_fresh_estimator():
    for name in list_models():
        spec = get_model_class(name).counterparts
        made = counterparts(name)
        assert len(made) == len(spec), name
        for estimator in made.values():
            assert not hasattr(estimator, "n_features_in_")  # unfitted
        assert counterparts(name) is not made  # fresh each call
    # no model keeps the old string attribute
    assert not any(hasattr(get_model_class(name), "counterpart") for name in list_models())


def test_counterparts_of_classifiers_and_regressions():
    made = counterparts("gaussian_naive_bayes")
    assert list(made) == [
        "BayesianLogisticRegression",
        "LogisticRegression",
        "CalibratedClassifierCV(SVC)",
        "HistGradientBoostingClassifier",
    ]
    svm = made["CalibratedClassifierCV(SVC)"]
    assert type(svm.estimator).__name__ == "SVC" and svm.ensemble is False
    multi = counterparts("gaussian_naive_bayes", n_classes=3)
    assert type(multi["BayesianLogisticRegression[ovr]"]).__name__ == "OneVsRestClassifier"
    assert "HuberRegressor" in counterparts("robust_regression")
    assert "PoissonRegressor" in counterparts("poisson_regression")
    assert counterparts("eight_schools") == {}
    with pytest.raises(ValueError, match="n_classes"):
        counterparts("gaussian_naive_bayes", n_classes=1)


def test_as_estimator_wraps_the_zoo_model():
    assert set(ESTIMATORS) == {
        "gaussian_naive_bayes",
        "gaussian_discriminant",
        "bernoulli_naive_bayes",
        "multinomial_naive_bayes",
        "logistic_regression",
        "linear_regression",
        "robust_regression",
        "poisson_regression",
        "negative_binomial_regression",
    }
    est = as_estimator(get_model("gaussian_discriminant", covariance="per_class"), chains=2)
    assert isinstance(est, GaussianDiscriminant)
    assert est.covariance == "per_class" and est.chains == 2
    assert isinstance(as_estimator("logistic_regression"), BayesianLogisticRegression)
    with pytest.raises(ValueError, match="no scikit-learn estimator"):
        as_estimator("eight_schools")
