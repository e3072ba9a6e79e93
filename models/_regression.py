"""What the regression models share: a design matrix with named columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from probgen import DataError, Model, ModelData
from probgen.priors import parse_prior


class DesignMatrixModel(Model):
    """Base of models with covariates ``X`` (obs, feature) and an outcome ``y``.

    Column names of a DataFrame ``X`` (or of a CSV) become the ``feature`` labels.
    """

    covariates = ("X",)

    def _set_priors(self, **priors: tuple[Any, str | None]) -> None:
        # validated eagerly: a bad prior string fails at construction, naming it
        for name, (spec, support) in priors.items():
            setattr(self, f"_{name}", parse_prior(spec, name=name, support=support))

    def from_table(self, frame) -> dict[str, Any]:
        if "y" not in frame.columns:
            raise DataError(
                f"a table for {self.name} needs an outcome column named 'y'; the other "
                f"columns are the predictors. Got columns {list(frame.columns)}"
            )
        predictors = frame.drop(columns=["y"])
        if predictors.shape[1] == 0:
            raise DataError(f"a table for {self.name} needs at least one predictor column")
        return {"X": predictors, "y": frame["y"].to_numpy()}

    def prepare(self, data=None, *, coords=None, require_observed=True) -> ModelData:
        if isinstance(data, ModelData):
            return data
        data = self.resolve_data(data)
        if isinstance(data, Mapping) and type(data.get("X")).__name__ == "DataFrame":
            # the DataFrame's column names label the coefficients
            frame = data["X"]
            data = {**data, "X": frame.to_numpy()}
            coords = {"feature": [str(c) for c in frame.columns], **(coords or {})}
        return super().prepare(data, coords=coords, require_observed=require_observed)

    def coords(self, data: ModelData) -> dict[str, list]:
        out = dict(data.coords)
        out["feature"] = [f"x{i}" for i in range(data.size("feature"))]
        return out


def column_stack(data: Mapping[str, Any], columns: list[str]) -> np.ndarray:
    return np.column_stack([np.asarray(data[c], dtype=float) for c in columns])
