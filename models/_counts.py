"""What the count regressions share: a design matrix, counts and an optional exposure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from jax.scipy.special import gammaln, xlog1py, xlogy
from numpyro.distributions.util import validate_sample

from probgen import DataError, Field, ModelData
from probgen.data import check_size, clean_table, column_values, is_frame, is_series

from ._data import load_json
from ._regression import DesignMatrixModel

#: set on a ModelData whose exposure was not given (and so was filled with ones)
_OMITTED = "_probgen_exposure_omitted"

#: paragraphs per stretch of the novel in the negative binomial's default data
BLOCK = 25


class CountRegression(DesignMatrixModel):
    """Base of log-link count regressions with an optional exposure.

    ``exposure`` (obs,) is optional: absent, every observation has exposure 1
    (the linear predictor is the log of the mean itself). It is filled in as
    ones before validation, so the fit and its ``constant_data`` always hold
    it. In a table (a CSV, or a DataFrame given as the whole data set) the
    column named ``exposure`` is the exposure, ``y`` the outcome, and every
    other column a predictor; a DataFrame ``X`` must not hold an ``exposure``
    column (pass it as ``data["exposure"]``), so that it is never taken for a
    predictor. :func:`probgen.predict` on a fit whose exposures are not all 1
    needs ``data["exposure"]`` for the new rows (an error otherwise): the
    predicted counts scale with it (pass ones for the rate per unit exposure).
    """

    covariates = ("X", "exposure")
    prediction_vars = {"mu": ("obs",)}
    sizes = {"N": "obs", "K": "feature"}
    fields = (
        Field("X", ("obs", "feature"), doc="design matrix (no intercept column)"),
        Field(
            "exposure",
            ("obs",),
            positive=True,
            doc="exposure, > 0 (optional, default 1): the mean is exposure * exp(eta)",
        ),
        Field("y", ("obs",), kind="count", observed=True, doc="counts (non-negative integers)"),
    )

    # ------------------------------------------------------------------ data
    def from_table(self, frame) -> dict[str, Any]:
        frame = clean_table(frame, what=f"the table for {self.name}")
        out = {}
        if "exposure" in frame.columns:
            out["exposure"] = column_values(frame["exposure"], what="the table's column 'exposure'")
            frame = frame.drop(columns=["exposure"])
        return {**super().from_table(frame), **out}

    def prepare(self, data=None, *, coords=None, require_observed=True) -> ModelData:
        if isinstance(data, ModelData):
            return data
        data = self.resolve_data(data)
        omitted = False
        if isinstance(data, Mapping):
            data = dict(data)
            X = data.get("X")
            if is_frame(X) and "exposure" in X.columns:
                raise DataError(
                    f"data['X'] for {self.name} has a column named 'exposure'; pass the "
                    "exposure as data['exposure'] (in a CSV, the 'exposure' column is "
                    "taken as the exposure), so that it is not used as a predictor"
                )
            exposure = data.get("exposure")
            if is_series(exposure):
                if is_frame(X) and not X.index.equals(exposure.index):
                    raise DataError(
                        "the DataFrame X and the Series exposure have different row labels "
                        "(index); align them (or pass exposure as an array, in X's row order)"
                    )
                data["exposure"] = column_values(exposure, what="data['exposure']")
            elif exposure is None:
                omitted = True
                n = _rows(data)
                if n is not None:  # else the missing X is reported by the validation
                    data["exposure"] = np.ones(n)
        prepared = super().prepare(data, coords=coords, require_observed=require_observed)
        setattr(prepared, _OMITTED, omitted)
        return prepared

    def predict_draws(self, fit, data: ModelData, *, seed: int):
        """Refuse new rows without an exposure when the fit had one; else the
        generic path (new counts are conditionally independent given the draws)."""
        if getattr(data, _OMITTED, False) and "constant_data" in fit.children:
            ds = fit["constant_data"].dataset
            if "exposure" in ds and not np.all(ds["exposure"].values == 1.0):
                raise DataError(
                    f"this {self.name} fit was made with an exposure (not all 1): predict "
                    "needs data['exposure'] for the new rows, beside data['X'] (pass "
                    "np.ones(n) for the rate per unit exposure)"
                )
        return None

    # ------------------------------------------------------------- helpers
    def log_mean(self, posterior: Mapping[str, np.ndarray], data: ModelData) -> np.ndarray:
        """log E[y | x] = intercept + X @ coef + log(exposure), per draw: (chain, draw, obs)."""
        return self.linear_predictor(posterior, data) + np.log(
            np.asarray(data["exposure"], dtype=float)
        )

    def prediction_quantities(self, posterior, data: ModelData) -> dict[str, np.ndarray]:
        """At new rows: ``mu`` = exposure * exp(intercept + X @ coef), the expected count."""
        return {"mu": np.exp(self.log_mean(posterior, data))}


class NegativeBinomial2(dist.NegativeBinomial2):
    """NumPyro's ``NegativeBinomial2(mean, concentration)`` with a more precise log pmf.

    The same distribution and sampler; only ``log_prob`` changes. NumPyro's
    goes through ``jax.scipy.special.betaln``, which is off by up to about 1e-6
    (against SciPy, float64, e.g. betaln(1.39, 8)), enough to break the twins'
    1e-8 agreement with PyMC over a data set. Here the same expression,
    log C(y + phi - 1, y) + phi log(phi / (phi + mu)) + y log(mu / (phi + mu)),
    takes the binomial coefficient from log-gamma differences (accurate to
    about 1e-11 over the same range).
    """

    @validate_sample
    def log_prob(self, value):
        dtype = jnp.result_type(float)
        phi = jnp.asarray(self.concentration, dtype=dtype)
        rate = jnp.asarray(self.rate, dtype=dtype)  # phi / mu
        value = jnp.asarray(value, dtype=dtype)
        return (
            gammaln(phi + value)
            - gammaln(phi)
            - gammaln(value + 1)
            + xlogy(-phi, 1 + 1 / rate)
            - xlog1py(value, rate)
        )


def _rows(data: Mapping[str, Any]) -> int | None:
    """How many observations ``data`` has: rows of X, else length of y, else N."""
    for key in ("X", "y"):
        value = data.get(key)
        if value is not None and np.ndim(value) >= 1:
            return int(np.shape(value)[0])
    if data.get("N") is not None:
        return check_size("N", data["N"])
    return None


def prideprejudice(word: str) -> dict[str, np.ndarray]:
    """Paragraph lengths and counts of one word of Pride and Prejudice
    (``models/data/counts_prideprejudice.json``), in the order of the novel."""
    raw = load_json("counts_prideprejudice.json")
    return {
        "length": np.asarray(raw["length"], dtype=np.int64),
        "count": np.asarray(raw[f"count_{word}"], dtype=np.int64),
    }
