"""Fits that used to go wrong at the defaults, held right.

The full sweep (every posteriordb adapter x both backends x seeds) is
``scripts/robustness.py``; its table is benchmarks/ROBUSTNESS.md.
"""

from __future__ import annotations

import numpy as np

import probgen
from probgen.backends.base import initial_points


def test_arma11_default_numpyro_fit_has_no_stuck_chain():
    """Seed 0 left one chain of four stuck at max tree depth (R-hat 1.53) when
    NumPyro started it at |theta| > 1; the model now starts chains inside the
    invertible region."""
    fit = probgen.sample("arma11", seed=0, check=False)
    verdict = probgen.diagnose(fit)
    assert verdict.ok, verdict.report()


def test_model_starts_are_shared_by_both_backends():
    model = probgen.get_model("arma11")
    data = model.prepare()
    a = initial_points(model, data, 4, seed=3)
    b = initial_points(model, data, 4, seed=3)
    assert len(a) == 4 and all(abs(p["theta"]) < 0.5 for p in a)
    for p, q in zip(a, b, strict=True):
        assert p.keys() == q.keys() and all(np.array_equal(p[k], q[k]) for k in p)
    # models without starts keep each backend's default
    es = probgen.get_model("eight_schools")
    assert initial_points(es, es.prepare(), 4, seed=3) is None
