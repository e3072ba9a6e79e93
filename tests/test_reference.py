"""The posteriordb comparison: it passes for the right model and fails for a wrong one."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytest

import probgen
from probgen.cli import main
from probgen.posteriordb import PosteriorDatabase, compare, draws_to_json, stan_flatten
from probgen.zoo.eight_schools import EightSchools

POSTERIOR = "eight_schools-eight_schools_noncentered"


class WrongPriorSchools(EightSchools):
    """Eight schools with a deliberately wrong prior, mu ~ Normal(10, 1). Difficulty: none."""

    name = "wrong_prior_schools"

    def numpyro_model(self, data):
        mu = numpyro.sample("mu", dist.Normal(10.0, 1.0))
        tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
        with numpyro.plate("school", data["sigma"].shape[0]):
            tt = numpyro.sample("theta_trans", dist.Normal(0.0, 1.0))
            theta = numpyro.deterministic("theta", mu + tau * tt)
            numpyro.sample("y", dist.Normal(theta, data["sigma"]), obs=data.get("y"))

    def pymc_model(self, data):
        with pm.Model(coords=data.coords) as model:
            sigma = pm.Data("sigma", data["sigma"], dims="school")
            mu = pm.Normal("mu", 10.0, 1.0)
            tau = pm.HalfCauchy("tau", 5.0)
            tt = pm.Normal("theta_trans", 0.0, 1.0, dims="school")
            theta = pm.Deterministic("theta", mu + tau * tt, dims="school")
            pm.Normal("y", theta, sigma, observed=data["y"], dims="school")
        return model


@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_a_wrong_prior_fails_the_reference(backend, posteriordb):
    fit = probgen.sample(WrongPriorSchools(), backend=backend, seed=1, check=False)
    flat = stan_flatten({k: fit["posterior"][k].values for k in ("mu", "tau", "theta")})
    table = compare(flat, PosteriorDatabase.open(posteriordb).load_reference(POSTERIOR))
    assert not table["passed"].all()
    assert not table.loc["mu", "passed"] and table.loc["mu", "z_mean"] > 4.5


def test_compare_flags_a_small_shift():
    rng = np.random.default_rng(0)
    ref = {"a": rng.normal(size=(10, 1000))}
    same = {"a": rng.normal(size=(4, 1000))}
    shifted = {"a": rng.normal(size=(4, 1000)) + 0.15}
    wider = {"a": 1.1 * rng.normal(size=(4, 1000))}
    assert compare(same, ref)["passed"].all()
    assert not compare(shifted, ref)["passed"].all()
    assert not compare(wider, ref)["passed"].all()
    with pytest.raises(KeyError, match="no draws for reference parameter"):
        compare({"b": ref["a"]}, ref)


def test_stan_flatten_names_are_one_based_row_major():
    arr = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    flat = stan_flatten({"m": arr})
    assert list(flat) == ["m[1,1]", "m[1,2]", "m[2,1]", "m[2,2]"]
    np.testing.assert_array_equal(flat["m[2,1]"], arr[:, :, 1, 0])


def test_cli_reference_list(posteriordb, capsys):
    assert main(["reference", "--list", "--db", str(posteriordb)]) == 0
    out = capsys.readouterr().out
    assert POSTERIOR in out and "yes" in out


def test_cli_reference_pass_and_save_draws(posteriordb, tmp_path, capsys):
    out = tmp_path / "draws.json"
    code = main(
        [
            "reference",
            POSTERIOR,
            "--db",
            str(posteriordb),
            "--no-progress",
            "--seed",
            "1",
            "--save-draws",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "PASS" in text and "tau" in text
    chains = json.loads(out.read_text())
    assert len(chains) == 4 and len(chains[0]["theta[8]"]) == 1000
    with zipfile.ZipFile(posteriordb / "reference" / f"{POSTERIOR}.json.zip") as zf:
        ref = json.loads(zf.read(zf.namelist()[0]))
    assert set(chains[0]) == set(ref[0])


def test_cli_reference_unknown_or_without_reference(posteriordb, tmp_path, capsys):
    assert main(["reference", "no_such-posterior", "--db", str(posteriordb)]) == 2
    assert "unknown posterior" in capsys.readouterr().err
    # a db directory with the data but no reference draws
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "eight_schools.json").write_text(
        (posteriordb / "data" / "eight_schools.json").read_text()
    )
    code = main(
        [
            "reference",
            POSTERIOR,
            "--db",
            str(tmp_path),
            "--no-progress",
            "--draws",
            "200",
            "--warmup",
            "200",
        ]
    )
    assert code == 2
    assert "no reference draws" in capsys.readouterr().out


def test_draws_to_json_round_trip(tmp_path):
    flat = {"a": np.arange(6.0).reshape(2, 3)}
    draws_to_json(flat, tmp_path / "d.json")
    assert json.loads((tmp_path / "d.json").read_text()) == [{"a": [0, 1, 2]}, {"a": [3, 4, 5]}]
