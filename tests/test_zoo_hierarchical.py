"""Hierarchical zoo models (radon, rats): data handling, recovery, partial pooling.

The generic tests (test_contract.py, test_backends.py) hold the two twins of
every configuration to the same density and generator. Here:

* data: the layouts each model accepts and the errors it gives;
* recovery: data sets simulated from parameters drawn from the prior
  (``model.simulate``) are fitted, and the true values must fall inside the
  central 80% posterior intervals at a rate the binomial distribution allows;
  the same check, run on a deliberately misspecified fit, must fail;
* partial pooling: county intercepts shrink towards the state mean relative to
  no pooling, most for the counties with fewest homes;
* ``slow``: the default data fitted on both backends at the default settings
  with a trustworthy verdict, the centered radon model's funnel, and larger
  recovery campaigns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import probgen
from probgen import DataError

#: cheap settings for recovery fits: small models, compiled once per shape
RECOVERY = {"chains": 2, "draws": 300, "warmup": 300}
#: central posterior interval whose coverage is checked
LEVEL = 0.8
#: two-sided probability of the binomial acceptance region of the coverage count
CONFIDENCE = 0.999


# ------------------------------------------------------------------ helpers
def coverage_bounds(trials: int, level: float = LEVEL) -> tuple[int, int]:
    """The central CONFIDENCE region of Binomial(trials, level): the count of
    covered scalars a calibrated posterior lands in with that probability."""
    tail = (1.0 - CONFIDENCE) / 2.0
    return int(stats.binom.ppf(tail, trials, level)), int(stats.binom.isf(tail, trials, level))


def covered(fit, truth: dict, names: list[str], level: float = LEVEL) -> np.ndarray:
    """For every scalar element of ``names``: is the true value inside the central
    ``level`` interval of the posterior draws? (a flat boolean array)"""
    lo_q, hi_q = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    out = []
    for name in names:
        draws = np.asarray(fit["posterior"][name].values)
        draws = draws.reshape(-1, *draws.shape[2:])
        lo, hi = np.quantile(draws, [lo_q, hi_q], axis=0)
        true = np.asarray(truth[name])
        out.append(np.ravel((lo <= true) & (true <= hi)))
    return np.concatenate(out)


def recovery_count(model, design: dict, names: list[str], seeds, *, distort=None, **settings):
    """Covered scalars and trials over data sets simulated at ``seeds``.

    ``distort`` (the can-fail twin) changes each simulated data set before it is
    fitted, i.e. fits a misspecified model; the truths stay those that made it.
    """
    hits = trials = 0
    for seed in seeds:
        data, truth = model.simulate(design, seed=seed)
        if distort is not None:
            data = distort(data)
        fit = probgen.sample(model, data, seed=seed, check=False, **(settings or RECOVERY))
        c = covered(fit, truth, names)
        hits += int(c.sum())
        trials += c.size
    return hits, trials


def radon_design(n_counties: int = 8, homes: int = 6, seed: int = 0) -> dict:
    """A small radon design: ``homes`` homes per county, a third on the first floor."""
    rng = np.random.default_rng(seed)
    county = np.repeat(np.arange(1, n_counties + 1), homes)
    floor = (rng.random(county.size) < 1 / 3).astype(np.int64)
    return {
        "county_idx": county,
        "floor_measure": floor,
        "log_uppm": rng.normal(0.0, 0.4, n_counties),
    }


def rats_design(n_rats: int = 6) -> dict:
    return {"x": np.array([8.0, 15.0, 22.0, 29.0, 36.0]), "N": n_rats}


def doubled(data: dict, key: str):
    """The can-fail distortion: the outcome handed to the model on the wrong scale
    (twice its value), i.e. a misspecified likelihood."""
    return {**data, key: 2.0 * np.asarray(data[key])}


# ===================================================================== radon
class TestRadonData:
    def test_default_data_is_per_county(self):
        model = probgen.get_model("radon")
        data = model.prepare()
        assert data.size("obs") == 919 and data.size("county") == 85
        assert data.coords["county"] == list(range(1, 86))
        raw = model.default_data()
        # the posteriordb file gives log_uppm per home: reduced to its county's value
        idx = np.asarray(raw["county_idx"])
        np.testing.assert_array_equal(data["log_uppm"][idx - 1], raw["log_uppm"])

    def test_per_home_uppm_must_be_constant_within_counties(self):
        raw = probgen.get_model("radon").default_data()
        raw["log_uppm"][0] += 0.5  # home 1 in county 1 disagrees with the others
        with pytest.raises(DataError, match="differs between the homes of county 1"):
            probgen.get_model("radon").prepare(raw)

    def test_county_index_out_of_range(self):
        design = radon_design()
        design["county_idx"] = design["county_idx"].copy()
        design["county_idx"][3] = 9
        with pytest.raises(DataError, match=r"county_idx.*1\.\.8"):
            probgen.get_model("radon").prepare(design, require_observed=False)
        design["county_idx"][3] = 0
        with pytest.raises(DataError, match="county_idx"):
            probgen.get_model("radon").prepare(design, require_observed=False)

    def test_table_by_column_names(self):
        frame = pd.DataFrame(
            {
                "county": ["BLUE EARTH", "AITKIN", "AITKIN", "CASS", "BLUE EARTH"],
                "log_radon": [1.0, 0.5, 0.7, 1.2, 0.9],
                "log_uppm": [0.3, -0.5, -0.5, 0.1, 0.3],
                "floor_measure": [0, 1, 0, 0, 1],
            }
        )
        data = probgen.get_model("radon").prepare(frame)
        assert data.coords["county"] == ["AITKIN", "BLUE EARTH", "CASS"]
        np.testing.assert_array_equal(data["county_idx"], [2, 1, 1, 3, 2])
        np.testing.assert_allclose(data["log_uppm"], [-0.5, 0.3, 0.1])
        with pytest.raises(DataError, match=r"unknown column\(s\) \['basement'\]"):
            probgen.get_model("radon").prepare(frame.assign(basement=1))
        with pytest.raises(DataError, match=r"missing \['log_uppm'\]"):
            probgen.get_model("radon").prepare(frame.drop(columns="log_uppm"))

    @pytest.mark.parametrize(
        "config, match",
        [
            ({"pooling": "none", "county_predictor": True}, "collinear"),
            ({"pooling": "complete", "centered": True}, "hierarchical poolings"),
            ({"pooling": "varying_intercept", "correlated": True}, "varying_intercept_slope"),
        ],
    )
    def test_configurations_that_mean_nothing_are_errors(self, config, match):
        with pytest.raises(ValueError, match=match):
            probgen.get_model("radon", **config)

    def test_unknown_pooling_is_a_config_error(self):
        with pytest.raises(probgen.ConfigError, match="pooling"):
            probgen.get_model("radon", pooling="partial")


@pytest.fixture(scope="module")
def radon_fits():
    """No pooling and varying intercepts on the default data (cheap settings)."""
    fast = {"chains": 2, "draws": 200, "warmup": 200}
    none = probgen.sample("radon", config={"pooling": "none"}, seed=1, check=False, **fast)
    again = probgen.sample("radon", config={"pooling": "none"}, seed=2, check=False, **fast)
    varying = probgen.sample("radon", seed=1, check=False, **fast)
    return none, again, varying


def shrinkage(pooled, unpooled) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each county's posterior-mean intercept from the state mean
    (of the pooled fit), in the pooled and in the unpooled fit."""
    a = pooled["posterior"]["alpha"].mean(("chain", "draw")).values
    b = unpooled["posterior"]["alpha"].mean(("chain", "draw")).values
    centre = a.mean()
    return np.abs(a - centre), np.abs(b - centre)


