"""How a posteriordb posterior maps onto a zoo model: :class:`PosteriorAdapter`.

Zoo modules define ``POSTERIORDB``, a list of adapters (one row per posterior);
:func:`adapters` gathers them through the registry's one lookup of the zoo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from probgen.errors import UnknownNameError


def stan_flatten(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Flatten (chain, draw, ...) arrays to Stan's flat names, 1-based, row-major."""
    out: dict[str, np.ndarray] = {}
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.ndim == 2:
            out[name] = arr
            continue
        for idx in np.ndindex(*arr.shape[2:]):
            out[f"{name}[{','.join(str(i + 1) for i in idx)}]"] = arr[
                (slice(None), slice(None), *idx)
            ]
    return out


@dataclass(frozen=True)
class PosteriorAdapter:
    """How one posteriordb posterior maps onto a zoo model.

    Attributes
    ----------
    posterior : str
        ``<data_name>-<model_name>``.
    model : str
        Zoo registry name; ``config`` its constructor arguments.
    data : callable
        Stan-layout data dict -> the model's data dict (transformations such as
        logs, interactions or centering happen here, never in the data files).
    params : callable or tuple of str
        Posterior Dataset -> {flat reference name: (chain, draw) array}; a tuple
        of variable names means "these variables, Stan-flattened, as named".
    sampler : dict
        Settings this posterior needs (justified in the model's docstring).
    reference : str, optional
        Another posterior whose reference draws are for the same density
        (e.g. the centered and non-centered eight schools).
    """

    posterior: str
    model: str
    data: Callable[[dict[str, Any]], dict[str, Any]]
    params: Callable[[xr.Dataset], dict[str, np.ndarray]] | tuple[str, ...]
    config: dict[str, Any] = field(default_factory=dict)
    sampler: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None

    @property
    def reference_name(self) -> str:
        """The posterior whose reference draws apply (the same target density)."""
        return self.reference or self.posterior

    @property
    def data_name(self) -> str:
        return self.posterior.split("-", 1)[0]

    def flat_draws(self, posterior: xr.Dataset) -> dict[str, np.ndarray]:
        if callable(self.params):
            return self.params(posterior)
        return stan_flatten({n: posterior[n].values for n in self.params})


def adapters() -> dict[str, PosteriorAdapter]:
    """Every adapter of the zoo: posterior name -> adapter."""
    from probgen.registry import zoo_modules

    table: dict[str, PosteriorAdapter] = {}
    for module in zoo_modules():
        for row in getattr(module, "POSTERIORDB", ()):
            if row.posterior in table:
                raise ValueError(f"posterior {row.posterior!r} has two adapters")
            table[row.posterior] = row
    return table


def get_adapter(posterior: str) -> PosteriorAdapter:
    table = adapters()
    if posterior not in table:
        raise UnknownNameError(
            f"unknown posterior {posterior!r}; supported: {', '.join(sorted(table))}"
        )
    return table[posterior]
