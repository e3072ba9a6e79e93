"""posteriordb: gold-standard reference posteriors, and how the zoo is checked against them.

Layers, arrays first:

* :mod:`~probgen.posteriordb.database` reads a database (a posteriordb clone or a
  flat subset): data sets and reference draws;
* :mod:`~probgen.posteriordb.adapters`: how each posterior maps onto a zoo model
  (``POSTERIORDB`` rows in the zoo's files);
* :mod:`~probgen.posteriordb.compare`: draws against reference draws, per parameter;
* :mod:`~probgen.posteriordb.run`: fit a posterior and compare (``probgen reference``).
"""

from probgen.posteriordb.adapters import PosteriorAdapter, adapters, get_adapter, stan_flatten
from probgen.posteriordb.compare import DEFAULT_Z, compare, draws_to_json
from probgen.posteriordb.database import PosteriorDatabase, default_db
from probgen.posteriordb.run import ReferenceResult, reference_for, run_reference

__all__ = [
    "DEFAULT_Z",
    "PosteriorAdapter",
    "PosteriorDatabase",
    "ReferenceResult",
    "adapters",
    "compare",
    "default_db",
    "draws_to_json",
    "get_adapter",
    "reference_for",
    "run_reference",
    "stan_flatten",
]