class TestPartialPooling:
    def test_county_intercepts_shrink_towards_the_mean(self, radon_fits):
        none, _, varying = radon_fits
        pooled, unpooled = shrinkage(varying, none)
        homes = np.bincount(probgen.get_model("radon").prepare()["county_idx"])[1:]
        small, large = homes <= 3, homes >= 20
        # nearly every sparsely sampled county is pulled towards the mean ...
        assert np.mean(pooled[small] < unpooled[small]) >= 0.9
        # ... and far more than the well-sampled ones (ratio of distances)
        ratio = pooled / np.maximum(unpooled, 1e-12)
        assert np.median(ratio[small]) < 0.6 < np.median(ratio[large])
        assert pooled.std() < 0.7 * unpooled.std()

    def test_the_shrinkage_check_can_fail(self, radon_fits):
        """Two no-pooling fits (different seeds) show no shrinkage: the checks above fail."""
        none, again, _ = radon_fits
        pooled, unpooled = shrinkage(again, none)
        homes = np.bincount(probgen.get_model("radon").prepare()["county_idx"])[1:]
        small = homes <= 3
        ratio = pooled / np.maximum(unpooled, 1e-12)
        assert np.median(ratio[small]) > 0.6
        assert pooled.std() > 0.7 * unpooled.std()

    def test_predictions_for_homes_by_county_label(self, radon_fits):
        _, _, varying = radon_fits
        model = probgen.get_model("radon")
        new = model.new_homes(varying, floor_measure=[0, 1, 0], county=[26, 26, 70])
        out = probgen.predict(varying, new, seed=3)
        draws = out["predictions"]["log_radon"]
        assert draws.dims == ("chain", "draw", "obs") and draws.shape[-1] == 3
        alpha = varying["posterior"]["alpha"].sel(county=26).values
        # a basement in county 26 is centred on that county's intercept
        assert abs(draws.values[..., 0].mean() - alpha.mean()) < 0.1
        with pytest.raises(DataError, match=r"label\(s\) \['86'\] the fit does not know"):
            model.new_homes(varying, floor_measure=[0], county=[86])


