"""Bernoulli mixture for binary images: transform, responsibilities, recovery.

Default tier (small simulated data sets, NumPyro, 2 chains x 300 draws):

* the ordering transform is a bijection whose log Jacobian equals the
  numerical one, the same on both backends, and the two twins' log densities
  on the unconstrained scale (Jacobians included, which the generic
  constrained-scale check cannot see) agree;
* responsibilities for new images (NaN pixels summed out) equal a brute-force
  sum over every completion of the missing pixels;
* generated images follow the posterior's pixel probabilities, per component;
* recovery: parameters drawn from the prior (``model.simulate``), fitted, the
  truths inside central 80% intervals at a rate within binomial 99.9% bounds;
  and its twin, which fits a wrong prior and must fall outside;
* generation from sizes alone (``probgen.generate``), bad input.

``slow``: the default data (digits 0, 1, 7) on both backends at the default
settings (4 chains x 1000 draws) with a trustworthy verdict and the same
components on both; MNIST (mnist_100, 784 pixels).
"""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pytest
import xarray as xr
from scipy import stats

import probgen
from probgen._runtime import apply_precision
from probgen.zoo.bernoulli_mixture import (
    PixelOrderedLogitTransform,
    PMPixelOrderedLogit,
    choose_order_pixel,
    digits_labels,
    fit_em,
    load_digits_binary,
    load_mnist_100,
    mnist_100_labels,
    responsibilities_from_draws,
)

NAME = "bernoulli_mixture"
#: small recovery fits (the compiled program is reused across data sets)
SMALL = {"chains": 2, "draws": 300, "warmup": 300}
#: the recovery design: K=2 components of D=6 pixels, ordered at pixel 0.
#: N=1000 images make the posterior sd of an on-probability <= 0.03, so two
#: components drawn from the prior are misordered at the ordering pixel by
#: their estimates (the constrained posterior then bimodal) in ~2% of data sets
RECOVERY = {"K": 2, "D": 6, "order_pixel": 0}
N_SETS, N_OBS = 8, 1000
LEVEL = 0.8


# ------------------------------------------------------------------ helpers
def _fake_fit(weights: np.ndarray, theta: np.ndarray) -> xr.DataTree:
    """A DataTree shaped like a fit: posterior weights (chain, draw, K), theta (..., K, D)."""
    post = xr.Dataset(
        {
            "weights": (("chain", "draw", "component"), weights),
            "theta": (("chain", "draw", "component", "pixel"), theta),
        }
    )
    dt = xr.DataTree.from_dict({"posterior": post})
    dt.attrs["probgen_model"] = NAME
    return dt


def _random_draws(rng, s, k, d):
    weights = rng.dirichlet(np.ones(k), size=s)
    theta = rng.uniform(0.05, 0.95, size=(s, k, d))
    return weights, theta


def _binomial_bounds(n: int, p: float, level: float = 0.999) -> tuple[int, int]:
    lo, hi = stats.binom.interval(level, n, p)
    return int(lo), int(hi)


# -------------------------------------------------------------- transform
@pytest.mark.parametrize("pixel", [0, 2])
def test_ordering_transform_is_a_bijection_with_the_right_jacobian(pixel):
    apply_precision()  # JAX in float64, as the backends run it (conftest)
    k, d = 3, 4
    t = PixelOrderedLogitTransform(pixel)
    u = np.random.default_rng(0).normal(size=(k, d))
    theta = np.asarray(t(u))
    assert np.all((theta > 0) & (theta < 1))
    assert np.all(np.diff(theta[:, pixel]) > 0)
    np.testing.assert_allclose(np.asarray(t._inverse(theta)), u, rtol=1e-10, atol=1e-10)
    jac = jax.jacobian(lambda v: t(v.reshape(k, d)).ravel())(u.ravel())
    want = np.linalg.slogdet(np.asarray(jac))[1]
    assert float(t.log_abs_det_jacobian(u, theta)) == pytest.approx(want, rel=1e-10)
    # the PyMC twin: same map, same inverse, same log Jacobian
    pm_t = PMPixelOrderedLogit(pixel)
    np.testing.assert_allclose(pm_t.backward(u).eval(), theta, rtol=1e-12)
    np.testing.assert_allclose(pm_t.forward(theta).eval(), u, rtol=1e-10, atol=1e-10)
    assert float(pm_t.log_jac_det(u).eval()) == pytest.approx(want, rel=1e-10)


