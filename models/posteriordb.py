"""posteriordb adapters, gathered from the zoo.

Every module of the ``models`` package may define ``POSTERIORDB``: a list of
:class:`probgen.reference.PosteriorAdapter`, one row per posterior, saying which
zoo model (and configuration) is the posterior's model, how the posterior's
Stan-layout data becomes the model's inputs, and how the model's natural-scale
variables are named in the reference draws. Data transformations (logs,
interactions, centering, dummies) live in those rows, never in edited data
files. Model files carry their own rows; families of posteriors that share one
model (the linear regressions) have a ``posteriordb_<family>.py`` module.
"""

from __future__ import annotations

import importlib
import pkgutil

import models
from probgen.reference import PosteriorAdapter


def _collect() -> dict[str, PosteriorAdapter]:
    table: dict[str, PosteriorAdapter] = {}
    for info in pkgutil.iter_modules(models.__path__):
        if info.name.startswith("_") or info.name == "posteriordb":
            continue
        module = importlib.import_module(f"models.{info.name}")
        for row in getattr(module, "POSTERIORDB", ()):
            if row.posterior in table:
                raise ValueError(f"posterior {row.posterior!r} has two adapters")
            table[row.posterior] = row
    return table


#: posterior name -> adapter
ADAPTERS: dict[str, PosteriorAdapter] = _collect()
