"""Count and robust regressions: recovery, exposure, overdispersion, outliers, bad input.

Every fit here uses the same small settings and data shapes (N=80 rows, K=2
predictors), so NumPyro compiles each model configuration once and every
further fit of it in this module reuses the program (about 0.1 s a fit).

Recovery: truths are drawn from the prior of the fitted configuration
(``model.simulate``), so the central 80% posterior interval of every scalar
parameter covers its truth with probability 0.8 when inference is right. The
count of covered scalars over all simulated data sets is checked against
two-sided 99.9% binomial bounds (indicators treated as independent: across
data sets they are; within one data set they are only weakly dependent for
these well-conditioned designs, and the 99.9% bounds leave room for that).
"""

from __future__ import annotations

import warnings

import arviz_stats
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import probgen
from probgen import DataError

#: one setting for every fit of the default tier (one compiled program per model)
SETTINGS = {"chains": 2, "draws": 300, "warmup": 300}
N, K = 80, 2
LEVEL = 0.8  # central posterior interval checked for coverage
DATASETS = 10

#: test configurations: priors tight enough that the simulated data are
#: ordinary (counts of order 1-20, no overflow), wide enough to be learnt from
CONFIGS = {
    "poisson_regression": {"intercept_prior": "normal(1, 0.5)", "coef_prior": "normal(0, 0.5)"},
    "negative_binomial_regression": {
        "intercept_prior": "normal(1, 0.5)",
        "coef_prior": "normal(0, 0.5)",
        "phi_prior": "gamma(4, 1)",
    },
    "robust_regression": {
        "intercept_prior": "normal(0, 1)",
        "coef_prior": "normal(0, 1)",
        "sigma_prior": "half_normal(1)",
    },
}


def _model(name: str, **override):
    return probgen.get_model(name, **{**CONFIGS[name], **override})


def _design(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"X": rng.normal(size=(N, K)), "exposure": rng.uniform(0.5, 3.0, size=N)}


def _covariates(name: str) -> dict[str, np.ndarray]:
    design = _design()
    return design if name != "robust_regression" else {"X": design["X"]}


def _fit(model, data, seed: int):
    with warnings.catch_warnings():
        # coverage is the check here; a rare short-run warning is part of it
        warnings.simplefilter("ignore", probgen.UntrustworthyFitWarning)
        return probgen.sample(model, data, seed=seed, **SETTINGS)


