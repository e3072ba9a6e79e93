"""The backend contract: what every backend provides, with the same signatures.

A backend runs a zoo model's hand-written twin for one inference library. It
takes a :class:`probgen.Model` and validated :class:`probgen.ModelData` (the
same object both twins receive) and returns plain NumPy arrays keyed by site
name, shaped ``(chain, draw, ...)``; building ArviZ DataTrees from them is
:mod:`probgen.results`' job, so both backends produce identical structures.

To add a backend: write a class implementing :class:`Backend` in
``probgen/backends/<name>.py`` (or a package), list it in
``probgen.backends._BACKEND_CLASSES`` and its samplers in
:mod:`probgen.backends.samplers`. ``tests/test_backends.py`` checks that every
backend implements every method of the contract with the same signature, and the
contract tests hold its densities and random generators equal to the others'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from probgen.data import ModelData
    from probgen.model import Model
    from probgen.settings import SamplerSettings

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

Arrays = dict[str, np.ndarray]


@dataclass
class RawFit:
    """Draws and statistics of one fit, as NumPy arrays shaped (chain, draw, ...).

    ``sample_stats`` holds every name of :data:`STAT_NAMES`; ``attrs`` the
    provenance (inference library and version, sampler, precision, timings).
    """

    posterior: Arrays
    sample_stats: Arrays
    log_likelihood: Arrays
    attrs: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """What a backend provides. Every method takes the model and its validated data.

    Conventions: "params" are constrained (natural-scale) values of the
    model's latent sample sites; draws are NumPy arrays shaped
    ``(chain, draw, ...)``; ``seed`` is a non-negative int and the same seed
    gives the same result on the same machine.
    """

    #: the name users pass as ``backend=``
    name: str

    def fit(
        self, model: Model, data: ModelData, settings: SamplerSettings, *, progress: bool
    ) -> RawFit:
        """Run NUTS with ``settings`` (sampler, chains, draws, ...); draws, stats, log lik."""
        ...

    def prior_predictive(
        self, model: Model, data: ModelData, *, draws: int, seed: int
    ) -> tuple[Arrays, Arrays]:
        """``draws`` joint draws from the prior: (latent variables, observed sites),
        each shaped (1, draws, ...). Observed values in ``data`` are ignored."""
        ...

    def posterior_predictive(
        self, model: Model, data: ModelData, posterior: Mapping[str, np.ndarray], *, seed: int
    ) -> Arrays:
        """One replicate of every observed site per posterior draw, (chain, draw, ...),
        generated at ``data``'s covariates (new ones for out-of-sample prediction)."""
        ...

    def log_likelihood(
        self, model: Model, data: ModelData, posterior: Mapping[str, np.ndarray]
    ) -> Arrays:
        """Pointwise log likelihood of every observed site of ``data`` at every draw,
        (chain, draw, *observed dims)): the data may be new (held-out) observations
        at the fit's parameters. ``posterior`` holds the latent variables' draws."""
        ...

    def simulate(
        self,
        model: Model,
        data: ModelData,
        *,
        params: Mapping[str, Any] | None,
        seed: int,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """One whole data set: (the data with observed sites generated, the parameters
        used). Parameters come from ``params`` (every latent sample site) or the prior."""
        ...

    def random_points(self, model: Model, data: ModelData, *, n: int, seed: int) -> list[Arrays]:
        """``n`` random points in the support: constrained values of every latent
        sample site (unconstrained values uniform in (-2, 2), mapped to the support)."""
        ...

    def log_density_fn(self, model: Model, data: ModelData) -> Callable[[Mapping], float]:
        """A function: constrained params -> log joint density, no Jacobian (built once)."""
        ...


def initial_points(
    model: Model, data: ModelData, chains: int, seed: int
) -> list[dict[str, np.ndarray]] | None:
    """The model's starting point for each chain (:meth:`Model.initial_point`), or None.

    One generator seeded from ``seed`` serves every chain, so both backends
    start a fit with the same seed from the same points.
    """
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(chains):
        point = model.initial_point(data, rng)
        if point is None:
            return None
        points.append({name: np.asarray(value, dtype=float) for name, value in point.items()})
    return points


def tree_depth_from_steps(n_steps: np.ndarray) -> np.ndarray:
    """Depth of a NUTS trajectory from its number of leapfrog steps.

    A tree of depth d holds between 2**(d-1) and 2**d - 1 steps, so
    d = floor(log2(n)) + 1.
    """
    n = np.maximum(np.asarray(n_steps, dtype=np.int64), 1)
    return (np.floor(np.log2(n)).astype(np.int64) + 1).astype(np.int64)
