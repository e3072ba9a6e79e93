"""What the time-series models share: one series ``y`` along ``time`` and its length ``T``.

The NumPyro twin is called with the data *values* only, so when the series is
to be generated (``y`` is None: prior and posterior predictive, ``simulate``)
its length has to be a value too. The time-series models therefore take Stan's
``T`` as a scalar data field: it is filled in from ``y`` when omitted, checked
against ``y`` when both are given, and required only to generate a series
without one (e.g. ``{"T": 500, "sigma1": 0.5}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from probgen import DataError, Field, Model, ModelData


def length_field() -> Field:
    return Field(
        "T",
        (),
        kind="count",
        positive=True,
        doc="length of the whole series (taken from y when y is given)",
    )


class SeriesModel(Model):
    """Base of models of one series ``y`` along ``time`` with its length ``T`` as data.

    ``presample(values)`` is the number of values at the start of the series that
    the model conditions on and takes as a separate input (AR(K)'s ``y_init``);
    ``y`` holds the other ``T - presample`` values and ``time`` is labelled by
    position in the whole series (0-based), so ``y``'s labels follow them.
    """

    def presample(self, values: Mapping[str, Any]) -> int:
        return 0

    def complete_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Fill the whole length ``T`` from ``y`` when it is not given."""
        if data.get("T") is None and data.get("y") is not None:
            y = np.asarray(data["y"])
            if y.ndim == 1:
                data = {**data, "T": self.presample(data) + y.shape[0]}
        return data

    def coords(self, data: ModelData) -> dict[str, list]:
        out = dict(data.coords)
        start = self.presample(data.values)
        n = int(data["T"]) - start
        if n < 1:
            raise DataError(f"{self.name}: T = {int(data['T'])} leaves no time points to model")
        if "time" in out and len(out["time"]) != n:
            raise DataError(
                f"data['T'] = {int(data['T'])} but the series has {start + len(out['time'])} "
                f"values" + (f" ({start} before y and {len(out['time'])} in y)" if start else "")
            )
        out["time"] = list(range(start, start + n))
        return out

    @staticmethod
    def n_time(data: Mapping[str, Any], presample: int = 0) -> int:
        """Number of time points of ``y``, from ``y`` itself or from ``T``."""
        y = data.get("y")
        if y is not None:
            return int(np.shape(y)[0])
        return int(data["T"]) - presample