def _covered(fit, truth: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each scalar truth lies in its central ``LEVEL`` posterior interval."""
    post = fit["posterior"].dataset
    hits = []
    for name, value in truth.items():
        draws = post[name].values.reshape(-1, *np.shape(value))
        lo, hi = np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
        hits.append(np.ravel((lo <= value) & (value <= hi)))
    return np.concatenate(hits)


def _coverage(name: str, fitted=None, *, datasets: int = DATASETS, seed0: int = 100):
    """Simulate from ``name``'s test configuration, fit ``fitted`` (default: the
    same model): (covered, total) scalars over ``datasets`` data sets."""
    truth_model = _model(name)
    fitted = truth_model if fitted is None else fitted
    covered = []
    for s in range(seed0, seed0 + datasets):
        data, truth = truth_model.simulate(_covariates(name), seed=s)
        covered.append(_covered(_fit(fitted, data, seed=s), truth))
    hits = np.concatenate(covered)
    return int(hits.sum()), hits.size


def _binomial_bounds(total: int, p: float = LEVEL, prob: float = 0.999) -> tuple[int, int]:
    return (
        int(stats.binom.ppf((1 - prob) / 2, total, p)),
        int(stats.binom.ppf((1 + prob) / 2, total, p)),
    )


# ------------------------------------------------------------------ recovery
@pytest.mark.parametrize("name", list(CONFIGS))
def test_recovery_coverage(name):
    covered, total = _coverage(name)
    lo, hi = _binomial_bounds(total)
    assert lo <= covered <= hi, f"{name}: {covered}/{total} covered, expected in [{lo}, {hi}]"


def test_recovery_check_can_fail():
    """The coverage check catches a wrong likelihood: counts with extra-Poisson
    variation (NB2 with phi = 0.3, truths of intercept and coef drawn from the
    Poisson configuration's prior) fitted by the Poisson regression, whose
    intervals are then far too narrow."""
    nb, po = _model("negative_binomial_regression"), _model("poisson_regression")
    rng = np.random.default_rng(7)
    hits = []
    for s in range(6):
        truth = {"intercept": rng.normal(1.0, 0.5), "coef": rng.normal(0.0, 0.5, size=K)}
        data, _ = nb.simulate(_design(), params={**truth, "phi": np.array(0.3)}, seed=200 + s)
        hits.append(_covered(_fit(po, data, seed=s), truth))
    covered, total = int(np.concatenate(hits).sum()), np.concatenate(hits).size
    lo, _ = _binomial_bounds(total)
    assert covered < lo, f"{covered}/{total} covered by a wrong model (lower bound {lo})"


# ------------------------------------------------------------------ exposure
@pytest.fixture(scope="module")
def poisson_fit():
    model = _model("poisson_regression")
    data, _ = model.simulate(_design(), seed=5)
    return _fit(model, data, seed=5)


def test_doubling_exposure_doubles_the_predicted_mean(poisson_fit):
    X = pd.DataFrame({"x0": [0.0, 1.0, -0.5], "x1": [0.2, 0.0, 1.0]})
    once = probgen.predict(poisson_fit, {"X": X, "exposure": [1.0, 2.0, 4.0]}, seed=1)
    twice = probgen.predict(poisson_fit, {"X": X, "exposure": [2.0, 4.0, 8.0]}, seed=1)
    ratio = twice["predictions"]["mu"].values / once["predictions"]["mu"].values
    np.testing.assert_allclose(ratio, 2.0, rtol=1e-12)
    # the generated counts follow: their mean over draws doubles within MCSE
    y1 = once["predictions"]["y"].values.reshape(-1, 3).mean(0)
    y2 = twice["predictions"]["y"].values.reshape(-1, 3)
    se = y2.std(0) / np.sqrt(y2.shape[0]) * 2  # generous: draws are autocorrelated
    assert np.all(np.abs(y2.mean(0) - 2 * y1) < 5 * se + 1e-9)


def test_exposure_scales_the_likelihood():
    """log p(y | exposure e) equals log p(y | exposure 1) with the intercept
    shifted by log(e) (the offset is log(exposure)), up to the intercept's prior.
    Checked on NumPyro; the generic contract tests hold PyMC's density equal."""
    from probgen.backends import get_backend

    for name in ("poisson_regression", "negative_binomial_regression"):
        model = _model(name)
        design = _design()
        data, truth = model.simulate(design, seed=3)
        e = 2.5
        scaled = model.prepare({**data, "exposure": np.full(N, e)})
        unit = model.prepare({**data, "exposure": np.ones(N)})
        shifted = {**truth, "intercept": truth["intercept"] + np.log(e)}
        # the log joint differs only by the intercept's prior, Normal(1, 0.5)
        prior = stats.norm(1.0, 0.5).logpdf
        expected = prior(truth["intercept"]) - prior(shifted["intercept"])
        b = get_backend("numpyro")
        got = b.log_density_fn(model, scaled)(truth) - b.log_density_fn(model, unit)(shifted)
        assert got == pytest.approx(expected, abs=1e-8)


def test_predict_needs_the_exposure_the_fit_had(poisson_fit):
    X = np.zeros((2, K))
    with pytest.raises(DataError, match="exposure"):
        probgen.predict(poisson_fit, {"X": X})


def test_exposure_is_optional():
    model = _model("poisson_regression")
    design = _design()
    data, _ = model.simulate({"X": design["X"]}, seed=4)
    prepared = model.prepare({"X": data["X"], "y": data["y"]})
    np.testing.assert_array_equal(prepared["exposure"], np.ones(N))
    fit = _fit(model, {"X": data["X"], "y": data["y"]}, seed=4)
    # a fit without exposure predicts without one (exposure 1)
    out = probgen.predict(fit, {"X": np.zeros((2, K))})
    mu = out["predictions"]["mu"].values
    np.testing.assert_allclose(mu, np.exp(fit["posterior"]["intercept"].values)[..., None] * [1, 1])


def test_csv_exposure_column_is_the_exposure():
    model = _model("poisson_regression")
    frame = pd.DataFrame({"a": [0.1, 0.5, -1.0], "exposure": [1.0, 2.0, 3.0], "y": [0, 2, 5]})
    prepared = model.prepare(frame)
    assert prepared.coords["feature"] == ["a"]
    np.testing.assert_array_equal(prepared["exposure"], [1.0, 2.0, 3.0])


# --------------------------------------------------------- overdispersion
def _elpd_difference(fit_a, fit_b) -> tuple[float, float]:
    """elpd_loo(a) - elpd_loo(b) and its standard error (paired, pointwise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # high Pareto k of the misfitting model
        a = arviz_stats.loo(fit_a, pointwise=True).elpd_i.values.ravel()
        b = arviz_stats.loo(fit_b, pointwise=True).elpd_i.values.ravel()
    d = a - b
    return float(d.sum()), float(np.sqrt(d.size * d.var()))


def _fits_of_both(data, seed: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto-k warnings of the misfitting model
        nb = _fit(_model("negative_binomial_regression"), data, seed=seed)
        po = _fit(_model("poisson_regression"), data, seed=seed)
    return nb, po


def test_negative_binomial_beats_poisson_on_overdispersed_counts():
    """On NB2 counts (phi = 1: variance mu + mu²) the NB's LOO elpd exceeds the
    Poisson's by more than 2 standard errors of the paired difference (the
    Poisson's pointwise misfit is concentrated in a few large counts, so the
    standard error is wide: at N=80 the ratio ranged 2.5-4.9 over 8 seeds), and
    phi's posterior is far from the Poisson limit phi -> infinity."""
    nb_model = _model("negative_binomial_regression")
    truth = {"intercept": np.array(1.0), "coef": np.array([0.5, -0.3]), "phi": np.array(1.0)}
    data, _ = nb_model.simulate(_design(), params=truth, seed=40)
    nb, po = _fits_of_both(data, seed=40)
    diff, se = _elpd_difference(nb, po)
    assert diff > 2 * se, (diff, se)
    assert np.quantile(nb["posterior"]["phi"].values, 0.95) < 3.0


