"""Is the inference right? Simulation-based calibration (SBC) of the zoo's models.

Draw parameters from the prior, simulate data, fit, and rank each true value
among its posterior draws; the ranks are uniform exactly when inference is
right (Talts et al. 2018). Layers, arrays first:

* ``ranks.py``     ranks of true values among thinned draws, tie-breaking, PIT
                   values, uniformity tests (arrays in, arrays out);
* ``campaign.py``  prior draws -> simulated data sets -> fits, batched through the
                   backend contract (one compiled program for many NumPyro fits;
                   PyMC models built once and data swapped), written incrementally
                   so that an interrupted campaign resumes;
* ``distributed.py``  the same campaign on Dask workers beyond one machine.

It uses the backends only through :mod:`probgen.backends` and models only through
:mod:`probgen.registry`, like every other part of probgen.
"""

from probgen.calibration.campaign import (
    SBCSettings,
    SimulationResult,
    run_batch,
    sbc,
    sbc_settings,
    simulate_and_fit,
)
from probgen.calibration.ranks import pit_values, rank_statistics, uniformity_pvalues
from probgen.calibration.results import SBCResult, SBCVerdict, load_sbc

__all__ = [
    "SBCResult",
    "SBCSettings",
    "SBCVerdict",
    "SimulationResult",
    "load_sbc",
    "pit_values",
    "rank_statistics",
    "run_batch",
    "sbc",
    "sbc_settings",
    "simulate_and_fit",
    "uniformity_pvalues",
]
