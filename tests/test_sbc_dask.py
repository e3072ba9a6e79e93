"""SBC campaigns on Dask: the same ranks as locally, failures retried and reported.

One local cluster (2 spawned single-thread workers) serves the whole module:
starting one, and importing JAX in its workers, is the slow part.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from probgen._runtime import get_precision
from probgen.calibration.campaign import run_batch, sbc_settings, simulate_and_fit
from probgen.calibration.distributed import (
    _client,
    check_indices,
    chunk_indices,
    pytensor_flags_with_base,
    run_chunk,
    run_on_dask,
    single_core,
    worker_compile_dirs,
)

MODEL = "eight_schools"  # non-centered by default: cheap, no funnel
SEED = 11
INDICES = list(range(4))
BATCH = 2  # one program shape for the batched and the Dask runs


@pytest.fixture(scope="module")
def settings():
    return sbc_settings(MODEL, backend="numpyro", chains=2, draws=100, warmup=100)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A LocalCluster as run_on_dask starts one (spawned workers, env, one thread)."""
    with _client("local", n_workers=2, precision=get_precision()) as c:
        yield c


@pytest.fixture(scope="module")
def compile_root(tmp_path_factory):
    return tmp_path_factory.mktemp("pytensor")


# ------------------------------------------------------------------ cheap checks
def test_chunks_and_indices_are_checked():
    assert chunk_indices([5, 1, 2, 9, 4], 2) == [[5, 1], [2, 9], [4]]
    assert check_indices(range(3)) == [0, 1, 2]
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        chunk_indices([1], 0)
    with pytest.raises(ValueError, match=r"distinct, got repeated \[2\]"):
        check_indices([1, 2, 2])
    with pytest.raises(ValueError, match="non-negative"):
        check_indices([-1])
    with pytest.raises(TypeError, match="integers, got float"):
        check_indices([1.0])
    with pytest.raises(ValueError, match="empty"):
        check_indices([])


