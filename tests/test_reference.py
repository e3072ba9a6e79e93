"""The posteriordb comparison: it passes for the right model and fails for a wrong one."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytest
import xarray as xr

import probgen
from probgen.cli import main
from probgen.posteriordb import (
    PosteriorDatabase,
    compare,
    draws_to_json,
    get_adapter,
    run_reference,
    stan_flatten,
)
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


def test_cli_reference_unknown_or_without_reference(
    good_fit, posteriordb, tmp_path, fake_sample, capsys
):
    assert main(["reference", "no_such-posterior", "--db", str(posteriordb)]) == 2
    assert "unknown posterior" in capsys.readouterr().err
    # a db directory with the data but no reference draws, and a clean fit
    db = _flat_db_without_reference(posteriordb, tmp_path)
    fake_sample(good_fit)
    code = main(["reference", POSTERIOR, "--db", str(db), "--no-progress"])
    assert code == 2
    out = capsys.readouterr().out
    assert "no reference draws" in out and "TRUSTWORTHY: every diagnostic passed" in out


def test_draws_to_json_round_trip(tmp_path):
    flat = {"a": np.arange(6.0).reshape(2, 3)}
    draws_to_json(flat, tmp_path / "d.json")
    assert json.loads((tmp_path / "d.json").read_text()) == [{"a": [0, 1, 2]}, {"a": [3, 4, 5]}]


# ------------------------------------------------ a check that can fail a broken fit
def _old_z(fit: dict, ref: dict) -> tuple[float, float]:
    """The previous rule's z-scores: differences divided by the fit's own, uncapped MCSE."""
    import arviz_stats
    import xarray as xr

    def mcse(x, method):
        ds = xr.Dataset({"a": (("chain", "draw"), x)})
        return float(arviz_stats.mcse(ds, method=method)["a"])

    (f,), (r,) = fit.values(), ref.values()
    z_mean = (f.mean() - r.mean()) / np.hypot(mcse(f, "mean"), mcse(r, "mean"))
    z_sd = (f.std(ddof=1) - r.std(ddof=1)) / np.hypot(mcse(f, "sd"), mcse(r, "sd"))
    return float(z_mean), float(z_sd)


def test_tolerance_does_not_grow_with_the_fits_mcse():
    rng = np.random.default_rng(3)
    ref = {"a": rng.normal(size=(10, 1000))}
    base = rng.normal(size=(4, 1000))
    # chains pulled apart symmetrically: the mean stays, the MCSE grows without bound
    spread = np.array([-1.5, -0.5, 0.5, 1.5])[:, None]
    tables = [compare({"a": base + k * spread}, ref) for k in (0.0, 1.0, 10.0, 100.0)]
    mcse_fit = [t.loc["a", "mcse_mean_fit"] for t in tables]
    tol = [t.loc["a", "tol_mean"] for t in tables]
    assert mcse_fit[-1] > 1000 * mcse_fit[0]
    # the bound: a fit with the minimum acceptable ESS (100 per chain = 400)
    mcse_ref = np.sqrt(tables[0].loc["a", "mcse_mean"] ** 2 - mcse_fit[0] ** 2)
    bound = 4.5 * np.hypot(ref["a"].std(ddof=1) / np.sqrt(400), mcse_ref)
    assert max(tol) <= bound * (1 + 1e-9), (tol, bound)
    assert tol[1] == pytest.approx(tol[-1])
    assert not tables[0].loc["a", "capped"] and tables[0]["passed"].all()  # healthy: as before
    assert all(t.loc["a", "capped"] and not t.loc["a", "passed"] for t in tables[1:])

    # one chain stuck 3 sd away, the whole fit biased by 0.3 sd: the old rule,
    # dividing by the fit's own MCSE, passed it; the capped rule does not
    stuck = base.copy()
    stuck[0] = base[1] + 3.0
    biased = {"a": stuck - 0.75 + 0.3}
    z_mean, z_sd = _old_z(biased, ref)
    assert abs(z_mean) <= 4.5 and abs(z_sd) <= 4.5
    table = compare(biased, ref)
    assert not table.loc["a", "passed"] and abs(table.loc["a", "z_mean"]) > 4.5


def test_compare_rejects_bad_arguments():
    ref = {"a": np.zeros((2, 10)) + np.arange(10)}
    with pytest.raises(ValueError, match="z must be a number > 0"):
        compare(ref, ref, z=0)
    with pytest.raises(ValueError, match="ess_min must be a number > 0"):
        compare(ref, ref, ess_min=-1)
    with pytest.raises(ValueError, match=r"fit\['a'\] must be a \(chain, draw\) array"):
        compare({"a": np.zeros(10)}, ref)
    with pytest.raises(ValueError, match=r"reference\['a'\] has non-finite draws"):
        compare(ref, {"a": np.full((2, 10), np.nan)})


@pytest.fixture(scope="module")
def good_fit(posteriordb):
    """A clean NumPyro fit of the non-centered eight schools (seed 1, 4 x 1000)."""
    db = PosteriorDatabase.open(posteriordb)
    adapter = get_adapter(POSTERIOR)
    return probgen.sample(
        probgen.get_model(adapter.model, **adapter.config),
        adapter.data(db.load_data("eight_schools")),
        seed=1,
        check=False,
    )


def _replace(fit, group: str, edit) -> xr.DataTree:
    """A deep copy of ``fit`` with ``edit(dataset)`` applied to one group in place."""
    out = fit.copy(deep=True)
    ds = out[group].to_dataset()
    edit(ds)
    out[group] = ds
    return out


def stuck_chain(fit) -> xr.DataTree:
    """Chain 0 stuck in another region: chain 1's draws shifted by 3 sd, every
    transition at the maximum tree depth (the arma11 failure of the issue)."""

    def shift(ds):
        for v in ds.data_vars:
            x = ds[v].values
            x[0] = x[1] + 3.0 * x.std()

    def saturate(ds):
        ds["reached_max_treedepth"].values[0] = True
        ds["tree_depth"].values[0] = 10

    return _replace(_replace(fit, "posterior", shift), "sample_stats", saturate)


@pytest.fixture
def fake_sample(monkeypatch):
    """Make ``run_reference`` (and the CLI) get a given fit instead of sampling."""

    def install(fit):
        calls = []

        def fake(model, data, **kwargs):
            calls.append((model, kwargs))
            return fit

        monkeypatch.setattr(probgen, "sample", fake)
        return calls

    return install


def test_a_stuck_chain_fails_the_reference(good_fit, posteriordb, fake_sample):
    broken = stuck_chain(good_fit)
    calls = fake_sample(broken)
    result = run_reference(POSTERIOR, posteriordb)
    assert calls and calls[0][1]["check"] is False
    assert {"tree_depth", "r_hat", "ess_bulk"} <= set(result.failed_diagnostics)
    assert not result.trustworthy and not result.passed and result.exit_code == 1
    # the comparison fails on its own too: the broken fit's MCSE is capped
    assert not result.reference_passed and result.table["capped"].all()
    # ... where the old rule (the fit's own MCSE) passed every parameter
    ref = PosteriorDatabase.open(posteriordb).load_reference(POSTERIOR)
    assert all(
        max(map(abs, _old_z({n: result.draws[n]}, {n: ref[n]}))) <= 4.5 for n in ["mu", "tau"]
    )
    text = result.report()
    assert text.startswith(f"{POSTERIOR}: FAIL")
    assert "NOT trustworthy" in text and "FAIL: the fit is not trustworthy: tree_depth" in text
    assert "[FAIL] r_hat" in text


def test_an_untrustworthy_fit_fails_even_when_the_draws_agree(good_fit, posteriordb, fake_sample):
    def saturate(ds):
        ds["reached_max_treedepth"].values[0, :300] = True

    fake_sample(_replace(good_fit, "sample_stats", saturate))
    result = run_reference(POSTERIOR, posteriordb)
    assert result.reference_passed  # the draws are the good fit's
    assert result.failed_diagnostics == ["tree_depth"]
    assert not result.passed and result.exit_code == 1
    assert "FAIL: the fit is not trustworthy: tree_depth (300 of 4000" in result.report()

    fake_sample(good_fit)
    result = run_reference(POSTERIOR, posteriordb)
    assert result.passed and result.exit_code == 0, result.report()


def test_cli_reference_exit_1_for_a_stuck_chain(good_fit, posteriordb, fake_sample, capsys):
    fake_sample(stuck_chain(good_fit))
    code = main(["reference", POSTERIOR, "--db", str(posteriordb), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"{POSTERIOR}: FAIL" in out and "tree_depth" in out and "[FAIL] r_hat" in out


def _flat_db_without_reference(posteriordb, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "eight_schools.json").write_text(
        (posteriordb / "data" / "eight_schools.json").read_text()
    )
    return tmp_path


def test_without_reference_the_verdict_decides(good_fit, posteriordb, tmp_path, fake_sample):
    db = _flat_db_without_reference(posteriordb, tmp_path)
    fake_sample(good_fit)
    result = run_reference(POSTERIOR, db)
    assert not result.has_reference and not result.passed and result.exit_code == 2
    assert "no reference draws" in result.report() and "TRUSTWORTHY" in result.report()

    fake_sample(stuck_chain(good_fit))
    result = run_reference(POSTERIOR, db)
    assert result.exit_code == 1
    text = result.report()
    assert "no reference draws" in text and "NOT TRUSTWORTHY" in text and "tree_depth" in text


def test_cli_without_reference_exit_1_for_a_stuck_chain(
    good_fit, posteriordb, tmp_path, fake_sample, capsys
):
    db = _flat_db_without_reference(posteriordb, tmp_path)
    fake_sample(stuck_chain(good_fit))
    code = main(["reference", POSTERIOR, "--db", str(db), "--no-progress"])
    out = capsys.readouterr().out
    assert "no reference draws" in out and "NOT TRUSTWORTHY" in out
    assert code == 1


# ------------------------------------------------------------ the robustness sweep
@pytest.fixture(scope="module")
def robustness():
    """``scripts/robustness.py`` as a module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "robustness.py"
    spec = importlib.util.spec_from_file_location("robustness", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stuck_chains_are_found_and_healthy_ones_are_not(robustness, good_fit):
    assert robustness.stuck_chains(good_fit) == {}
    # chain 0 elsewhere and at max depth: both reasons, and no other chain
    assert robustness.stuck_chains(stuck_chain(good_fit)) == {0: ["max-depth", "R-hat"]}

    def freeze(ds):
        for v in ds.data_vars:
            ds[v].values[2] = ds[v].values[2, 0]

    assert robustness.stuck_chains(_replace(good_fit, "posterior", freeze)) == {
        2: ["frozen", "R-hat"]
    }


def test_robustness_sweep_writes_rows_and_survives_errors(
    robustness, good_fit, posteriordb, tmp_path, fake_sample
):
    fake_sample(stuck_chain(good_fit))
    out = tmp_path / "R.md"
    # centered eight schools has its data; kidiq's data is missing from this db: an error row
    db = tmp_path / "db"
    (db / "reference").mkdir(parents=True)
    (db / "data").mkdir()
    (db / "data" / "eight_schools.json").write_text(
        (posteriordb / "data" / "eight_schools.json").read_text()
    )
    (db / "reference" / f"{POSTERIOR}.json.zip").write_bytes(
        (posteriordb / "reference" / f"{POSTERIOR}.json.zip").read_bytes()
    )
    argv = ["--db", str(db), "--posteriors", POSTERIOR, "kidiq-kidscore_momiq"]
    argv += ["--seeds", "2", "--backends", "numpyro", "--out", str(out)]
    assert robustness.main(argv) == 0
    lines = out.read_text().splitlines()
    rows = [line for line in lines if line.startswith(f"| {POSTERIOR}") or "| kidiq" in line]
    assert len(rows) == 4
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[:4] == [POSTERIOR, "numpyro", "0", "FAIL (10/10 params)"]
    assert "tree_depth" in cells[4] and cells[6] == "0: max-depth+R-hat"
    assert rows[2].split("|")[4].strip() == "error" and "no data file" in rows[2]
    assert lines[-1].startswith("**Summary:** 4 fits: 0 pass, 2 fail the reference")
    assert "2 errors; 2 fits with a stuck chain" in lines[-1]


def test_a_fit_whose_diagnostics_cannot_be_computed_does_not_pass(
    good_fit, posteriordb, fake_sample
):
    one_chain = good_fit.isel(chain=[0])  # R-hat needs two chains: the verdict is not ok
    fake_sample(one_chain)
    result = run_reference(POSTERIOR, posteriordb)
    assert not result.trustworthy and not result.passed and result.exit_code == 1
    assert "FAIL: the fit is not verified: r_hat not computed" in result.report()
