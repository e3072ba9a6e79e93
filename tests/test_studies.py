"""The generative-versus-discriminative harness: metrics, splits, results, plots, CLI."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from probgen.studies import harness, metrics
from probgen.studies.harness import compare_models, save_results

# ----------------------------------------------------------------- metrics


def test_brier_and_log_loss_by_hand_and_against_sklearn():
    from sklearn.metrics import brier_score_loss
    from sklearn.metrics import log_loss as sk_log_loss

    y = np.array([0, 1, 2, 1])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]])
    # by hand: sum_k (p_k - onehot_k)^2 per row
    rows = [0.09 + 0.04 + 0.01, 0.01 + 0.04 + 0.01, 0.04 + 0.04 + 0.16, 0.25 + 0.5625 + 0.0625]
    assert metrics.brier_score(y, p) == pytest.approx(np.mean(rows), abs=1e-12)
    assert metrics.brier_score(y, p) == pytest.approx(
        brier_score_loss(y, p, labels=[0, 1, 2], scale_by_half=False), abs=1e-12
    )
    hand = -np.mean(np.log([0.7, 0.8, 0.6, 0.25]))
    assert metrics.log_loss(y, p) == pytest.approx(hand, abs=1e-12)
    assert metrics.log_loss(y, p) == pytest.approx(sk_log_loss(y, p), abs=1e-12)
    # binary 1-D form: twice scikit-learn's binary Brier score
    yb, pb = np.array([0, 1, 1]), np.array([0.2, 0.6, 0.9])
    assert metrics.brier_score(yb, pb) == pytest.approx(2 * brier_score_loss(yb, pb), abs=1e-12)


def test_ece_by_hand():
    # 1-D binary form, 2 uniform bins [0, .5], (.5, 1]:
    # bin 1: confidences .1 .3 (mean .2), outcomes 0 1 (frequency .5)
    # bin 2: confidences .6 .9 (mean .75), outcomes 1 1 (frequency 1)
    y, p = np.array([0, 1, 1, 1]), np.array([0.1, 0.3, 0.6, 0.9])
    ece = metrics.expected_calibration_error(y, p, n_bins=2)
    assert ece == pytest.approx(0.5 * 0.3 + 0.5 * 0.25, abs=1e-12)
    # top-label form: confidences .7 .8 .6 (arg-max right, right, wrong), one bin each
    y3 = np.array([0, 1, 0])
    p3 = np.array([[0.7, 0.3, 0.0], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    curve = metrics.reliability_curve(y3, p3, n_bins=10)
    np.testing.assert_allclose(curve.confidence, [0.6, 0.7, 0.8])
    np.testing.assert_allclose(curve.frequency, [0.0, 1.0, 1.0])
    assert metrics.expected_calibration_error(y3, p3) == pytest.approx((0.6 + 0.3 + 0.2) / 3)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_curve_matches_sklearn(strategy):
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(1)
    p = rng.uniform(size=500)
    y = (rng.uniform(size=500) < p**1.5).astype(int)
    curve = metrics.reliability_curve(y, p, n_bins=8, strategy=strategy)
    freq, conf = calibration_curve(y, p, n_bins=8, strategy=strategy)
    np.testing.assert_allclose(curve.frequency, freq, atol=1e-12)
    np.testing.assert_allclose(curve.confidence, conf, atol=1e-12)


def test_ece_detects_miscalibration_and_not_calibration():
    """Calibrated probabilities give an ECE within its sampling noise; overconfident ones
    (p -> p^0.3 on the top label) cannot pass the same bound (the can-fail twin)."""
    rng = np.random.default_rng(2)
    n = 4000
    p = rng.uniform(size=n)
    y = (rng.uniform(size=n) < p).astype(int)
    # each of 10 bins holds ~400 examples: |freq - conf| has sd <= 0.5/sqrt(400) = .025,
    # and ECE (a weighted mean of absolute deviations) stays below 3 such sd
    bound = 3 * 0.5 / np.sqrt(n / 10)
    assert metrics.expected_calibration_error(y, p) < bound
    overconfident = np.where(p > 0.5, p**0.3, 1 - (1 - p) ** 0.3)
    assert metrics.expected_calibration_error(y, overconfident) > 2 * bound


def test_metric_input_errors():
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.brier_score([0, 1], [[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(ValueError, match="codes"):
        metrics.log_loss([0, 3], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="2 examples but proba has 3"):
        metrics.brier_score([0, 1], [[1, 0], [0, 1], [1, 0]])
    with pytest.raises(ValueError, match="strategy"):
        metrics.reliability_curve([0, 1], [0.2, 0.7], strategy="equal")


# ----------------------------------------------------------------- splits and harness


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X, np.where(y == 1, "benign", "malignant")


def _contenders():
    return {
        "gaussian_nb": make_pipeline(SimpleImputer(), GaussianNB()),
        "logistic": make_pipeline(
            SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=2000)
        ),
    }


@pytest.fixture(scope="module")
def curve(cancer):
    X, y = cancer
    return compare_models(
        _contenders(),
        X,
        y,
        train_sizes=[10, 40, 0.999],
        n_splits=10,
        missing_fractions=[0.0, 0.4],
        progress=False,
        return_predictions=True,
    )


def test_same_splits_for_every_contender(curve, cancer):
    results, _ = curve
    assert len(results) == 2 * 10 * 3 * 2
    keys = ["split", "train_size", "missing_fraction"]
    by = results.pivot_table(
        index=keys, columns="contender", values=["train_digest", "test_digest"], aggfunc="first"
    )
    assert (by["train_digest"]["gaussian_nb"] == by["train_digest"]["logistic"]).all()
    assert (by["test_digest"]["gaussian_nb"] == by["test_digest"]["logistic"]).all()
    # and they are the splits stratified_splits draws from the seed
    _, y = cancer
    codes = np.unique(y, return_inverse=True)[1]
    splits = harness.stratified_splits(codes, n_splits=10, test_size=0.25, seed=0)
    expected = [harness._digest(test) for _, test in splits]
    got = results[results["contender"] == "logistic"].groupby("split")["test_digest"].first()
    assert got.tolist() == expected
    # a different contender set does not move the splits
    X, _ = cancer
    alone = compare_models(
        {"logistic": _contenders()["logistic"]},
        X,
        y,
        train_sizes=[10, 40, 0.999],
        n_splits=10,
        missing_fractions=[0.0, 0.4],
        progress=False,
    )
    mine = results[results["contender"] == "logistic"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        alone.drop(columns=["fit_time", "predict_time"]),
        mine.drop(columns=["fit_time", "predict_time"]),
    )


def test_nested_subsets_hold_every_class():
    y = np.array([0] * 50 + [1] * 5 + [2] * 20)
    subsets = harness.nested_subsets(
        y, [6, 9, 30, 75], min_per_class=2, rng=np.random.default_rng(0)
    )
    sizes = sorted(subsets)
    for small, large in itertools.pairwise(sizes):
        assert set(subsets[small]) <= set(subsets[large])
    for m, idx in subsets.items():
        assert len(idx) == m and np.bincount(y[idx], minlength=3).min() >= 2


def test_learning_curve_shape(curve):
    """Ng & Jordan's shape on breast cancer: logistic regression reaches the lower
    error with the whole training set (paired over the 10 splits, > 2 SE)."""
    results, _ = curve
    full = results[
        (results["train_size"] == results["train_size"].max()) & (results["missing_fraction"] == 0)
    ]
    acc = full.pivot(index="split", columns="contender", values="accuracy")
    diff = acc["logistic"] - acc["gaussian_nb"]
    assert diff.mean() > 2 * diff.std(ddof=1) / np.sqrt(len(diff))
    # more data helps logistic regression (median over splits)
    lr = results[(results["contender"] == "logistic") & (results["missing_fraction"] == 0)]
    med = lr.groupby("train_size")["accuracy"].median()
    assert med.iloc[-1] > med.iloc[0]
    assert set(results.columns) >= {
        "accuracy",
        "log_loss",
        "brier",
        "ece",
        "fit_time",
        "predict_time",
    }


def test_predictions_frame(curve):
    results, preds = curve
    assert set(preds.columns) >= {"contender", "split", "row", "y_true", "p0", "p1"}
    np.testing.assert_allclose(preds[["p0", "p1"]].sum(axis=1), 1.0)
    one = results.iloc[0]
    sub = preds[
        (preds["contender"] == one["contender"])
        & (preds["split"] == one["split"])
        & (preds["train_size"] == one["train_size"])
        & (preds["missing_fraction"] == one["missing_fraction"])
    ]
    assert metrics.log_loss(
        sub["y_true"].to_numpy(), sub[["p0", "p1"]].to_numpy()
    ) == pytest.approx(one["log_loss"])


def test_bad_inputs(cancer):
    X, y = cancer
    good = {"nb": GaussianNB()}
    with pytest.raises(ValueError, match="569 rows but y has 568"):
        compare_models(good, X, y[:-1], progress=False)
    with pytest.raises(TypeError, match="class GaussianNB"):
        compare_models({"nb": GaussianNB}, X, y, progress=False)
    with pytest.raises(TypeError, match="lacks fit, predict_proba"):
        compare_models({"nb": object()}, X, y, progress=False)
    with pytest.raises(ValueError, match="too few examples per class"):
        compare_models(good, X[:40], np.r_[np.zeros(38), [1, 1]], progress=False)
    with pytest.raises(ValueError, match="smaller than"):
        compare_models(good, X, y, train_sizes=[3], min_per_class=2, progress=False)
    with pytest.raises(ValueError, match="has only 426"):
        compare_models(good, X, y, train_sizes=[1000], progress=False)
    with pytest.raises(ValueError, match="missing_fractions"):
        compare_models(good, X, y, missing_fractions=[1.0], progress=False)
    with pytest.raises(ValueError, match="imputer"):
        compare_models(good, X, y, missing_fractions=[0.3], n_splits=1, progress=False)


def test_parallel_gives_the_same_results(cancer):
    X, y = cancer
    kw = dict(train_sizes=[20, 80], n_splits=2, progress=False)
    one = compare_models(_contenders(), X, y, **kw)
    two = compare_models(_contenders(), X, y, n_jobs=2, **kw)
    cols = [
        "contender",
        "split",
        "train_size",
        "accuracy",
        "log_loss",
        "train_digest",
        "test_digest",
    ]
    pd.testing.assert_frame_equal(one[cols], two[cols])


def test_save_results(tmp_path, curve, monkeypatch):
    results, _ = curve
    back = pd.read_csv(save_results(results, tmp_path / "r.csv"))
    np.testing.assert_allclose(back["accuracy"], results["accuracy"])
    if importlib.util.find_spec("pyarrow"):
        back = pd.read_parquet(save_results(results, tmp_path / "r.parquet"))
        pd.testing.assert_frame_equal(back, results, check_like=True)
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        save_results(results, tmp_path / "r.xlsx")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ImportError, match="pyarrow"):
        save_results(results, tmp_path / "s.parquet")
    assert not list(tmp_path.glob(".*tmp"))


def test_plots_write_png_and_keep_the_backend(tmp_path, curve):
    import matplotlib

    from probgen.studies import plots

    before = matplotlib.get_backend()
    results, preds = curve
    plots.plot_learning_curves(results, path=tmp_path / "lc.png")
    plots.plot_missing_features(results, path=tmp_path / "mf.png")
    fig = plots.plot_reliability(preds, path=tmp_path / "rel.png")
    assert len(fig.axes) == 1
    for name in ("lc.png", "mf.png", "rel.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert matplotlib.get_backend() == before


# ----------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    data = load_iris(as_frame=True).frame
    data["species"] = np.array(["setosa", "versicolor", "virginica"])[data.pop("target")]
    data["long_sepal"] = data["sepal length (cm)"] > 5.8  # a boolean feature, dummy-coded
    path = tmp_path_factory.mktemp("cli") / "iris.csv"
    data.to_csv(path, index=False)
    return path


def test_cli_compare_runs(iris_csv, tmp_path, capsys):
    from probgen.cli import main

    out = tmp_path / "out"
    code = main(
        [
            "compare",
            str(iris_csv),
            "--target",
            "species",
            "--train-sizes",
            "9",
            "30",
            "--splits",
            "3",
            "--missing",
            "0",
            "0.3",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    for name in ("results.csv", "learning_curves.png", "missing_features.png", "reliability.png"):
        assert (out / name).is_file()
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 2 * 3 * 2 * 2
    assert "gaussian_nb" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "colour"], "target column 'colour' is not in"),
        (["--target", "sepal length (cm)", "--task", "classification"], "non-integer numbers"),
        (["--target", "species", "--models", "svm"], "unknown contender"),
        (["--target", "species", "--max-classes", "2"], "3 distinct values"),
        (["--target", "species", "--train-sizes", "2"], "smaller than"),
    ],
)
def test_cli_compare_bad_input(iris_csv, tmp_path, capsys, args, message):
    from probgen.cli import main

    code = main(["compare", str(iris_csv), *args, "--out", str(tmp_path / "o"), "--no-progress"])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_compare_missing_file(tmp_path, capsys):
    from probgen.cli import main

    assert main(["compare", str(tmp_path / "nope.csv"), "--target", "y"]) == 2
    assert "does not exist" in capsys.readouterr().err


# ----------------------------------------------------------------- a Bayesian contender


@pytest.mark.skipif(
    importlib.util.find_spec("probgen.estimators.classifiers") is None,
    reason="probgen's estimators are not in this checkout",
)
def test_bayesian_contender_with_missing_features():
    """probgen's Gaussian naive Bayes (tiny sampler settings) in the harness, with test
    features hidden: it marginalizes them, and its scores are proper numbers."""
    from probgen.studies.contenders import SamplerSettings, make_contenders

    X, y = load_iris(return_X_y=True)
    contenders = make_contenders(
        ["gaussian_naive_bayes", "gaussian_nb"], SamplerSettings(chains=1, draws=100, warmup=100)
    )
    results = compare_models(
        contenders, X, y, train_sizes=[30], n_splits=2, missing_fractions=[0.0, 0.5], progress=False
    )
    bayes = results[results["contender"] == "gaussian_naive_bayes"]
    assert (
        len(bayes) == 4 and np.isfinite(bayes[["accuracy", "log_loss", "brier", "ece"]]).all().all()
    )
    # iris with 30 training rows: far better than the 1/3 of guessing, even half-hidden
    assert (bayes["accuracy"] > 0.6).all()


# ----------------------------------------------------------------- augmentation, data sets


class _PlugInGaussianNB(GaussianNB):
    """scikit-learn's GaussianNB with a sample method (plug-in estimates), for tests."""

    def sample(self, n, y=None, random_state=None):
        rng = np.random.default_rng(random_state)
        codes = rng.choice(len(self.classes_), size=n, p=self.class_prior_)
        X = rng.normal(self.theta_[codes], np.sqrt(self.var_[codes]))
        return X, self.classes_[codes]


