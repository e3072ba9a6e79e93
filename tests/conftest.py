"""Shared test set-up: cheap sampler settings and the model cases table."""

from __future__ import annotations

import os
from pathlib import Path

# Before JAX starts: parallel chains on CPU, float64 (probgen's CPU default).
os.environ.setdefault("PROBGEN_PRECISION", "float64")

import pytest

import probgen  # noqa: F401  (configures JAX before any test imports it)
from probgen.posteriordb import PosteriorDatabase, default_db

#: CI and development checkouts have ../shared beside the repo
SHARED_DB = Path(__file__).resolve().parents[2] / "shared" / "posteriordb"

#: cheap settings for tests that only need a working fit
FAST = {"chains": 2, "draws": 200, "warmup": 200}


@pytest.fixture(scope="session")
def posteriordb():
    db = default_db() or (SHARED_DB if SHARED_DB.is_dir() else None)
    if db is None:
        pytest.skip("no posteriordb directory (set PROBGEN_POSTERIORDB)")
    return Path(db)


@pytest.fixture(scope="session")
def database(posteriordb):
    return PosteriorDatabase.open(posteriordb)