def test_bad_arguments_fail_before_a_cluster_starts(settings):
    common = {"seed": 0, "settings": settings, "batch_size": 2, "scheduler": "tcp://nowhere:1"}
    with pytest.raises(Exception, match="unknown model 'nine_schools'"):
        run_on_dask("nine_schools", {}, "numpyro", [0], **common)
    with pytest.raises(Exception, match="centered"):
        run_on_dask(MODEL, {"centered": "yes"}, "numpyro", [0], **common)
    with pytest.raises(ValueError, match="backend must be"):
        run_on_dask(MODEL, {}, "stan", [0], **common)
    with pytest.raises(ValueError, match="retries must be a non-negative integer"):
        run_on_dask(MODEL, {}, "numpyro", [0], **common, retries=-1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        run_on_dask(MODEL, {}, "numpyro", [0], **{**common, "batch_size": 0})
    with pytest.raises(TypeError, match="on_result must be callable"):
        run_on_dask(MODEL, {}, "numpyro", [0], **common, on_result="print")


def test_missing_dask_names_the_extra(monkeypatch, settings):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import raises ImportError
    with pytest.raises(ImportError, match=r"pip install probgen\[dask\]"):
        run_on_dask(MODEL, {}, "numpyro", [0], seed=0, settings=settings, batch_size=1)


def test_pymc_runs_on_one_core_in_workers():
    pymc = sbc_settings(MODEL, backend="pymc")
    many = dataclasses.replace(pymc, sampler=dataclasses.replace(pymc.sampler, cores=4))
    assert single_core(many).sampler.cores == 1
    assert single_core(many.sampler).cores == 1
    assert single_core(pymc) is pymc  # already one core
    numpyro = sbc_settings(MODEL, backend="numpyro")
    assert single_core(numpyro) is numpyro  # in-process samplers are left alone
    assert single_core(None) is None


def test_pytensor_flags_get_the_workers_own_directory():
    flags = "floatX=float64,compiledir=/old,base_compiledir=/older"
    assert pytensor_flags_with_base(flags, "/w/0") == "floatX=float64,base_compiledir=/w/0"
    assert pytensor_flags_with_base("", "/w/1") == "base_compiledir=/w/1"


# ------------------------------------------------------------------ on the cluster
def test_workers_are_set_up_for_jax_and_pytensor(client, compile_root, settings):
    # a campaign of one simulation registers the plugin; then look inside the workers
    run_on_dask(
        MODEL,
        {},
        "numpyro",
        [0, 1],
        seed=SEED,
        settings=settings,
        batch_size=BATCH,
        scheduler=client,
        compile_dir=compile_root,
    )
    dirs = worker_compile_dirs(client)
    assert len(dirs) == 2
    assert all(d.startswith(str(compile_root)) for d in dirs.values()), dirs
    assert len(set(dirs.values())) == 2  # each worker its own

    def env(dask_worker):
        import multiprocessing
        import threading

        return (
            os.environ.get("JAX_PLATFORMS"),
            os.environ.get("PROBGEN_PRECISION"),
            dask_worker.state.nthreads,
            multiprocessing.parent_process() is not None,
            threading.current_thread().daemon,
        )

    for platforms, precision, nthreads, *_ in client.run(env).values():
        assert (platforms, precision, nthreads) == ("cpu", get_precision(), 1)


def test_same_ranks_in_a_loop_batched_and_on_the_cluster(client, compile_root, settings):
    loop = [simulate_and_fit(MODEL, "numpyro", i, seed=SEED, settings=settings) for i in INDICES]
    batched = []
    for chunk in chunk_indices(INDICES, BATCH):
        batched += run_batch(MODEL, "numpyro", chunk, seed=SEED, settings=settings)
    seen: list[list[int]] = []
    on_dask = run_on_dask(
        MODEL,
        {},
        "numpyro",
        INDICES,
        seed=SEED,
        settings=settings,
        batch_size=BATCH,
        scheduler=client.scheduler.address,  # connects a client of its own
        compile_dir=compile_root,
        on_result=lambda batch: seen.append([r.index for r in batch]),
    )
    assert [r.index for r in on_dask] == INDICES
    assert sorted(seen) == [[0, 1], [2, 3]]  # a call per finished batch
    for a, b, c in zip(loop, batched, on_dask, strict=True):
        assert a.error is None and b.error is None and c.error is None
        assert a.ranks == b.ranks == c.ranks
        assert a.n_draws == b.n_draws == c.n_draws
        assert a.diagnostics["divergences"] == c.diagnostics["divergences"]
    # can fail: another campaign seed gives other ranks
    other = run_batch(MODEL, "numpyro", [0], seed=SEED + 1, settings=settings)[0]
    assert other.ranks != loop[0].ranks


def test_a_failing_index_is_retried_then_reported_and_the_others_complete(
    client, compile_root, settings, tmp_path
):
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    bad = 3

    def flaky(model, config, backend, indices, **kwargs):
        # runs on a worker: record the attempt, then fail whenever the bad index is in
        with open(Path(attempts) / f"{os.getpid()}-{os.urandom(4).hex()}", "w") as f:
            f.write(",".join(map(str, indices)))
        if bad in indices:
            raise RuntimeError(f"simulated worker failure on index {bad}")
        return run_chunk(model, config, backend, indices, **kwargs)

    written: list[int] = []
    results = run_on_dask(
        MODEL,
        {},
        "numpyro",
        INDICES,
        seed=SEED,
        settings=settings,
        batch_size=BATCH,
        scheduler=client,
        retries=1,
        compile_dir=compile_root,
        task=flaky,
        on_result=lambda batch: written.extend(r.index for r in batch),
    )
    # nothing dropped: every index comes back, each written exactly once
    assert [r.index for r in results] == INDICES
    assert sorted(written) == INDICES
    failed = [r for r in results if r.error is not None]
    assert [r.index for r in failed] == [bad]
    assert "RuntimeError: simulated worker failure on index 3" in failed[0].error
    assert "2 attempts" in failed[0].error and failed[0].ranks == {}
    # the batch [2, 3] ran twice (retries=1), then its indices alone: 3 twice more
    tried = sorted(p.read_text() for p in attempts.iterdir())
    assert tried.count("2,3") == 2
    assert tried.count("3") == 2 and tried.count("2") == 1
    assert tried.count("0,1") == 1
    # the others complete, with the ranks they have anywhere
    reference = run_batch(MODEL, "numpyro", [0, 1], seed=SEED, settings=settings)
    reference += [simulate_and_fit(MODEL, "numpyro", 2, seed=SEED, settings=settings)]
    for r, ref in zip(results[:3], reference, strict=True):
        assert r.error is None and r.ranks == ref.ranks


def test_an_on_result_failure_stops_the_campaign(client, compile_root, settings):
    def disk_full(batch):
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        run_on_dask(
            MODEL,
            {},
            "numpyro",
            INDICES,
            seed=SEED,
            settings=settings,
            batch_size=BATCH,
            scheduler=client,
            compile_dir=compile_root,
            on_result=disk_full,
        )


@pytest.mark.slow
def test_pymc_campaign_on_the_cluster_matches_the_local_one(client, compile_root):
    # PyMC in daemon workers: one core per fit, each worker compiling in its own directory
    pymc = sbc_settings(MODEL, backend="pymc", chains=2, draws=100, warmup=100)
    local = run_batch(MODEL, "pymc", [0, 1], seed=SEED, settings=pymc)
    on_dask = run_on_dask(
        MODEL,
        {},
        "pymc",
        [0, 1],
        seed=SEED,
        settings=pymc,
        batch_size=1,
        scheduler=client,
        compile_dir=compile_root,
    )
    for a, b in zip(local, on_dask, strict=True):
        assert a.error is None and b.error is None, (a.error, b.error)
        assert a.ranks == b.ranks


def test_a_model_instance_is_accepted_with_a_matching_config(settings):
    from probgen.registry import get_model

    common = {"seed": 0, "settings": settings, "batch_size": 1}
    with pytest.raises(ValueError, match="differs from the configuration"):
        run_on_dask(get_model(MODEL), {"centered": True}, "numpyro", [0], **common)
    with pytest.raises(TypeError, match="name \\(str\\) or a probgen Model"):
        run_on_dask(42, None, "numpyro", [0], **common)
