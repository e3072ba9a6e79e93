"""Simulation-based calibration: ranks, campaigns, storage and power (issue 11).

A one-parameter normal-mean model keeps the campaigns cheap; its misspecified
relatives (a wider simulator prior, a likelihood weighed by 0.2) show that
SBC flags a wrong pipeline, and the right one passes. Every statistical check
has a fixed seed and a threshold that lets it fail.
"""

from __future__ import annotations

import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytest
import xarray as xr
from numpyro import handlers
from scipy import stats

from probgen import Field, Model, ModelData
from probgen.calibration import campaign
from probgen.calibration.campaign import (
    SimulationResult,
    run_batch,
    sbc,
    sbc_settings,
    simulate_and_fit,
)
from probgen.calibration.ranks import (
    pit_values,
    rank_statistics,
    thin_draws,
    thin_factor,
    uniformity_pvalues,
)
from probgen.calibration.results import SBCResult, load_sbc
from probgen.errors import ConfigError


class NormalMean(Model):
    r"""Test model: ``mu ~ Normal(0, prior_scale)``, ``y[i] ~ Normal(mu, 1)``."""

    name = "sbc_normal_mean"
    family = "test"
    summary = "normal mean with known unit scale (SBC tests)"
    fields = (Field("y", ("obs",), observed=True),)

    def __init__(self, prior_scale: float = 1.0):
        self.prior_scale = prior_scale

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"mu": ()}

    def default_data(self) -> dict:
        return {"y": np.zeros(10)}

    def numpyro_model(self, data: ModelData) -> None:
        mu = numpyro.sample("mu", dist.Normal(0.0, self.prior_scale))
        with numpyro.plate("obs", data.size("obs")):
            numpyro.sample("y", dist.Normal(mu, 1.0), obs=data.get("y"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            mu = pm.Normal("mu", 0.0, self.prior_scale)
            pm.Normal("y", mu, 1.0, observed=data["y"], dims="obs")
        return model


class DroppedLikelihood(NormalMean):
    """A wrong pipeline: the NumPyro twin weighs the likelihood by 0.2, as if four
    observations in five were dropped from it, so its posterior is too wide."""

    def numpyro_model(self, data: ModelData) -> None:
        mu = numpyro.sample("mu", dist.Normal(0.0, self.prior_scale))
        with numpyro.plate("obs", data.size("obs")), handlers.scale(scale=0.2):
            numpyro.sample("y", dist.Normal(mu, 1.0), obs=data.get("y"))


class OtherNames(NormalMean):
    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"m": ()}


#: cheap fits: the tiny model mixes well, so L ~ 200-400 draws per fit
SETTINGS = sbc_settings(NormalMean(), backend="numpyro", chains=2, draws=200, warmup=200)
#: one batch size for every NumPyro campaign here: one compiled program per model
BATCH = 50


# ------------------------------------------------------------------ ranks
def test_rank_statistics_counts_below_and_pools_chains():
    draws = np.arange(12, dtype=float).reshape(3, 4)  # chains 0..2
    ranks, n = rank_statistics(5.5, draws, rng=np.random.default_rng(0))
    assert (int(ranks), n) == (6, 12)
    ranks, n = rank_statistics(
        np.array([-1.0, 99.0]), np.stack([draws, draws], -1), rng=np.random.default_rng(0)
    )
    assert ranks.tolist() == [0, 12] and n == 12


def test_ties_are_broken_uniformly():
    # 10 draws equal to the truth, 5 below: rank uniform on 5..15
    draws = np.array([[0.0] * 5 + [1.0] * 10 + [2.0] * 5])
    rng = np.random.default_rng(1)
    ranks = np.array([int(rank_statistics(1.0, draws, rng=rng)[0]) for _ in range(2200)])
    assert ranks.min() == 5 and ranks.max() == 15
    counts = np.bincount(ranks - 5, minlength=11)
    # each of 11 values has p = 1/11: a 99.9% binomial bound per cell
    lo, hi = stats.binom.ppf([0.0005, 0.9995], 2200, 1 / 11)
    assert np.all((counts >= lo) & (counts <= hi)), counts
    # can fail: strict "<" ranks (no tie-breaking, as simuk does) are all 5
    strict = np.full(2200, int(np.sum(draws < 1.0)))
    strict_counts = np.bincount(strict - 5, minlength=11)
    assert not np.all((strict_counts >= lo) & (strict_counts <= hi))


def test_thinning_rule():
    assert thin_factor(400.0, 2, 200) == 1
    assert thin_factor(100.0, 2, 200) == 4
    assert thin_factor(73.0, 4, 500) == 28  # ceil(2000 / 73)
    assert thin_factor(float("nan"), 2, 200) == 1
    assert thin_factor(0.5, 2, 200) == 200
    draws = np.arange(20).reshape(2, 10)
    assert thin_draws(draws, 4).tolist() == [0, 4, 8, 10, 14, 18]
    with pytest.raises(ValueError, match="thin"):
        thin_draws(draws, 0)


def test_pit_values_and_uniformity():
    rng = np.random.default_rng(2)
    L = 99
    ranks = rng.integers(0, L + 1, size=400)
    pit = pit_values(ranks, L, rng)
    assert np.all((pit > 0) & (pit < 1))
    p_uniform = float(uniformity_pvalues(pit))
    assert p_uniform > 0.01
    # the same through ranks
    assert float(uniformity_pvalues(ranks, n_draws=L, rng=np.random.default_rng(3))) > 0.01
    # can fail: ranks piled in the middle (a too-wide posterior)
    middle = rng.integers(30, 70, size=400)
    assert float(uniformity_pvalues(pit_values(middle, L, rng))) < 1e-6
    table = uniformity_pvalues({"a": pit, "b": pit_values(middle, L, rng)})
    assert table["a"] > 0.01 > table["b"]


def test_rank_input_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"\(chain, draw"):
        rank_statistics(0.0, np.zeros(5), rng=rng)
    with pytest.raises(ValueError, match="trailing shape"):
        rank_statistics(np.zeros(2), np.zeros((2, 5, 3)), rng=rng)
    with pytest.raises(TypeError, match="Generator"):
        rank_statistics(0.0, np.zeros((2, 5)), rng=0)
    with pytest.raises(ValueError, match="0..n_draws"):
        pit_values(np.array([5]), 4, rng)
    with pytest.raises(TypeError, match="integers"):
        pit_values(np.array([0.5]), 4, rng)
    with pytest.raises(ValueError, match="PIT values"):
        uniformity_pvalues(np.array([3, 4, 5]))


