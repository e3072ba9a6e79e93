"""The probgen command line."""

from __future__ import annotations

import json
import os
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


# ------------------------------------------------------------ no lost draws
@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_fit_with_one_chain_saves_the_fit(tmp_path, capsys, strict, code):
    out = tmp_path / "one.nc"
    args = ["fit", "eight_schools", "--chains", "1", "--draws", "100", "--warmup", "100"]
    args += ["--no-progress", "--out", str(out)] + (["--strict"] if strict else [])
    assert main(args) == code
    printed = capsys.readouterr()
    assert "[n/a] r_hat        not computed: needs >= 2 chains" in printed.out, printed
    assert probgen.load_fit(out)["posterior"].sizes["chain"] == 1


class Sampled(Exception):
    """Raised instead of sampling."""


@pytest.fixture
def no_sampling(monkeypatch):
    """``probgen.inference.sample`` replaced: records its arguments, then raises Sampled."""
    calls = []

    def fake(model, data=None, **kwargs):
        calls.append((model, kwargs))
        raise Sampled

    monkeypatch.setattr("probgen.inference.sample", fake)
    return calls


@pytest.mark.parametrize(
    ("make_out", "match"),
    [
        (lambda tmp: tmp / "fits.nc", "is a directory"),  # made a directory below
        (lambda tmp: tmp / "fit.pkl", "must end in .nc"),
        (lambda tmp: tmp / "file.txt" / "fit.nc", "cannot create its directory"),
    ],
)
def test_out_is_checked_before_sampling(tmp_path, capsys, no_sampling, make_out, match):
    (tmp_path / "fits.nc").mkdir()
    (tmp_path / "file.txt").write_text("a file, not a directory")
    assert main(["fit", "--out", str(make_out(tmp_path))]) == 2
    assert match in capsys.readouterr().err
    assert no_sampling == []


def test_out_in_an_unwritable_directory(tmp_path, capsys, no_sampling, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # simulated: the tests may run as root, who can write anywhere
    monkeypatch.setattr("probgen.cli.tempfile.mkstemp", refuse)
    assert main(["fit", "--out", str(tmp_path / "new" / "fit.nc")]) == 2
    assert "cannot write in" in capsys.readouterr().err
    assert no_sampling == [] and not (tmp_path / "new").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write in a read-only directory")
def test_out_in_a_read_only_directory(tmp_path, capsys, no_sampling):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert main(["fit", "--out", str(locked / "fit.nc")]) == 2
    finally:
        locked.chmod(0o755)
    assert "cannot write in" in capsys.readouterr().err
    assert no_sampling == []


def test_out_directory_is_created_and_removed_if_the_run_fails(tmp_path, monkeypatch):
    def fails(model, data=None, **kwargs):
        assert (tmp_path / "a" / "b").is_dir()  # created before sampling
        raise ValueError("sampling failed")

    monkeypatch.setattr("probgen.inference.sample", fails)
    assert main(["fit", "--out", str(tmp_path / "a" / "b" / "fit.nc")]) == 2
    assert not (tmp_path / "a").exists()


def fake_fit():
    import arviz_base
    import numpy as np

    rng = np.random.default_rng(0)
    fit = arviz_base.from_dict(
        {
            "posterior": {"mu": rng.normal(size=(2, 100))},
            "sample_stats": {
                "diverging": np.zeros((2, 100), bool),
                "energy": rng.normal(size=(2, 100)),
            },
        }
    )
    fit.attrs.update(backend="numpyro", sampler="numpyro", chains=2, draws=100, warmup=100)
    return fit


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_fit_is_saved_before_summary_and_verdict(tmp_path, capsys, monkeypatch, strict, code):
    def broken(*args, **kwargs):
        raise RuntimeError("summary broke")

    monkeypatch.setattr("probgen.inference.sample", lambda *a, **k: fake_fit())
    monkeypatch.setattr("arviz_stats.summary", broken)
    out = tmp_path / "fit.nc"
    args = ["fit", "--out", str(out)] + (["--strict"] if strict else [])
    assert main(args) == code
    printed = capsys.readouterr()
    assert f"saved the fit to {out}" in printed.out
    assert "RuntimeError: summary broke" in printed.err and str(out) in printed.err
    assert probgen.load_fit(out)["posterior"].sizes["draw"] == 100


def test_summary_header_names_backend_and_sampler_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("probgen.inference.sample", lambda *a, **k: fake_fit())
    assert main(["fit", "--out", str(tmp_path / "fit.nc")]) == 0
    out = capsys.readouterr().out
    header = [line for line in out.splitlines() if line.startswith("Posterior summary")]
    assert header == [
        "Posterior summary of EightSchools(centered=False): backend numpyro, sampler numpyro, "
        "2 chain(s) x 100 draws after 100 warm-up"
    ]
    assert out.count("numpyro") == 2


# ------------------------------------------------------------ configuration
@pytest.mark.parametrize(
    ("word", "centered"),
    [("False", False), ("no", False), ("0", False), ("OFF", False), ("true", True), ("Yes", True)],
)
def test_config_booleans_are_read_as_booleans(tmp_path, no_sampling, word, centered):
    with pytest.raises(Sampled):
        main(
            [
                "fit",
                "eight_schools",
                "--config",
                f"centered={word}",
                "--out",
                str(tmp_path / "f.nc"),
            ]
        )
    [(model, kwargs)] = no_sampling
    assert model.centered is centered
    assert kwargs["check"] is False  # the CLI prints the verdict itself, once


@pytest.mark.parametrize(
    ("pair", "match"),
    [
        (
            "centered=maybe",
            "centered='maybe' is not bool (write true/false, yes/no, 1/0 or on/off)",
        ),
        ("centred=true", "unknown key 'centred'. Did you mean 'centered'? Valid keys: centered"),
        ("K=2.5", "K='2.5' is not int"),
    ],
)
def test_bad_config_is_a_usage_error_before_sampling(capsys, no_sampling, pair, match):
    model = "gaussian_mixture" if pair.startswith("K") else "eight_schools"
    assert main(["fit", model, "--config", pair]) == 2
    assert match in capsys.readouterr().err
    assert no_sampling == []


# --------------------------------------------------------------------- help
def test_fit_help_shows_defaults_models_and_samplers(capsys):
    from probgen.backends.samplers import SAMPLERS

    with pytest.raises(SystemExit) as info:
        main(["fit", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--chains CHAINS number of chains (default: 4)" in text
    assert "--warmup WARMUP warm-up (tuning) draws per chain (default: 1000)" in text
    assert "(default: eight_schools)" in text
    assert "a zoo model name" in text
    for name in probgen.list_models():
        assert name in text
    for s in SAMPLERS:
        assert f"{s.backend}/{s.name}: {s.runs}" in text
    assert "(default: None)" not in text


def test_describe_lists_the_configuration(capsys):
    assert main(["describe", "hmm_gaussian"]) == 0
    out = capsys.readouterr().out
    assert "  mu_loc: float or a sequence of float or None = none" in out
    assert "  mu_positive: bool = true" in out


def test_warnings_are_printed_without_file_paths(tmp_path, capsys, monkeypatch):
    import warnings

    def warns(*args, **kwargs):
        warnings.warn("something to know", UserWarning, stacklevel=1)
        return fake_fit()

    monkeypatch.setattr("probgen.inference.sample", warns)
    assert main(["fit", "--out", str(tmp_path / "fit.nc")]) == 0
    err = capsys.readouterr().err
    assert "warning: UserWarning: something to know" in err
    assert ".py" not in err, err
