"""lda_topic_model: recovery, the ordering constraint, top words, generation, bad input.

Default tier (seconds): calibration of the posterior on small simulated corpora
(central 80% intervals cover the true values at the stated rate, within 99.9%
binomial bounds) and its twin showing that a wrong prior breaks it; the
beyond-fitting functions on a small fit with planted topics and on posteriors
made by hand; bad input.

``slow``: the bundled corpus at the default settings (4 chains x 1000 draws)
on both backends must give a trustworthy verdict; a bigger recovery campaign;
the full Pride and Prejudice corpus (what NUTS does there is recorded).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import probgen
from probgen import DataError
from probgen.zoo import lda_topic_model as lda

#: the posterior intervals checked and the family-wise tolerance of the count
LEVEL = 0.8
ALPHA = 1e-3
SMALL = {"chains": 2, "draws": 300, "warmup": 300}

#: posteriordb's full corpus, where the checkout has the shared data beside it
FULL_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "prideprejudice_paragraph.json"
)


def _small_corpus(m: int = 10, length: int = 30, v: int = 5) -> dict:
    """Sizes and document ids of a corpus of ``m`` documents of ``length`` tokens."""
    return {"M": m, "V": v, "doc": np.repeat(np.arange(1, m + 1), length)}


def _covered(fit, truth: dict, level: float) -> tuple[int, int]:
    """How many free scalars of the truth lie in the central ``level`` intervals.

    Free scalars: theta[m, 0..K-2] and phi[k, 0..V-2] (the last coordinate of a
    simplex is 1 minus the others, so counting it would count one event twice).
    """
    tail = (1 - level) / 2
    hits = total = 0
    for name in ("theta", "phi"):
        draws = fit["posterior"][name].values
        draws = draws.reshape(-1, *draws.shape[2:])[..., :-1]
        lo, hi = np.quantile(draws, [tail, 1 - tail], axis=0)
        t = np.asarray(truth[name])[..., :-1]
        hits += int(((t >= lo) & (t <= hi)).sum())
        total += t.size
    return hits, total


#: the simulated corpora's configuration (word 1 exists in every small vocabulary)
SIM = {"anchor_word": 1}


def _campaign(fit_model, seeds, corpus) -> tuple[int, int]:
    """Simulate from the default priors, fit with ``fit_model``, count coverage."""
    truth_model = probgen.get_model("lda_topic_model", **SIM)
    hits = total = 0
    for s in seeds:
        data, truth = truth_model.simulate(corpus, seed=s)
        fit = probgen.sample(fit_model, data, seed=s, check=False, **SMALL)
        h, t = _covered(fit, truth, LEVEL)
        hits, total = hits + h, total + t
    return hits, total


def _bounds(total: int) -> tuple[float, float]:
    return (
        stats.binom.ppf(ALPHA / 2, total, LEVEL),
        stats.binom.isf(ALPHA / 2, total, LEVEL),
    )


# ------------------------------------------------------------------ recovery
def test_recovery_covers_truth_at_the_stated_rate():
    """Truths from the prior fall in 80% intervals about 80% of the time."""
    hits, total = _campaign(probgen.get_model("lda_topic_model", **SIM), range(6), _small_corpus())
    lo, hi = _bounds(total)
    assert lo <= hits <= hi, f"{hits}/{total} covered; 99.9% bounds [{lo}, {hi}]"


def test_recovery_check_fails_with_a_wrong_prior():
    """The same check rejects a fit whose priors squeeze the simplices to their centres."""
    wrong = probgen.get_model("lda_topic_model", alpha=30.0, beta=30.0, **SIM)
    hits, total = _campaign(wrong, range(4), _small_corpus())
    lo, _ = _bounds(total)
    assert hits < lo, f"{hits}/{total} covered; a wrong prior should fall below {lo}"


# ------------------------------------------------------- the ordering constraint
def test_prior_draws_are_ordered_on_the_anchor_word():
    from probgen.backends import get_backend

    model = probgen.get_model("lda_topic_model", K=3, anchor_word=4)
    data = model.prepare(_small_corpus(v=6), require_observed=False)
    for backend in ("numpyro", "pymc"):
        prior, _ = get_backend(backend).prior_predictive(model, data, draws=50, seed=1)
        phi = prior["phi"][0]
        assert np.all(np.diff(phi[:, :, 3], axis=-1) > 0), backend
        np.testing.assert_allclose(phi.sum(-1), 1.0, atol=1e-9)


def test_starts_are_valid_and_in_one_labelling():
    """Every chain starts inside the support, ordered on the anchor, apart from the others."""
    from probgen.backends import get_backend

    model = probgen.get_model("lda_topic_model")
    data = model.prepare()
    rng = np.random.default_rng(0)
    points = [model.initial_point(data, rng) for _ in range(4)]
    logp = get_backend("numpyro").log_density_fn(model, data)
    for point in points:
        phi, theta = point["phi"], point["theta"]
        assert phi.shape == (2, 25) and theta.shape == (100, 2)
        np.testing.assert_allclose(phi.sum(-1), 1.0, atol=1e-12)
        np.testing.assert_allclose(theta.sum(-1), 1.0, atol=1e-12)
        assert np.all(np.diff(phi[:, model.anchor_word - 1]) > 0)
        assert np.isfinite(logp(point))
    assert not np.allclose(points[0]["phi"], points[1]["phi"])


def test_transform_round_trip_and_jacobian():
    """Both backends' transforms invert each other and agree with autodiff's Jacobian."""
    import jax
    import jax.numpy as jnp
    import pytensor
    import pytensor.tensor as pt

    from probgen._runtime import apply_precision

    apply_precision()  # float64 in JAX, as the backends run it
    k, v, anchor = 3, 5, 2
    rng = np.random.default_rng(0)
    x = rng.normal(size=(k, v - 1))
    t = lda.AnchorOrderedSimplexTransform(anchor)
    y = np.asarray(t(jnp.asarray(x)))
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-12)
    assert np.all(np.diff(y[:, anchor]) > 0)
    np.testing.assert_allclose(np.asarray(t._inverse(jnp.asarray(y))), x, atol=1e-9)
    # log |J| against autodiff on the free coordinates (the last column dropped,
    # or the anchor's complement if the anchor is last)
    free = [j for j in range(v) if j != v - 1]

    def f(flat):
        return t(flat.reshape(k, v - 1))[:, free].reshape(-1)

    jac = jax.jacobian(f)(jnp.asarray(x).reshape(-1))
    want = np.linalg.slogdet(np.asarray(jac))[1]
    got = float(t.log_abs_det_jacobian(jnp.asarray(x), jnp.asarray(y)))
    assert got == pytest.approx(want, rel=1e-9)
    # the PyTensor twin: same map, same inverse, same log |J|
    pmt = lda.PMAnchorOrderedSimplex(anchor, v)
    xv, yv = pt.dmatrix("x"), pt.dmatrix("y")
    twin = pytensor.function([xv, yv], [pmt.backward(xv), pmt.forward(yv), pmt.log_jac_det(xv)])
    back, fwd, ljd = twin(x, y)
    np.testing.assert_allclose(back, y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fwd, x, atol=1e-9)
    assert float(ljd) == pytest.approx(want, rel=1e-9)


# ------------------------------------------------------------ beyond fitting
VOCAB = ["ball", "dance", "letter", "estate", "fortune"]


@pytest.fixture(scope="module")
def planted_fit():
    """A small fit of a corpus with two planted topics and a vocabulary as coords.

    The recovery tests' shapes and settings: NumPyro reuses their compiled program.
    """
    model = probgen.get_model("lda_topic_model", anchor_word=1)
    # topic 0 writes about the ball (words 2, 3), topic 1 about money (4, 5);
    # word 1 is common to both, less so in topic 0 (the anchor order)
    phi = np.array([[0.10, 0.42, 0.42, 0.03, 0.03], [0.30, 0.02, 0.02, 0.33, 0.33]])
    corpus = _small_corpus()
    theta = np.tile([[0.9, 0.1], [0.1, 0.9]], (5, 1))
    data, _ = model.simulate(corpus, params={"theta": theta, "phi": phi}, seed=5)
    return probgen.sample(model, data, coords={"word": VOCAB}, seed=1, check=False, **SMALL)


def test_top_words_names_the_planted_topics(planted_fit):
    top = lda.top_words(planted_fit, n=2)
    assert list(top) == [0, 1]
    assert set(top[0]) == {"dance", "letter"}
    assert set(top[1]) <= {"ball", "estate", "fortune"}
    model = probgen.get_model("lda_topic_model", anchor_word=1)
    assert model.top_words(planted_fit, n=2) == top
    with pytest.raises(ValueError, match="n must be an integer in 1..5"):
        lda.top_words(planted_fit, n=6)


def test_document_topics_find_the_planted_proportions(planted_fit):
    props = lda.document_topics(planted_fit, prob=0.9)
    mean = props["mean"].values
    assert mean.shape == (10, 2)
    np.testing.assert_allclose(mean.sum(-1), 1.0, atol=1e-12)
    # documents 1, 3, 5, ... lean to topic 0; 2, 4, 6, ... to topic 1
    assert np.all(mean[0::2, 0] > 0.5) and np.all(mean[1::2, 1] > 0.5)
    assert np.all(props["lower"].values <= mean) and np.all(mean <= props["upper"].values)
    with pytest.raises(ValueError, match="prob"):
        lda.document_topics(planted_fit, prob=1.0)


def _hand_fit(phi: np.ndarray, alpha: float = 1.0) -> xr.DataTree:
    """A posterior made by hand: (chain, draw, K, V) draws of phi, theta beside it."""
    chains, draws, k, v = phi.shape
    posterior = xr.Dataset(
        {
            "phi": (("chain", "draw", "topic", "word"), phi),
            "theta": (
                ("chain", "draw", "document", "topic"),
                np.full((chains, draws, 1, k), 1 / k),
            ),
        },
        coords={
            "chain": np.arange(chains),
            "draw": np.arange(draws),
            "topic": np.arange(k),
            "word": np.arange(1, v + 1),
            "document": [1],
        },
    )
    tree = xr.DataTree.from_dict({"posterior": posterior})
    model = probgen.get_model("lda_topic_model", alpha=alpha)
    tree.attrs.update({"probgen_model": model.name, "probgen_config": model.config_json()})
    return tree


def test_generate_documents_follows_the_story():
    """Words come from their token's topic; topics from the document's proportions."""
    phi = np.zeros((2, 50, 2, 4))
    phi[:, :, 0] = [0.5, 0.5, 0.0, 0.0]
    phi[:, :, 1] = [0.0, 0.0, 0.25, 0.75]
    fit = _hand_fit(phi, alpha=2.0)
    model = probgen.get_model("lda_topic_model", alpha=2.0)
    lengths = [30, 5, 12]
    out = model.generate_documents(fit, lengths, seed=3)
    assert out["w"].dims == ("chain", "draw", "token") and out["w"].shape == (2, 50, 47)
    np.testing.assert_array_equal(out["doc"].values, np.repeat([1, 2, 3], lengths))
    w, z = out["w"].values, out["z"].values
    assert np.all(np.isin(w[z == 0], [1, 2])) and np.all(np.isin(w[z == 1], [3, 4]))
    # given its topic a word is independent: word 4 is 3/4 of topic 1's tokens
    n1, k4 = int((z == 1).sum()), int((w == 4).sum())
    assert stats.binom.ppf(ALPHA / 2, n1, 0.75) <= k4 <= stats.binom.isf(ALPHA / 2, n1, 0.75)
    # topic counts per document and draw are Binomial(length, theta[., 0])
    theta = out["theta"].values
    doc = out["doc"].values - 1
    count0 = np.stack([(z[..., doc == d] == 0).sum(-1) for d in range(3)], axis=-1)
    p = theta[..., 0]
    chi2 = ((count0 - lengths * p) ** 2 / (lengths * p * (1 - p))).sum()
    dof = count0.size
    assert chi2 < stats.chi2.isf(ALPHA, dof), (chi2, dof)
    # the proportions are Dirichlet(2, 2): mean 1/2, variance 1/20
    assert abs(p.mean() - 0.5) < 4 * np.sqrt(0.05 / p.size)
    # same seed, same documents
    again = model.generate_documents(fit, lengths, seed=3)
    np.testing.assert_array_equal(again["w"].values, w)


def test_generate_documents_rejects_bad_input():
    fit = _hand_fit(np.full((1, 3, 2, 4), 0.25))
    model = probgen.get_model("lda_topic_model")
    for bad in ([], [3, 0], [[2, 3]], [2.5]):
        with pytest.raises(ValueError, match="lengths"):
            model.generate_documents(fit, bad)
    with pytest.raises(ValueError, match="configuration"):
        probgen.get_model("lda_topic_model", alpha=0.5).generate_documents(fit, [3])
    with pytest.raises(ValueError, match="seed"):
        model.generate_documents(fit, [3], seed=-1)


def test_top_words_without_vocabulary_gives_ids():
    phi = np.zeros((1, 4, 2, 5))
    phi[..., 0, :] = [0.1, 0.5, 0.2, 0.1, 0.1]
    phi[..., 1, :] = [0.2, 0.1, 0.1, 0.3, 0.3]
    top = lda.top_words(_hand_fit(phi), n=3)
    # ties (words 4 and 5 in topic 1) keep the smaller id first
    assert top == {0: [2, 3, 1], 1: [4, 5, 1]}


# ------------------------------------------------------------------ bad input
def test_bad_data_is_rejected_with_a_clear_message():
    model = probgen.get_model("lda_topic_model", anchor_word=1)
    good = {"M": 2, "V": 3, "w": [1, 2, 3], "doc": [1, 1, 2]}
    model.prepare(good)
    with pytest.raises(DataError, match=r"needs data\['V'\]"):
        model.prepare({k: v for k, v in good.items() if k != "V"})
    with pytest.raises(DataError, match=r"needs data\['M'\]"):
        model.prepare({k: v for k, v in good.items() if k != "M"})
    with pytest.raises(DataError, match=r"data\['w'\] must hold ids in 1..3"):
        model.prepare({**good, "w": [1, 2, 4]})
    with pytest.raises(DataError, match=r"data\['doc'\] must hold ids in 1..2"):
        model.prepare({**good, "doc": [0, 1, 2]})
    with pytest.raises(DataError, match="K=2"):
        model.prepare({**good, "K": 3})
    with pytest.raises(DataError, match="alpha"):
        model.prepare({**good, "alpha": [0.1, 0.1]})
    model.prepare({**good, "alpha": [1.0, 1.0], "beta": [1.0] * 3})  # posteriordb's layout
    with pytest.raises(DataError, match="anchor_word=6"):
        probgen.get_model("lda_topic_model").prepare(good)  # the default anchor, V=3
    with pytest.raises(ValueError, match="K must be an integer >= 2"):
        probgen.get_model("lda_topic_model", K=1)
    with pytest.raises(ValueError, match="beta must be > 0"):
        probgen.get_model("lda_topic_model", beta=0.0)


def test_bundled_corpus_follows_its_recipe():
    """The default data is ``subset_corpus`` of posteriordb's corpus (where present)."""
    if not FULL_CORPUS.is_file():
        pytest.skip("posteriordb's prideprejudice_paragraph.json is not beside the checkout")
    model = probgen.get_model("lda_topic_model")
    recipe = lda.subset_corpus(json.loads(FULL_CORPUS.read_text()), **lda.DEFAULT_SUBSET)
    assert model.default_data() == recipe