# --------------------------------------------------------------- campaigns
def test_batch_equals_one_at_a_time_and_naming():
    model = NormalMean()
    batch = run_batch(model, "numpyro", list(range(BATCH)), seed=7, settings=SETTINGS)
    assert [r.index for r in batch] == list(range(BATCH))
    assert all(r.error is None for r in batch)
    for i in (0, 13):
        one = simulate_and_fit(model, "numpyro", i, seed=7, settings=SETTINGS)
        assert one.ranks == batch[i].ranks and one.n_draws == batch[i].n_draws
        assert one.diagnostics == batch[i].diagnostics
    r = batch[0]
    assert set(r.ranks) == {"mu", "loglik"}
    assert 0 <= r.ranks["mu"] <= r.n_draws
    assert set(r.diagnostics) == {"divergences", "max_rhat", "min_ess_bulk", "thin", "ok"}
    # another seed, other ranks (can fail if the seed were ignored)
    other = run_batch(model, "numpyro", list(range(BATCH)), seed=8, settings=SETTINGS)
    assert [o.ranks for o in other] != [b.ranks for b in batch]


def test_quantity_names():
    assert campaign.quantity_names("mu", ()) == ["mu"]
    assert campaign.quantity_names("theta", (3,)) == ["theta[0]", "theta[1]", "theta[2]"]
    assert campaign.quantity_names("W", (2, 2))[1] == "W[0,1]"


def test_bad_arguments_raise_early():
    model = NormalMean()
    with pytest.raises(ConfigError, match="named like"):
        run_batch(model, "numpyro", [0], seed=0, settings=SETTINGS, simulate_with=OtherNames())
    with pytest.raises(ValueError, match="backend"):
        run_batch(model, "stan", [0], seed=0, settings=SETTINGS)
    with pytest.raises(ValueError, match="loglik"):
        run_batch(model, "numpyro", [0], seed=0, settings=SETTINGS, test_quantities=["loglike"])
    with pytest.raises(ValueError, match="identifiers"):
        run_batch(
            model, "numpyro", [0], seed=0, settings=SETTINGS, test_quantities=[lambda p, d: 1.0]
        )
    with pytest.raises(TypeError, match="SBCSettings"):
        run_batch(model, "numpyro", [0], seed=0, settings={"draws": 10})
    with pytest.raises(ValueError, match="distinct"):
        run_batch(model, "numpyro", [1, 1], seed=0, settings=SETTINGS)
    with pytest.raises(ValueError, match="seed"):
        sbc(model, seed=-1, progress=False)
    with pytest.raises(ValueError, match="num_simulations"):
        sbc(model, num_simulations=0, progress=False)


