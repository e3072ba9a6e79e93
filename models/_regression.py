"""What the regression models share: a design matrix with named columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from probgen import DataError, Model, ModelData
from probgen.data import (
    TableEncoding,
    check_design,
    clean_table,
    column_values,
    encode_table,
    is_frame,
    is_series,
)
from probgen.priors import parse_prior


class DesignMatrixModel(Model):
    """Base of models with covariates ``X`` (obs, feature) and an outcome ``y``.

    ``X`` is a plain array (columns labelled ``x0, x1, ...`` unless
    ``coords={"feature": [...]}`` names them) or a table: a pandas DataFrame,
    or the columns of a CSV other than ``y``. A table is encoded by
    :func:`probgen.data.encode_table`: numeric columns as they are, booleans as
    0/1, text and categorical columns dummy-coded against a reference level
    (the first level in sorted order, or a ``Categorical``'s first category)
    with coefficients labelled ``column[T.level]``. The coefficients along
    ``feature`` carry those labels, and the fit records the encoding, so that
    :func:`probgen.predict` matches new tables to it by column name (and
    refuses unseen levels). The reference level is absorbed by the intercept;
    with ``intercept=False`` its mean is fixed at zero.

    When fitting, constant or exactly collinear predictor columns get a
    :class:`probgen.data.CollinearityWarning` naming them.
    """

    covariates = ("X",)
    intercept: bool = True

    def _set_priors(self, **priors: tuple[Any, str | None]) -> None:
        # validated eagerly: a bad prior string fails at construction, naming it
        for name, (spec, support) in priors.items():
            setattr(self, f"_{name}", parse_prior(spec, name=name, support=support))

    def from_table(self, frame) -> dict[str, Any]:
        frame = clean_table(frame, what=f"the table for {self.name}")
        if "y" not in frame.columns:
            raise DataError(
                f"a table for {self.name} needs an outcome column named 'y'; the other "
                f"columns are the predictors. Got columns {list(frame.columns)}"
            )
        predictors = frame.drop(columns=["y"])
        if predictors.shape[1] == 0:
            raise DataError(f"a table for {self.name} needs at least one predictor column")
        return {"X": predictors, "y": column_values(frame["y"], what="the table's column 'y'")}

    def prepare(self, data=None, *, coords=None, require_observed=True) -> ModelData:
        if isinstance(data, ModelData):
            return data
        data = self.resolve_data(data)
        encoding = None
        if isinstance(data, Mapping):
            data = dict(data)
            X, y = data.get("X"), data.get("y")
            if is_series(X):  # one named predictor
                X = X.to_frame()
            if is_frame(X):
                if coords and "feature" in coords:
                    raise DataError(
                        "coords['feature'] cannot be given with a DataFrame X: its column "
                        "names label the features (rename the columns instead)"
                    )
                if is_series(y) and not X.index.equals(y.index):
                    # pandas users expect rows to be matched by label, not position
                    raise DataError(
                        "the DataFrame X and the Series y have different row labels "
                        "(index); align them (or pass y as an array, in X's row order)"
                    )
                data["X"], encoding = encode_table(X, what="X")
                coords = {**(coords or {}), "feature": encoding.features}
            if is_series(y):
                data["y"] = column_values(y, what="data['y']")
        prepared = super().prepare(data, coords=coords, require_observed=require_observed)
        if encoding is None:  # an array: its columns are named by the feature labels
            encoding = TableEncoding.numeric(prepared.coords["feature"])
        prepared = prepared.with_encodings(X=encoding)
        if require_observed:  # fitting: say so before sampling what the data cannot identify
            check_design(
                prepared["X"], prepared.coords["feature"], intercept=self.intercept, what="X"
            )
        return prepared

    def coords(self, data: ModelData) -> dict[str, list]:
        out = dict(data.coords)
        out["feature"] = [f"x{i}" for i in range(data.size("feature"))]
        return out

    def linear_predictor(self, posterior: Mapping[str, np.ndarray], data: ModelData) -> np.ndarray:
        """``intercept + X @ coef`` for every posterior draw: (chain, draw, obs)."""
        X = np.asarray(data["X"], dtype=float)
        eta = np.einsum("nk,cdk->cdn", X, np.asarray(posterior["coef"], dtype=float))
        if "intercept" in posterior:
            eta = eta + np.asarray(posterior["intercept"], dtype=float)[..., None]
        return eta
