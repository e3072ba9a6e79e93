"""What the latent-class models (mixtures, HMMs) share.

**Sizes.** Stan's ``N`` is accepted as a size key (``sizes``): checked against
``y`` when both are given, and alone it sets how many observations to generate.
The number of components/states ``K`` (and the mixture's dimension ``D``) is
configuration, not data: a ``K`` (``D``) in the data is accepted and checked
against it.

**Ordered normal priors**, written once for each backend with the same transform.
Mixture and HMM components are identified by ordering their locations. Stan
declares such parameters ``ordered[K]`` or ``positive_ordered[K]`` and puts
independent normal priors on the elements, which on the constrained scale is the
product of the normal densities restricted to the ordered region (the truncation
constant is left out, as Stan leaves it out; it does not depend on any parameter).

Both backends use Stan's transforms from the unconstrained vector ``x``:

* ordered: ``y_1 = x_1``, ``y_k = y_{k-1} + exp(x_k)`` (NumPyro's
  ``OrderedTransform``; PyMC's ``transforms.Ordered()``);
* positive ordered: ``y_k = y_{k-1} + exp(x_k)`` with ``y_0 = 0``, i.e.
  ``cumsum(exp(x))`` (:class:`PositiveOrderedTransform` here, registered for the
  :data:`stan_positive_ordered_vector` constraint; PyMC's
  ``transforms.Ordered(positive=True)``). NumPyro's own
  ``positive_ordered_vector`` maps through ``exp(ordered(x))`` instead, a
  different geometry, so it is not used;
* first-column ordered (matrix, rows = components): the ordered transform on
  column 0, identity elsewhere (:class:`FirstColumnOrderedTransform` in NumPyro,
  :class:`PMFirstColumnOrdered` in PyMC).

Draws from these priors are exact: when every component has the same prior the
ordered density is that of the order statistics of i.i.d. draws (sort them; for
the first-column case, sort the rows by their first coordinate); otherwise
independent draws are rejected until they are ordered (and positive). Only a
prior whose locations are badly out of order (acceptance below ~1e-4) exhausts
the rejection budget; those draws fall back to sorted independent draws, which
are ordered but only approximately from the prior.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pymc as pm
import pytensor
import pytensor.tensor as pt
from numpyro.distributions import constraints
from numpyro.distributions.transforms import OrderedTransform, Transform, biject_to
from numpyro.distributions.util import validate_sample
from pymc.distributions.transforms import Ordered
from pymc.logprob.transforms import Transform as PMTransform
from scipy.special import ndtr, ndtri

from probgen import DataError, Model, ModelData

#: rejection sampling: rounds of _BLOCK proposals each before giving up (the
#: priors of the zoo's defaults accept almost every proposal)
_MAX_ROUNDS = 200
_BLOCK = 64


# ================================================================ sizes as data
def floatx(x) -> np.ndarray:
    """A constant in PyTensor's current floatX (probgen's precision)."""
    return np.asarray(x, dtype=pytensor.config.floatX)


def check_config(model, *, ints: dict[str, int], positive: tuple[str, ...] = ()) -> None:
    """Check integer settings (name -> minimum) and positive scales; name the bad one."""
    for name, minimum in ints.items():
        value = getattr(model, name)
        if not (isinstance(value, int | np.integer) and value >= minimum):
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    for name in positive:
        if not getattr(model, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(model, name)!r}")


def mixture_start(
    y: np.ndarray, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A data-informed starting point for a mixture ordered on its first coordinate.

    The points are sorted by their first coordinate and split into ``k`` groups
    of (nearly) equal size; component k starts at group k's mean, jittered by
    a tenth of the group's sd, with sds at the group's sds times
    ``exp(uniform(-0.3, 0.3))`` and weights near uniform. This is the Bayesian
    analogue of a k-means/quantile start for EM: every component starts on its
    own side of the others, so no chain begins in the wrong order, where the
    ordering constraint would trap it (see the mixture models' docstrings).

    Parameters
    ----------
    y : ndarray, shape (N, D)
        The observations (finite; ``N >= 1``).
    k : int
        Number of components.
    rng : numpy.random.Generator
        Source of the jitter (one generator serves every chain of a fit).

    Returns
    -------
    mu : ndarray, shape (k, D)
        Locations, ``mu[:, 0]`` strictly increasing.
    sigma : ndarray, shape (k, D)
        Positive scales.
    theta : ndarray, shape (k,)
        Weights, positive and summing to 1.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2 or y.shape[0] < 1:
        raise ValueError(f"y must be an (N, D) array with N >= 1, got shape {y.shape}")
    n, d = y.shape
    order = np.argsort(y[:, 0], kind="stable")
    if n >= k:
        groups = np.array_split(order, k)
    else:  # fewer points than components: share points (ties broken below)
        groups = [order[[min(j * n // k, n - 1)]] for j in range(k)]
    # a scale for the data that is never 0 (constant data would give sd 0, and any
    # positive sd starts such a fit as well as another)
    spread = y.std(axis=0)
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    loc = np.stack([y[g].mean(axis=0) for g in groups])
    sd = np.stack([y[g].std(axis=0) if len(g) > 1 else spread for g in groups])
    sd = np.where(sd > 0, sd, spread)
    mu = loc + 0.1 * sd * rng.standard_normal((k, d))
    # strictly increasing first coordinate: the jitter may cross two close groups
    # and tied groups (repeated values, N < K) have equal means
    for j in range(1, k):
        # relative to the values too, or a tiny spread far from 0 would be lost
        gap = max(1e-3 * spread[0], 1e-6 * abs(mu[j - 1, 0]))
        mu[j, 0] = max(mu[j, 0], mu[j - 1, 0] + gap)
    sigma = sd * np.exp(rng.uniform(-0.3, 0.3, size=(k, d)))
    weights = np.exp(rng.uniform(-0.2, 0.2, size=k))
    return mu, sigma, weights / weights.sum()


class LatentModel(Model):
    """Base of the latent-class models: ``N`` a size key, ``K`` (and ``D``) configuration.

    Subclasses set ``obs_dim`` (the outcome's first dim, counted by ``N``),
    ``latent_dims`` (dims of size ``K``) and, for a multivariate outcome,
    ``feature_dim`` (the outcome's second dim, of size ``self.D``).
    """

    obs_dim: ClassVar[str] = "obs"
    latent_dims: ClassVar[tuple[str, ...]] = ()
    feature_dim: ClassVar[str | None] = None
    K: int

    def from_table(self, frame) -> dict[str, Any]:
        """A table's columns: ``y`` (one column), or every column as a feature of ``y``."""
        if self.feature_dim is None:
            if "y" not in frame.columns:
                raise DataError(f"{self.name}: the table needs a 'y' column")
            return {"y": frame["y"].to_numpy()}
        return {"y": frame.to_numpy(dtype=float)}

    def complete_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check a Stan-style ``K``/``D`` against the configuration."""
        for key in ("K", "D"):
            given = data.get(key)
            want = getattr(self, key, None)
            if (
                given is not None
                and want is not None
                and np.ndim(given) == 0
                and float(given) != want
            ):
                raise DataError(
                    f"data[{key!r}] = {given} but this {self.name} has {key}={want}; "
                    f"configure {type(self).__name__}({key}={given})"
                )
        return data

    def coords(self, data: ModelData) -> dict[str, list]:
        out = dict(data.coords)
        for dim in self.latent_dims:
            out.setdefault(dim, list(range(self.K)))
        if self.feature_dim is not None:
            d = len(out.setdefault(self.feature_dim, list(range(self.D))))
            if d != self.D:
                raise DataError(
                    f"y has {d} columns but this {self.name} has D={self.D}; "
                    f"configure {type(self).__name__}(D={d})"
                )
        return out


# ============================================================== NumPyro side
class _StanPositiveOrderedVector(type(constraints.positive_ordered_vector)):
    """Positive ordered vectors, mapped with Stan's ``cumsum(exp(x))``."""


stan_positive_ordered_vector = _StanPositiveOrderedVector()


class PositiveOrderedTransform(Transform):
    """Stan's positive_ordered transform: ``y = cumsum(exp(x))``."""

    domain = constraints.real_vector
    codomain = stan_positive_ordered_vector

    def __call__(self, x):
        return jnp.cumsum(jnp.exp(x), axis=-1)

    def _inverse(self, y):
        steps = jnp.concatenate([y[..., :1], y[..., 1:] - y[..., :-1]], axis=-1)
        return jnp.log(steps)

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        return jnp.sum(x, axis=-1)

    def tree_flatten(self):
        return (), ((), {})

    def __eq__(self, other):
        return isinstance(other, PositiveOrderedTransform)


@biject_to.register(_StanPositiveOrderedVector)
def _transform_to_stan_positive_ordered(constraint):
    return PositiveOrderedTransform()


class _FirstColumnOrdered(constraints.Constraint):
    """Real matrices (rows = components) whose first column increases."""

    event_dim = 2

    def __call__(self, x):
        col = x[..., :, 0]
        return jnp.all(col[..., 1:] > col[..., :-1], axis=-1)

    def feasible_like(self, prototype):
        k = prototype.shape[-2]
        base = jnp.zeros(prototype.shape[-2:]).at[:, 0].set(jnp.arange(float(k)))
        return jnp.broadcast_to(base, prototype.shape)

    def tree_flatten(self):
        return (), ((), {})

    def __eq__(self, other):
        return isinstance(other, _FirstColumnOrdered)


first_column_ordered = _FirstColumnOrdered()


class FirstColumnOrderedTransform(Transform):
    """Stan's ordered transform on column 0 of a matrix, identity elsewhere."""

    domain = constraints.independent(constraints.real, 2)
    codomain = first_column_ordered

    def __call__(self, x):
        return x.at[..., :, 0].set(OrderedTransform()(x[..., :, 0]))

    def _inverse(self, y):
        return y.at[..., :, 0].set(OrderedTransform()._inverse(y[..., :, 0]))

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        return jnp.sum(x[..., 1:, 0], axis=-1)

    def tree_flatten(self):
        return (), ((), {})

    def __eq__(self, other):
        return isinstance(other, FirstColumnOrderedTransform)


@biject_to.register(_FirstColumnOrdered)
def _transform_to_first_column_ordered(constraint):
    return FirstColumnOrderedTransform()


def _is_iid(loc: np.ndarray, scale: np.ndarray) -> bool:
    return bool(np.all(loc == loc.flat[0]) and np.all(scale == scale.flat[0]))


class OrderedNormal(dist.Distribution):
    """Independent normals restricted to an increasing (optionally positive) vector.

    ``log_prob`` is the sum of the normal log densities (no truncation constant,
    as in Stan). ``loc`` and ``scale`` are fixed numbers (model configuration),
    broadcast to the event shape ``(k,)``.
    """

    reparametrized_params = []

    def __init__(self, loc, scale, k: int, *, positive: bool = False, validate_args=None):
        self.loc = np.broadcast_to(np.asarray(loc, dtype=float), (k,)).copy()
        self.scale = np.broadcast_to(np.asarray(scale, dtype=float), (k,)).copy()
        self.positive = positive
        super().__init__(batch_shape=(), event_shape=(k,), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=1)
    def support(self):
        return stan_positive_ordered_vector if self.positive else constraints.ordered_vector

    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape) + self.event_shape
        loc, scale = jnp.asarray(self.loc), jnp.asarray(self.scale)
        if _is_iid(self.loc, self.scale):
            low = 0.0 if self.positive else None
            x = dist.TruncatedNormal(loc, scale, low=low).sample(key, tuple(sample_shape))
            return jnp.sort(x, axis=-1)

        def valid(x):
            ok = jnp.all(x[..., 1:] > x[..., :-1], axis=-1)
            return ok & jnp.all(x > 0, axis=-1) if self.positive else ok

        def body(state):
            i, key, x, ok = state
            key, sub = jax.random.split(key)
            prop = loc + scale * jax.random.normal(sub, (_BLOCK, *shape))
            good = valid(prop)
            first = jnp.take_along_axis(prop, jnp.argmax(good, axis=0)[None, ..., None], 0)[0]
            take = good.any(axis=0) & ~ok
            return i + 1, key, jnp.where(take[..., None], first, x), ok | take

        def cond(state):
            i, _, _, ok = state
            return (i < _MAX_ROUNDS) & ~jnp.all(ok)

        key, sub = jax.random.split(key)
        fallback = jnp.sort(loc + scale * jax.random.normal(sub, shape), axis=-1)
        if self.positive:
            fallback = jnp.sort(jnp.abs(fallback), axis=-1)
        init = (0, key, fallback, jnp.zeros(shape[:-1], dtype=bool))
        _, _, x, _ = jax.lax.while_loop(cond, body, init)
        return x

    @validate_sample
    def log_prob(self, value):
        return jnp.sum(dist.Normal(self.loc, self.scale).log_prob(value), axis=-1)


class FirstColumnOrderedNormal(dist.Distribution):
    """A (k, d) matrix of i.i.d. normals restricted to an increasing first column."""

    reparametrized_params = []
    support = first_column_ordered

    def __init__(self, loc: float, scale: float, k: int, d: int, validate_args=None):
        self.loc = float(loc)
        self.scale = float(scale)
        super().__init__(batch_shape=(), event_shape=(k, d), validate_args=validate_args)

    def sample(self, key, sample_shape=()):
        x = self.loc + self.scale * jax.random.normal(key, tuple(sample_shape) + self.event_shape)
        order = jnp.argsort(x[..., :, 0], axis=-1)
        return jnp.take_along_axis(x, order[..., None], axis=-2)

    @validate_sample
    def log_prob(self, value):
        return jnp.sum(dist.Normal(self.loc, self.scale).log_prob(value), axis=(-2, -1))


# ================================================================= PyMC side
def _np_ordered_normal(loc, scale, positive, rng, size):
    """NumPy twin of :meth:`OrderedNormal.sample` (same distribution, own stream)."""
    loc = np.asarray(loc, dtype=float)
    scale = np.asarray(scale, dtype=float)
    batch = tuple(size) if size else np.broadcast_shapes(loc.shape[:-1], scale.shape[:-1])
    shape = (*batch, loc.shape[-1])
    if _is_iid(loc, scale):
        if positive:  # i.i.d. normals truncated at 0, by the inverse CDF
            lo = ndtr(-loc / scale)
            x = loc + scale * ndtri(lo + (1.0 - lo) * rng.uniform(size=shape))
        else:
            x = rng.normal(loc, scale, size=shape)
        return np.sort(x, axis=-1)
    x = np.sort(rng.normal(loc, scale, size=shape), axis=-1)  # fallback, see module doc
    if positive:
        x = np.sort(np.abs(x), axis=-1)
    todo = np.ones(batch, dtype=bool)
    for _ in range(_MAX_ROUNDS):
        prop = rng.normal(loc, scale, size=(_BLOCK, *shape))
        good = np.all(np.diff(prop, axis=-1) > 0, axis=-1)
        if positive:
            good &= np.all(prop > 0, axis=-1)
        first = np.take_along_axis(prop, np.argmax(good, axis=0)[None, ..., None], 0)[0]
        take = good.any(axis=0) & todo
        x = np.where(take[..., None], first, x)
        todo &= ~take
        if not todo.any():
            break
    return x


def pm_ordered_normal(name: str, loc, scale, k: int, *, positive: bool = False, dims=None):
    """PyMC twin of :class:`OrderedNormal` (a CustomDist with Stan's transform)."""
    loc = np.broadcast_to(np.asarray(loc, dtype=float), (k,)).copy()
    scale = np.broadcast_to(np.asarray(scale, dtype=float), (k,)).copy()

    def random(loc, scale, rng=None, size=None):
        return _np_ordered_normal(loc, scale, positive, rng, size)

    def logp(value, loc, scale):
        return pt.sum(pm.logp(pm.Normal.dist(loc, scale), value), axis=-1)

    # an ordered (and positive) starting point near the prior locations
    start = np.sort(loc)
    start = np.maximum.accumulate(np.maximum(start, 0.1) if positive else start)
    start = start + 0.1 * np.arange(k)
    start_pt = pt.as_tensor(floatx(start))

    def support_point(rv, size, loc, scale):
        return start_pt

    return pm.CustomDist(
        name,
        floatx(loc),
        floatx(scale),
        random=random,
        logp=logp,
        support_point=support_point,
        signature="(k),(k)->(k)",
        transform=Ordered(positive=positive),
        dims=dims,
    )


class PMFirstColumnOrdered(PMTransform):
    """PyMC twin of :class:`FirstColumnOrderedTransform`."""

    name = "firstcolumnordered"  # no underscore: PyMC parses value names on "_"
    ndim_supp = 2

    def forward(self, value, *inputs):
        value = pt.as_tensor_variable(value)
        col = value[..., :, 0]
        new = pt.concatenate([col[..., :1], pt.log(col[..., 1:] - col[..., :-1])], axis=-1)
        return pt.set_subtensor(value[..., :, 0], new)

    def backward(self, value, *inputs):
        value = pt.as_tensor_variable(value)
        col = value[..., :, 0]
        new = pt.cumsum(pt.concatenate([col[..., :1], pt.exp(col[..., 1:])], axis=-1), axis=-1)
        return pt.set_subtensor(value[..., :, 0], new)

    def log_jac_det(self, value, *inputs):
        return pt.sum(value[..., 1:, 0], axis=-1)


def pm_first_column_ordered_normal(name: str, loc: float, scale: float, k: int, d: int, dims=None):
    """PyMC twin of :class:`FirstColumnOrderedNormal`."""

    def random(loc, scale, rng=None, size=None):
        batch = tuple(size) if size else np.broadcast_shapes(loc.shape[:-2], scale.shape[:-2])
        x = rng.normal(loc, scale, size=(*batch, k, d))
        order = np.argsort(x[..., :, 0], axis=-1)
        return np.take_along_axis(x, order[..., None], axis=-2)

    def logp(value, loc, scale):
        return pt.sum(pm.logp(pm.Normal.dist(loc, scale), value), axis=(-2, -1))

    start = np.zeros((k, d))
    start[:, 0] = np.arange(k) - (k - 1) / 2
    start_pt = pt.as_tensor(floatx(start + float(loc)))

    def support_point(rv, size, loc, scale):
        return start_pt

    return pm.CustomDist(
        name,
        floatx(np.full((k, d), float(loc))),
        floatx(np.full((k, d), float(scale))),
        random=random,
        logp=logp,
        support_point=support_point,
        signature="(k,d),(k,d)->(k,d)",
        transform=PMFirstColumnOrdered(),
        dims=dims,
    )