def _ybar(params, data):
    return float(np.mean(data["y"]) - params["mu"])


def test_interrupted_campaign_resumes_to_the_same_ranks(tmp_path):
    model = NormalMean()
    kwargs = dict(
        backend="numpyro",
        num_simulations=2 * BATCH,
        draws=200,
        seed=11,
        chains=2,
        batch_size=BATCH,
        progress=False,
    )
    full = sbc(
        model,
        out=tmp_path / "full.nc",
        test_quantities={"loglik": "loglik", "ybar": _ybar},
        **kwargs,
    )

    # interrupt inside the second batch: its data set identifies simulation 60
    target = campaign._simulate(model, model, "numpyro", 60, 11, SETTINGS).data["y"]

    def interrupting(params, data):
        if np.array_equal(np.asarray(data["y"]), target):
            raise KeyboardInterrupt
        return _ybar(params, data)

    out = tmp_path / "resumed.nc"
    with pytest.raises(KeyboardInterrupt):
        sbc(model, out=out, test_quantities={"loglik": "loglik", "ybar": interrupting}, **kwargs)
    partial = load_sbc(out)  # the first batch, whole
    assert [r.index for r in partial.results] == list(range(BATCH))
    assert not list(tmp_path.glob(".*.tmp"))

    resumed = sbc(model, out=out, test_quantities={"loglik": "loglik", "ybar": _ybar}, **kwargs)
    pd_full, pd_res = full.ranks, resumed.ranks
    assert pd_full.equals(pd_res)
    assert load_sbc(out).ranks.equals(pd_full)
    assert full.pit.equals(resumed.pit)

    # another campaign's arguments: refused, the file left as it was
    with pytest.raises(ConfigError, match="sbc_seed"):
        sbc(model, out=out, **{**kwargs, "seed": 12})
    assert load_sbc(out).ranks.equals(pd_full)


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    from probgen.calibration.results import write_sbc

    result = SimulationResult(
        0,
        0,
        {"mu": 3, "loglik": 7},
        9,
        {"divergences": 0, "max_rhat": 1.0, "min_ess_bulk": 9.0, "thin": 1, "ok": True},
    )
    attrs = {"sbc_seed": "0", "sbc_model": "x"}
    path = write_sbc(tmp_path / "c.nc", [result], attrs, {"mu": ()}, ["loglik"])

    def broken(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.DataTree, "to_netcdf", broken)
    with pytest.raises(KeyboardInterrupt):
        write_sbc(
            path,
            [result, SimulationResult(1, 0, {}, 0, {}, "fit failed")],
            attrs,
            {"mu": ()},
            ["loglik"],
        )
    monkeypatch.undo()
    back = load_sbc(path)
    assert [r.index for r in back.results] == [0] and back.results[0].ranks == {
        "mu": 3,
        "loglik": 7,
    }
    assert not list(tmp_path.glob(".*.tmp"))


def test_storage_summary_verdict_and_plots(tmp_path):
    model = NormalMean()
    res = sbc(model, num_simulations=BATCH, draws=200, seed=3, batch_size=BATCH, progress=False)
    dt = res.to_datatree()
    assert set(dt.children) == {"prior_sbc", "ranks", "diagnostics"}
    pit = dt["prior_sbc"]["mu"]
    assert pit.dims == ("chain", "draw") and pit.shape == (1, BATCH)
    assert float(pit.min()) > 0 and float(pit.max()) < 1
    table = res.summary()
    assert list(table.columns) == ["n", "p_value", "n_ok", "p_value_ok"]
    assert list(table.index) == ["mu", "loglik"]
    assert res.summary(exclude_failed=True).columns.tolist() == ["n_ok", "p_value_ok"]
    assert isinstance(res.verdict.ok, bool) and "simulations" in str(res.verdict)
    assert res.diagnostics.columns.tolist() == [
        "n_draws",
        "divergences",
        "max_rhat",
        "min_ess_bulk",
        "thin",
        "ok",
        "error",
    ]
    # a failed simulation is stored, flagged and left out of the p-values
    failed = SimulationResult(BATCH, 3, {}, 0, {}, "fit failed: boom")
    more = SBCResult([*res.results, failed], res.attrs, res.var_dims, res.test_quantities)
    assert more.ranks.loc[BATCH].isna().all()
    assert int(more.summary()["n"].iloc[0]) == BATCH
    assert not more.verdict.ok and more.verdict.n_errors == 1
    files = res.plot(tmp_path / "sbc.png")
    assert [f.name for f in files] == ["sbc.png", "sbc_ranks.png"]
    assert all(f.stat().st_size > 1000 for f in files)


