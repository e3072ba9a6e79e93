"""What both backends hand back to :mod:`probgen.results`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RawFit:
    """Draws and statistics of one fit, as NumPy arrays shaped (chain, draw, ...)."""

    posterior: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    log_likelihood: dict[str, np.ndarray]
    attrs: dict[str, object] = field(default_factory=dict)


def tree_depth_from_steps(n_steps: np.ndarray) -> np.ndarray:
    """Depth of a NUTS trajectory from its number of leapfrog steps.

    A tree of depth d holds between 2**(d-1) and 2**d - 1 steps, so
    d = floor(log2(n)) + 1.
    """
    n = np.maximum(np.asarray(n_steps, dtype=np.int64), 1)
    return (np.floor(np.log2(n)).astype(np.int64) + 1).astype(np.int64)
