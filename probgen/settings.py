"""Checking sampler arguments before anything is compiled."""

from __future__ import annotations

import importlib.util
import numbers
from dataclasses import asdict, dataclass

from probgen.backends import BACKENDS, SAMPLERS
from probgen.errors import UnknownNameError


def check_backend(backend: object) -> str:
    if backend not in BACKENDS:
        raise UnknownNameError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return str(backend)


def check_sampler(backend: str, sampler: object) -> str:
    """Resolve the sampler of a backend (explicit for PyMC: never its own default)."""
    choices = SAMPLERS[backend]
    if sampler is None:
        return choices[0]
    if sampler not in choices:
        raise UnknownNameError(
            f"unknown sampler {sampler!r} for backend {backend!r}; choose one of "
            f"{', '.join(choices)}"
        )
    needs = {"nutpie": "nutpie", "blackjax": "blackjax", "numpyro": "numpyro"}
    if sampler in needs and importlib.util.find_spec(needs[sampler]) is None:
        raise ImportError(
            f"sampler {sampler!r} needs the {needs[sampler]!r} package; install it "
            f"(pip install 'probgen[{needs[sampler]}]')"
        )
    return str(sampler)


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
    """Every setting of a NUTS run, validated."""

    backend: str
    sampler: str
    chains: int
    draws: int
    warmup: int
    seed: int
    target_accept: float
    max_tree_depth: int
    dense_mass: bool

    def as_attrs(self) -> dict:
        return asdict(self)


def make_settings(
    *,
    backend,
    sampler,
    chains,
    draws,
    warmup,
    seed,
    target_accept,
    max_tree_depth,
    dense_mass,
) -> SamplerSettings:
    backend = check_backend(backend)
    if not isinstance(dense_mass, bool):
        raise TypeError(f"dense_mass must be True or False, got {dense_mass!r}")
    return SamplerSettings(
        backend=backend,
        sampler=check_sampler(backend, sampler),
        chains=check_count("chains", chains),
        draws=check_count("draws", draws),
        warmup=check_count("warmup", warmup, minimum=0),
        seed=check_count("seed", seed, minimum=0),
        target_accept=check_probability("target_accept", target_accept),
        max_tree_depth=check_count("max_tree_depth", max_tree_depth),
        dense_mass=dense_mass,
    )
