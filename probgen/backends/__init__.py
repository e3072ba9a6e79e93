"""The two backends. Each module offers the same functions:

``fit``, ``prior_predictive``, ``posterior_predictive``, ``log_density`` —
taking a :class:`probgen.Model` and validated :class:`probgen.ModelData` and
returning plain NumPy arrays keyed by site name, shaped (chain, draw, ...).
Building the ArviZ DataTree from them is :mod:`probgen.results`' job, so both
backends produce identical structures.
"""

BACKENDS = ("numpyro", "pymc")

#: samplers each backend can drive; the first is the default
SAMPLERS: dict[str, tuple[str, ...]] = {
    "numpyro": ("numpyro",),
    "pymc": ("pymc", "nutpie", "numpyro", "blackjax"),
}

#: the sample_stats every fit carries, whatever the backend and sampler
STAT_NAMES = (
    "diverging",
    "lp",
    "energy",
    "step_size",
    "tree_depth",
    "n_steps",
    "acceptance_rate",
    "reached_max_treedepth",
)