def test_unconstrained_log_densities_agree_between_backends():
    """Both twins' densities as the samplers see them, Jacobians included.

    The backends map the weights' simplex differently (both valid), so the
    weights are held at one constrained value, mapped by each backend's own
    transform, and the twins must agree on how the density changes with
    ``theta`` on the unconstrained scale (the ordering transform's Jacobian).
    """
    from numpyro.distributions import constraints
    from numpyro.distributions.transforms import biject_to
    from numpyro.infer.util import potential_energy

    apply_precision()
    model = probgen.get_model(NAME, K=3, D=5, order_pixel=2)
    x = np.random.default_rng(1).integers(0, 2, size=(30, 5))
    data = model.prepare({"x": x})
    pm_model = model.pymc_model(data)
    logp = pm_model.compile_logp(jacobian=True)
    weights = np.array([0.2, 0.3, 0.5])
    w_np = np.asarray(biject_to(constraints.simplex).inv(weights))
    w_pm = pm_model.rvs_to_transforms[pm_model["weights"]].forward(weights).eval()

    def both(u_theta):
        a = -float(
            potential_energy(model.numpyro_model, (data,), {}, {"theta": u_theta, "weights": w_np})
        )
        b = float(logp({"theta_pixelorderedlogit__": u_theta, "weights_simplex__": w_pm}))
        return a, b

    rng = np.random.default_rng(2)
    a0, b0 = both(rng.normal(size=(3, 5)))
    for _ in range(5):
        a, b = both(rng.normal(size=(3, 5)))
        assert a - a0 == pytest.approx(b - b0, rel=1e-9, abs=1e-9), (a - a0, b - b0)


# ------------------------------------------------------- responsibilities
def _brute_force(weights, theta, image):
    """P(z | observed pixels): the joint summed over every completion of the NaNs."""
    missing = np.flatnonzero(np.isnan(image))
    out = np.zeros(weights.shape)
    for fill in itertools.product((0.0, 1.0), repeat=len(missing)):
        full = image.copy()
        full[missing] = fill
        out += weights * np.prod(theta**full * (1 - theta) ** (1 - full), axis=1)
    return out / out.sum()


def test_responsibilities_match_brute_force():
    rng = np.random.default_rng(3)
    s, k, d = 4, 3, 5
    weights, theta = _random_draws(rng, s, k, d)
    images = rng.integers(0, 2, size=(6, d)).astype(float)
    images[0, [1, 3]] = np.nan
    images[1, :] = np.nan  # nothing seen: the weights
    images[2, 4] = np.nan
    got = responsibilities_from_draws(weights, theta, images)
    want = np.mean(
        [[_brute_force(weights[i], theta[i], img) for img in images] for i in range(s)], axis=0
    )
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(got[1], weights.mean(axis=0), rtol=1e-10)
    # through the model's method, from a fit-shaped DataTree (2 chains x 2 draws)
    model = probgen.get_model(NAME, K=k, D=d, order_pixel=0)
    fit = _fake_fit(weights.reshape(2, 2, k), theta.reshape(2, 2, k, d))
    np.testing.assert_allclose(model.responsibilities(fit, images), want, rtol=1e-10)


def test_responsibilities_brute_force_check_can_fail():
    """Treating a missing pixel as off (not summing it out) is caught."""
    rng = np.random.default_rng(4)
    weights, theta = _random_draws(rng, 2, 3, 5)
    image = np.array([[1.0, np.nan, 0.0, np.nan, 1.0]])
    right = responsibilities_from_draws(weights, theta, image)
    wrong = responsibilities_from_draws(weights, theta, np.nan_to_num(image, nan=0.0))
    assert not np.allclose(right, wrong, rtol=1e-6)


def test_responsibilities_bad_input():
    model = probgen.get_model(NAME, K=2, D=3, order_pixel=0)
    rng = np.random.default_rng(5)
    w, t = _random_draws(rng, 4, 2, 3)
    fit = _fake_fit(w.reshape(1, 4, 2), t.reshape(1, 4, 2, 3))
    with pytest.raises(ValueError, match="images must be an"):
        model.responsibilities(fit, np.zeros(3))
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        model.responsibilities(fit, np.full((1, 3), 0.5))
    other = probgen.get_model(NAME, K=3, D=3, order_pixel=0)
    with pytest.raises(ValueError, match="K=3"):
        other.responsibilities(fit, np.zeros((1, 3)))


