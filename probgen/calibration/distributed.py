"""Simulation-based calibration campaigns on Dask distributed workers.

:func:`run_on_dask` sends chunks of simulation indices to Dask workers, each
chunk one task that calls :func:`probgen.calibration.campaign.run_batch` (many
fits in one compiled program, not one task per fit). Every simulation is seeded
from ``(seed, index)`` alone, so a campaign gives the same ranks whether it ran
in a local loop, batched, or on a cluster, and whichever worker ran an index.

The worker set-up follows what JAX and PyMC need:

* worker processes are *spawned*, never forked (forking a process in which JAX
  has started threads can deadlock), with one thread each;
* ``JAX_PLATFORMS``, ``XLA_FLAGS`` and probgen's own variables are set through
  the cluster's ``env`` before the worker imports anything, and each task sets
  probgen's precision to the caller's, so workers compute in the same precision;
* :class:`PyTensorCompileDir`, a worker plugin, gives each worker its own
  PyTensor compile directory before PyTensor is imported (workers sharing one
  directory serialise on its lock, and a worker killed mid-compilation can leave
  it locked for the others);
* PyMC's own sampler runs its chains with ``cores=1``: Dask workers are daemon
  processes, which may not start the child processes PyMC would otherwise use.

Failed tasks are retried (``retries``); a batch that still fails is split into
single simulations so that one bad index does not take its batch-mates with it,
and an index whose task still fails comes back as a
:class:`~probgen.calibration.campaign.SimulationResult` with ``error`` set. No
index is ever dropped.

Dask is an optional dependency (``pip install probgen[dask]``), imported only
when a campaign runs on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import numbers
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

    from probgen.calibration.campaign import SimulationResult
    from probgen.model import Model

#: the extra that installs Dask for probgen
DASK_EXTRA = "pip install probgen[dask]"

#: probgen's environment variables that workers inherit from the caller
_PROBGEN_ENV = (
    "PROBGEN_PRECISION",
    "PROBGEN_HOST_DEVICES",
    "PROBGEN_COMPILATION_CACHE",
    "XDG_CACHE_HOME",
)


def import_distributed():
    """Import :mod:`distributed`, or raise an ImportError naming the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "running SBC on Dask needs dask.distributed, which is not installed; "
            f"install it with `{DASK_EXTRA}` (or run the campaign without a scheduler)"
        ) from exc
    return distributed


# --------------------------------------------------------------------------- chunks


def check_indices(indices: Iterable[int]) -> list[int]:
    """Validate simulation indices: distinct non-negative integers, at least one.

    Raises
    ------
    TypeError, ValueError
        Naming ``indices`` and the offending value.
    """
    if isinstance(indices, str | bytes) or not isinstance(indices, Iterable):
        raise TypeError(f"indices must be a sequence of integers, got {type(indices).__name__}")
    out = []
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"indices must be integers, got {type(i).__name__} {i!r}")
        if i < 0:
            raise ValueError(f"indices must be non-negative, got {i}")
        out.append(int(i))
    if not out:
        raise ValueError("indices is empty: there is no simulation to run")
    if len(set(out)) != len(out):
        dup = sorted({i for i in out if out.count(i) > 1})
        raise ValueError(f"indices must be distinct, got repeated {dup}")
    return out


def chunk_indices(indices: Sequence[int], batch_size: int) -> list[list[int]]:
    """Split ``indices`` (in the order given) into consecutive chunks of ``batch_size``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    return [list(indices[k : k + batch_size]) for k in range(0, len(indices), batch_size)]


def single_core(settings: Any) -> Any:
    """The campaign settings with PyMC's ``cores=1`` where PyMC's own sampler runs.

    Dask workers are daemon processes, and a daemon may not start children; PyMC's
    sampler would start one per chain. Other samplers run in-process and are left
    as they are. ``settings`` is a
    :class:`~probgen.calibration.campaign.SBCSettings` (its ``sampler``), a
    :class:`~probgen.settings.SamplerSettings` or None (the campaign's default,
    which already runs PyMC with one core); the same kind comes back.
    """
    from probgen.settings import SamplerSettings

    if isinstance(settings, SamplerSettings):
        if (settings.backend, settings.sampler) == ("pymc", "pymc") and settings.cores != 1:
            return dataclasses.replace(settings, cores=1)
        return settings
    sampler = getattr(settings, "sampler", None)
    if isinstance(sampler, SamplerSettings):
        fixed = single_core(sampler)
        return settings if fixed is sampler else dataclasses.replace(settings, sampler=fixed)
    return settings


# --------------------------------------------------------------------------- workers


def _safe_name(name: object) -> str:
    """A worker's name or address as a directory name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("_") or "worker"


