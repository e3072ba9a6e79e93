"""The zoo passes SBC (slow tier): every registry model on both backends.

Each model is calibrated on a small data set made from its bundled one (the
first rows along its observation dimension, see :data:`SLICES`), with
``SIMULATIONS`` simulations of 2 chains x ``DRAWS`` draws (as many warm-up).
Multiplicity rule: a model passes when the smallest uniformity p-value over its
Q quantities (every scalar parameter and the log likelihood) is at least
0.01 / Q (Bonferroni, family-wise level 0.01), over every simulation that
produced ranks; a simulation that raised fails the model.

Run one case: ``pytest -m slow tests/test_sbc_zoo.py -k "eight_schools and numpyro"``.
``python tests/test_sbc_zoo.py MODEL BACKEND [N]`` runs one case and prints the
row of ``benchmarks/SBC.md``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from probgen.calibration.campaign import sbc
from probgen.registry import get_model, list_models

SIMULATIONS = 100
DRAWS = 300
BATCH = 25

#: dimension -> how many entries the small data sets keep (first ones)
SLICES = {"obs": 40, "time": 60, "token": 200, "person": 30}

#: models whose small data set needs more than slicing
EXTRA: dict[str, dict] = {}


def small_data(name: str) -> dict:
    """The bundled data cut to the first entries along the dims in :data:`SLICES`."""
    model = get_model(name)
    prepared = model.prepare(None)
    data = {}
    for f in model.fields:
        value = prepared.values.get(f.name)
        if value is None:
            continue
        arr = np.asarray(value)
        for axis, dim in enumerate(f.dims):
            if dim in SLICES:
                arr = np.take(arr, np.arange(min(SLICES[dim], arr.shape[axis])), axis=axis)
        data[f.name] = arr
    data.update(EXTRA.get(name, {}))
    return data


def run_case(name: str, backend: str, n: int = SIMULATIONS, seed: int = 0):
    data = small_data(name)
    start = time.perf_counter()
    result = sbc(
        name,
        backend=backend,
        num_simulations=n,
        draws=DRAWS,
        seed=seed,
        data=data,
        batch_size=BATCH if backend == "numpyro" else 10,
        progress=False,
    )
    return result, time.perf_counter() - start


def table_row(name: str, backend: str, result, seconds: float) -> str:
    s = result.summary()
    v = result.verdict
    fails = int((~result.diagnostics["ok"]).sum())
    return (
        f"| {name} | {backend} | {v.n_simulations} | {len(s)} | {s['p_value'].min():.3g} "
        f"({v.worst}) | {s['p_value_ok'].min():.3g} | {fails} | {v.n_errors} | "
        f"{'pass' if v.ok else 'FAIL'} | {seconds:.0f} |"
    )


#: (model, backend) that failed SBC when run, with the finding (benchmarks/SBC.md):
#: kept failing on purpose, never passed by a looser threshold
KNOWN_FAILURES = {
    ("arma11", "numpyro"): "prior mass on explosive / non-invertible ARMA; see benchmarks/SBC.md",
    ("ar", "numpyro"): "Normal(0, 10) lag priors make simulated series explosive; see SBC.md",
}


def _cases():
    for name in list_models():
        for backend in ("numpyro", "pymc"):
            reason = KNOWN_FAILURES.get((name, backend))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(name, backend, marks=marks, id=f"{name}-{backend}")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "backend"), list(_cases()))
def test_zoo_model_passes_sbc(name, backend):
    result, _ = run_case(name, backend)
    assert result.verdict.ok, f"{result.verdict}\n{result.summary()}"


if __name__ == "__main__":
    import probgen  # noqa: F401

    model, backend = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else SIMULATIONS
    res, secs = run_case(model, backend, n)
    print(res.summary().to_string())
    print(res.verdict)
    print(table_row(model, backend, res, secs))
