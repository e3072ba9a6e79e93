"""What the time-series models share: one series ``y`` along ``time``.

Both twins receive :class:`probgen.ModelData`, so the series length is
``data.size("time")`` whether ``y`` is given or to be generated. Stan's ``T``
(the length of the whole series) is accepted as a size key: checked against
``y`` when both are given, and alone it sets the length of a series to
generate (e.g. ``{"T": 500, "sigma1": 0.5}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from probgen import Model, ModelData
from probgen.data import check_size


class SeriesModel(Model):
    """Base of models of one series ``y`` along ``time``; Stan's ``T`` is a size key.

    ``presample(values)`` is the number of values at the start of the series that
    the model conditions on and takes as a separate input (AR(K)'s ``y_init``);
    ``y`` holds the other ``T - presample`` values and ``time`` is labelled by
    position in the whole series (0-based), so ``y``'s labels follow them.
    """

    sizes = {"T": "time"}

    def presample(self, values: Mapping[str, Any]) -> int:
        return 0

    def size_hints(self, data: Mapping[str, Any]) -> dict[str, tuple[int, str]]:
        hints = super().size_hints({k: v for k, v in data.items() if k != "T"})
        if data.get("T") is not None:
            hints["time"] = (check_size("T", data["T"]) - self.presample(data), "T")
        return hints

    def coords(self, data: ModelData) -> dict[str, list]:
        out = dict(data.coords)
        start = self.presample(data.values)
        out["time"] = list(range(start, start + data.size("time")))
        return out
