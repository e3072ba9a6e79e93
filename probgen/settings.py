"""Checking sampler arguments before anything is compiled."""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

from probgen.backends.samplers import check_backend, get_sampler

CHAIN_METHODS = ("parallel", "vectorized", "sequential")


def check_count(name: str, value: object, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        what = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {what}, got {value}")
    return int(value)


def check_probability(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SamplerSettings:
    """Every setting of a NUTS run, validated (the one argument of ``Backend.fit``).

    ``chain_method`` applies to NumPyro's own sampler (None: parallel over CPU
    devices when there are enough, vectorized on accelerators); ``cores`` to
    PyMC's own sampler (None: one process per chain, up to the CPU count).
    """

    backend: str
    sampler: str
    chains: int
    draws: int
    warmup: int
    seed: int
    target_accept: float
    max_tree_depth: int
    dense_mass: bool
    chain_method: str | None = None
    cores: int | None = None

    def as_attrs(self) -> dict:
        return asdict(self)


def make_settings(
    *,
    backend,
    sampler=None,
    chains=4,
    draws=1000,
    warmup=1000,
    seed=0,
    target_accept=0.8,
    max_tree_depth=10,
    dense_mass=False,
    chain_method=None,
    cores=None,
) -> SamplerSettings:
    """Validate every sampler argument, naming the bad one; return the settings."""
    backend = check_backend(backend)
    row = get_sampler(backend, sampler)
    if not isinstance(dense_mass, bool):
        raise TypeError(f"dense_mass must be True or False, got {dense_mass!r}")
    if chain_method is not None:
        if chain_method not in CHAIN_METHODS:
            raise ValueError(
                f"chain_method must be one of {', '.join(map(repr, CHAIN_METHODS))}, "
                f"got {chain_method!r}"
            )
        if (backend, row.name) != ("numpyro", "numpyro"):
            raise ValueError("chain_method applies to the numpyro backend only")
    if cores is not None:
        cores = check_count("cores", cores)
        if (backend, row.name) != ("pymc", "pymc"):
            raise ValueError("cores applies to PyMC's own sampler only (backend='pymc')")
    return SamplerSettings(
        backend=backend,
        sampler=row.name,
        chains=check_count("chains", chains),
        draws=check_count("draws", draws),
        warmup=check_count("warmup", warmup, minimum=0),
        seed=check_count("seed", seed, minimum=0),
        target_accept=check_probability("target_accept", target_accept),
        max_tree_depth=check_count("max_tree_depth", max_tree_depth),
        dense_mass=dense_mass,
        chain_method=chain_method,
        cores=cores,
    )
