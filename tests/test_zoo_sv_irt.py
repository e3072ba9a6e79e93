"""Stochastic volatility and 2PL IRT: parameterization, forecasts, generation, recovery.

The generic tests (test_contract.py, test_backends.py) cover both models through
the registry. Here: the non-centered stochastic-volatility path is the story's
AR(1) (exact filter, same density as the centered form up to the Jacobian),
forecasts follow the volatility, IRT generates new persons, and both models
recover known parameters: truths drawn from the prior (``model.simulate``),
central 80% posterior intervals cover them at a rate inside 99.9% binomial
bounds, and the same check rejects a deliberately wrong likelihood.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FAST
from scipy import stats

import probgen
from probgen.backends import get_backend
from probgen.data import ModelData

nb = get_backend("numpyro")
pb = get_backend("pymc")

#: recovery fits: small but enough for 80% intervals (ESS of a few hundred)
RECOVERY = {"chains": 2, "draws": 300, "warmup": 300}
LEVEL = 0.8


# ------------------------------------------------------------ shared helpers
def coverage(fit, truth: dict, names: dict[str, slice | None], level: float = LEVEL):
    """(covered, total): truths inside the central ``level`` posterior interval."""
    post = fit["posterior"]
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    covered = total = 0
    for name, index in names.items():
        draws = post[name].values.reshape(-1, *post[name].shape[2:])
        value = np.asarray(truth[name])
        if index is not None:
            draws, value = draws[:, index], value[index]
        lo, hi = np.quantile(draws, [lo_q, hi_q], axis=0)
        inside = (lo <= value) & (value <= hi)
        covered += int(np.sum(inside))
        total += int(np.size(inside))
    return covered, total


def binomial_bounds(n: int, p: float = LEVEL, prob: float = 0.999) -> tuple[int, int]:
    """Two-sided ``prob`` bounds on the number of covered values out of n."""
    tail = (1 - prob) / 2
    return int(stats.binom.ppf(tail, n, p)), int(stats.binom.isf(tail, n, p))


def run_recovery(model, sizes: dict, names: dict, seeds, *, distort=None):
    """Simulate one data set per seed (truths from the prior), fit, count coverage."""
    covered = total = 0
    for s in seeds:
        data, truth = model.simulate(sizes, seed=s)
        if distort is not None:
            data = distort(data)
        fit = probgen.sample(model, data, **RECOVERY, seed=s, check=False)
        c, t = coverage(fit, truth, names)
        covered, total = covered + c, total + t
    print(f"{model.name}: {covered} of {total} truths inside the {LEVEL:.0%} intervals")
    return covered, total


# ======================================================= stochastic volatility
SV = probgen.get_model("stochastic_volatility")


def _sequential_ar1(e, phi):
    x = np.empty_like(e)
    x[0] = e[0]
    for t in range(1, len(e)):
        x[t] = phi * x[t - 1] + e[t]
    return x


@pytest.mark.parametrize("n", [1, 6, 389])
def test_sv_filter_is_the_ar1_recursion(n):
    """The doubling filter of both backends equals the step-by-step recursion."""
    import pytensor
    import pytensor.tensor as pt

    from probgen._runtime import apply_precision
    from probgen.zoo.stochastic_volatility import _jax_filter, _pytensor_filter

    assert apply_precision() == "float64"  # conftest's precision, as every fit uses
    rng = np.random.default_rng(n)
    e = rng.standard_normal(n)
    ev, pv = pt.dvector("e"), pt.dscalar("phi")
    fn = pytensor.function(  # FAST_COMPILE: the graph is what is tested, not C code
        [ev, pv], _pytensor_filter(ev, pv, n), on_unused_input="ignore", mode="FAST_COMPILE"
    )
    for phi in (0.97, -0.6, 0.0):
        expect = _sequential_ar1(e, phi)
        np.testing.assert_allclose(np.asarray(_jax_filter(e, phi)), expect, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fn(e, phi), expect, rtol=1e-10, atol=1e-12)
    # and it can fail: the recursion with another phi is a different path
    assert not np.allclose(np.asarray(_jax_filter(e, 0.5)), _sequential_ar1(e, 0.6)) or n == 1


def test_sv_noncentered_is_the_centered_story():
    """At matching points, the non-centered log density equals the centered one
    plus log |dh / d eta| = T log sigma - log(1 - phi^2) / 2 (the h_mean shear has
    Jacobian 1): the default parameterization samples the story's posterior."""
    data = SV.prepare()
    centered = probgen.get_model("stochastic_volatility", centered=True)
    nc_logp, c_logp = nb.log_density_fn(SV, data), nb.log_density_fn(centered, data)
    n = data.size("time")
    for point in nb.random_points(SV, data, n=5, seed=3):
        phi, sigma = float(point["phi"]), float(point["sigma"])
        _, truth = SV.simulate(data, params=point, seed=0)  # mu and h from the point
        c_point = {k: truth[k] for k in ("mu", "phi", "sigma", "h")}
        log_jac = n * np.log(sigma) - 0.5 * np.log1p(-(phi**2))
        assert nc_logp(point) == pytest.approx(c_logp(c_point) + log_jac, rel=1e-9, abs=1e-8)
        # h is mu + x with mean(h) = h_mean
        assert np.mean(truth["h"]) == pytest.approx(float(point["h_mean"]), abs=1e-9)
    # can fail: without the Jacobian the two differ
    assert nc_logp(point) != pytest.approx(c_logp(c_point), rel=1e-6)