def test_augmented_classifier_adds_generated_rows():
    from probgen.studies.augment import AugmentedClassifier

    X, y = load_iris(return_X_y=True)
    aug = AugmentedClassifier(
        _PlugInGaussianNB(), LogisticRegression(max_iter=2000), n_synthetic=300, random_state=0
    )
    aug.fit(X[::10], y[::10])
    assert aug.learner_.n_iter_ is not None and aug.generator_ is not None
    proba = aug.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert aug.score(X, y) > 0.8
    # without generated rows it is the learner on the standardized real rows alone
    plain = AugmentedClassifier(
        _PlugInGaussianNB(), LogisticRegression(max_iter=2000), n_synthetic=0
    )
    plain.fit(X[::10], y[::10])
    assert plain.generator_ is None
    with pytest.raises(TypeError, match="no sample"):
        AugmentedClassifier(GaussianNB(), LogisticRegression()).fit(X, y)


def test_datasets_load():
    from probgen.studies import datasets

    for name in ("iris", "wells", "mnist_100"):
        ds = datasets.load(name)
        assert ds.X.shape[0] == ds.y.shape[0] and ds.X.dtype == np.float64
    assert datasets.load("wells").X.shape == (3020, 4)
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.load("mnist")


def test_regression_target():
    """A real target: RMSE for every contender, 90% coverage where the estimator draws
    from a predictive distribution (sample_y), NaN where it cannot."""
    from sklearn.datasets import load_diabetes
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, WhiteKernel
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True)
    X, y = X[:160], (y[:160] - y.mean()) / y.std()
    gp = GaussianProcessRegressor(RBF(1.0) + WhiteKernel(1.0), normalize_y=True)
    res = compare_models({"ridge": Ridge(), "gp": gp}, X, y, n_splits=2, progress=False)
    assert res.attrs["task"] == "regression"
    assert np.isfinite(res["rmse"]).all() and (res["rmse"] < 1.2).all()
    assert res.loc[res.contender == "ridge", "coverage90"].isna().all()
    # 40 test points: a calibrated 90% interval covers 36 on average, binomial sd 1.9
    assert res.loc[res.contender == "gp", "coverage90"].between(0.7, 1.0).all()


