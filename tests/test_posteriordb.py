"""Every posteriordb posterior the zoo supports, on both backends.

With shipped reference draws: a trustworthy fit (``probgen.diagnose``) and
every parameter's mean and sd within MCSE-based |z| <= 4.5 of the reference.
Without: a trustworthy fit. Only eight schools runs in the default suite; the rest are
``slow`` (run with ``pytest -m slow``).

Also: every adapter names its draws as Stan does (hidden references use those
names), both database layouts are read, and hmm_example is checked against
Stan-named reference draws in a posteriordb clone.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import probgen
from probgen.cli import main
from probgen.posteriordb import (
    PosteriorDatabase,
    adapters,
    compare,
    reference_for,
    run_reference,
)

ADAPTERS = adapters()
#: cheap enough for the default suite
DEFAULT_SUITE = {"eight_schools-eight_schools_noncentered"}
EIGHT = "eight_schools-eight_schools_noncentered"


@pytest.fixture
def fake_fit(monkeypatch):
    """Make ``run_reference`` (and the CLI) get a given fit instead of sampling."""

    def install(fit):
        monkeypatch.setattr(probgen, "sample", lambda model, data, **kwargs: fit)

    return install


def _params():
    for name in sorted(ADAPTERS):
        marks = [] if name in DEFAULT_SUITE else [pytest.mark.slow]
        for backend in ("numpyro", "pymc"):
            yield pytest.param(name, backend, marks=marks, id=f"{name}-{backend}")


@pytest.mark.parametrize(("posterior", "backend"), list(_params()))
def test_posterior_matches_reference_or_fits_cleanly(posterior, backend, posteriordb):
    result = run_reference(posterior, posteriordb, backend=backend, seed=1)
    # what `probgen reference` exits 0 (or 2: no reference) on: every diagnostic passes
    assert result.trustworthy, result.report()
    if reference_for(PosteriorDatabase.open(posteriordb), posterior) is not None:
        assert result.passed, result.report()


# --------------------------------------------------------------- names and layouts
def _vec(name: str, n: int) -> list[str]:
    return [f"{name}[{i}]" for i in range(1, n + 1)]


#: Stan's names of the reported parameters, per posterior (the README's table and
#: the Stan programs): what a hidden reference's draws are called
STAN_NAMES: dict[str, list[str]] = {
    "eight_schools-eight_schools_noncentered": ["mu", "tau", *_vec("theta", 8)],
    "eight_schools-eight_schools_centered": ["mu", "tau", *_vec("theta", 8)],
    "kidiq-kidscore_momiq": [*_vec("beta", 2), "sigma"],
    "kidiq-kidscore_interaction": [*_vec("beta", 4), "sigma"],
    "earnings-logearn_height": [*_vec("beta", 2), "sigma"],
    "kilpisjarvi_mod-kilpisjarvi": ["alpha", "beta", "sigma"],
    "mesquite-logmesquite": [*_vec("beta", 7), "sigma"],
    **{
        f"nes{year}-nes": [*_vec("beta", 9), "sigma"]
        for year in (1972, 1976, 1980, 1984, 1988, 1992, 1996, 2000)
    },
    "sblrc-blr": [*_vec("beta", 5), "sigma"],
    "sblri-blr": [*_vec("beta", 5), "sigma"],
    "diamonds-diamonds": [*_vec("b", 24), "Intercept", "sigma"],
    "arK-arK": ["alpha", *_vec("beta", 5), "sigma"],
    "arma-arma11": ["mu", "phi", "theta", "sigma"],
    "garch-garch11": ["mu", "alpha0", "alpha1", "beta1"],
    "hmm_example-hmm_example": [*_vec("theta1", 2), *_vec("theta2", 2), *_vec("mu", 2)],
    "low_dim_gauss_mix-low_dim_gauss_mix": [*_vec("mu", 2), *_vec("sigma", 2), "theta"],
    "gp_pois_regr-gp_regr": ["rho", "alpha", "sigma"],
    "gp_pois_regr-gp_pois_regr": ["rho", "alpha", *_vec("f", 11)],
}


def _posterior_of_zeros(posterior: str, database) -> xr.Dataset:
    """A (1 chain, 2 draws) posterior of the posterior's zoo model, shaped by its data."""
    adapter = ADAPTERS[posterior]
    model = probgen.get_model(adapter.model, **adapter.config)
    data = model.prepare(adapter.data(database.load_data(database.data_name(posterior))))

    def size(dim):
        return len(data.coords[dim]) if dim in data.coords else data.size(dim)

    return xr.Dataset(
        {
            v: (("chain", "draw", *dims), np.zeros((1, 2, *(size(d) for d in dims))))
            for v, dims in model.var_dims().items()
        }
    )


def test_every_adapter_provides_stans_names(database):
    assert set(STAN_NAMES) == set(ADAPTERS), "add the new posterior's Stan names here"
    for posterior, names in STAN_NAMES.items():
        flat = ADAPTERS[posterior].flat_draws(_posterior_of_zeros(posterior, database))
        missing = sorted(set(names) - set(flat))
        assert not missing, f"{posterior}: no draws named {missing} (has {sorted(flat)})"
        assert all(v.shape == (1, 2) for v in flat.values()), posterior
        # the table is right where a reference is shipped to check it against
        if database.has_reference(posterior):
            assert set(database.load_reference(posterior)) == set(names), posterior