OTHER_FORMS = [
    ("stochastic_volatility", {"centered": True}, {"mu", "phi", "sigma", "h"}),
    ("irt_2pl", {"centered": False}, {"theta", "sigma_a", "mu_b", "sigma_b", "a_std", "b_std"}),
]


@pytest.mark.parametrize(("name", "config", "sites"), OTHER_FORMS, ids=lambda v: str(v))
def test_other_parameterization_twins_agree(name, config, sites):
    """The non-default configurations: same density on both backends (rows for
    them in tests/cases.py would run the whole generic battery)."""
    model = probgen.get_model(name, **config)
    data = model.prepare()
    points = nb.random_points(model, data, n=5, seed=5)
    assert set(points[0]) == sites
    f_np, f_pm = nb.log_density_fn(model, data), pb.log_density_fn(model, data)
    for point in points:
        assert f_np(point) == pytest.approx(f_pm(point), rel=1e-8, abs=1e-8)


def _posterior(n_draws: int, **values):
    return {
        k: np.broadcast_to(np.asarray(v, dtype=float), (2, n_draws, *np.shape(v)))
        for k, v in values.items()
    }


def test_sv_forecast_follows_the_volatility():
    """Fixed parameters and no log-variance shocks (sigma -> 0): the k-step return
    is Normal(0, exp(h_k / 2)) with h_k = mu + phi^k (h[T] - mu), so the forecast's
    central 80% interval is +-1.2816 exp(h_k / 2): wide after a volatile end,
    shrinking towards the long-run level."""
    mu, phi, h_last = 1.0, 0.8, 4.0
    post = _posterior(5000, mu=mu, phi=phi, sigma=1e-12, h=np.array([0.0, h_last]))
    data = ModelData({"y": np.zeros(2)}, {"time": [0, 1]})
    out = SV.forecast_draws(post, data, steps=6, rng=np.random.default_rng(0))["y"]
    assert out.shape == (2, 5000, 6)
    z = stats.norm.ppf(0.9)
    for k in (1, 3, 6):
        sd = np.exp((mu + phi**k * (h_last - mu)) / 2)
        draws = out[..., k - 1].ravel()
        # MC error of a 90% quantile from 10,000 draws: about 1.5 % of sd
        assert np.quantile(draws, 0.9) == pytest.approx(z * sd, rel=0.06)
        assert abs(draws.mean()) < 4.5 * sd / np.sqrt(draws.size)
    width = np.quantile(out, 0.9, axis=(0, 1)) - np.quantile(out, 0.1, axis=(0, 1))
    assert np.all(np.diff(width) < 0)  # reverting from a volatile end
    # can fail: a forecast from mu instead of the last h would be ~ exp(mu/2) wide
    assert np.quantile(out[..., 0], 0.9) > 2 * z * np.exp(mu / 2)


