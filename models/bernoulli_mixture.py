"""Mixture of independent Bernoulli pixels for binary images, labels summed out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor.tensor as pt
from numpyro.distributions import constraints
from numpyro.distributions.transforms import Transform, biject_to
from numpyro.distributions.util import validate_sample
from pymc.logprob.transforms import Transform as PMTransform
from scipy.special import logsumexp

from probgen import DataError, Field, ModelData

from ._data import load_json
from ._latent import LatentModel, check_config, floatx

#: the default data: these classes of scikit-learn's 8x8 digits, pixel > 7 is "on"
DEFAULT_DIGITS = (0, 1, 7)
DIGITS_THRESHOLD = 7
#: pixel (row-major index into the 8x8 image: row 6, column 5) that orders the
#: components of the default data; its on-probability is ~0.01 / 0.5 / 0.9 in
#: the three clusters (see the class docstring, "Identifiability")
DEFAULT_ORDER_PIXEL = 53


# ================================================================== data sets
def load_digits_binary(
    digits: Sequence[int] = DEFAULT_DIGITS, threshold: int = DIGITS_THRESHOLD
) -> dict[str, Any]:
    """scikit-learn's 8x8 handwritten digits, binarized, as this model's data.

    Read from the file shipped inside scikit-learn (no network). The images are
    the UCI "Optical Recognition of Handwritten Digits" test set (1,797 images
    of 8x8 pixels with intensities 0..16; licence CC BY 4.0, Alpaydin & Kaynak
    1998, distributed with scikit-learn under BSD-3).

    Parameters
    ----------
    digits : sequence of int
        The digit classes to keep (distinct values in 0..9), in any order; the
        images keep scikit-learn's order.
    threshold : int
        A pixel is on (1) when its intensity is greater than this (0..15).

    Returns
    -------
    dict
        ``{"N": n, "D": 64, "x": (n, 64) int array}``; the class labels are
        not part of the model's data (see :func:`digits_labels`).
    """
    x, _ = _digits(digits, threshold)
    return {"N": x.shape[0], "D": x.shape[1], "x": x}


def digits_labels(digits: Sequence[int] = DEFAULT_DIGITS) -> np.ndarray:
    """The class labels (0..9) of :func:`load_digits_binary`'s images, in order."""
    return _digits(digits, DIGITS_THRESHOLD)[1]