def pytensor_flags_with_base(flags: str, base: str) -> str:
    """``PYTENSOR_FLAGS`` with its compile directory replaced by ``base``.

    Earlier ``compiledir``/``base_compiledir`` entries are removed (not just
    overridden), so the worker's own directory is the only one named.
    """
    kept = [
        f
        for f in flags.split(",")
        if f.strip() and f.split("=", 1)[0].strip() not in ("compiledir", "base_compiledir")
    ]
    return ",".join([*kept, f"base_compiledir={base}"])


class _CompileDirSetup:
    """What :class:`PyTensorCompileDir` does, apart from the Dask base class."""

    name = "probgen-pytensor-compiledir"

    def __init__(self, root: str) -> None:
        self.root = str(root)
        self.status = "not set up"

    def setup(self, worker) -> None:
        path = Path(self.root) / f"worker-{_safe_name(worker.name)}"
        if "pytensor" in sys.modules:
            # PyTensor reads its flags once, at import: too late to move it. (A
            # second registration finds the directory the first one set.)
            actual = str(sys.modules["pytensor"].config.base_compiledir)
            self.status = (
                actual
                if actual == str(path)
                else f"pytensor was imported before the plugin ran; it compiles in {actual}"
            )
            return
        path.mkdir(parents=True, exist_ok=True)
        os.environ["PYTENSOR_FLAGS"] = pytensor_flags_with_base(
            os.environ.get("PYTENSOR_FLAGS", ""), str(path)
        )
        self.status = str(path)

    def teardown(self, worker) -> None:
        return None


@functools.cache
def _plugin_class() -> type:
    """:class:`PyTensorCompileDir`, built on first use so that importing this module
    does not import Dask (an optional dependency)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    cls = type(
        "PyTensorCompileDir",
        (_CompileDirSetup, WorkerPlugin),
        {
            "__module__": __name__,
            "__qualname__": "PyTensorCompileDir",
            "__doc__": """Dask worker plugin: a PyTensor compile directory of the worker's own.

    On each worker's start-up it points ``PYTENSOR_FLAGS`` at
    ``<root>/worker-<name>``. PyTensor reads its flags once, at import, so this
    has an effect only when PyTensor is not yet imported in that worker, which is
    the case in freshly spawned workers; otherwise it leaves the directory alone
    and records why in ``status`` (see :func:`worker_compile_dirs`).

    Parameters
    ----------
    root : str
        The parent of the per-worker directories.
    """,
        },
    )
    return cls


def __getattr__(name: str) -> Any:
    # the plugin class exists once Dask is importable; pickle finds it here by name
    if name == "PyTensorCompileDir":
        return _plugin_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_compile_root() -> Path:
    """Where the per-worker PyTensor compile directories go: probgen's cache dir."""
    from probgen._runtime import default_cache_dir

    return default_cache_dir() / "pytensor-dask"


def worker_env(precision: str) -> dict[str, str]:
    """Environment of spawned workers: CPU JAX, the caller's XLA flags and probgen set-up.

    ``XLA_FLAGS`` carries the host device count probgen asked for at import
    (:mod:`probgen._runtime`); ``PROBGEN_PRECISION`` the caller's precision, so that
    a worker's first JAX use is already in it.
    """
    env = {
        "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS") or "cpu",
        "PROBGEN_PRECISION": precision,
    }
    if os.environ.get("XLA_FLAGS"):
        env["XLA_FLAGS"] = os.environ["XLA_FLAGS"]
    for key in _PROBGEN_ENV:
        if key not in env and os.environ.get(key):
            env[key] = os.environ[key]
    return env


def worker_compile_dirs(client: Client) -> dict[str, str]:
    """Each worker's PyTensor compile directory status (its path, or why it is unset)."""

    def _status(dask_worker) -> str:
        plugin = dask_worker.plugins.get(_CompileDirSetup.name)
        return getattr(plugin, "status", "no plugin")

    return client.run(_status)


def run_chunk(
    model: Model,
    config: Mapping[str, Any],
    backend: str,
    indices: Sequence[int],
    *,
    seed: int,
    settings: Any,
    precision: str,
    simulate_with: Any = None,
    test_quantities: Any = ("loglik",),
) -> list[SimulationResult]:
    """One Dask task: :func:`~probgen.calibration.campaign.run_batch` on ``indices``.

    Runs in the worker: sets the caller's precision, then fits the batch.
    ``model`` arrives as the configured instance the caller built (pickled), not
    as a registry name: a model registered only in the caller's process
    (``register_model``, a class defined in a notebook) is unknown to the
    workers' registries. ``config`` is its configuration, for the record.
    """
    import probgen  # noqa: F401  (JAX set-up before any backend loads)
    from probgen._runtime import set_precision
    from probgen.calibration.campaign import run_batch

    set_precision(precision)
    return run_batch(
        model,
        backend,
        list(indices),
        seed=seed,
        settings=settings,
        simulate_with=simulate_with,
        test_quantities=test_quantities,
    )


