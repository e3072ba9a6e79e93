"""Tables read right: columns matched by name, real tables encoded one way.

Every way a table enters (a CSV through ``read_data_file``, a DataFrame ``X``, a
DataFrame as the whole data set, new covariates in ``predict``) goes through
``probgen.data.encode_table`` / ``TableEncoding.encode``. Most checks here run
``Model.prepare`` (what ``probgen.sample`` runs before sampling); two cheap
fits check the predictions themselves.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import FAST

import probgen
from probgen.data import CollinearityWarning, DataWarning

LR = "linear_regression"


def _prepare(data, model=LR, **kwargs):
    return probgen.get_model(model).prepare(data, **kwargs)


def _fake_fit(model=LR):
    """A fit whose "posterior" is prior draws: enough to check predict's input handling."""
    fake = probgen.sample_prior_predictive(model, draws=4)
    fake["posterior"] = fake["prior"]
    return fake


# ------------------------------------------------- item 1: columns by name
@pytest.fixture(scope="module")
def kidiq_fit():
    return probgen.sample(LR, **FAST, seed=3, check=False)


def test_predict_matches_dataframe_columns_by_name(kidiq_fit):
    """The README's kidiq prediction, with its columns in either order."""
    readme = pd.DataFrame({"mom_hs": [1.0], "mom_iq": [110.0]})
    swapped = pd.DataFrame({"mom_iq": [110.0], "mom_hs": [1.0]})
    a = probgen.predict(kidiq_fit, {"X": readme}, seed=5)
    b = probgen.predict(kidiq_fit, {"X": swapped}, seed=5)
    for out in (a, b):
        const = out["predictions_constant_data"]["X"]
        assert list(const.coords["feature"].values) == ["mom_hs", "mom_iq"]
        np.testing.assert_array_equal(const.values, [[1.0, 110.0]])
    np.testing.assert_array_equal(a["predictions"]["y"].values, b["predictions"]["y"].values)
    # the predictive mean is E[intercept + coef . x] up to the sigma noise of 400 draws
    post = kidiq_fit["posterior"]
    mu = (
        post["intercept"]
        + post["coef"].sel(feature="mom_hs")
        + 110 * post["coef"].sel(feature="mom_iq")
    )
    noise = 4 * float(post["sigma"].mean()) / np.sqrt(mu.size)
    assert abs(float(b["predictions"]["y"].mean()) - float(mu.mean())) < noise
    assert 80 < float(mu.mean()) < 100  # kidiq: about 92 for such a mother


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (
            pd.DataFrame({"foo": [1.0], "bar": [110.0]}),
            r"missing column\(s\) \['mom_hs', 'mom_iq'\] and has column\(s\) \['foo', 'bar'\]",
        ),
        (pd.DataFrame({"mom_iq": [110.0]}), r"missing column\(s\) \['mom_hs'\]"),
        (
            pd.DataFrame({"mom_hs": [1.0], "mom_iq": [110.0], "age": [30.0]}),
            r"has column\(s\) \['age'\] the fit does not know",
        ),
        (np.ones((1, 3)), r"has 3 columns but the fit has 2 \(\['mom_hs', 'mom_iq'\]\)"),
        (pd.DataFrame({"mom_hs": ["yes"], "mom_iq": [110.0]}), "'mom_hs' holds text"),
        (pd.DataFrame({"mom_hs": [1.0], "mom_iq": [np.nan]}), "'mom_iq' has missing values"),
    ],
)
def test_predict_refuses_columns_it_cannot_match(X, match):
    with pytest.raises(probgen.DataError, match=match):
        probgen.predict(_fake_fit(), {"X": X})


def test_predict_takes_an_array_in_the_fits_column_order():
    fake = _fake_fit()
    frame = pd.DataFrame({"mom_iq": [110.0, 90.0], "mom_hs": [1.0, 0.0]})
    by_name = probgen.predict(fake, {"X": frame}, seed=1)
    by_position = probgen.predict(fake, {"X": np.array([[1.0, 110.0], [0.0, 90.0]])}, seed=1)
    np.testing.assert_array_equal(
        by_name["predictions"]["y"].values, by_position["predictions"]["y"].values
    )