class TestRadonRecovery:
    NAMES = ["mu_alpha", "sigma_alpha", "beta", "sigma_y", "alpha"]
    SEEDS = range(6)

    def test_true_values_are_covered(self):
        model = probgen.get_model("radon")
        hits, trials = recovery_count(model, radon_design(), self.NAMES, self.SEEDS)
        lo, hi = coverage_bounds(trials)
        assert lo <= hits <= hi, (hits, trials, (lo, hi))

    def test_a_misspecified_fit_fails_the_check(self):
        model = probgen.get_model("radon")
        hits, trials = recovery_count(
            model,
            radon_design(),
            self.NAMES,
            self.SEEDS,
            distort=lambda d: doubled(d, "log_radon"),
        )
        lo, _ = coverage_bounds(trials)
        assert hits < lo, (hits, trials, lo)


# ====================================================================== rats
class TestRatsData:
    def test_long_layout_becomes_the_table(self):
        model = probgen.get_model("rats")
        raw = model.default_data()
        data = model.prepare()
        assert data["y"].shape == (30, 5)
        np.testing.assert_array_equal(data["x"], [8, 15, 22, 29, 36])
        assert float(data["xbar"]) == 22.0
        rat, x = np.asarray(raw["rat"]), np.asarray(raw["x"])
        np.testing.assert_array_equal(
            data["y"][rat - 1, np.searchsorted(data["x"], x)], np.asarray(raw["y"])
        )

    def test_xbar_defaults_to_the_mean_age(self):
        data = probgen.get_model("rats").prepare(
            {"y": np.ones((2, 3)), "x": [1.0, 2.0, 6.0]}, require_observed=True
        )
        assert float(data["xbar"]) == 3.0

    def test_irregular_long_layout_is_an_error(self):
        raw = probgen.get_model("rats").default_data()
        for key in ("rat", "x", "y"):
            raw[key] = raw[key][:-1]  # the last rat misses its last weighing
        raw["Npts"] = 149
        with pytest.raises(DataError, match="rat 30 has 0 weighing"):
            probgen.get_model("rats").prepare(raw)

    def test_sizes_alone_with_ages_prepare_a_data_set_to_generate(self):
        data = probgen.get_model("rats").prepare(rats_design(4), require_observed=False)
        assert data.size("rat") == 4 and data.size("age") == 5 and data["y"] is None


class TestRatsRecovery:
    NAMES = ["mu_alpha", "mu_beta", "sigma_y", "sigma_alpha", "sigma_beta", "alpha", "beta"]
    SEEDS = range(6)

    def test_true_values_are_covered(self):
        model = probgen.get_model("rats")
        hits, trials = recovery_count(model, rats_design(), self.NAMES, self.SEEDS)
        lo, hi = coverage_bounds(trials)
        assert lo <= hits <= hi, (hits, trials, (lo, hi))

    def test_a_misspecified_fit_fails_the_check(self):
        model = probgen.get_model("rats")
        hits, trials = recovery_count(
            model, rats_design(), self.NAMES, self.SEEDS, distort=lambda d: doubled(d, "y")
        )
        lo, _ = coverage_bounds(trials)
        assert hits < lo, (hits, trials, lo)


