"""Backends: one per inference library, each implementing :class:`~probgen.backends.base.Backend`.

``numpyro.py`` (NumPyro's NUTS on JAX) and ``pymc/`` (PyMC, with its samplers:
PyMC's NUTS, nutpie, NumPyro and BlackJAX on the PyMC twin). The contract is
written down in :mod:`probgen.backends.base`; the samplers are one table in
:mod:`probgen.backends.samplers`. Backends are imported on first use, so
``import probgen`` loads neither JAX nor PyMC.
"""

from __future__ import annotations

import importlib
from functools import cache

from probgen.backends.base import STAT_NAMES, Backend, RawFit
from probgen.backends.samplers import BACKENDS, SAMPLERS, Sampler, check_backend, get_sampler

#: backend name -> "module:Class"
_BACKEND_CLASSES = {
    "numpyro": "probgen.backends.numpyro:NumPyroBackend",
    "pymc": "probgen.backends.pymc:PyMCBackend",
}


@cache
def get_backend(name: str) -> Backend:
    """The backend called ``name`` (``"numpyro"`` or ``"pymc"``), imported on first use."""
    module, _, cls = _BACKEND_CLASSES[check_backend(name)].partition(":")
    return getattr(importlib.import_module(module), cls)()


__all__ = [
    "BACKENDS",
    "SAMPLERS",
    "STAT_NAMES",
    "Backend",
    "RawFit",
    "Sampler",
    "check_backend",
    "get_backend",
    "get_sampler",
]
