"""``probgen sbc MODEL``: runs a campaign, writes and resumes its file, prints the verdict."""

from __future__ import annotations

import numpy as np
import pytest

from probgen.calibration.campaign import SimulationResult, campaign_attrs, sbc_settings
from probgen.calibration.results import load_sbc, write_sbc
from probgen.cli import main
from probgen.registry import get_model

# the settings of tests/test_sbc_dask.py: one compiled program serves both files
QUICK = ["--chains", "2", "--draws", "100", "--warmup", "100", "--batch-size", "2"]


class Sampled(Exception):
    """Raised by the stand-in for ``sbc``: nothing may run in a usage-error test."""


@pytest.fixture
def no_campaign(monkeypatch):
    calls = []

    def fake(*args, **kwargs):
        calls.append((args, kwargs))
        raise Sampled

    monkeypatch.setattr("probgen.calibration.campaign.sbc", fake)
    return calls


@pytest.fixture
def no_fits(monkeypatch):
    """Any fit raises: a resumed campaign must not fit again."""

    def refuse(*args, **kwargs):
        raise AssertionError("a finished simulation was fitted again")

    monkeypatch.setattr("probgen.calibration.campaign.run_batch", refuse)


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["sbc", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--simulations", "--scheduler", "--plot", "--config", "--out", "--strict"):
        assert option in out


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["nine_schools"], "unknown model 'nine_schools'"),
        (["eight_schools", "--config", "centered=maybe"], "centered"),
        (["eight_schools", "--config", "colour=red"], "colour"),
        (["eight_schools", "--seed", "-1"], "--seed must be a non-negative integer"),
        (["eight_schools", "--warmup", "-5"], "--warmup must be a non-negative integer"),
        (["eight_schools", "--backend", "stan"], "--backend must be numpyro or pymc"),
        (["eight_schools", "--plot", "sbc.jpg"], "--plot must end in .png"),
        (["eight_schools", "--out", "sbc.csv"], "--out must end in .nc"),
    ],
)
def test_usage_errors_exit_2_before_anything_runs(args, match, capsys, no_campaign, tmp_path):
    args = [a.replace("sbc.", str(tmp_path / "sbc.")) for a in args]
    assert main(["sbc", *args]) == 2
    assert match in capsys.readouterr().err
    assert no_campaign == []


@pytest.mark.parametrize("n", ["0", "-3", "many"])
def test_simulations_must_be_a_positive_integer(n, capsys, no_campaign):
    with pytest.raises(SystemExit) as info:
        main(["sbc", "eight_schools", "--simulations", n])
    assert info.value.code == 2
    assert "--simulations: expected a positive integer" in capsys.readouterr().err


def test_out_whose_directory_cannot_be_created(tmp_path, capsys, no_campaign):
    (tmp_path / "file.txt").write_text("a file, not a directory")
    assert main(["sbc", "eight_schools", "--out", str(tmp_path / "file.txt" / "c.nc")]) == 2
    assert "cannot create its directory" in capsys.readouterr().err
    assert no_campaign == []


def test_out_in_an_unwritable_directory(tmp_path, capsys, no_campaign, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # simulated: the tests may run as root, who can write anywhere
    monkeypatch.setattr("probgen.cli.tempfile.mkstemp", refuse)
    assert main(["sbc", "eight_schools", "--out", str(tmp_path / "new" / "c.nc")]) == 2
    assert "cannot write in" in capsys.readouterr().err
    assert no_campaign == [] and not (tmp_path / "new").exists()


def test_runs_saves_plots_prints_then_resumes(tmp_path, capsys, monkeypatch):
    out, png = tmp_path / "runs" / "es.nc", tmp_path / "es.png"
    args = ["sbc", "eight_schools", *QUICK, "--simulations", "4", "--seed", "11"]
    code = main([*args, "--out", str(out), "--plot", str(png), "--no-progress"])
    captured = capsys.readouterr()
    printed = captured.out
    assert code == 0, captured.err
    assert f"saved the SBC campaign to {out}" in printed
    assert "p_value" in printed and "p_value_ok" in printed
    for quantity in ("mu", "tau", "theta[7]", "theta_trans[0]", "loglik"):
        assert quantity in printed
    assert ("SBC PASSED" in printed) != ("SBC FAILED" in printed)
    result = load_sbc(out)
    assert [r.index for r in result.results] == [0, 1, 2, 3]
    assert all(r.error is None for r in result.results)
    assert png.stat().st_size > 0 and (tmp_path / "es_ranks.png").stat().st_size > 0

    # the same command again: nothing is fitted, the same table comes back
    def refuse(*a, **k):
        raise AssertionError("a finished simulation was fitted again")

    monkeypatch.setattr("probgen.calibration.campaign.run_batch", refuse)
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    again = capsys.readouterr().out
    table = printed[printed.index("SBC of") :]
    assert again[again.index("SBC of") :] == table

    # another campaign (seed) in the same file is refused, and the file is kept
    assert main([*args[:-1], "12", "--out", str(out), "--no-progress"]) == 2
    assert "holds a different campaign" in capsys.readouterr().err
    assert len(load_sbc(out).results) == 4


def _stored_campaign(path, ranks_of):
    """A finished 40-simulation campaign of eight_schools, its ranks given by ``ranks_of(i)``."""
    model = get_model("eight_schools")
    settings = sbc_settings(model, backend="numpyro", chains=2, draws=100, warmup=100)
    quantities = {"loglik": "loglik"}
    attrs = campaign_attrs(model, model, "numpyro", 0, settings, quantities)
    names = [f"theta[{j}]" for j in range(8)]
    names = ["mu", "tau", *names, *(n.replace("theta", "theta_trans") for n in names)]
    results = [
        SimulationResult(
            i,
            0,
            {n: ranks_of(i, k) for k, n in enumerate([*names, "loglik"])},
            100,
            {"divergences": 0, "max_rhat": 1.0, "min_ess_bulk": 150.0, "thin": 2, "ok": True},
        )
        for i in range(40)
    ]
    write_sbc(path, results, attrs, model.var_dims(), quantities)


@pytest.mark.parametrize(
    ("ranks_of", "code", "verdict"),
    [
        # every true value below every draw: inference is badly off
        (lambda i, k: 0, 1, "SBC FAILED"),
        # ranks spread evenly over 0..100 (a different shift per quantity)
        (lambda i, k: int(np.random.default_rng([i, k]).integers(0, 101)), 0, "SBC PASSED"),
    ],
)
def test_strict_exits_1_when_sbc_flags_the_model(
    tmp_path, capsys, no_fits, ranks_of, code, verdict
):
    out = tmp_path / "stored.nc"
    _stored_campaign(out, ranks_of)
    args = ["sbc", "eight_schools", "--chains", "2", "--draws", "100", "--warmup", "100"]
    assert main([*args, "--simulations", "40", "--out", str(out), "--strict"]) == code
    assert verdict in capsys.readouterr().out


@pytest.mark.slow
def test_scheduler_local_gives_the_same_campaign(tmp_path, capsys):
    common = ["sbc", "eight_schools", *QUICK, "--simulations", "4", "--seed", "11", "--no-progress"]
    here, there = tmp_path / "here.nc", tmp_path / "there.nc"
    assert main([*common, "--out", str(here)]) == 0
    assert main([*common, "--out", str(there), "--scheduler", "local"]) == 0
    capsys.readouterr()
    assert load_sbc(here).ranks.equals(load_sbc(there).ranks)
