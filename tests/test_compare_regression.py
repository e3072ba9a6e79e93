"""`probgen compare` on a regression target: task rule, contenders, CLI output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from probgen.errors import DataError
from probgen.studies.command import target_task
from probgen.studies.contenders import (
    REGRESSION_CONTENDERS,
    SamplerSettings,
    ScaledRegressor,
    make_contenders,
)

N = 80
NOISE_SD = 5.0


@pytest.fixture(scope="module")
def reg_csv(tmp_path_factory):
    """A real target on a far-from-unit scale, two real features and a categorical one.

    ``y = 100 + 10 * (1.5 x1 - x2 + region effect) + N(0, 5)``: the noise SD (5) is
    well under the target's SD (~20), so a working regression must beat the mean.
    """
    rng = np.random.default_rng(11)
    x1, x2 = rng.normal(size=N), rng.normal(size=N)
    region = rng.choice(["north", "south", "west"], size=N)
    effect = pd.Series(region).map({"north": 0.0, "south": 1.0, "west": -1.0}).to_numpy()
    y = 100 + 10 * (1.5 * x1 - x2 + effect) + rng.normal(0, NOISE_SD, size=N)
    counts = rng.poisson(np.exp(3.0 + 0.3 * x1))  # integer, many distinct values
    frame = pd.DataFrame(
        {"x1": x1, "x2": x2, "region": region, "y": y, "count": counts, "label": region}
    )
    path = tmp_path_factory.mktemp("reg") / "reg.csv"
    frame.to_csv(path, index=False)
    return path


def _run(path, out, *args):
    from probgen.cli import main

    return main(["compare", str(path), *args, "--out", str(out), "--no-progress"])


# ----------------------------------------------------------------- the task rule


def test_target_task_rule():
    real = pd.Series([0.5, 1.25, 2.0, 3.0])
    many_ints = pd.Series(np.arange(30))
    few_ints = pd.Series([0, 1, 2, 1, 0])
    text = pd.Series(["a", "b", "a"])
    assert target_task(real, "auto", 20) == "regression"
    assert target_task(many_ints, "auto", 20) == "regression"
    assert target_task(many_ints, "auto", 40) == "classification"
    assert target_task(few_ints, "auto", 20) == "classification"
    assert target_task(few_ints, "regression", 20) == "regression"
    assert target_task(text, "auto", 20) == "classification"
    assert target_task(pd.Series([True, False]), "auto", 20) == "classification"
    with pytest.raises(DataError, match="non-integer numbers"):
        target_task(real, "classification", 20)
    with pytest.raises(DataError, match="30 distinct values"):
        target_task(many_ints, "classification", 20)
    with pytest.raises(DataError, match="not numeric"):
        target_task(text, "regression", 20)
    with pytest.raises(DataError, match="single value"):
        target_task(pd.Series([1.5, 1.5]), "auto", 20)


def test_make_contenders_checks_names_against_the_task():
    assert set(make_contenders(["ridge", "hist_gb_reg"], task="regression")) == {
        "ridge",
        "hist_gb_reg",
    }
    with pytest.raises(ValueError, match=r"logistic: classification only.*ridge"):
        make_contenders(["logistic"], task="regression")
    with pytest.raises(ValueError, match=r"ridge: regression only"):
        make_contenders(["ridge"])  # the default task is classification


def test_scaled_regressor_maps_predictions_back_and_clones():
    from sklearn.base import clone
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = 1000 + 50 * X[:, 0] + rng.normal(size=50)
    est = ScaledRegressor(Ridge(alpha=1e-6)).fit(X, y)
    # back on the target's scale: a missing back-transform would predict near 0
    assert np.sqrt(np.mean((est.predict(X) - y) ** 2)) < 2.0
    twin = clone(est)
    assert twin is not est and not hasattr(twin, "regressor_")
    twin.set_params(regressor__alpha=3.0)
    assert twin.get_params()["regressor__alpha"] == 3.0
    with pytest.raises(ValueError, match="invalid parameter"):
        twin.set_params(alpha=1.0)


# ----------------------------------------------------------------- the CLI


def test_cli_regression_runs(reg_csv, tmp_path, capsys):
    out = tmp_path / "out"
    code = _run(
        reg_csv,
        out,
        "--target",
        "y",
        "--models",
        "ridge",
        "hist_gb_reg",
        "--train-sizes",
        "20",
        "60",
        "--splits",
        "3",
        "--test-size",
        "0.25",
        "--missing",
        "0",
        "0.3",
    )
    text = capsys.readouterr()
    assert code == 0, text.err
    results = pd.read_csv(out / "results.csv")
    # 2 contenders x 3 splits x 2 sizes x 2 missing fractions, every row an RMSE
    assert len(results) == 2 * 3 * 2 * 2
    assert results["rmse"].notna().all() and (results["rmse"] > 0).all()
    assert set(results["contender"]) == {"ridge", "hist_gb_reg"}
    # every contender saw the same training subsets and test sets
    digests = results.groupby("contender")[["train_digest", "test_digest"]].agg(tuple)
    assert digests.loc["ridge"].equals(digests.loc["hist_gb_reg"])
    assert results["test_digest"].nunique() == 3
    assert (out / "learning_curves.png").is_file() and (out / "missing_features.png").is_file()
    assert not (out / "reliability.png").exists()  # no class probabilities to calibrate
    assert "RMSE" in text.out and "accuracy" not in text.out
    # can fail: ridge on the full training set must beat predicting the mean (SD ~ 20)
    full = results[(results["train_size"] == 60) & (results["missing_fraction"] == 0)]
    y = pd.read_csv(reg_csv)["y"]
    assert full.loc[full["contender"] == "ridge", "rmse"].max() < 0.5 * y.std()


def test_cli_count_target_is_regression(reg_csv, tmp_path, capsys):
    # an integer column with more than --max-classes values is a regression target;
    # poisson_glm (counts only) is accepted for it
    code = _run(reg_csv, tmp_path / "o", "--target", "count", "--models", "poisson_glm",
                "ridge", "--splits", "2")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    results = pd.read_csv(tmp_path / "o" / "results.csv")
    assert set(results["contender"]) == {"poisson_glm", "ridge"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "y", "--task", "classification"], "non-integer numbers"),
        (["--target", "count", "--task", "classification"], "distinct values, more than"),
        (["--target", "y", "--models", "logistic"], "logistic: classification only"),
        (["--target", "y", "--models", "poisson_glm"], "not a non-negative integer"),
        (["--target", "label", "--task", "regression"], "not numeric"),
        (["--target", "label", "--models", "ridge"], "ridge: regression only"),
    ],
)
def test_cli_regression_bad_input(reg_csv, tmp_path, capsys, args, message):
    code = _run(reg_csv, tmp_path / "o", *args)
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------- a Bayesian contender


def test_cli_bayesian_linear_regression(reg_csv, tmp_path, capsys):
    pytest.importorskip("probgen.estimators.regressors")
    out = tmp_path / "bayes"
    code = _run(reg_csv, out, "--target", "y", "--models", "linear_regression", "ridge",
                "--splits", "2", "--chains", "1", "--draws", "150", "--warmup", "150",
                "--seed", "3")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    results = pd.read_csv(out / "results.csv").set_index(["contender", "split"])
    bayes, ridge = results.loc["linear_regression"], results.loc["ridge"]
    # predictions back on the target's scale: close to ridge's (same linear model)
    assert (bayes["rmse"] < 1.5 * ridge["rmse"]).all()
    # predictive intervals exist only for the Bayesian contender; 2 x 20 test points
    # with true coverage 0.9 give >= 30 inside with probability > 0.99 (binomial)
    assert ridge["coverage90"].isna().all()
    inside = (bayes["coverage90"] * bayes["n_test"]).round().sum()
    assert inside >= 30, bayes["coverage90"].tolist()


def test_regression_contender_table_is_documented():
    # every regression contender has a one-line description for --help
    assert all(isinstance(v[1], str) and v[1] for v in REGRESSION_CONTENDERS.values())
    assert SamplerSettings().kwargs()["progress"] is False