# ------------------------------------------------------------ generation
def test_generated_images_follow_the_posterior():
    model = probgen.get_model(NAME, K=2, D=4, order_pixel=0)
    theta = np.array([[0.1, 0.2, 0.9, 0.5], [0.8, 0.6, 0.1, 0.3]])
    weights = np.array([0.3, 0.7])
    fit = _fake_fit(np.broadcast_to(weights, (2, 5, 2)), np.broadcast_to(theta, (2, 5, 2, 4)))
    n = 4000
    for comp in (0, 1):
        imgs = model.generate_images(fit, n, component=comp, seed=comp)
        assert imgs.shape == (n, 4) and imgs.dtype == np.int64
        z = (imgs.mean(axis=0) - theta[comp]) / np.sqrt(theta[comp] * (1 - theta[comp]) / n)
        assert np.all(np.abs(z) < 4.5), z
    imgs = model.generate_images(fit, n, seed=9)
    mix = weights @ theta
    z = (imgs.mean(axis=0) - mix) / np.sqrt(mix * (1 - mix) / n)
    assert np.all(np.abs(z) < 4.5), z
    np.testing.assert_array_equal(imgs, model.generate_images(fit, n, seed=9))
    # the check can fail: component 0's images are not component 1's
    imgs = model.generate_images(fit, n, component=0, seed=3)
    z = (imgs.mean(axis=0) - theta[1]) / np.sqrt(theta[1] * (1 - theta[1]) / n)
    assert np.any(np.abs(z) > 4.5)
    with pytest.raises(ValueError, match="component"):
        model.generate_images(fit, 3, component=2)
    with pytest.raises(ValueError, match="n must be"):
        model.generate_images(fit, 0)


def test_data_from_sizes_alone():
    model = probgen.get_model(NAME)
    data = model.prepare({"N": 7}, require_observed=False)
    assert data.size("obs") == 7 and data.size("pixel") == 64 and data["x"] is None
    generated, truth = model.simulate({"N": 7}, seed=0)
    assert np.shape(generated["x"]) == (7, 64)
    assert np.all(np.diff(truth["theta"][:, model.order_pixel]) > 0)


# ------------------------------------------------------------ bad input
def test_bad_input_is_named():
    model = probgen.get_model(NAME)
    with pytest.raises(probgen.DataError, match="D=64"):
        model.prepare({"x": np.zeros((3, 10), dtype=int)})
    with pytest.raises(probgen.DataError, match="binary"):
        model.prepare({"x": np.full((3, 64), 2)})
    with pytest.raises(probgen.DataError, match="NaN"):
        model.prepare({"x": np.full((3, 64), np.nan)})
    with pytest.raises(probgen.DataError, match="K"):
        model.prepare({"x": np.zeros((3, 64), dtype=int), "K": 4})
    with pytest.raises(ValueError, match="order_pixel"):
        probgen.get_model(NAME, D=10)  # default order_pixel=53 is not a pixel of 10
    with pytest.raises(ValueError, match="K must be"):
        probgen.get_model(NAME, K=1)
    with pytest.raises(ValueError, match="digits"):
        load_digits_binary(digits=(1, 1))
    with pytest.raises(ValueError, match="digits"):
        load_mnist_100(digits=(10,))


def test_bundled_data_sets():
    data = load_digits_binary()
    assert data["x"].shape == (539, 64) and set(np.unique(data["x"])) == {0, 1}
    assert sorted(set(digits_labels())) == [0, 1, 7]
    mnist = load_mnist_100()
    assert mnist["x"].shape == (100, 784) and set(np.unique(mnist["x"])) == {0, 1}
    assert mnist_100_labels()[:5].tolist() == [5, 0, 4, 1, 9]  # MNIST's first labels
    assert load_mnist_100(test=True)["x"].shape == (100, 784)
    model = probgen.get_model(NAME, K=2, D=784, order_pixel=400)
    assert model.prepare(load_mnist_100(digits=(0, 1)))["x"].shape == (27, 784)


def test_default_order_pixel_separates_the_default_clusters():
    """The documented choice: EM on the default data picks pixel 53, and the
    EM clusters there are the three digit classes."""
    x = load_digits_binary()["x"]
    assert choose_order_pixel(x, 3) == probgen.get_model(NAME).order_pixel
    weights, theta, _ = fit_em(x, 3, np.random.default_rng(0))
    lp = x @ np.log(theta).T + (1 - x) @ np.log1p(-theta).T + np.log(weights)
    z = np.argmax(lp, axis=1)
    labels = digits_labels()
    purity = sum(np.bincount(labels[z == j]).max() for j in range(3)) / len(labels)
    assert purity > 0.98


