"""Process-wide JAX set-up: host device count and floating-point precision.

Both must be decided before JAX creates its backends, which is why ``probgen``
imports this module first. Nothing here imports PyMC: PyTensor's JAX linker flips
``jax_enable_x64`` on at import, so every NumPyro entry point re-asserts the
precision chosen here (see :func:`apply_precision`) instead of trusting the global
flag.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager

_PRECISIONS = ("float64", "float32")
_state: dict[str, object] = {"precision": None, "host_devices": None}


def _default_host_devices() -> int:
    env = os.environ.get("PROBGEN_HOST_DEVICES")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(
                f"PROBGEN_HOST_DEVICES must be a positive integer, got {env!r}"
            ) from None
        if n < 1:
            raise ValueError(f"PROBGEN_HOST_DEVICES must be a positive integer, got {n}")
        return n
    # Four chains is the common default; give every chain its own CPU device so
    # NumPyro's "parallel" chain method does not fall back to sequential.
    return max(4, os.cpu_count() or 1)


def configure_host_devices() -> None:
    """Ask XLA for several CPU devices so chains run in parallel on CPU.

    Has an effect only before JAX initialises its backends; afterwards it warns
    once and NumPyro will run chains sequentially or vectorized instead.
    """
    if _state["host_devices"] is not None:
        return
    n = _default_host_devices()
    jax_initialised = False
    if "jax" in sys.modules:
        try:
            from jax._src import xla_bridge

            jax_initialised = bool(xla_bridge._backends)
        except Exception:  # private API moved: assume the worst, but do not fail
            jax_initialised = False
    if jax_initialised:
        warnings.warn(
            "JAX was initialised before probgen was imported; NumPyro chains on CPU "
            "will not run in parallel. Import probgen first to fix this.",
            RuntimeWarning,
            stacklevel=3,
        )
    else:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_force_host_platform_device_count" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()
    _state["host_devices"] = n


def get_precision() -> str:
    """Return the floating-point precision used by the JAX (NumPyro) backend.

    Default: ``PROBGEN_PRECISION`` when set, else float64 on CPU and float32 on
    accelerators.
    """
    if _state["precision"] is None:
        env = os.environ.get("PROBGEN_PRECISION")
        if env:
            _state["precision"] = _check_precision(env, "PROBGEN_PRECISION")
        else:
            import jax

            _state["precision"] = "float64" if jax.default_backend() == "cpu" else "float32"
    return str(_state["precision"])


def _check_precision(value: object, name: str = "precision") -> str:
    if value not in _PRECISIONS:
        raise ValueError(f"{name} must be one of {_PRECISIONS}, got {value!r}")
    return str(value)


def set_precision(precision: str) -> None:
    """Set the floating-point precision for both backends.

    Parameters
    ----------
    precision : {"float64", "float32"}
        NumPyro runs with ``jax_enable_x64`` set accordingly; PyMC runs with
        ``pytensor.config.floatX`` set to the same type.
    """
    _state["precision"] = _check_precision(precision)
    apply_precision()


def apply_precision() -> str:
    """Make JAX's global x64 flag match probgen's precision; return the precision."""
    import jax

    precision = get_precision()
    want = precision == "float64"
    if bool(jax.config.read("jax_enable_x64")) != want:
        jax.config.update("jax_enable_x64", want)
    return precision


@contextmanager
def preserved_jax_precision():
    """Restore JAX's x64 flag after code (PyMC's JAX samplers) that may flip it."""
    import jax

    before = bool(jax.config.read("jax_enable_x64"))
    try:
        yield
    finally:
        if bool(jax.config.read("jax_enable_x64")) != before:
            jax.config.update("jax_enable_x64", before)