def test_pymc_campaign_matches_one_at_a_time():
    model = NormalMean()
    settings = sbc_settings(model, backend="pymc", chains=2, draws=200, warmup=200)
    batch = run_batch(model, "pymc", [0, 1], seed=4, settings=settings)
    assert all(r.error is None for r in batch)
    one = simulate_and_fit(model, "pymc", 1, seed=4, settings=settings)
    assert one.ranks == batch[1].ranks


# -------------------------------------------------------------------- power
POWER = dict(backend="numpyro", draws=200, chains=2, batch_size=BATCH, progress=False)


def test_sbc_passes_the_right_pipeline_and_flags_wrong_ones():
    right = sbc(NormalMean(), num_simulations=2 * BATCH, seed=21, **POWER)
    p = right.summary(exclude_failed=False)["p_value"]
    assert p.min() > 0.01 and right.verdict.ok, right.summary()

    # (a) the simulator's prior is 3 times wider than the fitted model's
    wide = sbc(
        NormalMean(),
        num_simulations=2 * BATCH,
        seed=21,
        simulate_with=NormalMean(prior_scale=3.0),
        **POWER,
    )
    assert wide.summary(exclude_failed=False).loc["mu", "p_value"] < 1e-3
    assert not wide.verdict.ok

    # (b) likelihood terms dropped: the posterior is too wide, ranks pile in the middle
    dropped = sbc(
        DroppedLikelihood(), num_simulations=4 * BATCH, seed=21, simulate_with=NormalMean(), **POWER
    )
    assert dropped.summary(exclude_failed=False).loc["mu", "p_value"] < 1e-3
    assert not dropped.verdict.ok


@pytest.mark.slow
def test_power_measured_over_replications():
    """Rejection rates over 20 replications of 100-simulation campaigns (verdict at
    family-wise 0.01, Bonferroni over mu and loglik).

    Measured 2026-11-22 (seeds 1000-1019): right pipeline 0/20 rejected; simulator
    prior 3x wider 15/20 (0.75: with ten observations the likelihood carries 10/11
    of the posterior precision, so a wrong prior scale is a subtle error); likelihood
    weighed by 0.2 20/20. The bounds below are what those figures support with room
    for another machine's floating point (they fail if SBC loses its power).
    """
    reps, n = 20, 2 * BATCH
    rates = {}
    for label, fitted, simulator in (
        ("right", NormalMean(), None),
        ("wide prior x3", NormalMean(), NormalMean(prior_scale=3.0)),
        ("likelihood x0.2", DroppedLikelihood(), NormalMean()),
    ):
        rejected = [
            not sbc(
                fitted, num_simulations=n, seed=1000 + r, simulate_with=simulator, **POWER
            ).verdict.ok
            for r in range(reps)
        ]
        rates[label] = float(np.mean(rejected))
    print(rates)
    # the right pipeline: false rejections at most what a 0.01 level allows
    # (99.9% binomial bound for 20 replications: at most 2)
    assert rates["right"] <= stats.binom.ppf(0.999, reps, 0.01) / reps
    assert rates["wide prior x3"] >= 0.5
    assert rates["likelihood x0.2"] >= 0.9


@pytest.mark.slow
def test_vmap_and_map_batches_give_the_same_ranks():
    from dataclasses import replace

    model = NormalMean()
    side = run_batch(
        model, "numpyro", range(8), seed=5, settings=replace(SETTINGS, batch_method="vmap")
    )
    turn = run_batch(
        model, "numpyro", range(8), seed=5, settings=replace(SETTINGS, batch_method="map")
    )
    assert [r.ranks for r in side] == [r.ranks for r in turn]
