"""Judging fitted models: predictive checks, predictive accuracy, sample quality.

The home of every measure that says how good a fitted generative model is.
One concept per module, each in three layers (as arviz-stats): array functions
that know nothing of xarray (``(chain, draw, ...)`` NumPy arrays in, numbers
out), thin xarray/DataTree wrappers that find the arrays in a fit, and the
public function re-exported here and at ``probgen.<name>``:

* ``ppc.py``         posterior (and prior) predictive checks: test statistics,
                     posterior predictive p-values, LOO-PIT and its uniformity test;
* ``loo.py``         PSIS-LOO ELPD, Pareto k, and comparison of fits of the same data;
* ``two_sample.py``  distances between generated and real data (MMD, energy
                     distance) and the classifier two-sample test;
* ``reconstruction.py``  held-out reconstruction error of latent-variable models.

Plots go beside the measure they draw (``arviz_plots`` under the hood); nothing
here samples: a measure takes fits and data, never a model to run.
"""

from probgen.evaluation.loo import LPD, compare, log_predictive_density, loo
from probgen.evaluation.plots import (
    plot_compare,
    plot_image_grid,
    plot_loo_pit,
    plot_ppc_dist,
    plot_ppc_pit,
    plot_ppc_rootogram,
    plot_ppc_tstat,
)
from probgen.evaluation.ppc import (
    STATISTICS,
    default_statistics,
    loo_pit,
    loo_pit_values,
    ppc,
    ppc_verdict,
)
from probgen.evaluation.reconstruction import reconstruction_error
from probgen.evaluation.report import ppc_report
from probgen.evaluation.two_sample import TwoSampleResult, c2st, energy_distance, mmd

__all__ = [
    "LPD",
    "STATISTICS",
    "TwoSampleResult",
    "c2st",
    "compare",
    "default_statistics",
    "energy_distance",
    "log_predictive_density",
    "loo",
    "loo_pit",
    "loo_pit_values",
    "mmd",
    "plot_compare",
    "plot_image_grid",
    "plot_loo_pit",
    "plot_ppc_dist",
    "plot_ppc_pit",
    "plot_ppc_rootogram",
    "plot_ppc_tstat",
    "ppc",
    "ppc_report",
    "ppc_verdict",
    "reconstruction_error",
]