# --------------------------------------------------------------------------- client


@contextlib.contextmanager
def _client(scheduler: Any, *, n_workers: int | None, precision: str):
    """A Dask client for ``scheduler``; closes what it opened, however it exits.

    ``None`` or ``"local"``: a new LocalCluster of spawned single-thread worker
    processes; a string: the address of a running scheduler; a
    :class:`distributed.Client`: used as it is and left open.
    """
    distributed = import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if scheduler is None or scheduler == "local":
        import dask

        n = n_workers or max(1, os.cpu_count() or 1)
        # spawned, never forked: JAX may already run threads in this process
        with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=worker_env(precision),
            )
        try:
            client = distributed.Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise TypeError(
            "scheduler must be None or 'local' (a new local cluster), a scheduler "
            f"address such as 'tcp://host:8786', or a distributed.Client; got {scheduler!r}"
        )
    try:
        client = distributed.Client(scheduler, timeout=30)
    except OSError as exc:
        raise ValueError(f"cannot connect to the Dask scheduler at {scheduler!r}: {exc}") from None
    try:
        yield client
    finally:
        client.close()


def _failed(indices: Sequence[int], seed: int, error: str) -> list[SimulationResult]:
    from probgen.calibration.campaign import SimulationResult

    # as the campaign stores a simulation that raised: no ranks, no diagnostics
    return [
        SimulationResult(index=i, seed=seed, ranks={}, n_draws=0, diagnostics={}, error=error)
        for i in indices
    ]


def _describe(exc: BaseException | None, retries: int) -> str:
    """An exception as the line stored with a failed simulation."""
    if exc is None:
        return "the Dask task was cancelled"
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    tries = f"{retries + 1} attempt" + ("s" if retries else "")
    return f"failed on Dask after {tries}: {text}"


def _check_result(chunk: Sequence[int], results: Any, seed: int) -> list[SimulationResult]:
    """The task's results for exactly ``chunk``; an index it lost comes back as an error."""
    by_index = {}
    for r in results if isinstance(results, list | tuple) else []:
        if getattr(r, "index", None) in chunk:
            by_index[r.index] = r
    out = []
    for i in chunk:
        if i in by_index:
            out.append(by_index[i])
        else:
            out.extend(_failed([i], seed, "the Dask task returned no result for this index"))
    return out


