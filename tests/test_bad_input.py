"""Bad input fails early with an error that names what was wrong.

Every case here must raise before anything is compiled; the ``no_compile``
fixture makes any attempt to build a sampler fail the test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import probgen

GOOD = {"y": [28.0, 8, -3, 7, -1, 1, 18, 12], "sigma": [15.0, 10, 16, 11, 9, 11, 10, 18]}


@pytest.fixture(autouse=True)
def no_compile(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("validation should have failed before sampling")

    from probgen.backends.numpyro import NumPyroBackend
    from probgen.backends.pymc import PyMCBackend

    monkeypatch.setattr(NumPyroBackend, "fit", boom)
    monkeypatch.setattr(PyMCBackend, "fit", boom)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"backend": "stan"}, probgen.UnknownNameError, "unknown backend 'stan'"),
        ({"backend": "pymc", "sampler": "hmc"}, probgen.UnknownNameError, "unknown sampler 'hmc'"),
        ({"sampler": "nutpie"}, probgen.UnknownNameError, "for backend 'numpyro'"),
        ({"chains": 0}, ValueError, "chains must be positive"),
        ({"chains": -2}, ValueError, "chains must be positive"),
        ({"draws": 0}, ValueError, "draws must be positive"),
        ({"draws": 10.5}, TypeError, "draws must be an integer"),
        ({"chains": "4"}, TypeError, "chains must be an integer"),
        ({"warmup": -1}, ValueError, "warmup must be >= 0"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"target_accept": 1.5}, ValueError, "target_accept must be"),
        ({"target_accept": 0}, ValueError, "target_accept must be"),
        ({"chain_method": "threads"}, ValueError, "chain_method must be"),
        ({"dense_mass": "yes"}, TypeError, "dense_mass"),
    ],
)
def test_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        probgen.sample("eight_schools", **kwargs)


def test_unknown_model_suggests_close_names():
    with pytest.raises(probgen.UnknownNameError, match="Did you mean 'eight_schools'"):
        probgen.sample("eight_school")


def test_bad_model_config():
    with pytest.raises(TypeError, match="bad configuration for model 'eight_schools'"):
        probgen.get_model("eight_schools", centred=True)
    with pytest.raises(ValueError, match="sigma_prior='normal\\(0, 1\\)'.*positive"):
        probgen.get_model("linear_regression", sigma_prior="normal(0, 1)")
    with pytest.raises(ValueError, match="not a prior probgen knows"):
        probgen.get_model("linear_regression", coef_prior="laplace(0, 1)")
    with pytest.raises(ValueError, match="takes 2 parameter"):
        probgen.get_model("linear_regression", coef_prior="normal(0)")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"y": GOOD["y"]}, "missing 'sigma'"),
        ({**GOOD, "tau": 1.0}, "unexpected data key\\(s\\) \\['tau'\\]"),
        ({**GOOD, "y": GOOD["y"][:7]}, "8 entries along 'school' but data\\['y'\\] has 7"),
        ({**GOOD, "y": [[1.0] * 8]}, "must have 1 dimension"),
        ({**GOOD, "y": [np.nan] + GOOD["y"][1:]}, "data\\['y'\\] contains NaN at index \\(0,\\)"),
        ({**GOOD, "sigma": [np.inf] + GOOD["sigma"][1:]}, "contains inf"),
        ({**GOOD, "sigma": [0.0] + GOOD["sigma"][1:]}, "'sigma'.*strictly positive"),
        ({**GOOD, "y": ["a"] * 8}, "must be numeric"),
        ({**GOOD, "y": [True] * 8}, "got booleans"),
        ({**GOOD, "y": [1, 2, [3]]}, "could not be read|Python objects"),
        ({**GOOD, "J": 9}, "'J'\\] says 9 entries along 'school'"),
        ({"y": [], "sigma": []}, "empty"),
        ([1, 2, 3], "must be a mapping"),
    ],
)
def test_bad_data(data, match):
    with pytest.raises(probgen.DataError, match=match):
        probgen.sample("eight_schools", data)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        ([0, 1, 2], "must be binary"),
        ([0, 1, 0.5], "must hold integers"),
    ],
)
def test_bad_outcome_type(y, match):
    with pytest.raises(probgen.DataError, match=match):
        probgen.sample("logistic_regression", {"X": np.ones((3, 1)), "y": y})


def test_bad_coords():
    with pytest.raises(probgen.DataError, match="coords\\['school'\\] has 2 labels"):
        probgen.sample("eight_schools", GOOD, coords={"school": ["a", "b"]})
    with pytest.raises(probgen.DataError, match="unknown dimension 'county'"):
        probgen.sample("eight_schools", GOOD, coords={"county": list("abcdefgh")})


def test_csv_without_outcome_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(probgen.DataError, match="outcome column named 'y'"):
        probgen.sample("linear_regression", probgen.read_data_file(path))


@pytest.mark.parametrize(
    ("content", "suffix", "match"),
    [
        ("{not json", ".json", "not valid JSON"),
        ("[1, 2]", ".json", "JSON object"),
        ("a,b\n", ".csv", "no rows"),
        ("x", ".txt", "must end in .json or .csv"),
    ],
)
def test_bad_data_files(tmp_path, content, suffix, match):
    path = tmp_path / f"d{suffix}"
    path.write_text(content)
    with pytest.raises(probgen.DataError, match=match):
        probgen.read_data_file(path)


def test_missing_data_file():
    with pytest.raises(probgen.DataError, match="does not exist"):
        probgen.read_data_file("/nonexistent/data.json")


def test_predict_needs_matching_covariates():
    model = probgen.get_model("linear_regression")
    fake = probgen.sample_prior_predictive(model, draws=4)
    fake["posterior"] = fake["prior"]
    with pytest.raises(probgen.DataError, match="has 3 columns but the fit has 2"):
        probgen.predict(fake, {"X": np.ones((5, 3))}, model)
    with pytest.raises(probgen.DataError, match="missing column\\(s\\) \\['mom_hs'\\]"):
        probgen.predict(fake, {"X": pd.DataFrame({"mom_iq": [100.0]})}, model)
    with pytest.raises(probgen.DataError, match="pass covariates only"):
        probgen.predict(fake, {"X": np.ones((5, 2)), "y": np.ones(5)}, model)
