"""The probgen command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import probgen
from probgen.cli import main

QUICK = ["--chains", "2", "--draws", "150", "--warmup", "150", "--no-progress"]


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "probgen.cli", *args], capture_output=True, text=True, timeout=900
    )


def test_models_lists_the_zoo(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in probgen.list_models():
        assert name in out
    assert "hierarchical" in out


def test_describe_prints_the_story(capsys):
    assert main(["describe", "eight_schools"]) == 0
    assert "theta_trans[j] ~ Normal(0, 1)" in capsys.readouterr().out


def test_unknown_model_is_a_usage_error(capsys):
    assert main(["describe", "nine_schools"]) == 2
    assert "unknown model 'nine_schools'" in capsys.readouterr().err


def test_fit_prints_summary_and_verdict_and_saves(tmp_path):
    out = tmp_path / "es.nc"
    res = run("fit", "eight_schools", *QUICK, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "Posterior summary" in res.stdout and "tau" in res.stdout
    assert "TRUSTWORTHY" in res.stdout
    fit = probgen.load_fit(out)
    assert fit["posterior"].sizes["draw"] == 150


def test_fit_with_csv_data_and_config(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("y,height\n" + "\n".join(f"{60 + i % 7 + 0.1 * i},{150 + i}" for i in range(40)))
    out = tmp_path / "lr.nc"
    code = main(
        [
            "fit",
            "linear_regression",
            "--data",
            str(csv),
            "--config",
            "coef_prior=normal(0, 1)",
            *QUICK,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    fit = probgen.load_fit(out)
    assert list(fit["posterior"]["coef"].coords["feature"].values) == ["height"]
    assert json.loads(fit.attrs["probgen_config"])["coef_prior"] == "normal(0, 1)"


def test_fit_with_json_data_on_pymc(tmp_path):
    data = tmp_path / "es.json"
    data.write_text(json.dumps({"J": 3, "y": [1.0, 2.0, 3.0], "sigma": [1.0, 1.0, 2.0]}))
    out = tmp_path / "p.nc"
    code = main(
        [
            "fit",
            "eight_schools",
            "--backend",
            "pymc",
            "--sampler",
            "pymc",
            "--data",
            str(data),
            *QUICK,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert probgen.load_fit(out).attrs["sampler"] == "pymc"


def test_strict_exits_nonzero_for_untrustworthy_fit(tmp_path):
    res = run(
        "fit",
        "eight_schools",
        "--config",
        "centered=true",
        "--chains",
        "2",
        "--draws",
        "100",
        "--warmup",
        "20",
        "--no-progress",
        "--strict",
        "--out",
        str(tmp_path / "bad.nc"),
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert "NOT TRUSTWORTHY" in res.stdout


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["fit", "--backend", "stan"], "unknown backend"),
        (["fit", "--chains", "0"], "chains must be positive"),
        (["fit", "--data", "/nope.json"], "does not exist"),
        (["fit", "--out", "x.pkl"], "must end in .nc"),
        (["fit", "--config", "centered"], "KEY=VALUE"),
    ],
)
def test_fit_bad_input(args, match, capsys):
    assert main(args) == 2
    assert match in capsys.readouterr().err
