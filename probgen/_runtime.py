"""Process-wide JAX set-up: host device count, floating-point precision and the
persistent compilation cache.

The device count must be decided before JAX creates its backends, which is why
``probgen`` imports this module first. Nothing here imports PyMC: PyTensor's JAX
linker flips ``jax_enable_x64`` on at import, so every NumPyro entry point
re-asserts the precision chosen here (see :func:`apply_precision`) instead of
trusting the global flag.

JAX's persistent compilation cache keeps compiled XLA programs on disk so that a
new process does not compile them again (see :func:`configure_compilation_cache`;
``PROBGEN_COMPILATION_CACHE=0`` turns it off, a path moves it).
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

_PRECISIONS = ("float64", "float32")
_state: dict[str, object] = {
    "precision": None,
    "host_devices": None,
    "compilation_cache": None,  # None: not configured yet; then the path or "off"
}

#: values of ``PROBGEN_COMPILATION_CACHE`` that turn the persistent cache off
_OFF = ("0", "false", "no", "off")

#: programs that compile faster than this are not written to the persistent cache
#: (JAX's default is 1 s, which would skip probgen's predictive and log-likelihood
#: programs; below ~0.1 s the files would be JAX's many one-operation programs)
PERSISTENT_CACHE_MIN_COMPILE_SECS = 0.2


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
    """Make JAX's global x64 flag match probgen's precision; return the precision.

    Also sets up the persistent compilation cache (once), since every NumPyro
    entry point calls this before compiling anything.
    """
    import jax

    configure_compilation_cache()
    precision = get_precision()
    want = precision == "float64"
    if bool(jax.config.read("jax_enable_x64")) != want:
        jax.config.update("jax_enable_x64", want)
    return precision


@contextmanager
def preserved_jax_precision():
    """Restore JAX's x64 flag after code (PyMC's JAX samplers) that may flip it."""
    import jax

    configure_compilation_cache()
    before = bool(jax.config.read("jax_enable_x64"))
    try:
        yield
    finally:
        if bool(jax.config.read("jax_enable_x64")) != before:
            jax.config.update("jax_enable_x64", before)


def default_cache_dir() -> Path:
    """The user's cache directory for probgen (``probgen/jax`` inside it holds JAX's).

    ``$XDG_CACHE_HOME/probgen`` when that is set (an absolute path), else the
    platform's usual place: ``~/Library/Caches/probgen`` on macOS,
    ``%LOCALAPPDATA%\\probgen\\Cache`` on Windows, ``~/.cache/probgen`` elsewhere.
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative value is ignored
        return Path(xdg) / "probgen"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "probgen"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "probgen" / "Cache"
    return Path.home() / ".cache" / "probgen"


def compilation_cache_dir() -> Path | None:
    """Where JAX's persistent compilation cache goes, or None when it is off.

    ``PROBGEN_COMPILATION_CACHE`` decides: unset or empty, the default
    ``<user cache dir>/jax`` (:func:`default_cache_dir`); ``0``, ``false``, ``no``
    or ``off``, no persistent cache; anything else, the directory to use.
    """
    env = os.environ.get("PROBGEN_COMPILATION_CACHE", "").strip()
    if env.lower() in _OFF:
        return None
    if env:
        return Path(env).expanduser().resolve()
    return default_cache_dir() / "jax"


def configure_compilation_cache() -> str | None:
    """Point JAX's persistent compilation cache at :func:`compilation_cache_dir` (once).

    Takes effect for every program JAX compiles afterwards in this process. A
    cache directory the user gave JAX itself (``JAX_COMPILATION_CACHE_DIR`` or
    ``jax.config``) is left as it is, and so are JAX's thresholds then. A
    directory that cannot be created turns the cache off with a warning.

    Returns
    -------
    str or None
        The directory in use, or None when there is no persistent cache.
    """
    if _state["compilation_cache"] is not None:
        return None if _state["compilation_cache"] == "off" else str(_state["compilation_cache"])
    import jax

    theirs = jax.config.jax_compilation_cache_dir
    if theirs:
        _state["compilation_cache"] = str(theirs)
        return str(theirs)
    path = compilation_cache_dir()
    if path is not None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            warnings.warn(
                f"probgen cannot create its compilation cache at {str(path)!r} ({exc}); "
                "every new process compiles its models again. Set "
                "PROBGEN_COMPILATION_CACHE to a writable directory, or to 0 to "
                "silence this.",
                RuntimeWarning,
                stacklevel=3,
            )
            path = None
    if path is None:
        _state["compilation_cache"] = "off"
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update(
        "jax_persistent_cache_min_compile_time_secs", PERSISTENT_CACHE_MIN_COMPILE_SECS
    )
    # entries of any size: the small programs are the ones compiled most often
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    _state["compilation_cache"] = str(path)
    return str(path)