def test_hmm_example_names_the_transition_rows_like_stan():
    theta = np.arange(3 * 5 * 2 * 2, dtype=float).reshape(3, 5, 2, 2)
    mu = np.arange(3 * 5 * 2, dtype=float).reshape(3, 5, 2)
    # stored (next_state, state) on purpose: the adapter must go by dim names
    post = xr.Dataset(
        {
            "theta": (("chain", "draw", "next_state", "state"), theta.transpose(0, 1, 3, 2)),
            "mu": (("chain", "draw", "state"), mu),
        }
    )
    flat = ADAPTERS["hmm_example-hmm_example"].flat_draws(post)
    for j in (1, 2):  # theta<j> is the row "from state j"
        for k in (1, 2):
            np.testing.assert_array_equal(flat[f"theta{j}[{k}]"], theta[:, :, j - 1, k - 1])
            np.testing.assert_array_equal(flat[f"theta[{j},{k}]"], theta[:, :, j - 1, k - 1])
        np.testing.assert_array_equal(flat[f"mu[{j}]"], mu[:, :, j - 1])


def _zip_json(path: Path, member: str, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, json.dumps(obj))


def make_clone(root: Path, posterior: str, data: dict, draws: dict | None, **info) -> Path:
    """A posteriordb clone layout under ``root`` holding one posterior."""
    pdb = root / "posterior_database"
    data_name = info.get("data_name", posterior.split("-", 1)[0])
    record = {
        "name": posterior,
        "data_name": data_name,
        "model_name": posterior.split("-", 1)[1],
        "reference_posterior_name": posterior if draws is not None else None,
        **info,
    }
    (pdb / "posteriors").mkdir(parents=True, exist_ok=True)
    (pdb / "posteriors" / f"{posterior}.json").write_text(json.dumps(record))
    _zip_json(pdb / "data" / "data" / f"{data_name}.json.zip", f"{data_name}.json", data)
    if draws is not None:
        n_chains = next(iter(draws.values())).shape[0]
        chains = [{k: v[c].tolist() for k, v in draws.items()} for c in range(n_chains)]
        name = record["reference_posterior_name"]
        _zip_json(
            pdb / "reference_posteriors" / "draws" / "draws" / f"{name}.json.zip",
            f"{name}.json",
            chains,
        )
    return root


def test_open_reads_both_layouts(posteriordb, tmp_path):
    data = json.loads((posteriordb / "data" / "eight_schools.json").read_text())
    ref = PosteriorDatabase.open(posteriordb).load_reference(EIGHT)
    # the clone names its data and reference files itself: neither follows the posterior's name
    clone = make_clone(
        tmp_path / "clone",
        EIGHT,
        data,
        ref,
        data_name="schools_data",
        reference_posterior_name="schools_reference",
    )
    for root in (clone, clone / "posterior_database"):
        db = PosteriorDatabase.open(root)
        assert db.is_clone and db.root == clone / "posterior_database"
        assert db.data_name(EIGHT) == "schools_data"
        assert db.load_data("schools_data") == data
        assert db.has_reference(EIGHT) and reference_for(db, EIGHT) == EIGHT
        loaded = db.load_reference(EIGHT)
        assert list(loaded) == list(ref)
        np.testing.assert_array_equal(loaded["tau"], ref["tau"])
    flat = PosteriorDatabase.open(posteriordb)
    assert not flat.is_clone and flat.root == posteriordb
    assert flat.data_name(EIGHT) == "eight_schools" and flat.has_reference(EIGHT)
    # the centered program has no draws of its own: the adapter points at the non-centered ones
    assert reference_for(flat, "eight_schools-eight_schools_centered") == EIGHT
    assert not flat.has_reference("hmm_example-hmm_example")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="is not a posterior database"):
        PosteriorDatabase.open(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="not found"):
        PosteriorDatabase.open(tmp_path / "missing")


HMM = "hmm_example-hmm_example"


def _stan_named_hmm_draws(fit) -> dict[str, np.ndarray]:
    """posteriordb's names, written out by hand from the fit (not by the adapter)."""
    post = fit["posterior"].dataset
    out = {}
    for j, row in ((0, "theta1"), (1, "theta2")):
        for k in (0, 1):
            out[f"{row}[{k + 1}]"] = post["theta"].isel(state=j, next_state=k).values
    for k in (0, 1):
        out[f"mu[{k + 1}]"] = post["mu"].isel(state=k).values
    return out


@pytest.fixture(scope="module")
def hmm_clone(posteriordb, tmp_path_factory):
    """A clone holding hmm_example with Stan-named reference draws from an
    independent long fit (seed 11, 4 x 2500 = 10,000 draws, as posteriordb's)."""
    data = json.loads((posteriordb / "data" / "hmm_example.json").read_text())
    long_fit = probgen.sample(
        probgen.get_model("hmm_gaussian", K=2), data, seed=11, draws=2500, check=False
    )
    assert probgen.diagnose(long_fit).ok
    draws = _stan_named_hmm_draws(long_fit)
    return make_clone(tmp_path_factory.mktemp("clone"), HMM, data, draws), draws


def test_hmm_example_against_a_stan_named_reference(hmm_clone, fake_fit, capsys):
    root, ref = hmm_clone
    result = run_reference(HMM, root, seed=1)
    assert result.has_reference and set(result.table.index) == set(ref)
    assert result.passed, result.report()
    # the check can fail: the rows swapped (theta1 <-> theta2) do not pass
    swapped = dict(ref)
    for k in (1, 2):
        swapped[f"theta1[{k}]"], swapped[f"theta2[{k}]"] = ref[f"theta2[{k}]"], ref[f"theta1[{k}]"]
    table = compare(result.draws, swapped)
    assert not table.loc[[*_vec("theta1", 2), *_vec("theta2", 2)], "passed"].any()
    # the CLI on the clone's posterior_database/ folder (the same fit, no sampling)
    fake_fit(result.fit)
    assert main(["reference", HMM, "--db", str(root / "posterior_database")]) == 0
    assert f"{HMM}: PASS" in capsys.readouterr().out