def test_sv_generates_stationary_series():
    """New series start from the stationary distribution: at every t,
    E[y^2] = E[exp(h)] = exp(mu + s^2 / 2) with s^2 = sigma^2 / (1 - phi^2)."""
    mu, phi, sigma = 0.0, 0.9, 0.2
    post = _posterior(10_000, mu=mu, phi=phi, sigma=sigma)
    y = SV.generate_series(post, 30, seed=0)
    assert y.shape == (2, 10_000, 30)
    s2 = sigma**2 / (1 - phi**2)
    expect = np.exp(mu + s2 / 2)  # 1.11; a start at h = mu would give 1.0
    # sd of the mean of 20,000 y^2: sqrt(3 exp(2 s^2) - expect^2) / sqrt(20000) ~ 1.2 %
    for t in (0, 1, 29):
        assert np.mean(y[..., t] ** 2) == pytest.approx(expect, rel=0.05), t
    with pytest.raises(ValueError, match="n"):
        SV.generate_series(post, 0)


def test_sv_forecast_from_a_fit():
    data, _ = SV.simulate({"T": 80}, seed=3)
    fit = probgen.sample(SV, data, **FAST, seed=1, check=False)
    out = probgen.forecast(fit, steps=4, seed=2)
    pred = out["predictions"]["y"]
    assert pred.dims == ("chain", "draw", "time") and pred.shape == (2, 200, 4)
    assert list(pred.coords["time"].values) == [80, 81, 82, 83]
    assert np.isfinite(pred.values).all()
    # one step ahead: the spread is that of exp(h[T]/2) times a normal, per draw
    h_last = fit["posterior"]["h"].values[..., -1]
    scale = np.sqrt(np.mean(np.exp(h_last)))  # sd of the mixture of normals
    assert pred.values[..., 0].std() == pytest.approx(scale, rel=0.25)
    # new series from the same fit
    new = SV.generate_series(fit, 10, seed=0)
    assert new.shape == (2, 200, 10) and np.isfinite(new).all()


def test_sv_sizes_alone_generate_a_series():
    data = SV.prepare({"T": 50}, require_observed=False)
    assert data.size("time") == 50 and data["y"] is None
    generated, truth = SV.simulate({"T": 50}, seed=0)
    assert generated["y"].shape == (50,) and set(truth) == set(SV.var_dims())
    np.testing.assert_allclose(np.mean(truth["h"]), truth["h_mean"])
    with pytest.raises(probgen.DataError, match="T"):
        SV.prepare({"y": np.zeros(5), "T": 6})


def test_sv_recovers_parameters():
    """8 series of length 120 from the prior: 80% intervals of mu, phi, sigma and
    h at three times cover the truth at a binomially plausible rate."""
    names = {"mu": None, "phi": None, "sigma": None, "h": slice(0, 120, 59)}
    covered, total = run_recovery(SV, {"T": 120}, names, seeds=range(8))
    lo, hi = binomial_bounds(total)
    assert total == 8 * 6
    assert lo <= covered <= hi, (covered, total, lo, hi)


