"""Every posteriordb posterior the zoo supports, on both backends.

With shipped reference draws: every parameter's mean and sd within MCSE-based
|z| <= 4.5 of the reference. Without: the fit is clean (no divergences,
R-hat <= 1.01). Only eight schools runs in the default suite; the rest are
``slow`` (run with ``pytest -m slow``).
"""

from __future__ import annotations

import pytest

import probgen
from probgen.posteriordb import PosteriorDatabase, adapters, reference_for, run_reference

ADAPTERS = adapters()
#: cheap enough for the default suite
DEFAULT_SUITE = {"eight_schools-eight_schools_noncentered"}


def _params():
    for name in sorted(ADAPTERS):
        marks = [] if name in DEFAULT_SUITE else [pytest.mark.slow]
        for backend in ("numpyro", "pymc"):
            yield pytest.param(name, backend, marks=marks, id=f"{name}-{backend}")


@pytest.mark.parametrize(("posterior", "backend"), list(_params()))
def test_posterior_matches_reference_or_fits_cleanly(posterior, backend, posteriordb):
    result = run_reference(posterior, posteriordb, backend=backend, seed=1)
    verdict = probgen.diagnose(result.fit)
    checks = {c.name: c for c in verdict.checks}
    assert checks["divergences"].passed, verdict.report()
    assert checks["r_hat"].passed, verdict.report()
    if reference_for(PosteriorDatabase.open(posteriordb), posterior) is not None:
        assert result.passed, result.report()
