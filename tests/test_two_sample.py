"""Two-sample measures (issue 9, item 4): MMD, energy distance, C2ST.

Known answers (brute-force double loops, SciPy), calibration under H0 (the
false-positive rate over repeats within a binomial 99.9% bound of alpha),
power against a shifted mean and a rescaled sd in 1-D and 5-D, real data
(scikit-learn's digits), and bad input. Every random quantity has a fixed seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st

from probgen.errors import DataError
from probgen.evaluation.two_sample import (
    MAX_POOLED_ROWS,
    TwoSampleResult,
    c2st,
    energy_distance,
    energy_statistic,
    gaussian_gram,
    knn_cv_correct,
    knn_neighbours,
    mmd,
    mmd2_unbiased,
    stratified_folds,
)

ALPHA = 0.05
MEASURES = {"mmd": mmd, "energy_distance": energy_distance, "c2st": c2st}


def false_positive_bounds(repeats: int, alpha: float = ALPHA) -> tuple[int, int]:
    """Two-sided 99.9% binomial range of the number of p-values <= alpha under H0."""
    return int(st.binom.ppf(0.0005, repeats, alpha)), int(st.binom.ppf(0.9995, repeats, alpha))


def calibrated(p_values: np.ndarray, alpha: float = ALPHA, *, discrete: bool = False) -> bool:
    """The number of rejections at ``alpha`` is inside its 99.9% binomial range.

    ``discrete``: the statistic takes few values (C2ST's accuracy), so ties make
    a valid test conservative; only the upper bound applies.
    """
    lo, hi = false_positive_bounds(len(p_values), alpha)
    k = int(np.sum(p_values <= alpha))
    return k <= hi and (discrete or k >= lo)


def null_p_values(measure, repeats, n, dim, seed, **kw) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array(
        [
            measure(rng.normal(size=(n, dim)), rng.normal(size=(n, dim)), seed=r, **kw).p_value
            for r in range(repeats)
        ]
    )


# --------------------------------------------------------------------------- exact values


def brute_mmd2(x, y, sigma):
    def k(a, b):
        return np.exp(-np.sum((a - b) ** 2) / (2 * sigma**2))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def brute_energy(x, y):
    def mean_dist(a, b):
        return np.mean([np.linalg.norm(u - v) for u in a for v in b])

    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)


@pytest.fixture
def tiny():
    rng = np.random.default_rng(1)
    return rng.normal(size=(5, 2)), rng.normal(size=(4, 2)) + 0.3


def test_mmd_matches_double_loop(tiny):
    x, y = tiny
    r = mmd(x, y, bandwidth=0.7, permutations=20)
    assert r.statistic == pytest.approx(brute_mmd2(x, y, 0.7), abs=1e-12)
    assert r.details["bandwidth_rule"] == "given"
    # the median heuristic: median distance over distinct pairs of the pooled sample
    z = np.vstack([x, y])
    pairs = [np.linalg.norm(z[i] - z[j]) for i in range(9) for j in range(i + 1, 9)]
    r = mmd(x, y, permutations=20)
    assert r.details["bandwidth"] == pytest.approx(np.median(pairs), rel=1e-12)
    assert r.statistic == pytest.approx(brute_mmd2(x, y, np.median(pairs)), abs=1e-12)


def test_energy_matches_double_loop_and_scipy(tiny):
    x, y = tiny
    r = energy_distance(x, y, permutations=20)
    assert r.statistic == pytest.approx(brute_energy(x, y), abs=1e-12)
    assert r.details["e_statistic"] == pytest.approx(5 * 4 / 9 * r.statistic, rel=1e-12)
    # 1-D, unequal sizes: scipy returns sqrt(2 * int (F - G)^2) = sqrt(E_V)
    rng = np.random.default_rng(2)
    x1, y1 = rng.normal(size=7), rng.gamma(2.0, size=11)
    e = energy_distance(x1, y1, permutations=20).statistic
    assert e == pytest.approx(st.energy_distance(x1, y1) ** 2, rel=1e-12)
    assert e == pytest.approx(brute_energy(x1[:, None], y1[:, None]), rel=1e-12)


def test_vectorized_permutations_equal_reindexing():
    """``M @ A`` over label columns gives what re-indexing M per permutation gives."""
    rng = np.random.default_rng(3)
    z = rng.normal(size=(12, 3))
    n = 5
    from scipy.spatial.distance import pdist, squareform

    gram = gaussian_gram(pdist(z), 1.3)
    dist = squareform(pdist(z))
    perms = [rng.permutation(12) for _ in range(6)]
    labels = np.zeros((12, 6))
    for b, p in enumerate(perms):
        labels[p[:n], b] = 1.0
    got_mmd = mmd2_unbiased(gram, labels)
    got_e = energy_statistic(dist, labels)
    for b, p in enumerate(perms):
        x, y = z[p[:n]], z[p[n:]]
        assert got_mmd[b] == pytest.approx(brute_mmd2(x, y, 1.3), abs=1e-12)
        assert got_e[b] == pytest.approx(brute_energy(x, y), abs=1e-12)


def test_knn_votes_equal_scikit_learn():
    """The vectorized k-NN of c2st is k-NN trained on the other folds."""
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(4)
    z = np.vstack([rng.normal(size=(40, 3)), 1.5 * rng.normal(size=(40, 3))])
    labels = np.repeat([0, 1], 40)
    folds = stratified_folds(labels[None, :], 5, np.random.default_rng(0))
    for f in range(5):  # stratified: 8 of each class per fold
        assert np.sum((folds[0] == f) & (labels == 0)) == 8
    k = 9
    mine = knn_cv_correct(knn_neighbours(z, 79), labels[None, :], folds, k)[0]
    zs = (z - z.mean(0)) / z.std(0)
    ref = np.zeros(80, dtype=bool)
    for f in range(5):
        train = folds[0] != f
        fitted = KNeighborsClassifier(n_neighbors=k).fit(zs[train], labels[train])
        ref[~train] = fitted.predict(zs[~train]) == labels[~train]
    np.testing.assert_array_equal(mine, ref)


def test_knn_refuses_too_short_neighbour_lists():
    """c2st votes on a short neighbour list and falls back to the long one when a
    row has fewer than k neighbours outside its fold; the check behind it fires."""
    rng = np.random.default_rng(6)
    z = rng.normal(size=(20, 2))
    labels = np.repeat([0, 1], 10)[None, :]
    folds = stratified_folds(labels, 2, np.random.default_rng(0))  # half the rows share a fold
    with pytest.raises(ValueError, match="fewer than k"):
        knn_cv_correct(knn_neighbours(z, 3), labels, folds, 3)
    assert knn_cv_correct(knn_neighbours(z, 19), labels, folds, 3).shape == (1, 20)


def test_mmd_unbiased_mean_zero_under_h0():
    """Mean of MMD²_u over repeats is within 3.5 SE of 0; the V-statistic's is not.

    Exchangeability makes E[MMD²_u] = 0 exactly even with the pooled-median
    bandwidth. The biased V-statistic (diagonal terms kept) computed on the same
    data is the can-fail check: the same tolerance rejects it.
    """
    rng = np.random.default_rng(5)
    u, v = [], []
    for r in range(200):
        x, y = rng.normal(size=(15, 2)), rng.normal(size=(15, 2))
        res = mmd(x, y, permutations=1, seed=r)
        u.append(res.statistic)
        z = np.vstack([x, y])
        sq = np.sum((z[:, None] - z[None]) ** 2, axis=-1)
        k = np.exp(-sq / (2 * res.details["bandwidth"] ** 2))
        v.append(k[:15, :15].mean() + k[15:, 15:].mean() - 2 * k[:15, 15:].mean())
    u, v = np.array(u), np.array(v)
    assert np.any(u < 0)
    assert abs(u.mean()) < 3.5 * u.std(ddof=1) / np.sqrt(len(u))
    assert v.mean() > 3.5 * v.std(ddof=1) / np.sqrt(len(v))


# --------------------------------------------------------------------------- calibration


@pytest.mark.parametrize("dim", [1, 5])
@pytest.mark.parametrize("name", list(MEASURES))
def test_false_positive_rate_under_h0(name, dim):
    """200 same-distribution pairs (n = m = 20), 99 permutations: rejections at 0.05
    within the 99.9% binomial range [2, 21] of Binomial(200, 0.05) (for C2ST, whose
    discrete accuracy makes it conservative, at most 21)."""
    p = null_p_values(MEASURES[name], 200, 20, dim, seed=10 + dim, permutations=99)
    discrete = name == "c2st"
    assert calibrated(p, discrete=discrete), np.sum(p <= ALPHA)
    # roughly uniform overall: the mean p-value within 4 SE of a uniform's 0.5
    # (a conservative test's mean may only be higher)
    se = np.sqrt(1 / 12 / len(p))
    assert p.mean() - 0.5 > -4 * se and (discrete or p.mean() - 0.5 < 4 * se)


def test_calibration_check_can_fail():
    """The same bound rejects p-values computed on pairs that differ (mean shift 0.5)."""
    rng = np.random.default_rng(12)
    p = np.array(
        [
            mmd(rng.normal(size=(20, 1)), rng.normal(0.5, size=(20, 1)), permutations=99).p_value
            for _ in range(200)
        ]
    )
    assert not calibrated(p)


# --------------------------------------------------------------------------- power


@pytest.mark.parametrize("dim", [1, 5])
@pytest.mark.parametrize("change", ["shift", "scale"])
@pytest.mark.parametrize("name", list(MEASURES))
def test_detects_shift_and_scale(name, change, dim):
    """Mean + 1 in every coordinate, or sd x 2: p < 0.05 in >= 18 of 20 repeats.

    n = m = 100 for MMD and energy distance; C2ST (a weaker test, as Lopez-Paz &
    Oquab note for small samples) at n = m = 200.
    """
    n = 200 if name == "c2st" else 100
    rng = np.random.default_rng(20 + dim)
    hits = 0
    for r in range(20):
        x, y = rng.normal(size=(n, dim)), rng.normal(size=(n, dim))
        y = y + 1.0 if change == "shift" else 2.0 * y
        hits += MEASURES[name](x, y, permutations=99, seed=r).p_value < ALPHA
    assert hits >= 18, hits


# --------------------------------------------------------------------------- real data


def test_digits_real_data():
    """Handwritten digits (8x8 = 64 columns): halves of the 0s are not told apart
    (rejections over 6 random halvings x 3 measures within the binomial 99.9%
    bound); 0s against 8s are, by every measure."""
    from sklearn.datasets import load_digits

    images, digit = load_digits(return_X_y=True)
    zeros, eights = images[digit == 0], images[digit == 8]
    rng = np.random.default_rng(30)
    p = []
    for s in range(6):
        order = rng.permutation(len(zeros))
        half, other = zeros[order[:89]], zeros[order[89:]]
        p += [f(half, other, permutations=199, seed=s).p_value for f in MEASURES.values()]
    assert np.sum(np.array(p) <= ALPHA) <= false_positive_bounds(len(p))[1]
    for f in MEASURES.values():
        assert f(zeros, eights, permutations=199).p_value <= 0.01  # the smallest is 1/200


def test_binary_data_and_the_bandwidth_fallback():
    """Binary rows (as bernoulli_mixture's pixels): same rate not detected, another
    rate detected; with mostly repeated rows the median distance is 0 and the
    bandwidth falls back, openly, to the median of the non-zero distances."""
    rng = np.random.default_rng(35)
    x, y = rng.random((60, 8)) < 0.3, rng.random((60, 8)) < 0.3
    for f in MEASURES.values():
        assert f(x, y, permutations=99).p_value > ALPHA
        assert f(x, rng.random((60, 8)) < 0.6, permutations=99).p_value <= 0.02
    sparse = np.zeros((30, 3))
    sparse[:3, 0] = 1.0  # 3 of 30 rows differ: most pairwise distances are 0
    r = mmd(sparse[:15], sparse[15:], permutations=19)
    assert r.details["bandwidth_rule"] == "median of non-zero distances"
    assert r.details["bandwidth"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- interface


def test_result_and_details():
    rng = np.random.default_rng(40)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(25, 2))
    r = mmd(x, y, permutations=49)
    assert isinstance(r, TwoSampleResult) and r.method == "mmd"
    assert r.details["null"].shape == (49,)
    assert r.p_value * 50 == pytest.approx(round(r.p_value * 50))  # (1 + count) / (1 + B)
    text = repr(r)
    assert "method='mmd'" in text and "p_value=" in text and "null" not in text
    with pytest.raises(AttributeError):
        r.statistic = 0.0  # frozen
    # same seed, same answer; another seed, another null
    assert mmd(x, y, permutations=49).p_value == r.p_value
    assert not np.array_equal(mmd(x, y, permutations=49, seed=1).details["null"], r.details["null"])
    # more permutations than one batch of the matrix product
    many = energy_distance(x, y, permutations=300)
    assert many.details["null"].shape == (300,) and np.all(np.isfinite(many.details["null"]))
    assert len(np.unique(many.details["null"])) > 250  # distinct relabellings, not one repeated
    c = c2st(x, y, permutations=49)
    assert c.details["n_per_class"] == 25 and c.details["n_total"] == 50
    assert c.details["fold_accuracy"].shape == (5,)
    assert c.statistic == c.details["n_correct"] / 50


def test_c2st_with_a_scikit_learn_classifier():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(41)
    x, y = rng.normal(size=(40, 2)), rng.normal(1.5, size=(40, 2))
    binom = c2st(x, y, classifier=LogisticRegression(), permutations=0)
    assert binom.details["p_value_method"] == "binomial (approximate)"
    assert binom.p_value == pytest.approx(
        st.binomtest(binom.details["n_correct"], 80, 0.5, alternative="greater").pvalue
    )
    perm = c2st(x, y, classifier=LogisticRegression(), permutations=9)
    assert perm.details["p_value_method"] == "permutation"
    assert perm.p_value == pytest.approx(0.1)  # the smallest possible with 9 permutations
    assert perm.statistic > 0.7  # Bayes accuracy Phi(1.5 * sqrt(2) / 2) = 0.86


def test_dataframes_matched_by_column_name():
    rng = np.random.default_rng(42)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(15, 2))
    xf = pd.DataFrame(x, columns=["a", "b"])
    yf = pd.DataFrame(y[:, ::-1], columns=["b", "a"])  # same data, columns swapped
    for f in MEASURES.values():
        assert f(xf, yf, permutations=19).statistic == pytest.approx(
            f(x, y, permutations=19).statistic, abs=1e-12
        )
    with pytest.raises(DataError, match="only in x"):
        mmd(xf, yf.rename(columns={"a": "c"}))
    with pytest.raises(DataError, match="only in x"):  # labels are not turned into strings
        mmd(pd.DataFrame(x, columns=[0, 1]), pd.DataFrame(y, columns=["0", "1"]))
    # a 1-D array and a Series are one column
    s = energy_distance(pd.Series(x[:, 0]), y[:, 0], permutations=19).statistic
    assert s == pytest.approx(energy_distance(x[:, :1], y[:, :1], permutations=19).statistic)


def test_size_limit_and_subsample():
    big = np.zeros((MAX_POOLED_ROWS // 2 + 1, 1))
    with pytest.raises(DataError, match="subsample="):
        mmd(big, big)
    rng = np.random.default_rng(43)
    x, y = rng.normal(size=(MAX_POOLED_ROWS, 1)), rng.normal(size=(50, 1))
    r = energy_distance(x, y, permutations=9, subsample=100)
    assert (r.details["n"], r.details["m"]) == (100, 50)


# --------------------------------------------------------------------------- bad input

GOOD = np.zeros((5, 2)) + np.arange(5)[:, None]


@pytest.mark.parametrize("name", list(MEASURES))
@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        ([[0.0, 1.0], [1.0, 2.0]], TypeError, "x must be a NumPy array"),
        (np.zeros((5, 2, 2)), DataError, "1-D .* or 2-D"),
        (np.zeros((1, 2)), DataError, "at least 2 rows"),
        (np.array([[0.0, 1.0], [np.nan, 1.0], [2.0, 3.0]]), DataError, "non-finite"),
        (np.array([[0.0, 1.0], [np.inf, 1.0], [2.0, 3.0]]), DataError, "non-finite"),
        (np.zeros((5, 3)), DataError, "same number of columns"),
        (np.array([["a", "b"], ["c", "d"]]), DataError, "real numbers"),
        (np.zeros((3, 2), dtype=complex), DataError, "real numbers"),
        (pd.DataFrame({"a": ["u", "v"], "b": [1.0, 2.0]}), DataError, r"\['a'\]"),
        (
            pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [1.0, 2.0]}),
            DataError,
            "nullable",
        ),
    ],
)
def test_bad_samples(name, x, error, match):
    with pytest.raises(error, match=match):
        MEASURES[name](x, GOOD)


def test_xarray_is_refused():
    import xarray as xr

    with pytest.raises(TypeError, match="xarray"):
        mmd(xr.DataArray(GOOD), GOOD)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"permutations": 0}, ValueError, "permutations must be an integer >= 1"),
        ({"permutations": 2.5}, TypeError, "permutations"),
        ({"permutations": True}, TypeError, "permutations"),
        ({"bandwidth": 0.0}, ValueError, "bandwidth"),
        ({"bandwidth": -1.0}, ValueError, "bandwidth"),
        ({"bandwidth": float("nan")}, ValueError, "bandwidth"),
        ({"bandwidth": "silverman"}, ValueError, "bandwidth"),
        ({"kernel": "linear"}, ValueError, "kernel"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": "a"}, TypeError, "seed"),
        ({"subsample": 1}, ValueError, "subsample"),
    ],
)
def test_bad_mmd_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        mmd(GOOD, GOOD, **kwargs)


def test_bad_energy_and_c2st_options():
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ValueError, match="permutations"):
        energy_distance(GOOD, GOOD, permutations=0)
    with pytest.raises(ValueError, match="cv must be an integer >= 2"):
        c2st(GOOD, GOOD, cv=1)
    with pytest.raises(ValueError, match=r"cv must be at most .* \(5\)"):
        c2st(GOOD, GOOD, cv=6)
    with pytest.raises(ValueError, match="permutations"):
        c2st(GOOD, GOOD, permutations=-1)
    with pytest.raises(TypeError, match="scikit-learn classifier"):
        c2st(GOOD, GOOD, classifier=LinearRegression())
    with pytest.raises(TypeError, match="scikit-learn classifier"):
        c2st(GOOD, GOOD, classifier="knn")
    with pytest.raises(ValueError, match="seed"):
        c2st(GOOD, GOOD, seed=-2)
    with pytest.raises(TypeError, match="seed"):
        c2st(GOOD, GOOD, seed=np.random.default_rng(0))
    with pytest.raises(DataError, match="same point"):
        mmd(np.ones((3, 2)), np.ones((4, 2)))  # no median bandwidth exists


# --------------------------------------------------------------------------- slow


@pytest.mark.slow
@pytest.mark.parametrize("dim", [1, 5])
@pytest.mark.parametrize("name", list(MEASURES))
def test_false_positive_rate_large(name, dim):
    """1000 repeats, n = m = 30, 199 permutations; rejections at 0.01, 0.05 and 0.1
    within their 99.9% binomial ranges (C2ST: below the upper end), and a KS test at 0.001 that the p-values'
    CDF is not above the uniform's (no level too liberal). Two-sided for MMD and
    energy distance (continuous statistics: exactly uniform); one-sided for C2ST,
    whose accuracy takes N + 1 values, so ties make its p-values conservative
    (P(p <= t) < t between the attainable levels) -- valid, not uniform."""
    p = null_p_values(MEASURES[name], 1000, 30, dim, seed=100 + dim, permutations=199)
    for alpha in (0.01, 0.05, 0.1):
        assert calibrated(p, alpha, discrete=name == "c2st"), (alpha, np.sum(p <= alpha))
    alternative = "greater" if name == "c2st" else "two-sided"
    assert st.kstest(p, "uniform", alternative=alternative).pvalue > 0.001


@pytest.mark.slow
def test_cv_binomial_null_is_too_narrow():
    """Why c2st's default p-value is a permutation one: under H0 the cross-validated
    accuracy varies more than Binomial(N, 1/2)/N (1000 repeats, n = m = 30, 5-D);
    the sd exceeds the binomial one by more than 4 of its standard errors."""
    rng = np.random.default_rng(200)
    acc = np.array(
        [
            c2st(
                rng.normal(size=(30, 5)), rng.normal(size=(30, 5)), seed=r, permutations=0
            ).statistic
            for r in range(1000)
        ]
    )
    binom_sd = 0.5 / np.sqrt(60)
    assert acc.std(ddof=1) - binom_sd > 4 * acc.std(ddof=1) / np.sqrt(2 * (len(acc) - 1))
