"""The samplers, in one table: name -> backend, how it runs, what it needs installed.

Everything that lists, checks or documents samplers (``probgen.sample``, the
CLI's help, the error messages) reads this table. To add a sampler, add a row
and teach the backend's ``fit`` to run it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from probgen.errors import UnknownNameError


@dataclass(frozen=True)
class Sampler:
    """One way to run NUTS.

    Attributes
    ----------
    name : str
        What users pass as ``sampler=``.
    backend : str
        The backend whose twin it samples (``"numpyro"`` or ``"pymc"``).
    runs : str
        How it runs, in a few words (shown by the CLI).
    requires : tuple of str
        Import names it needs beyond probgen's core dependencies.
    extra : str or None
        The ``pip install 'probgen[extra]'`` that provides them.
    """

    name: str
    backend: str
    runs: str
    requires: tuple[str, ...] = ()
    extra: str | None = None

    def missing(self) -> list[str]:
        """Required packages that are not installed."""
        return [pkg for pkg in self.requires if importlib.util.find_spec(pkg) is None]


#: every sampler; the first row of a backend is its default
SAMPLERS: tuple[Sampler, ...] = (
    Sampler("numpyro", "numpyro", "NumPyro's NUTS on the NumPyro twin (JAX, compiled once)"),
    Sampler("pymc", "pymc", "PyMC's own NUTS on the PyMC twin, one process per chain"),
    Sampler(
        "nutpie",
        "pymc",
        "nutpie's Rust NUTS on the PyMC twin's compiled log density",
        ("nutpie",),
        "nutpie",
    ),
    Sampler("numpyro", "pymc", "NumPyro's NUTS on the PyMC twin's JAX log density"),
    Sampler(
        "blackjax",
        "pymc",
        "BlackJAX window adaptation + NUTS on the PyMC twin's JAX log density",
        ("blackjax",),
        "blackjax",
    ),
)

BACKENDS: tuple[str, ...] = tuple(dict.fromkeys(s.backend for s in SAMPLERS))


def samplers_of(backend: str) -> tuple[Sampler, ...]:
    """The samplers of one backend, its default first."""
    return tuple(s for s in SAMPLERS if s.backend == backend)


def check_backend(backend: object) -> str:
    """``backend`` if it is a known backend name, else an error listing them."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise UnknownNameError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend


def get_sampler(backend: str, sampler: object = None) -> Sampler:
    """The sampler row for ``backend`` (its default when ``sampler`` is None).

    Raises UnknownNameError for a name the backend does not run, and ImportError
    (naming the extra to install) when the sampler's package is missing.
    """
    rows = samplers_of(check_backend(backend))
    if sampler is None:
        row = rows[0]
    else:
        match = [s for s in rows if s.name == sampler]
        if not match:
            raise UnknownNameError(
                f"unknown sampler {sampler!r} for backend {backend!r}; choose one of "
                f"{', '.join(s.name for s in rows)}"
            )
        row = match[0]
    missing = row.missing()
    if missing:
        hint = f"pip install 'probgen[{row.extra}]'" if row.extra else f"pip install {missing[0]}"
        raise ImportError(
            f"sampler {row.name!r} needs the {', '.join(map(repr, missing))} package; "
            f"install it ({hint})"
        )
    return row


def describe_samplers() -> str:
    """One line per sampler, for help texts."""
    return "; ".join(f"{s.backend}/{s.name}: {s.runs}" for s in SAMPLERS)