def test_sv_recovery_check_can_fail():
    """The same check with a wrong likelihood: the series is fitted as if its sd
    were 4 times what generated it (returns scaled by 4), which moves mu and h by
    log 16; coverage collapses below the binomial bound."""
    names = {"mu": None, "phi": None, "sigma": None, "h": slice(0, 120, 59)}
    covered, total = run_recovery(
        SV, {"T": 120}, names, seeds=range(8), distort=lambda d: {**d, "y": 4 * d["y"]}
    )
    lo, _ = binomial_bounds(total)
    assert covered < lo, (covered, total, lo)


# ===================================================================== 2PL IRT
IRT = probgen.get_model("irt_2pl")
IRT_NAMES = {
    "mu_b": None,
    "sigma_b": None,
    "sigma_a": None,
    "a": None,
    "b": None,
    "theta": slice(0, 5),
}


def test_irt_sizes_alone_generate_answers():
    data = IRT.prepare({"I": 4, "J": 30}, require_observed=False)
    assert (data.size("item"), data.size("person")) == (4, 30)
    generated, truth = IRT.simulate({"I": 4, "J": 30}, seed=1)
    y = generated["y"]
    assert y.shape == (4, 30) and set(np.unique(y)) <= {0, 1}
    # the answers follow the logistic model of the truths
    p = 1 / (1 + np.exp(-truth["a"][:, None] * (truth["theta"][None, :] - truth["b"][:, None])))
    assert abs(y.mean() - p.mean()) < 4.5 * np.sqrt(p.mean() * (1 - p.mean()) / y.size)
    with pytest.raises(probgen.DataError, match="binary"):
        IRT.prepare({"y": [[0, 2], [1, 0]]})
    with pytest.raises(probgen.DataError, match="J"):
        IRT.prepare({"y": np.zeros((2, 3)), "J": 4})


def test_irt_recovers_parameters():
    """8 data sets of 6 items x 60 persons from the prior: 80% intervals of the
    item parameters, hyperparameters and five abilities cover the truth at a
    binomially plausible rate."""
    covered, total = run_recovery(IRT, {"I": 6, "J": 60}, IRT_NAMES, seeds=range(8))
    lo, hi = binomial_bounds(total)
    assert total == 8 * (3 + 6 + 6 + 5)
    assert lo <= covered <= hi, (covered, total, lo, hi)


def test_irt_recovery_check_can_fail():
    """A wrong likelihood: every answer fitted as its opposite (y -> 1 - y, the
    sign of a * (theta - b) reversed); abilities and difficulties come out
    mirrored and coverage collapses below the binomial bound."""
    covered, total = run_recovery(
        IRT,
        {"I": 6, "J": 60},
        IRT_NAMES,
        seeds=range(8),
        distort=lambda d: {**d, "y": 1 - d["y"]},
    )
    lo, _ = binomial_bounds(total)
    assert covered < lo, (covered, total, lo)


def test_irt_generates_new_persons():
    data, truth = IRT.simulate({"I": 5, "J": 80}, seed=4)
    fit = probgen.sample(IRT, data, **FAST, seed=0, check=False)
    new = IRT.generate_persons(fit, 50, seed=1)
    assert new.shape == (2, 200, 5, 50) and new.dtype == np.int64
    assert set(np.unique(new)) <= {0, 1}
    # item by item, new persons answer correctly about as often as the observed ones
    p_new = new.mean(axis=(0, 1, 3))
    p_obs = data["y"].mean(axis=1)
    assert np.all(np.abs(p_new - p_obs) < 0.25)
    with pytest.raises(ValueError, match="n"):
        IRT.generate_persons(fit, 0)


# ======================================================== default data (slow)
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
@pytest.mark.parametrize("name", ["stochastic_volatility", "irt_2pl"])
def test_default_data_fit_is_trustworthy(name, backend):
    """The bundled data at the default settings (4 chains x 1000 draws)."""
    fit = probgen.sample(name, backend=backend, seed=0)
    verdict = probgen.diagnose(fit)
    assert verdict.ok, str(verdict)
    assert int(fit["sample_stats"]["diverging"].sum()) == 0