def test_negative_binomial_does_not_beat_poisson_on_poisson_counts():
    """The check above can fail: on Poisson counts the two fit alike."""
    po_model = _model("poisson_regression")
    truth = {"intercept": np.array(1.0), "coef": np.array([0.5, -0.3])}
    data, _ = po_model.simulate(_design(), params=truth, seed=40)
    nb, po = _fits_of_both(data, seed=40)
    diff, se = _elpd_difference(nb, po)
    assert diff < 2 * max(se, 0.5), (diff, se)
    # and phi is pushed towards large values (a Poisson is phi -> infinity)
    assert np.quantile(nb["posterior"]["phi"].values, 0.05) > 3.0


# ----------------------------------------------------------------- outliers
def _line_with_outliers(outliers: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(31)
    X = _design()["X"]
    y = 1.0 + 2.0 * X[:, 0] - 1.0 * X[:, 1] + rng.normal(0.0, 0.5, size=N)
    far = np.argsort(X[:, 0])[-outliers:] if outliers else []
    y[far] += 12.0  # gross errors at the largest x0 pull a least-squares slope up
    return {"X": X, "y": y}


def _slope_intervals(data, seed: int):
    robust = _fit(_model("robust_regression"), data, seed=seed)
    normal = _fit(probgen.get_model("linear_regression"), data, seed=seed)
    out = []
    for fit in (robust, normal):
        slope = fit["posterior"]["coef"].values[..., 0].ravel()
        out.append(np.quantile(slope, [0.005, 0.995]))
    return out


def test_student_t_recovers_the_line_where_a_normal_fit_is_pulled():
    """Ten percent gross errors (+12, 24 noise sds) at the largest x0: the true
    slope 2 stays in the Student-t fit's central 99% interval, and falls below
    the normal fit's (least squares: 4.1)."""
    robust, normal = _slope_intervals(_line_with_outliers(8), seed=31)
    assert robust[0] < 2.0 < robust[1], robust
    assert normal[0] > 2.0, normal  # pulled up by the outliers


def test_normal_fit_is_not_pulled_without_outliers():
    """The check above can fail: on clean data both 99% intervals hold the slope."""
    robust, normal = _slope_intervals(_line_with_outliers(0), seed=32)
    assert robust[0] < 2.0 < robust[1], robust
    assert normal[0] < 2.0 < normal[1], normal


# ---------------------------------------------------------------- bad input
COUNT_MODELS = ("poisson_regression", "negative_binomial_regression")


@pytest.mark.parametrize("name", COUNT_MODELS)
def test_negative_or_fractional_counts_are_refused(name):
    model = probgen.get_model(name)
    X = np.zeros((3, 1)) + [[0.0], [1.0], [2.0]]
    with pytest.raises(DataError, match=r"data\['y'\] must be non-negative counts"):
        model.prepare({"X": X, "y": [1, -1, 2]})
    with pytest.raises(DataError, match=r"data\['y'\] must hold integers"):
        model.prepare({"X": X, "y": [1, 0.5, 2]})


@pytest.mark.parametrize("name", COUNT_MODELS)
@pytest.mark.parametrize("exposure", [[1.0, 0.0, 2.0], [1.0, -2.0, 2.0]])
def test_non_positive_exposure_is_refused(name, exposure):
    model = probgen.get_model(name)
    X = np.array([[0.0], [1.0], [2.0]])
    with pytest.raises(DataError, match=r"data\['exposure'\] must be strictly positive"):
        model.prepare({"X": X, "exposure": exposure, "y": [1, 0, 2]})


@pytest.mark.parametrize("name", COUNT_MODELS)
def test_exposure_of_the_wrong_length_is_refused(name):
    model = probgen.get_model(name)
    X = np.array([[0.0], [1.0], [2.0]])
    with pytest.raises(DataError, match="exposure"):
        model.prepare({"X": X, "exposure": [1.0, 2.0], "y": [1, 0, 2]})


def test_exposure_column_inside_X_is_refused():
    model = probgen.get_model("poisson_regression")
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0], "exposure": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=r"data\['exposure'\]"):
        model.prepare({"X": X, "y": [1, 0, 2]})