# -------------------------------------------------------------- recovery
def _coverage(config: dict, fit_config: dict, seeds) -> tuple[int, int]:
    """Covered and total scalars (theta and weights[0]) over simulated data sets."""
    truth_model = probgen.get_model(NAME, **config)
    fit_model = probgen.get_model(NAME, **(config | fit_config))
    covered = total = 0
    lo_q, hi_q = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    for seed in seeds:
        data, truth = truth_model.simulate({"N": N_OBS}, seed=seed)
        fit = probgen.sample(fit_model, {"x": data["x"]}, seed=seed, check=False, **SMALL)
        for name, true in (("theta", truth["theta"]), ("weights", truth["weights"][:1])):
            draws = fit["posterior"][name].values.reshape(-1, *np.shape(truth[name]))
            if name == "weights":
                draws = draws[:, :1]
            lo, hi = np.quantile(draws, [lo_q, hi_q], axis=0)
            covered += int(np.sum((lo <= true) & (true <= hi)))
            total += np.size(true)
    return covered, total


def test_recovery_of_simulated_parameters():
    covered, total = _coverage(RECOVERY, {}, range(N_SETS))
    lo, hi = _binomial_bounds(total, LEVEL)
    assert lo <= covered <= hi, (covered, total, (lo, hi))


def test_recovery_check_can_fail():
    """Fitting with a wrong prior (Beta(30, 30): every pixel pulled to 0.5)
    drives the coverage far below the binomial bound."""
    wrong = {"theta_a": 30.0, "theta_b": 30.0}
    covered, total = _coverage(RECOVERY, wrong, range(4))
    lo, _ = _binomial_bounds(total, LEVEL)
    assert covered < lo, (covered, total, lo)


def test_generate_from_a_fit():
    model = probgen.get_model(NAME, **RECOVERY)
    data, _ = model.simulate({"N": 200}, seed=11)
    fit = probgen.sample(
        model, {"x": data["x"]}, seed=1, check=False, chains=2, draws=50, warmup=100
    )
    out = probgen.generate(fit, 5, seed=0)
    x = out["predictions"]["x"]
    assert x.dims == ("chain", "draw", "obs", "pixel") and x.shape[2:] == (5, 6)
    assert set(np.unique(x.values)) <= {0, 1}
    resp = model.responsibilities(fit, data["x"][:10])
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)
    assert model.generate_images(fit, 3, component=1).shape == (3, 6)


# ------------------------------------------------------------------ slow
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_default_data_fit_is_trustworthy(backend):
    fit = probgen.sample(NAME, backend=backend, seed=1)
    verdict = probgen.diagnose(fit)
    assert verdict.ok, verdict
    assert int(fit["sample_stats"]["diverging"].sum()) == 0
    # the components are the three digit classes, in the order of pixel 53
    # (row 6, column 5: off in a 7, on in half the 1s, on in a 0)
    model = probgen.get_model(NAME)
    x = load_digits_binary()["x"]
    resp = model.responsibilities(fit, x)
    labels = digits_labels()
    assigned = np.array(
        [np.bincount(np.argmax(resp[labels == c], axis=1), minlength=3) for c in (0, 1, 7)]
    )
    np.testing.assert_array_equal(np.argmax(assigned, axis=1), [2, 1, 0])


@pytest.mark.slow
def test_mnist_fit():
    """Two MNIST classes (0 and 1, 27 images of 784 pixels), K=2."""
    data = load_mnist_100(digits=(0, 1))
    pixel = choose_order_pixel(data["x"], 2)
    model = probgen.get_model(NAME, K=2, D=784, order_pixel=pixel)
    fit = probgen.sample(model, data, seed=0)
    verdict = probgen.diagnose(fit)
    assert verdict.ok, verdict
    resp = model.responsibilities(fit, load_mnist_100(digits=(0, 1), test=True)["x"])
    labels = mnist_100_labels(digits=(0, 1), test=True)
    z = np.argmax(resp, axis=1)
    # held-out images: each class goes to its own component
    agree = max(np.mean(z == (labels == 1)), np.mean(z == (labels == 0)))
    assert agree > 0.9
