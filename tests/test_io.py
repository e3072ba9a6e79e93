"""Saving and loading fits: nothing lost, interrupted writes never corrupt."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import FAST

import probgen


@pytest.fixture(scope="module")
def fit():
    return probgen.sample_posterior_predictive(
        probgen.sample("linear_regression", **FAST, check=False)
    )


def test_round_trip_keeps_everything(fit, tmp_path):
    path = probgen.save_fit(fit, tmp_path / "fit.nc")
    for loaded in (probgen.load_fit(path), az.from_netcdf(path), xr.open_datatree(path)):
        assert sorted(loaded.children) == sorted(fit.children)
        for group in fit.children:
            xr.testing.assert_identical(loaded[group].to_dataset().load(), fit[group].to_dataset())
        assert loaded.attrs["probgen_model"] == "linear_regression"
        assert list(loaded["posterior"]["coef"].coords["feature"].values) == ["mom_hs", "mom_iq"]


def test_reloaded_fit_is_usable(fit, tmp_path):
    path = probgen.save_fit(fit, tmp_path / "fit.nc")
    loaded = probgen.load_fit(path)
    assert probgen.diagnose(loaded).checks
    pred = probgen.predict(loaded, {"X": np.array([[1.0, 100.0]])})
    assert pred["predictions"]["y"].shape == (2, 200, 1)
    # a reloaded fit still matches a table's columns by name, not position
    swapped = probgen.predict(loaded, {"X": pd.DataFrame({"mom_iq": [100.0], "mom_hs": [1.0]})})
    np.testing.assert_array_equal(
        swapped["predictions"]["y"].values, pred["predictions"]["y"].values
    )


def test_interrupted_write_keeps_the_old_file(fit, tmp_path, monkeypatch):
    path = probgen.save_fit(fit, tmp_path / "fit.nc")
    before = path.read_bytes()

    def crash(self, *args, **kwargs):
        with open(args[0], "wb") as fh:  # half a file, then the "power cut"
            fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.DataTree, "to_netcdf", crash)
    with pytest.raises(KeyboardInterrupt):
        probgen.save_fit(fit, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]


def test_saved_file_has_ordinary_permissions(fit, tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    path = probgen.save_fit(fit, tmp_path / "fit.nc")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_refuses_other_formats(fit, tmp_path):
    with pytest.raises(ValueError, match="must end in .nc"):
        probgen.save_fit(fit, tmp_path / "fit.pkl")