# ------------------------------------------- regressions found by a user trial
def test_dataframe_with_text_and_boolean_columns_encoded_by_name():
    from probgen.data import encode_table

    rng = np.random.default_rng(0)
    n = 80
    table = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], n),
            "urban": rng.random(n) < 0.5,
            "x": rng.normal(size=n),
        }
    )
    y = np.where(table["x"] + (table["color"] == "red") > 0.3, "yes", "no")
    contenders = {"logistic": LogisticRegression()}
    got = compare_models(contenders, table, y, n_splits=2, progress=False)
    encoded, encoding = encode_table(table)
    assert encoding.features == ["color[T.green]", "color[T.red]", "urban", "x"]
    want = compare_models(contenders, encoded, y, n_splits=2, progress=False)
    cols = ["accuracy", "log_loss", "brier", "ece"]
    pd.testing.assert_frame_equal(got[cols], want[cols])
    # can fail: a different encoding (the text column dropped) scores differently
    other = compare_models(contenders, encoded[:, 2:], y, n_splits=2, progress=False)
    assert not np.allclose(got["log_loss"], other["log_loss"])


class _DoubtfulNB(GaussianNB):
    """GaussianNB whose fit warns like an untrustworthy Bayesian fit (no sampling)."""

    def fit(self, X, y, sample_weight=None):
        import warnings

        from probgen.errors import UntrustworthyFitWarning

        warnings.warn("fit NOT TRUSTWORTHY: r_hat", UntrustworthyFitWarning, stacklevel=2)
        warnings.warn("an unrelated warning", RuntimeWarning, stacklevel=2)
        return super().fit(X, y, sample_weight)


