"""Shared test set-up: cheap sampler settings and the model cases table."""

from __future__ import annotations

import os

# Before JAX starts: parallel chains on CPU, float64 (probgen's CPU default).
os.environ.setdefault("PROBGEN_PRECISION", "float64")

import pytest

import probgen  # noqa: F401  (configures JAX before any test imports it)
from probgen.reference import default_db

#: cheap settings for tests that only need a working fit
FAST = {"chains": 2, "draws": 200, "warmup": 200}


@pytest.fixture(scope="session")
def posteriordb():
    db = default_db()
    if db is None:
        pytest.skip("no posteriordb directory (set PROBGEN_POSTERIORDB)")
    return db
