"""Generative-versus-discriminative studies: the comparison harness, its metrics and plots.

* ``metrics.py``   array functions (NumPy in, numbers out): Brier score (multiclass
                   form), log loss, expected calibration error, reliability curves;
* ``harness.py``   :func:`compare_models`: any scikit-learn-compatible estimators on
                   the same repeated stratified splits, learning curves over nested
                   training subsets, features missing at test time; a tidy
                   DataFrame, saved atomically with :func:`save_results`;
* ``contenders.py`` named contenders (scikit-learn's and probgen's estimators) for
                   the CLI and the studies, built lazily;
* ``datasets.py``  the real data sets the studies run on (bundled with scikit-learn
                   or the zoo; nothing is downloaded);
* ``plots.py``     learning curves, reliability diagrams and missing-feature curves
                   as PNG (matplotlib's Agg canvas; the global backend is untouched);
* ``command.py``   ``probgen compare DATA.csv --target COL``.

Not to be confused with :func:`probgen.compare` (the LOO comparison of fits of the
same data): :func:`compare_models` refits every contender on held-out splits.
"""

from __future__ import annotations

import importlib
from typing import Any

# loaded on first use: ``probgen --help`` imports command.py, which must stay light
_EXPORTS = {
    "compare_models": "probgen.studies.harness",
    "save_results": "probgen.studies.harness",
    "brier_score": "probgen.studies.metrics",
    "expected_calibration_error": "probgen.studies.metrics",
    "log_loss": "probgen.studies.metrics",
    "reliability_curve": "probgen.studies.metrics",
    "plot_learning_curves": "probgen.studies.plots",
    "plot_missing_features": "probgen.studies.plots",
    "plot_reliability": "probgen.studies.plots",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'probgen.studies' has no attribute {name!r}")