def test_untrustworthy_fits_recorded_and_warned_once(cancer):
    import warnings

    from probgen.errors import UntrustworthyFitWarning

    X, y = cancer
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = compare_models(
            {"doubtful": _DoubtfulNB(), "plain": GaussianNB()}, X, y, n_splits=3, progress=False
        )
    untrusted = [w for w in caught if issubclass(w.category, UntrustworthyFitWarning)]
    assert len(untrusted) == 1, [str(w.message) for w in untrusted]
    assert "3 of 6 fits" in str(untrusted[0].message) and "doubtful 3 of 3" in str(
        untrusted[0].message
    )
    # other warnings are not swallowed
    assert sum(issubclass(w.category, RuntimeWarning) for w in caught) == 3
    by = results.groupby("contender")["trustworthy"].all()
    assert not by["doubtful"] and by["plain"]


class _FailingNB(GaussianNB):
    def fit(self, X, y, sample_weight=None):
        raise ValueError("cannot fit this")


def test_contender_errors_name_the_contender_and_binary_only_refused_early():
    from probgen.estimators import BayesianLogisticRegression

    X, y = load_iris(return_X_y=True)
    # refused before any fit (GaussianNB first would otherwise run its fits)
    with pytest.raises(ValueError, match="binary, but y has 3 classes.*n_classes=3"):
        compare_models(
            {"nb": GaussianNB(), "blr": BayesianLogisticRegression()}, X, y, progress=False
        )
    with pytest.raises(ValueError, match="cannot fit this") as info:
        compare_models({"broken": _FailingNB()}, X, y, n_splits=1, progress=False)
    assert any("contender 'broken'" in note for note in info.value.__notes__)
    # a binary target passes the early check
    binary = y < 2
    out = compare_models({"nb": GaussianNB()}, X[binary], y[binary], n_splits=1, progress=False)
    assert len(out) == 1