def test_misaligned_exposure_series_is_refused():
    model = probgen.get_model("poisson_regression")
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0]}, index=[10, 11, 12])
    exposure = pd.Series([1.0, 2.0, 3.0], index=[0, 1, 2])
    with pytest.raises(DataError, match="row labels"):
        model.prepare({"X": X, "exposure": exposure, "y": [1, 0, 2]})


@pytest.mark.parametrize("prior", ["phi_prior", "intercept_prior"])
def test_bad_priors_are_refused(prior):
    with pytest.raises(ValueError, match=prior):
        probgen.get_model("negative_binomial_regression", **{prior: "normal(0, -1)"})
    with pytest.raises(ValueError, match="nu_prior"):
        probgen.get_model("robust_regression", nu_prior="normal(0, 1)")


# ------------------------------------------------------ slow: default data
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_default_data_fit_is_trustworthy(name, backend):
    fit = probgen.sample(name, backend=backend, seed=0)  # 4 chains x 1000 draws
    verdict = probgen.diagnose(fit)
    assert verdict.ok, verdict
    assert int(fit["sample_stats"]["diverging"].sum()) == 0


@pytest.mark.slow
def test_negative_binomial_beats_poisson_on_its_default_data():
    """Word 136's counts per stretch of the novel are overdispersed: the NB
    predicts them better than a Poisson with the same mean model."""
    data = probgen.get_model("negative_binomial_regression").default_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nb = probgen.sample("negative_binomial_regression", data, seed=1)
        po = probgen.sample("poisson_regression", data, seed=1)
    diff, se = _elpd_difference(nb, po)
    assert diff > 4 * se, (diff, se)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_recovery_coverage_large(name):
    covered, total = _coverage(name, datasets=60, seed0=1000)
    lo, hi = _binomial_bounds(total)
    assert lo <= covered <= hi, f"{name}: {covered}/{total} covered, expected in [{lo}, {hi}]"