def test_logistic_regression_matches_by_name_too():
    fake = _fake_fit("logistic_regression")
    names = ["dist100", "arsenic", "educ4", "assoc"]
    row = {"dist100": 0.5, "arsenic": 2.0, "educ4": 1.0, "assoc": 0.0}
    shuffled = pd.DataFrame({k: [row[k]] for k in reversed(names)})
    out = probgen.predict(fake, {"X": shuffled})
    np.testing.assert_array_equal(
        out["predictions_constant_data"]["X"].values, [[row[k] for k in names]]
    )
    with pytest.raises(probgen.DataError, match="'assoc'"):
        probgen.predict(fake, {"X": shuffled.drop(columns="assoc")})


def test_a_fit_from_an_array_names_its_columns_x0_x1():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    data = _prepare({"X": X, "y": X @ [1.0, 2.0] + rng.normal(size=30)})
    assert data.coords["feature"] == ["x0", "x1"]
    assert data.encodings["X"].names == ["x0", "x1"]


# ------------------------------------------------------ item 7: real tables
def _mixed(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    color = np.array(["red", "blue", "green"])[np.arange(n) % 3]
    flag = np.arange(n) % 2 == 0
    x = rng.normal(size=n)
    effect = pd.Series(color).map({"blue": 0.0, "green": 3.0, "red": -2.0}).to_numpy()
    y = 1.0 + 2.0 * x + effect + 1.5 * flag + rng.normal(scale=0.5, size=n)
    return pd.DataFrame({"x": x, "color": color, "flag": flag, "y": y})


MIXED_FEATURES = ["x", "color[T.green]", "color[T.red]", "flag"]


def test_booleans_become_0_1_and_text_is_dummy_coded():
    frame = _mixed()
    data = _prepare(frame)
    assert data.coords["feature"] == MIXED_FEATURES
    X = data["X"]
    np.testing.assert_array_equal(X[:, 0], frame["x"])
    np.testing.assert_array_equal(X[:, 1], (frame["color"] == "green").astype(float))
    np.testing.assert_array_equal(X[:, 2], (frame["color"] == "red").astype(float))
    np.testing.assert_array_equal(X[:, 3], frame["flag"].astype(float))
    enc = data.encodings["X"].columns[1]
    assert (enc.kind, enc.reference, enc.levels) == (
        "categorical",
        "blue",
        ("blue", "green", "red"),
    )


def test_a_categoricals_first_category_is_the_reference():
    frame = _mixed()
    frame["color"] = pd.Categorical(frame["color"], categories=["red", "blue", "green"])
    data = _prepare(frame)
    assert data.coords["feature"] == ["x", "color[T.blue]", "color[T.green]", "flag"]
    np.testing.assert_array_equal(data["X"][:, 1], (frame["color"] == "blue").astype(float))


def test_every_way_in_gives_the_same_design(tmp_path):
    frame = _mixed()
    frame.to_csv(tmp_path / "d.csv", index=False)
    ways = {
        "csv": probgen.read_data_file(tmp_path / "d.csv"),
        "whole table": frame,
        "X table": {"X": frame.drop(columns="y"), "y": frame["y"]},
    }
    for way, raw in ways.items():
        data = _prepare(raw)
        assert data.coords["feature"] == MIXED_FEATURES, way
        np.testing.assert_allclose(data["X"], _prepare(frame)["X"], rtol=1e-15, err_msg=way)
        np.testing.assert_allclose(data["y"], frame["y"], rtol=1e-15, err_msg=way)


def test_pandas_nullable_dtypes_work():
    frame = pd.DataFrame(
        {
            "n": pd.array([1, 2, 3, 5], dtype="Int64"),
            "b": pd.array([True, False, True, True], dtype="boolean"),
            "f": pd.array([0.5, 1.5, -1.0, 2.0], dtype="Float64"),
            "y": pd.array([1, 0, 1, 1], dtype="Int64"),
        }
    )
    lin = _prepare(frame)
    np.testing.assert_array_equal(lin["X"], [[1, 1, 0.5], [2, 0, 1.5], [3, 1, -1.0], [5, 1, 2.0]])
    logit = _prepare(frame.assign(y=pd.array([True, False, True, False], dtype="boolean")),
                     "logistic_regression")  # fmt: skip
    np.testing.assert_array_equal(logit["y"], [1, 0, 1, 0])


@pytest.mark.parametrize(
    ("column", "values", "match"),
    [
        ("n", pd.array([1, None, 3, 5], dtype="Int64"), "column 'n' has missing values.*row 'b'"),
        ("b", pd.array([True, None, True, True], dtype="boolean"), "column 'b' has missing.*'b'"),
        ("f", pd.array([0.5, 1.5, None, 2.0], dtype="Float64"), "column 'f' has missing.*row 'c'"),
        ("f", [0.5, 1.5, 2.0, np.nan], "column 'f' has missing values .* at row 'd'"),
        ("f", [0.5, np.inf, 2.0, 1.0], "column 'f' has infinite values at row 'b'"),
        ("y", pd.array([1, 2, None, 5], dtype="Int64"), "column 'y' has missing.*row 'c'"),
        ("y", [1.0, np.nan, 2.0, 3.0], "column 'y' has missing.*row 'b'"),
    ],
)
def test_missing_values_name_the_column_and_row(column, values, match):
    frame = pd.DataFrame(
        {"n": [1, 2, 3, 5], "b": [True, False, True, True], "f": [0.5, 1.5, -1.0, 2.0],
         "y": [1.0, 2.0, 3.0, 4.0]},
        index=list("abcd"),
    )  # fmt: skip
    frame[column] = values
    with pytest.raises(probgen.DataError, match=match):
        _prepare(frame)


def test_to_csv_index_column_is_not_a_predictor(tmp_path):
    frame = _mixed()
    frame.to_csv(tmp_path / "d.csv")  # with the index, as pandas writes by default
    with pytest.warns(DataWarning, match="first column .* no name.*not as a predictor"):
        data = _prepare(probgen.read_data_file(tmp_path / "d.csv"))
    assert data.coords["feature"] == MIXED_FEATURES
    reread = pd.read_csv(tmp_path / "d.csv")  # "Unnamed: 0", passed in Python
    with pytest.warns(DataWarning, match="'Unnamed: 0'"):
        assert _prepare(reread).coords["feature"] == MIXED_FEATURES


def test_an_unnamed_column_elsewhere_is_an_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,,y\n1,5,3\n2,5,4\n3,6,5\n")
    with pytest.raises(probgen.DataError, match=r"column\(s\) \[2\] of data file .* no name"):
        probgen.read_data_file(path)


def test_constant_column_is_named_before_sampling():
    frame = _mixed().assign(k=1.0)
    with pytest.warns(CollinearityWarning, match=r"constant column\(s\) \['k'\]"):
        _prepare(frame)


def test_collinear_columns_are_named_before_sampling():
    frame = _mixed()
    frame["z"] = frame["x"] * 2.0 + frame["flag"] - 3.0  # a combination, with the intercept
    with pytest.warns(CollinearityWarning) as record:
        _prepare(frame)
    (message,) = [str(w.message) for w in record]
    assert "['x', 'flag', 'z'] are exactly collinear" in message
    assert "color" not in message  # independent columns are not accused


def test_full_rank_designs_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        for model in (LR, "logistic_regression"):
            _prepare(None, model)
        _prepare(_mixed())


def test_duplicate_column_names_are_an_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,a,y\n1,2,3,4\n2,3,4,5\n")
    with pytest.raises(probgen.DataError, match="more than one column named 'a'"):
        probgen.read_data_file(path)
    frame = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["a", "a", "y"])
    with pytest.raises(probgen.DataError, match="more than one column named 'a'"):
        _prepare(frame)
    with pytest.raises(probgen.DataError, match="more than one column named 'a'"):
        _prepare({"X": frame[["a"]], "y": [1.0]})