def _digits(digits: Sequence[int], threshold: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    chosen = _check_digits("digits", digits)
    if not (isinstance(threshold, int | np.integer) and 0 <= threshold < 16):
        raise ValueError(f"threshold must be an integer in 0..15, got {threshold!r}")
    bunch = load_digits()
    keep = np.isin(bunch.target, chosen)
    return (bunch.data[keep] > threshold).astype(np.int64), bunch.target[keep].astype(np.int64)


def load_mnist_100(digits: Sequence[int] | None = None, *, test: bool = False) -> dict[str, Any]:
    """100 MNIST images (28x28 = 784 pixels), binarized, as this model's data.

    The bundled ``bmm_mnist_100.json`` is posteriordb's ``mnist_100`` data (the
    first 100 training and the first 100 test images of MNIST; BSD-3, see
    ``models/data/bmm_LICENCE.md``) with intensity >= 128 (of 0..255) as on.
    Fit it with ``BernoulliMixture(D=784, order_pixel=...)`` (see
    :func:`choose_order_pixel`).

    Parameters
    ----------
    digits : sequence of int, optional
        Keep only these classes (0..9); all 100 images if None.
    test : bool
        The 100 test images instead of the 100 training images.

    Returns
    -------
    dict
        ``{"N": n, "D": 784, "x": (n, 784) int array}``.
    """
    x, _ = _mnist(digits, test)
    return {"N": x.shape[0], "D": x.shape[1], "x": x}


def mnist_100_labels(digits: Sequence[int] | None = None, *, test: bool = False) -> np.ndarray:
    """The digit labels (0..9) of :func:`load_mnist_100`'s images, in order."""
    return _mnist(digits, test)[1]


def _mnist(digits: Sequence[int] | None, test: bool) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(test, bool):
        raise ValueError(f"test must be True or False, got {test!r}")
    raw = load_json("bmm_mnist_100.json")
    images, labels = (raw["xt"], raw["yt"]) if test else (raw["x"], raw["y"])
    x = np.array([[int(c) for c in row] for row in images], dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    if digits is not None:
        keep = np.isin(labels, _check_digits("digits", digits))
        x, labels = x[keep], labels[keep]
    return x, labels


def _check_digits(name: str, digits: Sequence[int]) -> list[int]:
    try:
        chosen = [int(d) for d in digits if isinstance(d, int | np.integer)]
        ok = len(chosen) == len(digits) and len(chosen) > 0
    except TypeError:
        ok = False
    if not ok or len(set(chosen)) != len(chosen) or not all(0 <= d <= 9 for d in chosen):
        raise ValueError(f"{name} must be distinct integers in 0..9, got {digits!r}")
    return chosen


# ============================================================== EM (starts)
def fit_em(
    x: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    restarts: int = 10,
    iters: int = 300,
    theta_a: float = 1.0,
    theta_b: float = 1.0,
    weight_concentration: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """A point estimate of a Bernoulli mixture by EM, best of several restarts.

    The classical counterpart of the model (and where its chains start, see
    :meth:`BernoulliMixture.initial_point`). The M-step uses the conditional
    posterior means ``(s + theta_a) / (n_k + theta_a + theta_b)`` and
    ``(n_k + weight_concentration) / (N + K weight_concentration)`` (soft counts
    ``s``, ``n_k``), so estimates stay inside (0, 1) even for pixels that are
    never on. Each restart begins from K distinct images chosen at random
    (k-means-style), smoothed towards 0.5.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Binary images.
    k : int
        Number of components.
    rng : numpy.random.Generator
        Chooses the restarts' seed images.
    restarts, iters : int
        Number of restarts and EM iterations per restart (stops early when the
        log likelihood improves by less than 1e-8).
    theta_a, theta_b, weight_concentration : float
        The model's prior parameters (used in the M-step).

    Returns
    -------
    weights : ndarray, shape (k,)
    theta : ndarray, shape (k, D)
    loglik : float
        The log likelihood of the best restart.
    """
    x = np.asarray(x, dtype=float)
    n, _ = x.shape
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for _ in range(restarts):
        seeds = rng.choice(n, size=k, replace=n < k)
        theta = 0.25 + 0.5 * x[seeds]
        weights = np.full(k, 1.0 / k)
        old = -np.inf
        for _ in range(iters):
            lp = _component_logp(x, weights, theta)
            ll = logsumexp(lp, axis=1)
            resp = np.exp(lp - ll[:, None])
            nk = resp.sum(axis=0)
            weights = (nk + weight_concentration) / (n + k * weight_concentration)
            theta = (resp.T @ x + theta_a) / (nk[:, None] + theta_a + theta_b)
            total = float(ll.sum())
            if total - old < 1e-8:
                break
            old = total
        total = float(logsumexp(_component_logp(x, weights, theta), axis=1).sum())
        if best is None or total > best[2]:
            best = (weights, theta, total)
    assert best is not None
    return best


def _component_logp(x: np.ndarray, weights: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """log weights[k] + log p(x[n] | theta[k]), shape (N, K); x (N, D) of 0/1."""
    return x @ np.log(theta).T + (1.0 - x) @ np.log1p(-theta).T + np.log(weights)


def choose_order_pixel(x: np.ndarray, k: int, *, seed: int = 0) -> int:
    """A pixel that separates the components of an EM fit as well as possible.

    For each pixel, the components' EM on-probabilities are sorted and the
    smallest gap between neighbours is measured in units of their binomial
    standard errors; the pixel with the largest such gap is returned. Use it
    as ``order_pixel`` for a new data set (and check that the gap is large:
    the ordering identifies the components only when it is; see the class
    docstring).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Binary images.
    k : int
        Number of components.
    seed : int
        Seed of the EM restarts.

    Returns
    -------
    int
        The pixel's index (row-major).
    """
    x = np.asarray(x, dtype=float)
    weights, theta, _ = fit_em(x, k, np.random.default_rng(seed))
    nk = weights[:, None] * x.shape[0]
    order = np.argsort(theta, axis=0)
    p = np.take_along_axis(theta, order, axis=0)
    se = np.sqrt(p * (1 - p) / np.take_along_axis(np.broadcast_to(nk, theta.shape), order, 0))
    z = np.diff(p, axis=0) / np.sqrt(se[1:] ** 2 + se[:-1] ** 2)
    return int(np.argmax(z.min(axis=0)))


# =========================================== the ordering transform, NumPyro
class _PixelOrderedUnit(constraints.Constraint):
    """(K, D) matrices in (0, 1) whose column ``pixel`` increases down the rows."""

    event_dim = 2

    def __init__(self, pixel: int):
        self.pixel = int(pixel)

    def __call__(self, x):
        col = x[..., :, self.pixel]
        inside = jnp.all((x > 0) & (x < 1), axis=(-2, -1))
        return inside & jnp.all(col[..., 1:] > col[..., :-1], axis=-1)

    def feasible_like(self, prototype):
        k = prototype.shape[-2]
        base = jnp.full(prototype.shape[-2:], 0.5)
        base = base.at[:, self.pixel].set(jnp.linspace(0.25, 0.75, k))
        return jnp.broadcast_to(base, prototype.shape)

    def tree_flatten(self):
        return (), ((), {"pixel": self.pixel})

    def __eq__(self, other):
        return isinstance(other, _PixelOrderedUnit) and other.pixel == self.pixel


class PixelOrderedLogitTransform(Transform):
    """Unconstrained (K, D) -> (0, 1)^(K, D) with column ``pixel`` increasing.

    Every element goes through the logistic function, except column ``pixel``,
    which is built by stick-breaking on the probability scale: ``theta_1 =
    sigmoid(u_1)`` and ``theta_k = theta_{k-1} + (1 - theta_{k-1}) sigmoid(u_k)``,
    i.e. ``1 - theta_k = prod_{j<=k} sigmoid(-u_j)``. Each ``u_k`` (k > 1) is
    then the logit of the fraction of the remaining room that component k
    takes, nearly independent of a vague ``theta_1`` close to 0 (a logit-scale
    ordered transform couples them into a funnel: see the class docstring).
    Log Jacobian: ``sum log sigmoid(u) + log sigmoid(-u)`` over every element
    plus ``sum_{k<K} log(1 - theta_k)`` over column ``pixel``.
    """

    domain = constraints.independent(constraints.real, 2)

    def __init__(self, pixel: int):
        self.pixel = int(pixel)

    @property
    def codomain(self):
        return _PixelOrderedUnit(self.pixel)

    def __call__(self, u):
        u = jnp.asarray(u)
        log_rest = jnp.cumsum(jax.nn.log_sigmoid(-u[..., :, self.pixel]), axis=-1)
        return jax.nn.sigmoid(u).at[..., :, self.pixel].set(-jnp.expm1(log_rest))

    def _inverse(self, theta):
        theta = jnp.asarray(theta)
        u = jnp.log(theta) - jnp.log1p(-theta)
        col = theta[..., :, self.pixel]
        below = jnp.concatenate([jnp.zeros_like(col[..., :1]), col[..., :-1]], axis=-1)
        return u.at[..., :, self.pixel].set(jnp.log(col - below) - jnp.log1p(-col))

    def log_abs_det_jacobian(self, u, theta, intermediates=None):
        u = jnp.asarray(u)
        logistic = jnp.sum(jax.nn.log_sigmoid(u) + jax.nn.log_sigmoid(-u), axis=(-2, -1))
        log_rest = jnp.cumsum(jax.nn.log_sigmoid(-u[..., :, self.pixel]), axis=-1)
        return logistic + jnp.sum(log_rest[..., :-1], axis=-1)

    def tree_flatten(self):
        return (), ((), {"pixel": self.pixel})

    def __eq__(self, other):
        return isinstance(other, PixelOrderedLogitTransform) and other.pixel == self.pixel


@biject_to.register(_PixelOrderedUnit)
def _transform_to_pixel_ordered(constraint):
    return PixelOrderedLogitTransform(constraint.pixel)


class PixelOrderedBeta(dist.Distribution):
    """A (K, D) matrix of i.i.d. Beta(a, b) restricted to an increasing column ``pixel``.

    ``log_prob`` is the sum of the Beta log densities (the constant log K! of
    the restriction is left out, as Stan leaves out truncation constants).
    Draws are exact: i.i.d. Beta rows sorted by that column (the order
    statistics of exchangeable rows).
    """

    reparametrized_params = []

    def __init__(self, a: float, b: float, k: int, d: int, pixel: int, validate_args=None):
        self.a = float(a)
        self.b = float(b)
        self.pixel = int(pixel)
        super().__init__(batch_shape=(), event_shape=(k, d), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=2)
    def support(self):
        return _PixelOrderedUnit(self.pixel)

    def sample(self, key, sample_shape=()):
        x = dist.Beta(self.a, self.b).sample(key, tuple(sample_shape) + self.event_shape)
        order = jnp.argsort(x[..., :, self.pixel], axis=-1)
        return jnp.take_along_axis(x, order[..., None], axis=-2)

    @validate_sample
    def log_prob(self, value):
        return jnp.sum(dist.Beta(self.a, self.b).log_prob(value), axis=(-2, -1))


# ============================================== the ordering transform, PyMC
class PMPixelOrderedLogit(PMTransform):
    """PyMC twin of :class:`PixelOrderedLogitTransform` (same map, same Jacobian)."""

    name = "pixelorderedlogit"  # no underscore: PyMC parses value names on "_"
    ndim_supp = 2

    def __init__(self, pixel: int):
        self.pixel = int(pixel)

    def forward(self, value, *inputs):
        value = pt.as_tensor_variable(value)
        u = pt.log(value) - pt.log1p(-value)
        col = value[..., :, self.pixel]
        below = pt.concatenate([pt.zeros_like(col[..., :1]), col[..., :-1]], axis=-1)
        return pt.set_subtensor(u[..., :, self.pixel], pt.log(col - below) - pt.log1p(-col))

    def backward(self, value, *inputs):
        u = pt.as_tensor_variable(value)
        # log sigmoid(-u) = -softplus(u)
        log_rest = pt.cumsum(-pt.log1pexp(u[..., :, self.pixel]), axis=-1)
        return pt.set_subtensor(pt.sigmoid(u)[..., :, self.pixel], -pt.expm1(log_rest))

    def log_jac_det(self, value, *inputs):
        u = pt.as_tensor_variable(value)
        # log sigmoid(u) + log sigmoid(-u) = -softplus(-u) - softplus(u)
        logistic = pt.sum(-pt.log1pexp(-u) - pt.log1pexp(u), axis=(-2, -1))
        log_rest = pt.cumsum(-pt.log1pexp(u[..., :, self.pixel]), axis=-1)
        return logistic + pt.sum(log_rest[..., :-1], axis=-1)


def pm_pixel_ordered_beta(name: str, a: float, b: float, k: int, d: int, pixel: int, dims=None):
    """PyMC twin of :class:`PixelOrderedBeta` (a CustomDist with the same transform)."""

    def random(a, b, rng=None, size=None):
        batch = tuple(size) if size else np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        x = rng.beta(a, b, size=(*batch, k, d))
        order = np.argsort(x[..., :, pixel], axis=-1)
        return np.take_along_axis(x, order[..., None], axis=-2)

    def logp(value, a, b):
        return pt.sum(pm.logp(pm.Beta.dist(a, b), value), axis=(-2, -1))

    start = np.full((k, d), 0.5)
    start[:, pixel] = np.linspace(0.25, 0.75, k)
    start_pt = pt.as_tensor(floatx(start))

    def support_point(rv, size, a, b):
        return start_pt

    return pm.CustomDist(
        name,
        floatx(np.full((k, d), float(a))),
        floatx(np.full((k, d), float(b))),
        random=random,
        logp=logp,
        support_point=support_point,
        signature="(k,d),(k,d)->(k,d)",
        transform=PMPixelOrderedLogit(pixel),
        dims=dims,
    )


# ========================================================= posterior helpers
def responsibilities_from_draws(
    weights: np.ndarray, theta: np.ndarray, images: np.ndarray
) -> np.ndarray:
    """P(z = k | image) averaged over posterior draws; NaN pixels marginalized.

    A missing (NaN) pixel is summed out: both of its values are possible, so
    it drops out of ``p(image | z = k)``; an image with every pixel missing
    gets the draws' weights.

    Parameters
    ----------
    weights : ndarray, shape (S, K)
        Draws of the mixing weights.
    theta : ndarray, shape (S, K, D)
        Draws of the pixel-on probabilities.
    images : ndarray, shape (n, D)
        Values 0, 1 or NaN (missing).

    Returns
    -------
    ndarray, shape (n, K)
        Each row sums to 1.
    """
    weights = np.asarray(weights, dtype=float)
    theta = np.asarray(theta, dtype=float)
    images = np.asarray(images, dtype=float)
    seen = ~np.isnan(images)
    on = np.where(seen, images, 0.0)
    off = seen & (images == 0)
    out = np.zeros((images.shape[0], weights.shape[-1]))
    for start in range(0, weights.shape[0], 256):  # bounded memory over draws
        w, t = weights[start : start + 256], theta[start : start + 256]
        lp = (
            np.einsum("nd,skd->snk", on, np.log(t))
            + np.einsum("nd,skd->snk", off.astype(float), np.log1p(-t))
            + np.log(w)[:, None, :]
        )
        out += np.exp(lp - logsumexp(lp, axis=-1, keepdims=True)).sum(axis=0)
    return out / weights.shape[0]


class BernoulliMixture(LatentModel):
    r"""Mixture of K "prototype images": independent Bernoulli pixels per component.

    Generative story (site names as in both backends), components k = 1..K,
    pixels d = 1..D and images n = 1..N::

        weights     ~ Dirichlet(weight_concentration · 1_K)         (mixing weights)
        theta[k, d] ~ Beta(theta_a, theta_b) independently,          (pixel-on probs)
                      restricted to theta[1, p] < theta[2, p] < ... < theta[K, p]
                      at the one pixel p = order_pixel               (identifiability)
        z[n]        ~ Categorical(weights)                            (not a site)
        x[n, d]     ~ Bernoulli(theta[z[n], d]) independently over d  (observed)

    Each component is a prototype image, ``theta[k, :]``, the probability that
    each pixel is on; an image is drawn by choosing a component and then every
    pixel independently. The labels z are summed out: an image has probability
    sum_k weights[k] · prod_d theta[k, d]^x[n, d] (1 - theta[k, d])^(1 - x[n, d]),
    computed with logsumexp over components (NumPyro ``MixtureSameFamily`` of
    ``Bernoulli(theta).to_event(1)``; PyMC a ``CustomDist`` with the same
    logsumexp and a generator that draws a label, then the pixels). The
    pointwise log likelihood is per image (``obs``), not per pixel.

    Dims: ``weights`` along ``component``; ``theta`` (component, pixel); ``x``
    (obs, pixel), pixels in row-major order. ``N`` is a size key (filled in from
    ``x``; alone it sets how many images to generate); ``K`` and ``D`` are
    configuration (a ``K``/``D`` in the data is checked against them).

    Priors: a symmetric Dirichlet(5) on the weights by default keeps every
    component from emptying (use 1 for a flat simplex); Beta(1, 1) (uniform)
    pixel-on probabilities by default. The ordered prior is the product of the
    Beta densities on the ordered region, unnormalized (the constant log K! is
    left out, as Stan leaves out truncation constants); both backends map it
    from the unconstrained scale with the same transform: logistic of every
    element, except column ``order_pixel``, built by stick-breaking on the
    probability scale, ``theta[k, p] = theta[k-1, p] + (1 - theta[k-1, p]) ·
    sigmoid(u[k, p])`` (:class:`PixelOrderedLogitTransform`,
    :class:`PMPixelOrderedLogit`). Stan's ordered transform on the logit scale
    was tried first and rejected: the lowest component's on-probability at
    the ordering pixel is near 0 and vague (about Beta(1, 181) on the default
    data), and the next component's unconstrained value, log(logit gap),
    follows it, a funnel where PyMC's NUTS diverged (19 of 4,000 transitions,
    R-hat 1.016 at default settings); stick-breaking makes the components'
    values nearly independent.

    Identifiability: the likelihood is invariant to permuting the components,
    so the unconstrained posterior has K! symmetric copies of each mode and
    chains land in different ones. The components are ordered by their
    on-probability at one pixel, ``order_pixel``. Other orderings were
    measured on the default data and rejected: binarized digits are normalized
    in size, so the components' mean brightness (mean of ``theta[k, :]``)
    differs between the three clusters by 0.3 to 3.5 posterior sds and their
    mean log-odds by less than one sd (the log-odds of the never-on border
    pixels are vague); the weights are nearly equal (about 1/3 each). An
    ordering identifies the components only where its gaps are many posterior
    sds wide: where two components overlap in the ordered quantity, both
    labellings of them fall partly inside the ordered region and the
    constrained posterior is bimodal. At pixel 53 (row 6, column 5) of the
    default data the three clusters' on-probabilities are about 0.01, 0.5 and
    0.9, gaps of more than 10 posterior sds. For another data set choose the
    pixel with :func:`choose_order_pixel` (the pixel whose smallest gap between
    EM components is widest, in standard errors).

    Data: by default scikit-learn's 8x8 handwritten digits (the UCI "Optical
    Recognition of Handwritten Digits" data, CC BY 4.0, shipped in
    scikit-learn's wheel), classes 0, 1 and 7 (N=539 images), binarized at
    intensity > 7 (of 0..16): D=64 pixels, K=3 components (:func:`load_digits_binary`).
    :func:`load_mnist_100` gives the 100 MNIST images of posteriordb's
    ``mnist_100`` (BSD-3), binarized at >= 128: D=784, bundled as
    ``bmm_mnist_100.json``.

    Inference difficulty: label switching (see "Identifiability") and
    multimodality beyond it: EM on binary images has local optima (a cluster
    split in two while two others merge), and with more components than the
    data support, or with overlapping classes, the posterior has several modes
    that no ordering removes. On the full digits data (1,797 images) with
    K=10, eight EM restarts reached optima up to 416 log-likelihood units
    apart (only one of them twice), and no single pixel separates ten
    clusters (the best one's smallest gap is one posterior sd); on all 100
    MNIST images with K=2 or 3 restarts disagree by 100 to 600 units. Chains
    started there would sit in different modes (R-hat would flag them; those
    fits were not run), so the default data is three well separated classes,
    where 6 of 8 single EM restarts reach the same optimum (the others are
    182 and 851 units below it), so the best of 10 is that optimum for
    practically every chain; for MNIST use a few
    classes (e.g. ``load_mnist_100(digits=(0, 1))`` with K=2, where the
    restarts agree). The ordering brings its own trap, as for the
    Gaussian mixtures: a chain that starts with two components in the wrong
    order at ``order_pixel`` cannot swap them (the swap passes through the
    boundary of the ordered region), so :meth:`initial_point` starts every
    chain in the right order. The never-on border pixels have vague,
    skewed posteriors on the logit scale (theta ~ Beta(1, n_k + 1)); NUTS
    handles them with a diagonal mass matrix, at default settings.

    Initialisation: :meth:`initial_point` starts each chain at an EM estimate
    (:func:`fit_em`, best of 10 restarts from random images, drawn from the
    chain's generator), components sorted by their value at ``order_pixel``,
    then jittered: logits of ``theta`` by N(0, 0.1²) (column ``order_pixel``
    kept increasing) and ``weights`` by exp(uniform(-0.2, 0.2)). Only the start
    changes; the density does not. Where EM restarts disagree (a multimodal
    posterior) chains start in different modes and R-hat shows it.

    Beyond fitting: :meth:`generate_images` draws new images from the
    posterior (optionally from one chosen component); :meth:`responsibilities`
    gives P(z = k | image) for new images, averaged over posterior draws, with
    missing (NaN) pixels summed out. ``probgen.generate(fit, n)`` draws whole
    new data sets of n images.

    Discriminative counterpart: none in the unsupervised sense; the classical
    counterpart is EM (:func:`fit_em`, the same likelihood maximized). With
    labels, the supervised generative twin is Bernoulli naive Bayes (one
    component per class, ``bernoulli_naive_bayes``) and the discriminative
    counterpart is multinomial logistic regression on the pixels
    (``sklearn.linear_model.LogisticRegression``).

    Parameters
    ----------
    K : int, default 3
        Number of components (>= 2).
    D : int, default 64
        Pixels per image.
    theta_a, theta_b : float, default 1.0, 1.0
        Beta prior of every pixel-on probability.
    weight_concentration : float, default 5.0
        Symmetric Dirichlet concentration of the weights.
    order_pixel : int, default 53
        The pixel (0..D-1, row-major) whose on-probability orders the components.
    """

    name = "bernoulli_mixture"
    family = "mixture"
    summary = "Bernoulli mixture for binary images, K prototype images, labels summed out"
    fields = (Field("x", ("obs", "pixel"), kind="binary", observed=True, doc="binary images"),)
    sizes = {"N": "obs", "D": "pixel", "K": "component"}
    obs_dim = "obs"
    latent_dims = ("component",)
    feature_dim = "pixel"

    def __init__(
        self,
        K: int = 3,
        D: int = 64,
        theta_a: float = 1.0,
        theta_b: float = 1.0,
        weight_concentration: float = 5.0,
        order_pixel: int = DEFAULT_ORDER_PIXEL,
    ):
        self.K = K
        self.D = D
        self.theta_a = theta_a
        self.theta_b = theta_b
        self.weight_concentration = weight_concentration
        self.order_pixel = order_pixel
        check_config(
            self,
            ints={"K": 2, "D": 1, "order_pixel": 0},
            positive=("theta_a", "theta_b", "weight_concentration"),
        )
        if order_pixel >= D:
            raise ValueError(
                f"order_pixel must index a pixel (0..D-1 = 0..{D - 1}), got {order_pixel}"
            )

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"theta": ("component", "pixel"), "weights": ("component",)}

    def default_data(self) -> dict[str, Any]:
        return load_digits_binary()

    def from_table(self, frame) -> dict[str, Any]:
        """A table's columns are the pixels (row-major), one image per row."""
        return {"x": frame.to_numpy()}

    def complete_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check ``K``/``D`` against the configuration; ``D`` sizes the pixels."""
        data = super().complete_data(data)
        x = data.get("x")
        shape = np.shape(x) if isinstance(x, np.ndarray) else None
        if x is not None and shape is None:
            try:
                shape = np.asarray(x).shape
            except ValueError:
                shape = None  # ragged: prepare_data names the problem
        if shape is not None and len(shape) == 2 and shape[1] != self.D:
            raise DataError(
                f"data['x'] has {shape[1]} pixels per image but this {self.name} has "
                f"D={self.D}; configure BernoulliMixture(D={shape[1]}, order_pixel=...)"
            )
        data.setdefault("D", self.D)
        return data

    def initial_point(self, data: ModelData, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A chain's start at an EM estimate, components in order (see "Initialisation")."""
        weights, theta, _ = fit_em(
            np.asarray(data["x"], dtype=float),
            self.K,
            rng,
            theta_a=self.theta_a,
            theta_b=self.theta_b,
            weight_concentration=self.weight_concentration,
        )
        p = self.order_pixel
        order = np.argsort(theta[:, p], kind="stable")
        theta, weights = theta[order], weights[order]
        logits = np.log(theta) - np.log1p(-theta) + 0.1 * rng.standard_normal(theta.shape)
        # keep the ordered column strictly increasing after the jitter, in the
        # EM order (re-sorting would swap whole components between chains)
        for j in range(1, self.K):
            logits[j, p] = max(logits[j, p], logits[j - 1, p] + 1e-3)
        weights = weights * np.exp(rng.uniform(-0.2, 0.2, size=self.K))
        return {"theta": 1.0 / (1.0 + np.exp(-logits)), "weights": weights / weights.sum()}

    # ------------------------------------------------------------- the twins
    def numpyro_model(self, data: ModelData) -> None:
        k, d, n = self.K, self.D, data.size(self.obs_dim)
        theta = numpyro.sample(
            "theta", PixelOrderedBeta(self.theta_a, self.theta_b, k, d, self.order_pixel)
        )
        weights = numpyro.sample(
            "weights", dist.Dirichlet(jnp.full(k, float(self.weight_concentration)))
        )
        mixture = dist.MixtureSameFamily(
            dist.Categorical(probs=weights), dist.Bernoulli(probs=theta).to_event(1)
        )
        with numpyro.plate("obs", n):
            numpyro.sample("x", mixture, obs=data.get("x"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        k, d = self.K, self.D

        def logp(value, weights, theta):
            # (..., 1, D) images against (K, D) prototypes, summed over pixels
            value = value[..., None, :]
            comp = pt.sum(value * pt.log(theta) + (1 - value) * pt.log1p(-theta), axis=-1)
            return pt.logsumexp(pt.log(weights) + comp, axis=-1)

        def random(weights, theta, rng=None, size=None):
            batch = tuple(size) if size else ()
            weights = weights.reshape(-1, k)[0]
            theta = theta.reshape(-1, k, d)[0]
            z = rng.choice(k, size=batch, p=weights / weights.sum())
            return (rng.uniform(size=(*batch, d)) < theta[z]).astype(np.int64)

        # the latent dims too: data read back from a fit carries only data dims
        with pm.Model(coords=self.coords(data)) as model:
            theta = pm_pixel_ordered_beta(
                "theta",
                self.theta_a,
                self.theta_b,
                k,
                d,
                self.order_pixel,
                dims=("component", "pixel"),
            )
            weights = pm.Dirichlet(
                "weights", a=floatx(np.full(k, self.weight_concentration)), dims="component"
            )
            pm.CustomDist(
                "x",
                weights,
                theta,
                logp=logp,
                random=random,
                signature="(k),(k,d)->(d)",
                dtype="int64",
                observed=data["x"],
                dims=("obs", "pixel"),
            )
        return model

    # ------------------------------------------------------ beyond fitting
    def _draws(self, fit) -> tuple[np.ndarray, np.ndarray]:
        """(S, K) weights and (S, K, D) theta from a fit of this model."""
        recorded = getattr(fit, "attrs", {}).get("probgen_model")
        if recorded is not None and recorded != self.name:
            raise ValueError(f"fit is a fit of {recorded!r}, not of {self.name!r}")
        try:
            post = fit["posterior"]
            weights = np.asarray(post["weights"].values, dtype=float)
            theta = np.asarray(post["theta"].values, dtype=float)
        except (KeyError, TypeError):
            raise ValueError(
                "fit must be a probgen fit (DataTree) with 'weights' and 'theta' in its "
                "posterior group"
            ) from None
        if weights.shape[-1:] != (self.K,) or theta.shape[-2:] != (self.K, self.D):
            raise ValueError(
                f"fit has theta of shape {theta.shape[-2:]} per draw but this model has "
                f"K={self.K}, D={self.D}"
            )
        return weights.reshape(-1, self.K), theta.reshape(-1, self.K, self.D)

    def generate_images(
        self, fit, n: int, *, component: int | None = None, seed: int = 0
    ) -> np.ndarray:
        """New binary images from the posterior, one posterior draw per image.

        Each image takes a posterior draw at random, then a component (from
        that draw's ``weights``, or the given one), then every pixel from
        Bernoulli(``theta[component, :]``).

        Parameters
        ----------
        fit : DataTree
            A fit of this model (same K and D).
        n : int
            Number of images (>= 1).
        component : int, optional
            Draw every image from this component (0..K-1; components are
            labelled in the order of ``order_pixel``) instead of a random one.
        seed : int

        Returns
        -------
        ndarray, shape (n, D), int
            Images of 0/1 pixels in row-major order (reshape to the image's
            height and width to view them).
        """
        if not (isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1):
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if component is not None and not (
            isinstance(component, int | np.integer)
            and not isinstance(component, bool)
            and 0 <= component < self.K
        ):
            raise ValueError(f"component must be None or an integer in 0..{self.K - 1}")
        if not (isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0):
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        weights, theta = self._draws(fit)
        rng = np.random.default_rng(seed)
        s = rng.integers(weights.shape[0], size=n)
        if component is None:
            cum = np.cumsum(weights[s], axis=1)
            u = rng.uniform(size=(n, 1)) * cum[:, -1:]
            z = np.minimum((u > cum).sum(axis=1), self.K - 1)
        else:
            z = np.full(n, int(component))
        return (rng.uniform(size=(n, self.D)) < theta[s, z]).astype(np.int64)

    def responsibilities(self, fit, images) -> np.ndarray:
        """P(z = k | image) for new images, averaged over the posterior draws.

        Parameters
        ----------
        fit : DataTree
            A fit of this model (same K and D).
        images : array-like, shape (n, D)
            Pixels 0 or 1; NaN marks a missing pixel, which is summed out.

        Returns
        -------
        ndarray, shape (n, K)
            Each row sums to 1 (columns in the components' order).
        """
        arr = np.asarray(images, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != self.D:
            raise ValueError(
                f"images must be an (n, D={self.D}) array, got shape {arr.shape} "
                "(one image: images[None, :])"
            )
        seen = arr[~np.isnan(arr)]
        if not np.isin(seen, (0.0, 1.0)).all():
            raise ValueError("images must hold 0, 1 or NaN (missing) pixels")
        weights, theta = self._draws(fit)
        return responsibilities_from_draws(weights, theta, arr)