# ---------------------------------------------------------------------- slow
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpyro", "pymc"])
def test_default_data_fit_is_trustworthy(backend):
    start = time.perf_counter()
    fit = probgen.sample("lda_topic_model", backend=backend)
    wall = time.perf_counter() - start
    verdict = probgen.diagnose(fit)
    print(f"lda_topic_model default fit on {backend}: {wall:.0f} s wall\n{verdict}")
    assert verdict.ok, str(verdict)
    assert int(fit["sample_stats"]["diverging"].sum()) == 0
    # one labelling in every chain: the same top words per topic
    phi = fit["posterior"]["phi"].values.mean(axis=1)  # (chain, K, V)
    tops = np.argsort(-phi, axis=-1)[..., :3]
    assert (tops == tops[0]).all(), tops


@pytest.mark.slow
def test_recovery_campaign_on_bigger_corpora():
    corpus = _small_corpus(m=20, length=40, v=8)
    hits, total = _campaign(probgen.get_model("lda_topic_model", **SIM), range(100, 120), corpus)
    lo, hi = _bounds(total)
    assert lo <= hits <= hi, f"{hits}/{total} covered; 99.9% bounds [{lo}, {hi}]"


@pytest.mark.slow
def test_full_corpus_fit_is_recorded():
    """The whole novel (M=2,025, V=1,495, N=32,877) at the default settings, K=2.

    A record, not a gate: it prints the wall time and the verdict (see the
    model's docstring, "Inference difficulty"); it asserts only that NUTS ran
    to the end with a finite log density. The anchor is the bundled corpus's
    anchor word (its 6th most frequent word) under its full-corpus id.
    """
    if not FULL_CORPUS.is_file():
        pytest.skip("posteriordb's prideprejudice_paragraph.json is not beside the checkout")
    corpus = json.loads(FULL_CORPUS.read_text())
    counts = np.bincount(corpus["w"], minlength=corpus["V"] + 1)[1:]
    anchor = int(np.argsort(-counts, kind="stable")[5]) + 1
    data = {k: corpus[k] for k in ("w", "doc", "N", "M", "V")}
    start = time.perf_counter()
    fit = probgen.sample("lda_topic_model", data, config={"anchor_word": anchor}, check=False)
    wall = time.perf_counter() - start
    print(f"full corpus, numpyro, 4 x 1000: {wall:.0f} s wall\n{probgen.diagnose(fit)}")
    assert np.isfinite(fit["sample_stats"]["lp"].values).all()