def run_on_dask(
    model_name: str | Model,
    config: Mapping[str, Any] | None,
    backend: str,
    indices: Iterable[int],
    *,
    seed: int,
    settings: Any,
    batch_size: int,
    scheduler: Any = None,
    retries: int = 2,
    on_result: Callable[[list[SimulationResult]], None] | None = None,
    simulate_with: Any = None,
    test_quantities: Any = ("loglik",),
    n_workers: int | None = None,
    compile_dir: str | os.PathLike | None = None,
    progress: bool = False,
    task: Callable[..., list[SimulationResult]] | None = None,
) -> list[SimulationResult]:
    """Run simulations of an SBC campaign on Dask, a batch per task.

    Parameters
    ----------
    model_name : str or Model
        A registered model name, built here with ``get_model(model_name,
        **config)``, or a configured Model instance (then ``config`` is None).
        The instance is what the workers receive (pickled), so a model
        registered or defined only in this process runs on them too.
    config : mapping or None
        The model's configuration.
    backend : {"numpyro", "pymc"}
        The backend that fits.
    indices : iterable of int
        The simulations to run (distinct, non-negative). Simulation ``i`` is
        seeded from ``(seed, i)`` alone, so it gives the same ranks on any worker.
    seed : int
        The campaign's seed.
    settings : SBCSettings or None
        How every fit runs (:func:`probgen.calibration.campaign.sbc_settings`),
        passed to ``run_batch``; None, its default. PyMC's own sampler is given
        ``cores=1`` (see :func:`single_core`).
    batch_size : int
        Simulations per task: each task runs ``run_batch`` on that many indices.
    scheduler : None, "local", str or distributed.Client
        None or ``"local"``: a new LocalCluster (spawned processes, one thread
        each, ``n_workers`` of them), closed on return; an address
        (``"tcp://host:8786"``): a running scheduler, whose workers must be able
        to import probgen; a Client: used and left open.
    retries : int
        How many times Dask reruns a task that raised or whose worker died.
    on_result : callable, optional
        Called with each batch's list of results as soon as the batch finishes
        (in completion order), in the calling process, e.g. to write it to disk.
        An exception it raises cancels the remaining tasks and propagates.
    simulate_with, test_quantities
        Passed to ``run_batch`` as given (they must pickle; cloudpickle sends
        them, lambdas included). ``test_quantities`` defaults to ``run_batch``'s.
    n_workers : int, optional
        Workers of a new LocalCluster; default the CPU count, at most the number
        of batches.
    compile_dir : path, optional
        Parent of the per-worker PyTensor compile directories; default
        ``<probgen cache dir>/pytensor-dask``.
    progress : bool
        Print a line to stderr as each batch finishes.
    task : callable, optional
        The function each task runs, called as ``task(model, config, backend,
        chunk, seed=, settings=, precision=, simulate_with=, test_quantities=)``
        with the model instance; default :func:`run_chunk`. For custom runners
        and tests.

    Returns
    -------
    list of SimulationResult
        One per index, sorted by index. A simulation whose task still failed
        after the retries, alone, has ``error`` set (its exception) and no ranks.

    Raises
    ------
    ImportError
        When dask.distributed is not installed (names ``pip install probgen[dask]``).
    TypeError, ValueError
        Bad arguments, before any cluster starts; an unreachable scheduler.
    """
    from probgen._runtime import get_precision
    from probgen.model import Model
    from probgen.registry import get_model

    import_distributed()  # a missing extra is reported before anything else
    config = {} if config is None else dict(config)
    if isinstance(model_name, Model):
        model = model_name
        if config and config != model.get_config():
            raise ValueError(
                f"config={config!r} differs from the configuration of the model given, "
                f"{model!r}; pass config=None with a model instance"
            )
        config = model.get_config()
    elif isinstance(model_name, str):
        # an unknown name or a bad configuration fails here, before any cluster
        # starts; the instance is what the workers receive (see run_chunk)
        model = get_model(model_name, **config)
    else:
        raise TypeError(
            "model_name must be a registered model's name (str) or a probgen Model, "
            f"got {type(model_name).__name__}"
        )
    if backend not in ("numpyro", "pymc"):
        raise ValueError(f"backend must be 'numpyro' or 'pymc', got {backend!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(retries, bool) or not isinstance(retries, numbers.Integral) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, got {retries!r}")
    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, numbers.Integral) or n_workers < 1
    ):
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
    if on_result is not None and not callable(on_result):
        raise TypeError(f"on_result must be callable, got {type(on_result).__name__}")
    indices = check_indices(indices)
    chunks = chunk_indices(indices, batch_size)
    task = run_chunk if task is None else task
    settings = single_core(settings)
    precision = get_precision()
    root = Path(compile_dir) if compile_dir is not None else default_compile_root()
    if n_workers is None:
        n_workers = min(len(chunks), max(1, os.cpu_count() or 1))

    distributed = import_distributed()
    results: dict[int, SimulationResult] = {}
    common = {
        "seed": seed,
        "settings": settings,
        "precision": precision,
        "simulate_with": simulate_with,
        "test_quantities": test_quantities,
    }

    with _client(scheduler, n_workers=n_workers, precision=precision) as client:
        client.register_plugin(_plugin_class()(str(root)), name=_CompileDirSetup.name)

        def submit(chunk: list[int]):
            # pure=False: a rerun of the same chunk is a new task, never a cached result
            return client.submit(
                task, model, config, backend, chunk, **common, retries=retries, pure=False
            )

        pending = {submit(c): (c, True) for c in chunks}
        done = 0
        queue = distributed.as_completed(list(pending))
        try:
            for future in queue:
                chunk, is_batch = pending.pop(future)
                if future.status == "finished":
                    batch = _check_result(chunk, future.result(), seed)
                elif is_batch and len(chunk) > 1:
                    # the batch failed even after its retries: run its simulations one
                    # by one, so that only the index that fails is reported as failed
                    for i in chunk:
                        single = submit([i])
                        pending[single] = ([i], False)
                        queue.add(single)
                    continue
                else:
                    try:
                        exc = future.exception()
                    except Exception:  # a cancelled future has no exception to give
                        exc = None
                    batch = _failed(chunk, seed, _describe(exc, retries))
                future.release()
                for r in batch:
                    results[r.index] = r
                done += len(batch)
                if progress:
                    bad = sum(r.error is not None for r in batch)
                    print(
                        f"sbc: {done}/{len(indices)} simulations done"
                        + (f" ({bad} failed in this batch)" if bad else ""),
                        file=sys.stderr,
                    )
                if on_result is not None:
                    on_result(batch)
        except BaseException:
            # KeyboardInterrupt, or on_result failing: stop the cluster's work too
            with contextlib.suppress(Exception):
                client.cancel(list(pending))
            raise
    return [results[i] for i in sorted(results)]