def test_rats_generate_new_rats_at_the_fits_ages():
    """New rats come from the population line: the generated weights' mean at
    each age is mu_alpha + mu_beta (x - xbar), averaged over the posterior."""
    model = probgen.get_model("rats")
    data, _ = model.simulate(rats_design(), seed=50)
    # the recovery tests' shapes and settings: the compiled program is reused
    fit = probgen.sample(model, data, seed=0, check=False, **RECOVERY)
    out = model.new_rats(fit, 4, seed=1)
    y = out["predictions"]["y"]
    assert y.dims == ("chain", "draw", "rat", "age") and y.shape[2:] == (4, 5)
    assert out["predictions"]["rat"].values.tolist() == [0, 1, 2, 3]
    post = fit["posterior"]
    ages = np.asarray(data["x"]) - float(data["xbar"])
    line = (post["mu_alpha"] + post["mu_beta"] * xr.DataArray(ages, dims="age")).values
    flat = y.values.reshape(-1, 4, 5)
    # given the draws, the n rats are independent: the error of their mean is
    # the sd over rats and draws over sqrt(number of (draw, rat) pairs)
    err = (flat.mean(axis=1) - line.reshape(-1, 5)).mean(axis=0)
    se = flat.std(axis=(0, 1)) / np.sqrt(flat.shape[0] * flat.shape[1])
    assert np.all(np.abs(err) < 5 * se), (err, se)
    with pytest.raises(ValueError, match="n must be positive"):
        model.new_rats(fit, 0)


# ====================================================================== slow
DEFAULT_FITS = [
    ("radon", {}, "numpyro"),
    ("radon", {}, "pymc"),
    ("rats", {}, "numpyro"),
    ("rats", {}, "pymc"),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, config, backend", DEFAULT_FITS)
def test_default_data_fits_are_trustworthy(name, config, backend):
    """The default configuration on the bundled data, at the default settings
    (4 chains x 1000 draws after 1000 warm-up), on both backends."""
    fit = probgen.sample(name, config=config, backend=backend, seed=1)
    verdict = probgen.diagnose(fit)
    assert int(fit["sample_stats"]["diverging"].sum()) == 0
    assert verdict.ok, str(verdict)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_radon_centered_funnel_is_flagged(backend):
    """With the uranium predictor the unexplained county spread sigma_alpha is
    small and the centered intercepts form a funnel: on the default data at the
    default settings the centered fit is flagged (low E-BFMI, R-hat, ESS of
    sigma_alpha), while the non-centered one, the same posterior, is trusted."""
    config = {"county_predictor": True}
    with pytest.warns(probgen.UntrustworthyFitWarning):
        centered = probgen.sample(
            "radon", config={**config, "centered": True}, backend=backend, seed=1
        )
    verdict = probgen.diagnose(centered)
    assert not verdict.ok, str(verdict)
    # the funnel's signature: energy (E-BFMI) and mixing of sigma_alpha
    assert {c.name for c in verdict.failed} & {"e_bfmi", "r_hat", "ess_bulk"}, str(verdict)
    fit = probgen.sample("radon", config=config, backend=backend, seed=1)
    assert probgen.diagnose(fit).ok, str(probgen.diagnose(fit))
    assert int(fit["sample_stats"]["diverging"].sum()) == 0


SLOW_RECOVERY = [
    ("radon", {"county_predictor": True}, ["mu_alpha", "sigma_alpha", "gamma", "beta", "sigma_y"]),
    (
        "radon",
        {"pooling": "complete", "county_predictor": True},
        ["alpha", "beta", "gamma", "sigma_y"],
    ),
    ("radon", {"pooling": "none"}, ["alpha", "beta", "sigma_y"]),
    ("radon", {"pooling": "varying_slope"}, ["alpha", "mu_beta", "sigma_beta", "beta", "sigma_y"]),
    (
        "radon",
        {"pooling": "varying_intercept_slope", "correlated": True},
        ["mu_alpha", "sigma_alpha", "mu_beta", "sigma_beta", "rho", "sigma_y", "alpha", "beta"],
    ),
    ("rats", {"centered": False}, TestRatsRecovery.NAMES),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, config, names", SLOW_RECOVERY)
def test_recovery_campaign(name, config, names):
    """More configurations and data sets (12 each), larger designs."""
    model = probgen.get_model(name, **config)
    design = radon_design(n_counties=12, homes=8) if name == "radon" else rats_design(10)
    hits, trials = recovery_count(model, design, names, range(100, 112))
    lo, hi = coverage_bounds(trials)
    assert lo <= hits <= hi, (hits, trials, (lo, hi))