@pytest.mark.parametrize(("sep", "name"), [(";", "';'"), ("\t", "a tab")])
def test_other_delimiters_are_named(tmp_path, sep, name):
    path = tmp_path / "d.csv"
    _mixed().to_csv(path, sep=sep, index=False)
    with pytest.raises(probgen.DataError, match=f"separated by {name}.*comma-separated"):
        probgen.read_data_file(path)
    # the same file read by pandas with its default comma, passed in Python
    with pytest.raises(probgen.DataError, match=f"wrong delimiter \\(separated by {name}"):
        _prepare(pd.read_csv(path))


@pytest.mark.parametrize(
    ("suffix", "content"),
    [
        (".csv", "größe,y\n1,2\n".encode("latin-1")),
        (".json", '{"y": "é"}'.encode("latin-1")),
        (".csv", bytes(range(256))),
        (".csv", "a,y\n1,2\n".encode("utf-16")),
    ],
)
def test_undecodable_files_are_named(tmp_path, suffix, content):
    path = tmp_path / f"data{suffix}"
    path.write_bytes(content)
    with pytest.raises(probgen.DataError, match=f"data file '.*data{suffix}' is not UTF-8"):
        probgen.read_data_file(path)


def test_utf8_with_a_byte_order_mark_reads(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffa,y\n1,2\n2,3\n".encode())
    assert list(probgen.read_data_file(path)["__table__"].columns) == ["a", "y"]


def test_y_and_X_rows_must_match_by_label():
    frame = _mixed()
    with pytest.raises(probgen.DataError, match="different row labels"):
        _prepare({"X": frame.drop(columns="y"), "y": frame["y"].sort_values()})


# ------------------------------------- a fit from a real table, and predict
@pytest.fixture(scope="module")
def mixed_fit(tmp_path_factory):
    """A CSV with text, boolean and numeric predictors, fitted; saved and loaded."""
    path = tmp_path_factory.mktemp("tables") / "mixed.csv"
    _mixed().to_csv(path, index=False)
    fit = probgen.sample(LR, probgen.read_data_file(path), **FAST, seed=2, check=False)
    return probgen.load_fit(probgen.save_fit(fit, path.with_suffix(".nc")))


def test_table_fit_labels_its_coefficients(mixed_fit):
    post = mixed_fit["posterior"]
    assert list(post["coef"].coords["feature"].values) == MIXED_FEATURES
    truth = {"x": 2.0, "color[T.green]": 3.0, "color[T.red]": -2.0, "flag": 1.5}
    for label, value in truth.items():
        draws = post["coef"].sel(feature=label)
        assert abs(float(draws.mean()) - value) < 4 * float(draws.std()), label


def test_saved_table_fit_predicts_from_a_table(mixed_fit):
    new = pd.DataFrame({"flag": [True, False], "color": ["red", "blue"], "x": [0.0, 1.0]})
    out = probgen.predict(mixed_fit, {"X": new}, seed=3)
    const = out["predictions_constant_data"]["X"]
    assert list(const.coords["feature"].values) == MIXED_FEATURES
    np.testing.assert_array_equal(const.values, [[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    post = mixed_fit["posterior"]
    mu = post["intercept"] + (post["coef"] * const).sum("feature")
    noise = 4 * float(post["sigma"].mean()) / np.sqrt(post["sigma"].size)
    pred = out["predictions"]["y"].mean(("chain", "draw"))
    np.testing.assert_array_less(np.abs(pred - mu.mean(("chain", "draw"))).values, noise)


@pytest.mark.parametrize(
    ("new", "match"),
    [
        (
            {"flag": [True], "color": ["purple"], "x": [0.0]},
            r"column 'color' has level\(s\) \['purple'\] not seen in the fit.*'blue' \(reference\)",
        ),
        ({"flag": [True], "color": [1.0], "x": [0.0]}, "'color' was categorical in the fit"),
        ({"flag": [2.0], "color": ["red"], "x": [0.0]}, "'flag' was boolean in the fit"),
        ({"flag": [True], "x": [0.0]}, r"missing column\(s\) \['color'\]"),
    ],
)
def test_predict_enforces_the_fits_encoding(mixed_fit, new, match):
    with pytest.raises(probgen.DataError, match=match):
        probgen.predict(mixed_fit, {"X": pd.DataFrame(new)})
