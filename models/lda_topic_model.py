"""Latent Dirichlet allocation, topic assignments summed out, topics ordered on an anchor word."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from jax.nn import log_sigmoid
from jax.scipy.special import logsumexp
from numpyro.distributions import constraints
from numpyro.distributions.transforms import Transform, biject_to
from numpyro.distributions.util import validate_sample
from pymc.logprob.transforms import Transform as PMTransform

from probgen import DataError, Field, Model, ModelData

from ._data import load_json
from ._latent import check_config, floatx

#: the bundled default corpus (a subset of posteriordb's prideprejudice_paragraph)
DEFAULT_DATA = "lda_pride_prejudice.json"
#: how it was cut from the full corpus (:func:`subset_corpus`)
DEFAULT_SUBSET = {"words": 25, "docs": 100, "min_tokens": 5}


# ================================================================ the transform
# Topics are exchangeable: the likelihood and the prior are invariant to
# permuting the rows of phi (with the columns of theta). They are identified by
# ordering the rows on one column, the anchor word: phi[0, a] < ... < phi[K-1, a].
# A (K, V) matrix of such rows is reached from an unconstrained (K, V-1) matrix x:
#
#   o      = mirrored ordered transform of x[:, 0]  (o_{K-1} = -x_0,
#            o_{K-1-j} = o_{K-j} - exp(x_j)), i.e. -flip(Stan's ordered(x[:, 0]))
#   phi[:, a] = sigmoid(o)                        (the anchor column, increasing)
#   s[k]   = stick-breaking of x[k, 1:]           (a simplex over the other V-1 words,
#                                                  NumPyro's StickBreakingTransform)
#   phi[k, others] = (1 - phi[k, a]) * s[k]
#
# log |J| = sum_{k>=1} x[k, 0]                     (mirrored ordered)
#         + sum_k log sigmoid(o_k) + log sigmoid(-o_k)          (sigmoid)
#         + (V - 2) sum_k log sigmoid(-o_k)                       (scaling the rest)
#         + sum_k stick-breaking log |J| of x[k, 1:]
#
# The same formulas are written below in JAX and in PyTensor.


def _sb_offsets(d: int, xp) -> Any:
    """log(d - j), j = 0..d-1: centres stick-breaking so that x = 0 is uniform."""
    return xp.log(d - xp.arange(d))


def _jax_ordered(u: jnp.ndarray) -> jnp.ndarray:
    """Increasing values built down from the top: o[K-1] = -u[0], o[k] = o[k+1] - exp(u[K-1-k]).

    Stan's ordered transform mirrored, ``-flip(ordered(u))``: the largest value is
    a free coordinate and each lower one hangs below it. On LDA's anchor word the
    largest probability is the well-determined one; building the others up from
    a poorly determined smallest one (Stan's direction) makes a funnel.
    """
    up = jnp.cumsum(jnp.concatenate([u[..., :1], jnp.exp(u[..., 1:])], axis=-1), axis=-1)
    return -jnp.flip(up, axis=-1)


def _jax_stick(r: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Stick-breaking of r (..., D) to a simplex (..., D+1), with its log |J|."""
    d = r.shape[-1]
    if d == 0:
        return jnp.ones((*r.shape[:-1], 1), dtype=r.dtype), jnp.zeros(r.shape[:-1], r.dtype)
    xc = r - _sb_offsets(d, jnp)
    log_z = log_sigmoid(xc)
    log_1mz = log_sigmoid(-xc)
    # log of the stick left before piece j (0 for the first)
    log_rest = jnp.concatenate(
        [jnp.zeros((*r.shape[:-1], 1), r.dtype), jnp.cumsum(log_1mz, axis=-1)], axis=-1
    )
    log_s = jnp.concatenate([log_z + log_rest[..., :-1], log_rest[..., -1:]], axis=-1)
    log_det = jnp.sum(log_s[..., :-1] + log_1mz, axis=-1)
    return jnp.exp(log_s), log_det


def _jax_stick_inverse(s: jnp.ndarray) -> jnp.ndarray:
    d = s.shape[-1] - 1
    if d == 0:
        return s[..., :0]
    rest = jnp.clip(1.0 - jnp.cumsum(s[..., :-1], axis=-1), jnp.finfo(s.dtype).tiny)
    return jnp.log(s[..., :-1] / rest) + _sb_offsets(d, jnp)


class _AnchorOrderedSimplexRows(constraints.Constraint):
    """(K, V) matrices whose rows are simplices, increasing along column ``anchor``."""

    event_dim = 2

    def __init__(self, anchor: int):
        self.anchor = int(anchor)

    def __call__(self, x):
        rows = jnp.all(x >= 0, axis=-1) & (jnp.abs(jnp.sum(x, axis=-1) - 1.0) < 1e-6)
        col = x[..., :, self.anchor]
        return jnp.all(rows, axis=-1) & jnp.all(col[..., 1:] > col[..., :-1], axis=-1)

    def feasible_like(self, prototype):
        k, v = prototype.shape[-2:]
        a = jnp.arange(1, k + 1) / (k + 1)
        rest = (1.0 - a[:, None]) / (v - 1) * jnp.ones((k, v))
        base = rest.at[:, self.anchor].set(a)
        return jnp.broadcast_to(base, prototype.shape)

    def tree_flatten(self):
        return (), ((), {"anchor": self.anchor})

    def __eq__(self, other):
        return isinstance(other, _AnchorOrderedSimplexRows) and other.anchor == self.anchor


class AnchorOrderedSimplexTransform(Transform):
    """Unconstrained (..., K, V-1) to simplex rows ordered on column ``anchor``."""

    domain = constraints.independent(constraints.real, 2)

    def __init__(self, anchor: int):
        self.anchor = int(anchor)

    @property
    def codomain(self):
        return _AnchorOrderedSimplexRows(self.anchor)

    def _parts(self, x):
        o = _jax_ordered(x[..., :, 0])
        s, sb_det = _jax_stick(x[..., :, 1:])
        return o, s, sb_det

    def __call__(self, x):
        o, s, _ = self._parts(x)
        a = jax.nn.sigmoid(o)
        rest = jax.nn.sigmoid(-o)[..., None] * s
        j = self.anchor
        return jnp.concatenate([rest[..., :j], a[..., None], rest[..., j:]], axis=-1)

    def _inverse(self, y):
        j = self.anchor
        a = y[..., :, j]
        up = -jnp.flip(jnp.log(a) - jnp.log1p(-a), axis=-1)  # Stan-ordered values
        u = jnp.concatenate([up[..., :1], jnp.log(up[..., 1:] - up[..., :-1])], axis=-1)
        rest = jnp.concatenate([y[..., :j], y[..., j + 1 :]], axis=-1)
        s = rest / jnp.sum(rest, axis=-1, keepdims=True)
        return jnp.concatenate([u[..., None], _jax_stick_inverse(s)], axis=-1)

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        o, _, sb_det = self._parts(x)
        v_minus_2 = x.shape[-1] - 1
        per_row = log_sigmoid(o) + (1 + v_minus_2) * log_sigmoid(-o) + sb_det
        return jnp.sum(x[..., 1:, 0], axis=-1) + jnp.sum(per_row, axis=-1)

    def forward_shape(self, shape):
        return (*shape[:-1], shape[-1] + 1)

    def inverse_shape(self, shape):
        return (*shape[:-1], shape[-1] - 1)

    def tree_flatten(self):
        return (), ((), {"anchor": self.anchor})

    def __eq__(self, other):
        return isinstance(other, AnchorOrderedSimplexTransform) and other.anchor == self.anchor


@biject_to.register(_AnchorOrderedSimplexRows)
def _transform_to_anchor_ordered(constraint):
    return AnchorOrderedSimplexTransform(constraint.anchor)


# ============================================================== NumPyro side
class OrderedDirichletRows(dist.Distribution):
    """K i.i.d. Dirichlet(beta · 1_V) rows restricted to an increasing column ``anchor``.

    ``log_prob`` is the sum of the rows' Dirichlet log densities, without the
    constant log K! of the restriction (Stan's convention for ordered
    parameters). Draws are exact: i.i.d. rows sorted on the anchor column are
    the order statistics, which is this distribution.
    """

    reparametrized_params = []

    def __init__(self, beta: float, k: int, v: int, anchor: int, validate_args=None):
        self.beta = float(beta)
        self.anchor = int(anchor)
        self._v = int(v)
        super().__init__(batch_shape=(), event_shape=(k, v), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=2)
    def support(self):
        return _AnchorOrderedSimplexRows(self.anchor)

    def sample(self, key, sample_shape=()):
        rows = dist.Dirichlet(jnp.full(self._v, self.beta)).sample(
            key, (*sample_shape, self.event_shape[0])
        )
        order = jnp.argsort(rows[..., :, self.anchor], axis=-1)
        return jnp.take_along_axis(rows, order[..., None], axis=-2)

    @validate_sample
    def log_prob(self, value):
        rows = dist.Dirichlet(jnp.full(self._v, self.beta)).log_prob(value)
        return jnp.sum(rows, axis=-1)


class TokenMixture(dist.Distribution):
    """A token's word (1..V), its topic summed out.

    ``theta_tok`` (N, K) are the topic proportions of each token's document and
    ``phi`` (K, V) the topics: ``log p(w) = logsumexp_k(log theta_tok[n, k] +
    log phi[k, w - 1])``. Sampling draws the topic, then the word.
    """

    reparametrized_params = []

    def __init__(self, theta_tok, phi, validate_args=None):
        self.theta_tok = theta_tok
        self.phi = phi
        self._v = int(phi.shape[-1])
        super().__init__(batch_shape=theta_tok.shape[:-1], validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(1, self._v)

    def sample(self, key, sample_shape=()):
        k_topic, k_word = jax.random.split(key)
        shape = (*sample_shape, *self.batch_shape)
        z = jax.random.categorical(k_topic, jnp.log(self.theta_tok), shape=shape)
        # the word by the inverse CDF, one topic at a time: a (tokens, V) table of
        # each token's topic would not fit in memory on a whole novel
        u = jax.random.uniform(k_word, shape, dtype=self.phi.dtype)
        cdf = jnp.cumsum(self.phi, axis=-1)
        w = jnp.zeros(shape, dtype=jnp.int32)
        for k in range(self.phi.shape[-2]):
            w_k = jnp.searchsorted(cdf[k], u, side="right")
            w = jnp.where(z == k, w_k, w)
        return jnp.minimum(w, self._v - 1) + 1

    @validate_sample
    def log_prob(self, value):
        idx = jnp.asarray(value).astype(jnp.int32) - 1
        log_phi_w = jnp.log(jnp.take(self.phi, idx, axis=-1))  # (K, N)
        return logsumexp(jnp.log(self.theta_tok) + jnp.swapaxes(log_phi_w, -1, -2), axis=-1)


# ================================================================= PyMC side
def _pt_stick(r):
    """PyTensor twin of :func:`_jax_stick` for a (K, D) matrix, D >= 1."""
    d = r.shape[-1]
    xc = r - pt.log(d - pt.arange(d))
    log_z = -pt.softplus(-xc)
    log_1mz = -pt.softplus(xc)
    cum = pt.cumsum(log_1mz, axis=-1)
    log_rest = pt.concatenate([pt.zeros_like(cum[..., :1]), cum], axis=-1)
    log_s = pt.concatenate([log_z + log_rest[..., :-1], log_rest[..., -1:]], axis=-1)
    log_det = pt.sum(log_s[..., :-1] + log_1mz, axis=-1)
    return pt.exp(log_s), log_det


class PMAnchorOrderedSimplex(PMTransform):
    """PyMC twin of :class:`AnchorOrderedSimplexTransform` (same formulas)."""

    name = "anchorordered"  # no underscore: PyMC parses value names on "_"
    ndim_supp = 2

    def __init__(self, anchor: int, v: int):
        self.anchor = int(anchor)
        self.v = int(v)

    def _parts(self, x):
        u = x[..., :, 0]
        up = pt.cumsum(pt.concatenate([u[..., :1], pt.exp(u[..., 1:])], axis=-1), axis=-1)
        o = -up[..., ::-1]
        if self.v > 2:
            s, sb_det = _pt_stick(x[..., :, 1:])
        else:
            s, sb_det = pt.ones_like(x[..., :, :1]), pt.zeros_like(u)
        return o, s, sb_det

    def backward(self, value, *inputs):
        x = pt.as_tensor_variable(value)
        o, s, _ = self._parts(x)
        a = pt.sigmoid(o)
        rest = pt.sigmoid(-o)[..., None] * s
        j = self.anchor
        return pt.concatenate([rest[..., :j], a[..., None], rest[..., j:]], axis=-1)

    def forward(self, value, *inputs):
        y = pt.as_tensor_variable(value)
        j = self.anchor
        a = y[..., :, j]
        up = -(pt.log(a) - pt.log1p(-a))[..., ::-1]  # Stan-ordered values
        u = pt.concatenate([up[..., :1], pt.log(up[..., 1:] - up[..., :-1])], axis=-1)
        rest = pt.concatenate([y[..., :j], y[..., j + 1 :]], axis=-1)
        s = rest / pt.sum(rest, axis=-1, keepdims=True)
        if self.v > 2:
            left = pt.maximum(1.0 - pt.cumsum(s[..., :-1], axis=-1), np.finfo(float).tiny)
            d = self.v - 2
            r = pt.log(s[..., :-1] / left) + pt.log(d - pt.arange(d))
        else:
            r = s[..., :0]
        return pt.concatenate([u[..., None], r], axis=-1)

    def log_jac_det(self, value, *inputs):
        x = pt.as_tensor_variable(value)
        o, _, sb_det = self._parts(x)
        per_row = -pt.softplus(-o) + (self.v - 1) * -pt.softplus(o) + sb_det
        return pt.sum(x[..., 1:, 0], axis=-1) + pt.sum(per_row, axis=-1)


def _np_ordered_dirichlet_rows(beta, k, v, anchor, rng, size):
    size = tuple(size) if size else ()
    rows = rng.dirichlet(np.full(v, beta), size=(*size, k))
    order = np.argsort(rows[..., :, anchor], axis=-1)
    return np.take_along_axis(rows, order[..., None], axis=-2)


def pm_ordered_dirichlet_rows(name: str, beta: float, k: int, v: int, anchor: int, dims=None):
    """PyMC twin of :class:`OrderedDirichletRows` (a CustomDist with the same transform)."""

    def random(conc, rng=None, size=None):
        return _np_ordered_dirichlet_rows(beta, k, v, anchor, rng, size)

    def logp(value, conc):
        return pt.sum(pm.logp(pm.Dirichlet.dist(conc), value), axis=-1)

    start = np.full((k, v), 0.0)
    a = np.arange(1, k + 1) / (k + 1)
    start[:] = (1.0 - a[:, None]) / (v - 1)
    start[:, anchor] = a
    start_pt = pt.as_tensor(floatx(start))

    def support_point(rv, size, conc):
        return start_pt

    return pm.CustomDist(
        name,
        floatx(np.full((k, v), beta)),
        random=random,
        logp=logp,
        support_point=support_point,
        signature="(k,v)->(k,v)",
        transform=PMAnchorOrderedSimplex(anchor, v),
        dims=dims,
    )


def _np_tokens(theta_tok, phi, rng, size):
    """NumPy twin of :meth:`TokenMixture.sample` (same distribution, own stream)."""
    theta_tok = np.asarray(theta_tok, dtype=float)
    phi = np.asarray(phi, dtype=float)
    if phi.ndim > 2:  # broadcast by the signature to (1, K, V): one matrix for all tokens
        if any(n != 1 for n in phi.shape[:-2]):
            raise ValueError(f"one topic matrix phi (K, V) expected, got shape {phi.shape}")
        phi = phi.reshape(phi.shape[-2:])
    shape = tuple(size) if size else theta_tok.shape[:-1]
    theta_tok = np.broadcast_to(theta_tok, (*shape, theta_tok.shape[-1]))
    cum = np.cumsum(theta_tok, axis=-1)
    z = (rng.uniform(size=shape)[..., None] * cum[..., -1:] >= cum).sum(axis=-1)
    z = np.minimum(z, phi.shape[-2] - 1)
    u = rng.uniform(size=shape)
    cdf = np.cumsum(phi, axis=-1)
    w = np.zeros(shape, dtype=np.int64)
    for k in range(phi.shape[-2]):
        w = np.where(z == k, np.searchsorted(cdf[k], u, side="right"), w)
    return np.minimum(w, phi.shape[-1] - 1) + 1


def pm_tokens(name: str, theta_tok, phi, *, observed, dims):
    """PyMC twin of :class:`TokenMixture`."""

    def logp(value, theta_tok, phi):
        # the signature broadcasts phi to (1, K, V); it is one matrix for all tokens
        if phi.ndim > 2:
            phi = phi[(0,) * (phi.ndim - 2)]
        log_phi_w = pt.log(phi[:, value - 1])  # (K, N)
        return pm.math.logsumexp(pt.log(theta_tok) + log_phi_w.T, axis=-1, keepdims=False)

    def random(theta_tok, phi, rng=None, size=None):
        return _np_tokens(theta_tok, phi, rng, size)

    return pm.CustomDist(
        name,
        theta_tok,
        phi,
        logp=logp,
        random=random,
        signature="(k),(k,v)->()",
        dtype="int64",
        observed=observed,
        dims=dims,
    )


# ===================================================================== model
class LdaTopicModel(Model):
    r"""Latent Dirichlet allocation (Blei, Ng & Jordan 2003), topic assignments summed out.

    Generative story (site names as in both backends), documents m = 1..M,
    topics k = 1..K, vocabulary words v = 1..V and tokens n = 1..N, token n
    lying in document ``doc[n]``::

        theta[m]  ~ Dirichlet(alpha · 1_K)                 (topic proportions of document m)
        phi[k]    ~ Dirichlet(beta · 1_V) independently,   (word distribution of topic k)
                    restricted to phi[1, a] < phi[2, a] < ... < phi[K, a]
                    for the anchor word a = ``anchor_word`` (identification)
        z[n]      ~ Categorical(theta[doc[n]])              (topic of token n; not a site)
        w[n]      ~ Categorical(phi[z[n]])                  (word of token n; observed)

    The topic assignments z are summed out on both backends, as in the Stan
    manual's LDA: ``log p(w[n]) = logsumexp_k(log theta[doc[n], k] + log phi[k,
    w[n]])``. Generating ``w`` draws a topic for each token from its
    document's proportions, then its word from that topic.

    Dims: ``theta`` (``document``, ``topic``), ``phi`` (``topic``, ``word``),
    ``w`` and ``doc`` along ``token``. Data in Stan's layout: ``w`` word ids in 1..V,
    ``doc`` document ids in 1..M (a document may have no tokens: its
    ``theta`` is then its prior), and the sizes ``V`` and ``M`` are required
    (word ids alone cannot tell how large the vocabulary is); ``N`` and ``K``
    are optional and checked. ``word`` is labelled with the word ids 1..V and
    ``document`` with 1..M unless ``coords`` say otherwise: give the vocabulary as
    ``coords={"word": [...]}`` and :meth:`top_words` reports words.
    posteriordb's ``alpha`` / ``beta`` vectors may be in the data if they are
    constant and equal to the configuration.

    Priors: symmetric Dirichlets, ``alpha`` on each document's topic
    proportions and ``beta`` on each topic's word distribution. The defaults
    (alpha=1, beta=1: uniform on the simplices) are not posteriordb's 0.1:
    concentrations below 1 put the mass in the corners of the simplices,
    where the simplex coordinates have long tails, a harder geometry for
    NUTS that the default fit does not need. ``alpha=0.1, beta=0.1``
    reproduces posteriordb's model (not checked here for a trustworthy fit).

    Identification (label switching): the topics are exchangeable, so the
    posterior has K! symmetric copies and chains land in different ones. The
    model removes them with an ordering constraint, the same transform on both
    backends: the rows of ``phi`` are ordered on the probability of one word,
    the anchor ``a = anchor_word`` (default 6, chosen for the bundled corpus
    by :func:`suggest_anchor`: the word whose probability differs most
    clearly between its two topics, about 0.01 against 0.12). The ordered
    prior is the Dirichlets' product restricted to the ordered region, the
    constant log K! left out as in Stan; draws from it (prior predictive,
    ``simulate``) are i.i.d. rows sorted on the anchor column, exactly that
    distribution. The unconstrained coordinates of a (K, V) ``phi`` are a
    (K, V-1) matrix: a mirrored ordered transform (the largest value free,
    each smaller one hanging below it by exp of a coordinate; Stan's
    direction, building up from the smallest, made a funnel where the
    smallest anchor probability is poorly determined, and divergences) then
    a logistic give the anchor column; NumPyro's stick-breaking gives the
    rest of each row, scaled to 1 - anchor. Both backends use these same
    formulas (JAX and PyTensor). ``theta`` uses each backend's own simplex
    transform. The ordering identifies the labels only where the anchor's
    probabilities are apart: posterior mass where two topics give the anchor
    nearly the same probability forms a separate island across the boundary
    (the other labelling), out of the chains' reach. On the default corpus
    the anchor's log ratio is about 2.4 posterior sds from 0, so that island
    holds about 1% of the mass; pick the anchor with :func:`suggest_anchor`
    on other corpora.

    Initialisation: the ordering leaves local modes of its own. A chain that
    starts with the topics the wrong way round on the anchor word cannot
    swap them (the swap passes through the boundary phi[k, a] = phi[k+1, a])
    and settles where the anchor word has been moved to the other topic
    (seen on the default corpus with random starts: two chains in each mode,
    R-hat 1.7). As for the mixtures, :meth:`initial_point` therefore starts
    every chain near a point estimate: batch variational LDA (scikit-learn,
    fixed seed, the same alpha and beta up to scikit-learn's limit of 1),
    topics sorted on the anchor word, ``phi`` and ``theta`` jittered by
    exp(0.1 · normal) and renormalized, so chains start apart (R-hat still
    compares them) but in the same labelling. Only the start changes; the
    density does not. All chains start near one mode, so R-hat cannot see
    other, genuinely different topic solutions: the fit describes the mode
    variational LDA finds.

    Data: ``lda_pride_prejudice.json``, a subset of posteriordb's
    ``prideprejudice_paragraph`` (Jane Austen's *Pride and Prejudice*, public
    domain, tokenized by posteriordb with stop and rare words removed; the
    derived data is BSD-3, see ``LICENCE-posteriordb.md``). The full corpus
    (M=2,025 paragraphs, V=1,495 words, N=32,877 tokens) has no vocabulary
    strings, so words are ids. The default keeps the 25 most frequent words
    (re-numbered 1..25 by frequency) and the first 100 paragraphs that hold
    at least 5 of their tokens: N=812 tokens, M=100, V=25
    (``DEFAULT_SUBSET``, :func:`subset_corpus`; the recipe is in
    ``lda_pride_prejudice.md``). The full corpus is read with
    ``probgen.read_data_file`` from posteriordb's file (its ``alpha`` and
    ``beta`` of 0.1 need ``LdaTopicModel(alpha=0.1, beta=0.1)``).

    Inference difficulty: label switching and the local modes of the
    ordering (handled above); the genuine multimodality of topic models: the
    likelihood can be nearly as high for quite different splits of the
    vocabulary, which chains started near one estimate do not explore. The
    posterior is high dimensional (M·(K-1) + K·(V-1) coordinates: 275 on the
    default corpus, about 10,000 on the full one with K=2) with theta of short
    documents barely informed. On the default corpus with K=2 the default
    NUTS settings (no ``sampler_defaults``) give a trustworthy verdict on
    both backends. With 200 paragraphs instead of 100 (and anchor 16)
    NumPyro's chains were divergence-free but mixed slowly on one rare word
    (R-hat 1.014, bulk ESS 295): more documents, more local structure. On
    the full corpus (K=2, the same anchor word) a short NumPyro run (2
    chains x 300 draws) had no divergences but had not converged (R-hat
    1.05, bulk ESS 35 on rare words' ``phi``); the ``slow`` test fits it at
    the default settings and records the verdict (not run in development:
    about an hour or more on two CPU cores).

    Discriminative counterpart: none in the supervised sense (no labels); the
    classical counterpart is variational LDA,
    ``sklearn.decomposition.LatentDirichletAllocation(n_components=K)``,
    whose ``components_`` and ``transform`` are point estimates of ``phi``
    and ``theta``; NMF on the document-word counts is the non-probabilistic
    relative.

    Beyond fitting: :meth:`top_words` (the most probable words of each topic),
    :meth:`document_topics` (posterior topic proportions of each document)
    and :meth:`generate_documents` (new documents from the fitted topics).
    ``probgen.generate`` does not apply (a token needs its document).

    Parameters
    ----------
    K : int, default 2
        Number of topics (>= 2).
    alpha : float, default 1.0
        Concentration of the documents' topic proportions.
    beta : float, default 1.0
        Concentration of the topics' word distributions.
    anchor_word : int, default 6
        Word id (1..V) whose probability orders the topics.
    """

    name = "lda_topic_model"
    family = "topic_model"
    summary = (
        "Latent Dirichlet allocation: K topics ordered on an anchor word, token topics summed out"
    )
    counterparts = {}
    fields = (
        Field("w", ("token",), kind="count", observed=True, doc="word id of each token, 1..V"),
        Field("doc", ("token",), kind="count", doc="document id of each token, 1..M"),
    )
    sizes = {"N": "token", "M": "document", "V": "word", "K": "topic"}

    def __init__(
        self, K: int = 2, alpha: float = 1.0, beta: float = 1.0, anchor_word: int = 6
    ) -> None:
        self.K = K
        self.alpha = alpha
        self.beta = beta
        self.anchor_word = anchor_word
        check_config(self, ints={"K": 2, "anchor_word": 1}, positive=("alpha", "beta"))

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {"theta": ("document", "topic"), "phi": ("topic", "word")}

    def default_data(self) -> dict[str, Any]:
        return load_json(DEFAULT_DATA)

    # ------------------------------------------------------------------ data
    def complete_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Require ``V`` and ``M``; check ``K`` and posteriordb's ``alpha``/``beta``."""
        for key, what in (("V", "the vocabulary size"), ("M", "the number of documents")):
            if data.get(key) is None:
                raise DataError(
                    f"{self.name} needs data[{key!r}], {what}: ids alone cannot tell it"
                )
        given = data.get("K")
        if given is not None and np.ndim(given) == 0 and float(given) != self.K:
            raise DataError(
                f"data['K'] = {given} but this {self.name} has K={self.K}; "
                f"configure LdaTopicModel(K={given})"
            )
        for key in ("alpha", "beta"):
            if key not in data:
                continue
            value = np.asarray(data.pop(key), dtype=float)
            want = getattr(self, key)
            if value.size == 0 or not np.all(value == want):
                raise DataError(
                    f"data[{key!r}] must equal the configuration {key}={want} everywhere "
                    f"(the concentrations are configuration here); got {value.ravel()[:5]}... "
                    f"configure LdaTopicModel({key}=...) instead"
                )
        return data

    def coords(self, data: ModelData) -> dict[str, list]:
        """Label ``word`` and ``document`` with their 1-based ids; check the ids' ranges."""
        out = dict(data.coords)
        v, m = len(out["word"]), len(out["document"])
        if v < 2:
            raise DataError(f"data['V'] must be at least 2 (a vocabulary), got {v}")
        if self.anchor_word > v:
            raise DataError(f"anchor_word={self.anchor_word} is not a word id in 1..V={v}")
        for name, top in (("w", v), ("doc", m)):
            ids = data.get(name)
            if ids is not None and ((ids < 1).any() or (ids > top).any()):
                bad = ids[(ids < 1) | (ids > top)][0]
                raise DataError(
                    f"data[{name!r}] must hold ids in 1..{top} (1-based, Stan's layout), "
                    f"found {int(bad)}"
                )
        out.setdefault("topic", list(range(self.K)))
        # the ids themselves, unless the data already carries labels (read back from a fit)
        if out["word"] == list(range(v)):
            out["word"] = list(range(1, v + 1))
        if out["document"] == list(range(m)):
            out["document"] = list(range(1, m + 1))
        return out

    def initial_point(
        self, data: ModelData, rng: np.random.Generator
    ) -> dict[str, np.ndarray] | None:
        """A chain's start near the variational LDA estimate (see "Initialisation").

        None (the backend's own start for every chain) in the corner case where
        the estimate gives two topics the same anchor probability: no start in
        one labelling can be made from it.
        """
        theta0, phi0 = _variational_start(self, data)
        anchor = self.anchor_word - 1
        if not np.all(np.diff(phi0[:, anchor]) > 0):
            return None
        for _ in range(20):
            phi = phi0 * np.exp(0.1 * rng.standard_normal(phi0.shape))
            phi /= phi.sum(-1, keepdims=True)
            if np.all(np.diff(phi[:, anchor]) > 0):
                break
        else:  # the jitter keeps crossing two topics' anchor probabilities
            phi = phi0
        theta = theta0 * np.exp(0.1 * rng.standard_normal(theta0.shape))
        theta /= theta.sum(-1, keepdims=True)
        return {"theta": theta, "phi": phi}

    def simulate(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
        backend: str = "numpyro",
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Generate one whole corpus (see :meth:`probgen.Model.simulate`).

        The returned data carry the sizes ``N``, ``M`` and ``V`` besides ``w`` and
        ``doc``, so that they can be fitted as they are (``V`` and ``M`` are
        required data).
        """
        generated, truth = super().simulate(data, params=params, seed=seed, backend=backend)
        generated = dict(generated)
        generated["N"] = len(generated["w"])
        generated["M"] = int(np.shape(truth["theta"])[0])
        generated["V"] = int(np.shape(truth["phi"])[1])
        return generated, truth

    # ---------------------------------------------------------- beyond fitting
    def _check_fit(self, fit: xr.DataTree) -> xr.Dataset:
        """The posterior of ``fit``, after checking that this model produced it."""
        if not isinstance(fit, xr.DataTree) or "posterior" not in fit.children:
            raise ValueError("fit must be a probgen fit (a DataTree with a posterior group)")
        name = fit.attrs.get("probgen_model")
        if name is not None and name != self.name:
            raise ValueError(f"fit is a fit of {name!r}, not of {self.name!r}")
        config = fit.attrs.get("probgen_config")
        if config is not None and json.loads(config) != json.loads(self.config_json()):
            raise ValueError(
                f"fit was made with configuration {config}, this model has {self.config_json()}"
            )
        posterior = fit["posterior"].dataset
        for var in ("theta", "phi"):
            if var not in posterior:
                raise ValueError(f"fit's posterior has no {var!r}: not an LDA fit")
        return posterior

    def top_words(self, fit: xr.DataTree, n: int = 10) -> dict[Any, list]:
        """The ``n`` most probable words of each topic (posterior mean of ``phi``).

        Parameters
        ----------
        fit : DataTree
            A fit of this model.
        n : int, default 10
            Words per topic (1..V).

        Returns
        -------
        dict
            Topic label -> the ``word`` labels of its ``n`` most probable words,
            most probable first: word strings when the fit's ``word`` coordinate
            holds the vocabulary (``coords={"word": vocabulary}`` when fitting),
            else the word ids 1..V.
        """
        return top_words(fit, n)

    def document_topics(self, fit: xr.DataTree, prob: float = 0.9) -> xr.Dataset:
        """Posterior topic proportions of each document: mean and central interval.

        Parameters
        ----------
        fit : DataTree
            A fit of this model.
        prob : float, default 0.9
            Mass of the central interval, in (0, 1).

        Returns
        -------
        Dataset
            ``mean``, ``lower``, ``upper`` over (``document``, ``topic``).
        """
        self._check_fit(fit)
        return document_topics(fit, prob)

    def generate_documents(
        self,
        fit: xr.DataTree,
        lengths: Sequence[int] | np.ndarray,
        *,
        seed: int = 0,
    ) -> xr.Dataset:
        """New documents from the fitted topics, one corpus per posterior draw.

        For each posterior draw of ``phi`` and each new document d of length
        ``lengths[d]``: fresh topic proportions ``theta_new[d] ~
        Dirichlet(alpha · 1_K)`` (the documents are new, so their proportions
        come from the prior), then for each token a topic ``z ~
        Categorical(theta_new[d])`` and a word ``w ~ Categorical(phi[z])``.
        This is LDA's generative story with the topics the corpus taught.

        Parameters
        ----------
        fit : DataTree
            A fit of this model (its configuration gives ``alpha``).
        lengths : sequence of int
            Tokens in each new document (each >= 1).
        seed : int
            Seed of NumPy's generator.

        Returns
        -------
        Dataset
            ``w`` (chain, draw, token): word ids 1..V (positions in the fit's ``word``);
            ``doc`` (token): the new document (1..len(lengths)) of each token;
            ``z`` (chain, draw, token): the topic (0..K-1) each token came from;
            ``theta`` (chain, draw, new_document, topic): the proportions used.
        """
        posterior = self._check_fit(fit)
        lengths = np.asarray(lengths)
        if (
            lengths.ndim != 1
            or lengths.size == 0
            or lengths.dtype.kind not in "iu"
            or (lengths < 1).any()
        ):
            raise ValueError(
                f"lengths must be a non-empty 1-D sequence of integers >= 1, got {lengths!r}"
            )
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        rng = np.random.default_rng(seed)
        phi = np.asarray(posterior["phi"].values, dtype=float)  # (chain, draw, K, V)
        chains, draws, k = phi.shape[:3]
        n_docs = len(lengths)
        theta = rng.dirichlet(np.full(k, float(self.alpha)), size=(chains, draws, n_docs))
        doc = np.repeat(np.arange(n_docs), lengths)
        # topic then word, by the inverse CDF (one uniform each)
        cum_t = np.cumsum(theta[:, :, doc, :], axis=-1)
        z = (rng.uniform(size=(chains, draws, len(doc), 1)) >= cum_t[..., :-1]).sum(-1)
        cdf = np.cumsum(phi, axis=-1)
        u = rng.uniform(size=(chains, draws, len(doc)))
        w = np.empty_like(z)
        for c in range(chains):
            for d in range(draws):
                rows = cdf[c, d][z[c, d]]  # (tokens, V)
                w[c, d] = (u[c, d][:, None] >= rows[:, :-1]).sum(-1)
        return xr.Dataset(
            {
                "w": (("chain", "draw", "token"), w + 1),
                "doc": (("token",), doc + 1),
                "z": (("chain", "draw", "token"), z),
                "theta": (("chain", "draw", "new_document", "topic"), theta),
            },
            coords={
                "chain": posterior["chain"].values,
                "draw": posterior["draw"].values,
                "topic": posterior["topic"].values,
                "new_document": np.arange(1, n_docs + 1),
            },
        )

    # -------------------------------------------------------------- backends
    def numpyro_model(self, data: ModelData) -> None:
        k, v = self.K, data.size("word")
        with numpyro.plate("document", data.size("document")):
            theta = numpyro.sample("theta", dist.Dirichlet(jnp.full(k, float(self.alpha))))
        phi = numpyro.sample("phi", OrderedDirichletRows(self.beta, k, v, self.anchor_word - 1))
        with numpyro.plate("token", data.size("token")):
            numpyro.sample("w", TokenMixture(theta[data["doc"] - 1], phi), obs=data.get("w"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        k, v = self.K, data.size("word")
        # the latent dims too: data read back from a fit carries only data dims
        with pm.Model(coords=self.coords(data)) as model:
            theta = pm.Dirichlet(
                "theta", a=floatx(np.full(k, self.alpha)), dims=("document", "topic")
            )
            phi = pm_ordered_dirichlet_rows(
                "phi", self.beta, k, v, self.anchor_word - 1, dims=("topic", "word")
            )
            doc = pm.Data("doc", np.asarray(data["doc"], dtype=np.int64), dims="token")
            pm_tokens("w", theta[doc - 1], phi, observed=data.get("w"), dims="token")
        return model


# ================================================================== the corpus
def subset_corpus(
    corpus: Mapping[str, Any], *, words: int, docs: int, min_tokens: int
) -> dict[str, Any]:
    """A smaller corpus: the most frequent words, then the first documents that use them.

    The recipe of the bundled default (``lda_pride_prejudice.md``).

    Parameters
    ----------
    corpus : mapping
        Stan layout: ``w`` (word ids 1..V), ``doc`` (document ids 1..M), ``V``, ``M``.
    words : int
        Keep the ``words`` most frequent words (ties broken by the smaller id),
        re-numbered 1..words by decreasing frequency.
    docs : int
        Keep the first ``docs`` documents (in order) holding at least
        ``min_tokens`` tokens of kept words, re-numbered 1..docs.
    min_tokens : int

    Returns
    -------
    dict
        ``w``, ``doc``, ``N``, ``M``, ``V`` of the subset.
    """
    w = np.asarray(corpus["w"], dtype=np.int64)
    doc = np.asarray(corpus["doc"], dtype=np.int64)
    counts = np.bincount(w, minlength=int(corpus["V"]) + 1)[1:]
    # most frequent first; a stable sort keeps the smaller id first among ties
    ranked = np.argsort(-counts, kind="stable")[:words] + 1
    new_id = np.zeros(int(corpus["V"]) + 1, dtype=np.int64)
    new_id[ranked] = np.arange(1, words + 1)
    keep = new_id[w] > 0
    w, doc = new_id[w[keep]], doc[keep]
    lengths = np.bincount(doc, minlength=int(corpus["M"]) + 1)
    chosen = np.flatnonzero(lengths >= min_tokens)[:docs]
    if len(chosen) < docs:
        raise ValueError(f"only {len(chosen)} documents hold {min_tokens} kept tokens")
    new_doc = np.zeros(int(corpus["M"]) + 1, dtype=np.int64)
    new_doc[chosen] = np.arange(1, docs + 1)
    keep = new_doc[doc] > 0
    w, doc = w[keep], new_doc[doc[keep]]
    return {"N": len(w), "M": docs, "V": words, "w": w.tolist(), "doc": doc.tolist()}


# ============================================================ beyond fitting
def _posterior(fit: xr.DataTree) -> xr.Dataset:
    if not isinstance(fit, xr.DataTree) or "posterior" not in fit.children:
        raise ValueError("fit must be a probgen fit (a DataTree with a posterior group)")
    posterior = fit["posterior"].dataset
    if "phi" not in posterior or "theta" not in posterior:
        raise ValueError("fit's posterior has no 'phi' and 'theta': not a fit of lda_topic_model")
    return posterior


def top_words(fit: xr.DataTree, n: int = 10) -> dict[Any, list]:
    """The ``n`` most probable words of each topic of an LDA fit.

    Ranked by the posterior mean of ``phi[k]``. Words are the fit's ``word``
    labels: the vocabulary strings when it was fitted with
    ``coords={"word": vocabulary}``, else the word ids 1..V (the bundled
    corpus has no vocabulary strings).

    Parameters
    ----------
    fit : DataTree
        A fit of ``lda_topic_model``.
    n : int, default 10
        Words per topic, 1..V.

    Returns
    -------
    dict
        Topic label -> list of ``n`` word labels, most probable first.
    """
    posterior = _posterior(fit)
    phi = posterior["phi"]
    v = phi.sizes["word"]
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or not 1 <= n <= v:
        raise ValueError(f"n must be an integer in 1..{v} (the vocabulary size), got {n!r}")
    mean = phi.mean(("chain", "draw")).values  # (K, V)
    words = phi["word"].values.tolist()
    # stable sort: ties keep the smaller id first
    order = np.argsort(-mean, axis=-1, kind="stable")[:, :n]
    topics = phi["topic"].values.tolist()
    return {t: [words[i] for i in order[j]] for j, t in enumerate(topics)}


def document_topics(fit: xr.DataTree, prob: float = 0.9) -> xr.Dataset:
    """Posterior topic proportions of each document: mean and central ``prob`` interval.

    Parameters
    ----------
    fit : DataTree
        A fit of ``lda_topic_model``.
    prob : float, default 0.9
        Mass of the equal-tailed interval, in (0, 1).

    Returns
    -------
    Dataset
        ``mean``, ``lower``, ``upper`` over (``document``, ``topic``).
    """
    if not isinstance(prob, float | int) or isinstance(prob, bool) or not 0 < prob < 1:
        raise ValueError(f"prob must be a number in (0, 1), got {prob!r}")
    theta = _posterior(fit)["theta"]
    tail = (1.0 - prob) / 2
    return xr.Dataset(
        {
            "mean": theta.mean(("chain", "draw")),
            "lower": theta.quantile(tail, ("chain", "draw")).drop_vars("quantile"),
            "upper": theta.quantile(1 - tail, ("chain", "draw")).drop_vars("quantile"),
        }
    )


# ============================================================ initialisation
_START_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _counts(w: np.ndarray, doc: np.ndarray, m: int, v: int) -> np.ndarray:
    counts = np.zeros((m, v))
    np.add.at(counts, (np.asarray(doc) - 1, np.asarray(w) - 1), 1.0)
    return counts


def variational_lda(
    counts: np.ndarray, k: int, alpha: float, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Batch variational LDA (scikit-learn, fixed seed): (theta (M, K), phi (K, V)).

    Concentrations above 1 are taken as 1 (scikit-learn's limit).

    The point estimate the chains start near; topics in scikit-learn's order.
    Probabilities are kept away from 0 (at least 1e-8, renormalized) so the
    start lies inside the simplices.
    """
    from sklearn.decomposition import LatentDirichletAllocation

    est = LatentDirichletAllocation(
        n_components=k,
        # scikit-learn takes concentrations up to 1 only; a larger one (a
        # smoother prior) starts from the estimate under 1: only the start moves
        doc_topic_prior=min(float(alpha), 1.0),
        topic_word_prior=min(float(beta), 1.0),
        learning_method="batch",
        max_iter=200,
        random_state=0,
    )
    theta = est.fit_transform(counts)
    phi = est.components_ / est.components_.sum(-1, keepdims=True)
    theta = np.maximum(theta, 1e-8)
    phi = np.maximum(phi, 1e-8)
    return theta / theta.sum(-1, keepdims=True), phi / phi.sum(-1, keepdims=True)


def _variational_start(model: LdaTopicModel, data: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """The variational estimate with topics sorted on the anchor word (cached per data)."""
    w, doc = np.asarray(data["w"]), np.asarray(data["doc"])
    m, v = data.size("document"), data.size("word")
    key = (model.config_json(), m, v, hash(w.tobytes()), hash(doc.tobytes()))
    if key not in _START_CACHE:
        theta, phi = variational_lda(_counts(w, doc, m, v), model.K, model.alpha, model.beta)
        order = np.argsort(phi[:, model.anchor_word - 1], kind="stable")
        _START_CACHE.clear()  # one corpus at a time: starts are cheap to redo
        _START_CACHE[key] = (theta[:, order], phi[order])
    return _START_CACHE[key]


def suggest_anchor(fit: xr.DataTree) -> int:
    """The word that orders the topics most clearly in a (pilot) fit: an anchor for the next.

    For every word v and every pair of topics adjacent in the order of their
    mean ``log phi[:, v]``, the posterior z-score of their log ratio
    (mean / sd over the draws); a word's score is its smallest such z. The
    word with the largest score is returned (an id in 1..V, the position in
    ``word``). Ordering on it keeps the boundary, where two topics give the
    anchor the same probability, far out in the posterior's tails (for K=2
    a z of 3 leaves about 0.1% of the mass beyond it). Chains of the pilot
    fit must share one labelling (e.g. any fit of this model, whose chains
    start in one).

    Parameters
    ----------
    fit : DataTree
        A fit of ``lda_topic_model``.
    """
    phi = _posterior(fit)["phi"].transpose("chain", "draw", "topic", "word").values
    log_phi = np.log(phi.reshape(-1, *phi.shape[2:]))  # (draws, K, V)
    order = np.argsort(log_phi.mean(0), axis=0)  # topics by mean, per word
    ranked = np.take_along_axis(log_phi, order[None], axis=1)
    ratio = np.diff(ranked, axis=1)  # (draws, K-1, V), positive on average
    score = (ratio.mean(0) / ratio.std(0)).min(axis=0)
    return int(np.argmax(score)) + 1
