"""Two-sample measures: is generated data distributed like the real data?

Three tests of ``H0: x and y are draws from the same distribution``, each
returning a :class:`TwoSampleResult` (the statistic, its p-value, the method
and the details needed to read it):

* :func:`mmd` -- the unbiased (U-statistic) squared maximum mean discrepancy
  with a Gaussian kernel (Gretton et al. 2012), permutation p-value;
* :func:`energy_distance` -- the multivariate energy distance (Székely & Rizzo
  2004, 2013), V-statistic, permutation p-value;
* :func:`c2st` -- the classifier two-sample test (Lopez-Paz & Oquab 2017):
  cross-validated accuracy of telling ``x`` from ``y``, permutation p-value
  (an approximate binomial one on request; see :func:`c2st` for why not by
  default).

Inputs
------
Samples are NumPy arrays or pandas objects, nothing else (no xarray, no
DataTree: take ``.values`` of the variable, flattened to one row per data
point, yourself -- the choice of what a "row" is belongs to the caller):

* a 2-D array is ``(rows, columns)``: one observation per row;
* a 1-D array (or a pandas Series) of length ``n`` is ``n`` one-column rows;
* a pandas DataFrame's columns are matched **by name** when both samples are
  DataFrames (the same set of names is required, ``y`` is reordered to ``x``'s
  order); a DataFrame beside an array is matched by position;
* values must be finite real numbers (booleans are read as 0/1); each sample
  needs at least 2 rows and both the same number of columns.

Nothing is standardized: distances are taken in the units given, so put the
columns on comparable scales first when they are not (:func:`c2st`'s default
k-NN standardizes the columns with the pooled mean and sd).

Computation
-----------
MMD and energy distance build the pooled ``(N, N)`` matrix (``N = n + m``) of
kernel values or distances once. A permutation relabels which ``n`` of the
``N`` rows are "x"; every within- and between-sample sum the statistics need is
a quadratic form ``a' M a`` / ``a' M (1 - a)`` of the 0/1 label vector ``a``, so
a batch of permutations is a single matrix product ``M @ A`` (``A`` of shape
``(N, batch)``) -- the same numbers as re-indexing ``M`` for each permutation,
without the copies. Memory peaks at about one and a half ``N x N`` float64
matrices (``12 N^2`` bytes, measured: 0.43 GB at ``N = 6000``; :func:`c2st`'s
k-NN about ``28 N^2``); pooled samples above
:data:`MAX_POOLED_ROWS` rows are refused unless ``subsample=`` asks for a
random subset of each sample.

The permutation p-value is ``(1 + #{T_b >= T_obs}) / (1 + B)`` over ``B``
random relabellings (Phipson & Smyth 2010): never 0, and exact (valid at every
level) under exchangeability. Permuted statistics that equal the observed one
up to floating-point rounding count as ``>=`` (conservative with ties, e.g. for
binary data).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist, squareform
from scipy.stats import binomtest

from probgen.errors import DataError

__all__ = [
    "MAX_POOLED_ROWS",
    "TwoSampleResult",
    "c2st",
    "energy_distance",
    "energy_statistic",
    "gaussian_gram",
    "knn_cv_correct",
    "knn_neighbours",
    "median_bandwidth",
    "mmd",
    "mmd2_unbiased",
    "permutation_p_value",
    "permutation_statistics",
    "stratified_folds",
]

#: largest pooled sample (rows of x plus rows of y) that mmd / energy_distance accept
MAX_POOLED_ROWS = 6000

#: permutations evaluated per matrix product (bounds the (N, batch) work arrays)
_BATCH = 256

#: kernels that mmd knows
_KERNELS = ("rbf",)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class TwoSampleResult:
    """The outcome of a two-sample test.

    Attributes
    ----------
    statistic : float
        The test statistic (MMD², energy distance or cross-validated accuracy).
    p_value : float
        The p-value of ``H0: x and y come from the same distribution``.
    method : str
        ``"mmd"``, ``"energy_distance"`` or ``"c2st"``.
    details : dict
        What else is needed to read the result: sample sizes, bandwidth,
        number of permutations, the permutation null (``"null"``, an array),
        classifier and fold accuracies, ... (see each function).

    Notes
    -----
    Frozen; compared and hashed by identity (``details`` holds arrays, for
    which ``==`` has no single truth value).
    """

    statistic: float
    p_value: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # scalars only: the null distribution and per-fold arrays would drown the line
        extra = ", ".join(
            f"{k}={_short(v)}"
            for k, v in self.details.items()
            if isinstance(v, str | int | float | np.integer | np.floating)
            and not isinstance(v, bool)
        )
        head = (
            f"TwoSampleResult(method={self.method!r}, statistic={self.statistic:.6g}, "
            f"p_value={self.p_value:.4g}"
        )
        return f"{head}, {extra})" if extra else f"{head})"


def _short(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}"
    return repr(v) if isinstance(v, str) else str(v)


# --------------------------------------------------------------------------- validation


def _as_matrix(arg: str, value: Any) -> tuple[np.ndarray, list[Any] | None]:
    """One sample as a finite float (rows, columns) array, plus its column names."""
    if isinstance(value, pd.DataFrame):
        bad = [str(c) for c in value.columns if not _real_dtype(value[c].dtype)]
        if bad:
            raise DataError(
                f"{arg} must have numeric (real or boolean) NumPy-dtype columns; column(s) "
                f"{bad} are not (a nullable or categorical column: handle its missing "
                "values, then .astype(float))"
            )
        names = list(value.columns)  # labels as they are: 0 and "0" are different columns
        if len(set(names)) != len(names):
            raise DataError(f"{arg} has repeated column names: {names}")
        arr = value.to_numpy(dtype=float)
    elif isinstance(value, pd.Series):
        if not _real_dtype(value.dtype):
            raise DataError(f"{arg} must be numeric (real or boolean), got dtype {value.dtype}")
        names = None
        arr = value.to_numpy(dtype=float)[:, None]
    elif isinstance(value, np.ndarray):
        if not _real_dtype(value.dtype):
            raise DataError(
                f"{arg} must be an array of real numbers (or booleans), got dtype {value.dtype}"
            )
        names = None
        arr = value.astype(float, copy=False)
    else:
        raise TypeError(
            f"{arg} must be a NumPy array or a pandas DataFrame/Series, got "
            f"{type(value).__name__} (take .values of an xarray object, "
            "np.asarray of a list)"
        )
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(
            f"{arg} must be 1-D (n,) or 2-D (n, columns), got shape {arr.shape}; "
            f"flatten each data point to a row first, e.g. {arg}.reshape(len({arg}), -1)"
        )
    if arr.shape[0] < 2:
        raise DataError(f"{arg} must have at least 2 rows, got {arr.shape[0]}")
    if arr.shape[1] < 1:
        raise DataError(f"{arg} must have at least 1 column, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        n_bad = int(np.sum(~np.all(np.isfinite(arr), axis=1)))
        raise DataError(f"{arg} has non-finite values (NaN or inf) in {n_bad} row(s)")
    return arr, names


def _real_dtype(dtype: Any) -> bool:
    try:
        dtype = np.dtype(dtype)
    except TypeError:  # pandas extension dtypes (categorical, string, ...)
        return False
    return dtype.kind in "biuf"


def _pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate both samples and line their columns up."""
    xa, xnames = _as_matrix("x", x)
    ya, ynames = _as_matrix("y", y)
    if xnames is not None and ynames is not None:
        if set(xnames) != set(ynames):
            raise DataError(
                "x and y are DataFrames with different columns: only in x "
                f"{[c for c in xnames if c not in ynames]}, only in y "
                f"{[c for c in ynames if c not in xnames]}"
            )
        ya = ya[:, [ynames.index(c) for c in xnames]]
    if xa.shape[1] != ya.shape[1]:
        raise DataError(
            f"x and y must have the same number of columns, got {xa.shape[1]} and {ya.shape[1]}"
        )
    return xa, ya


def _check_int(arg: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{arg} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{arg} must be an integer >= {minimum}, got {value}")
    return int(value)


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be a non-negative integer or a numpy Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.default_rng(int(seed))


def _subsample(
    x: np.ndarray, y: np.ndarray, subsample: Any, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``subsample`` random rows of each sample, or a clear refusal when too big."""
    if subsample is not None:
        k = _check_int("subsample", subsample, 2)
        if len(x) > k:
            x = x[np.sort(rng.choice(len(x), size=k, replace=False))]
        if len(y) > k:
            y = y[np.sort(rng.choice(len(y), size=k, replace=False))]
    n_pool = len(x) + len(y)
    if n_pool > MAX_POOLED_ROWS:
        gb = 12 * n_pool**2 / 1e9
        raise DataError(
            f"x and y have {n_pool} rows together; the pooled ({n_pool}, {n_pool}) matrices "
            f"would need about {gb:.1f} GB, above the limit of {MAX_POOLED_ROWS} pooled rows. "
            f"Pass subsample={MAX_POOLED_ROWS // 2} (or fewer) to use a random subset of "
            "each sample."
        )
    return x, y


# --------------------------------------------------------------------------- array layer


def median_bandwidth(distances: np.ndarray) -> tuple[float, str]:
    """The median heuristic: the median of the pooled sample's pairwise distances.

    Parameters
    ----------
    distances : numpy.ndarray
        Condensed pairwise Euclidean distances (``scipy.spatial.distance.pdist``)
        of the pooled sample, one per unordered pair of distinct rows.

    Returns
    -------
    tuple of (float, str)
        The median of the distances and ``"median"``; when more than half of
        them are 0 (many repeated rows, e.g. sparse binary data), the median of
        the non-zero ones and ``"median of non-zero distances"``.

    Raises
    ------
    DataError
        Every pooled row is the same point, so no data-based bandwidth exists.
    """
    med = float(np.median(distances))
    if med > 0:
        return med, "median"
    nonzero = distances[distances > 0]
    if nonzero.size == 0:
        raise DataError(
            "every row of x and y is the same point: the median bandwidth is 0; "
            "pass a positive float bandwidth"
        )
    return float(np.median(nonzero)), "median of non-zero distances"


def gaussian_gram(distances: np.ndarray, bandwidth: float) -> np.ndarray:
    """Square Gaussian kernel matrix ``exp(-d^2 / (2 bandwidth^2))`` from condensed distances."""
    gram = squareform(distances)  # a new (N, N) array with a zero diagonal
    np.square(gram, out=gram)
    gram *= -0.5 / bandwidth**2
    np.exp(gram, out=gram)
    return gram


def _block_sums(matrix: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sums of ``matrix`` over x-x, x-y and y-y index pairs for each label column.

    ``labels`` is ``(N, B)`` with 1.0 for rows in x and 0.0 for rows in y.
    With ``a`` one column: ``s_xx = a'Ma`` and ``s_xy = a'M(1 - a)``; ``s_yy``
    follows from the total. Ordered pairs, diagonal included.
    """
    row_sums = matrix.sum(axis=1)
    total = row_sums.sum()
    ma = matrix @ labels
    s_xx = np.einsum("ib,ib->b", labels, ma)
    s_xy = row_sums @ labels - s_xx
    s_yy = total - 2.0 * s_xy - s_xx
    return s_xx, s_xy, s_yy


def mmd2_unbiased(gram: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unbiased MMD² for each labelling of the pooled sample.

    ``MMD²_u = sum_{i != j in x} k_ij / (n(n-1)) + sum_{i != j in y} k_ij / (m(m-1))
    - 2 sum_{i in x, j in y} k_ij / (nm)`` (Gretton et al. 2012, eq. 3).

    Parameters
    ----------
    gram : numpy.ndarray
        ``(N, N)`` kernel matrix of the pooled sample.
    labels : numpy.ndarray
        ``(N,)`` or ``(N, B)`` 0/1 array, 1 marking the rows of x; each column
        has the same number ``n`` of ones, ``2 <= n <= N - 2``.

    Returns
    -------
    numpy.ndarray
        ``(B,)`` (or 0-d for 1-D ``labels``) MMD² values; may be negative.
    """
    a = labels[:, None] if labels.ndim == 1 else labels
    n = float(a[:, 0].sum())
    m = a.shape[0] - n
    diag = np.diagonal(gram)
    s_xx, s_xy, s_yy = _block_sums(gram, a)
    # the U-statistic leaves out the i == j terms k(x_i, x_i)
    d_x = diag @ a
    d_y = diag.sum() - d_x
    out = (s_xx - d_x) / (n * (n - 1)) + (s_yy - d_y) / (m * (m - 1)) - 2.0 * s_xy / (n * m)
    return out[0] if labels.ndim == 1 else out


def energy_statistic(distances: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Energy distance (V-statistic) for each labelling of the pooled sample.

    ``E = 2/(nm) sum_{i in x, j in y} |x_i - y_j| - 1/n² sum_{i, j in x} |x_i - x_j|
    - 1/m² sum_{i, j in y} |y_i - y_j|`` -- the energy distance between the
    two empirical distributions, >= 0, and 0 only when they are equal.

    Parameters
    ----------
    distances : numpy.ndarray
        ``(N, N)`` Euclidean distance matrix of the pooled sample.
    labels : numpy.ndarray
        ``(N,)`` or ``(N, B)`` 0/1 array, 1 marking the rows of x.

    Returns
    -------
    numpy.ndarray
        ``(B,)`` values (0-d for 1-D ``labels``).
    """
    a = labels[:, None] if labels.ndim == 1 else labels
    n = float(a[:, 0].sum())
    m = a.shape[0] - n
    s_xx, s_xy, s_yy = _block_sums(distances, a)
    out = 2.0 * s_xy / (n * m) - s_xx / n**2 - s_yy / m**2
    return out[0] if labels.ndim == 1 else out


def permutation_statistics(
    matrix: np.ndarray,
    n: int,
    statistic: Callable[[np.ndarray, np.ndarray], np.ndarray],
    permutations: int,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray]:
    """The observed statistic and ``permutations`` statistics under random relabelling.

    Parameters
    ----------
    matrix : numpy.ndarray
        ``(N, N)`` pooled kernel or distance matrix, the first ``n`` rows being x.
    n : int
        Rows of x.
    statistic : callable
        ``statistic(matrix, labels)`` with ``labels`` ``(N, B)`` -> ``(B,)``.
    permutations : int
        Number of random relabellings ``B``.
    rng : numpy.random.Generator

    Returns
    -------
    tuple of (float, numpy.ndarray)
        The observed statistic and the ``(B,)`` permutation null.
    """
    n_pool = matrix.shape[0]
    observed = np.zeros(n_pool)
    observed[:n] = 1.0
    t_obs = float(statistic(matrix, observed))
    null = np.empty(permutations)
    for start in range(0, permutations, _BATCH):
        b = min(_BATCH, permutations - start)
        # each row of `order` is a uniform random permutation; its first n entries are "x"
        order = rng.permuted(np.tile(np.arange(n_pool), (b, 1)), axis=1)
        labels = np.zeros((n_pool, b))
        labels[order[:, :n].T, np.arange(b)] = 1.0
        null[start : start + b] = statistic(matrix, labels)
    return t_obs, null


def permutation_p_value(observed: float, null: np.ndarray, scale: float) -> float:
    """``(1 + #{null >= observed}) / (1 + B)``, ties within rounding counted as ``>=``.

    ``scale`` is the size of the statistic's terms (the mean matrix entry):
    the same labelling computed in another order differs by a few ulps of it.
    """
    tol = 1e-9 * max(scale, np.finfo(float).tiny)
    return float((1 + np.count_nonzero(null >= observed - tol)) / (1 + null.size))


# --------------------------------------------------------------------------- public


def mmd(
    x: Any,
    y: Any,
    *,
    kernel: str = "rbf",
    bandwidth: float | str = "median",
    permutations: int = 500,
    seed: int | np.random.Generator = 0,
    subsample: int | None = None,
) -> TwoSampleResult:
    """Unbiased squared maximum mean discrepancy with a permutation test.

    ``MMD²_u`` (Gretton et al. 2012, eq. 3) is the U-statistic estimate of
    ``E k(X, X') + E k(Y, Y') - 2 E k(X, Y)``: unbiased, so under H0 its mean
    is exactly 0 and single values are often negative.

    Parameters
    ----------
    x, y : numpy.ndarray or pandas.DataFrame or pandas.Series
        The two samples, ``(n, d)`` and ``(m, d)`` (1-D input is one column;
        DataFrames matched by column name; see the module docstring).
    kernel : {"rbf"}
        The Gaussian kernel ``k(a, b) = exp(-|a - b|² / (2 bandwidth²))``.
    bandwidth : "median" or float
        ``"median"``: the median heuristic, the median Euclidean distance
        between distinct rows of the pooled sample (x and y together, so the
        bandwidth is the same under every permutation and the test stays
        exact); if more than half the distances are 0, the median of the
        non-zero ones (``details["bandwidth_rule"]`` says which). A float > 0
        is used as given.
    permutations : int
        Number of random relabellings for the p-value, >= 1.
    seed : int or numpy.random.Generator
        Seeds the permutations (and ``subsample``).
    subsample : int, optional
        Use at most this many randomly chosen rows of each sample. Needed when
        ``n + m > MAX_POOLED_ROWS`` (6000): the pooled Gram matrix takes
        ``8 (n + m)²`` bytes (about one and a half times that at the peak).

    Returns
    -------
    TwoSampleResult
        ``statistic`` MMD²_u; ``p_value`` ``(1 + #{T_b >= T}) / (1 + B)``;
        ``details``: ``n``, ``m``, ``dim``, ``kernel``, ``bandwidth``,
        ``bandwidth_rule``, ``permutations``, ``null`` (the permuted MMD²_u).

    Raises
    ------
    DataError
        Samples that are not finite real ``(rows, columns)`` data with >= 2
        rows, different numbers of columns, or too large without ``subsample``.
    ValueError, TypeError
        An unknown kernel, a non-positive bandwidth or permutation count.
    """
    if kernel not in _KERNELS:
        raise ValueError(f"kernel must be one of {list(_KERNELS)}, got {kernel!r}")
    if isinstance(bandwidth, str):
        if bandwidth != "median":
            raise ValueError(f"bandwidth must be 'median' or a float > 0, got {bandwidth!r}")
    elif (
        isinstance(bandwidth, bool)
        or not isinstance(bandwidth, int | float | np.integer | np.floating)
        or not (math.isfinite(bandwidth) and bandwidth > 0)
    ):
        raise ValueError(f"bandwidth must be 'median' or a finite float > 0, got {bandwidth!r}")
    permutations = _check_int("permutations", permutations, 1)
    rng = _rng(seed)
    xa, ya = _pair(x, y)
    xa, ya = _subsample(xa, ya, subsample, rng)
    n, m = len(xa), len(ya)
    dist = pdist(np.vstack([xa, ya]))
    if isinstance(bandwidth, str):
        sigma, rule = median_bandwidth(dist)
    else:
        sigma, rule = float(bandwidth), "given"
    gram = gaussian_gram(dist, sigma)
    del dist
    t_obs, null = permutation_statistics(gram, n, mmd2_unbiased, permutations, rng)
    return TwoSampleResult(
        statistic=t_obs,
        p_value=permutation_p_value(t_obs, null, 1.0),  # kernel values lie in [0, 1]
        method="mmd",
        details={
            "n": n,
            "m": m,
            "dim": xa.shape[1],
            "kernel": kernel,
            "bandwidth": sigma,
            "bandwidth_rule": rule,
            "permutations": permutations,
            "null": null,
        },
    )


def energy_distance(
    x: Any,
    y: Any,
    *,
    permutations: int = 500,
    seed: int | np.random.Generator = 0,
    subsample: int | None = None,
) -> TwoSampleResult:
    """Multivariate energy distance with a permutation test (Székely & Rizzo).

    The statistic is the **V-statistic**
    ``E = 2/(nm) sum |x_i - y_j| - 1/n² sum_{i,j} |x_i - x_j| - 1/m² sum_{i,j} |y_i - y_j|``
    (Euclidean norms, all ordered pairs including ``i == j``): the energy
    distance between the two empirical distributions, always >= 0. (Its
    expectation under H0 is positive, of order ``1/n + 1/m``; the test does
    not need it to be 0.) The "e-statistic" of the ``energy`` R package's
    ``eqdist.etest`` is ``n m / (n + m) * E``, in ``details["e_statistic"]``;
    the permutation p-value is the same for either.

    In 1-D, ``E`` equals ``scipy.stats.energy_distance(x, y) ** 2`` exactly:
    SciPy returns ``sqrt(2 ∫ (F_n - G_m)²)``, and
    ``2 ∫ (F - G)² = 2E|X - Y| - E|X - X'| - E|Y - Y'|`` holds for the empirical
    CDFs too.

    Parameters
    ----------
    x, y : numpy.ndarray or pandas.DataFrame or pandas.Series
        The two samples, ``(n, d)`` and ``(m, d)`` (see the module docstring).
    permutations : int
        Number of random relabellings for the p-value, >= 1.
    seed : int or numpy.random.Generator
        Seeds the permutations (and ``subsample``).
    subsample : int, optional
        Use at most this many randomly chosen rows of each sample; needed when
        ``n + m > MAX_POOLED_ROWS`` (the distance matrix takes ``8 (n + m)²`` bytes).

    Returns
    -------
    TwoSampleResult
        ``statistic`` E; ``p_value`` ``(1 + #{E_b >= E}) / (1 + B)``;
        ``details``: ``n``, ``m``, ``dim``, ``e_statistic``, ``permutations``,
        ``null`` (the permuted E).

    Raises
    ------
    DataError, ValueError, TypeError
        As :func:`mmd`.
    """
    permutations = _check_int("permutations", permutations, 1)
    rng = _rng(seed)
    xa, ya = _pair(x, y)
    xa, ya = _subsample(xa, ya, subsample, rng)
    n, m = len(xa), len(ya)
    dist = squareform(pdist(np.vstack([xa, ya])))
    t_obs, null = permutation_statistics(dist, n, energy_statistic, permutations, rng)
    t_obs = max(t_obs, 0.0)  # >= 0 in exact arithmetic; clip a rounding -1e-17
    return TwoSampleResult(
        statistic=t_obs,
        p_value=permutation_p_value(t_obs, null, float(dist.mean())),
        method="energy_distance",
        details={
            "n": n,
            "m": m,
            "dim": xa.shape[1],
            "e_statistic": n * m / (n + m) * t_obs,
            "permutations": permutations,
            "null": null,
        },
    )


def knn_neighbours(z: np.ndarray, n_keep: int) -> np.ndarray:
    """Each row's ``n_keep`` nearest other rows, nearest first (pooled standardization).

    Columns are standardized with the pooled mean and sd (constant columns
    are left as they are): that uses no label, so it is the same under every
    relabelling and keeps the permutation test exact.

    Parameters
    ----------
    z : numpy.ndarray
        ``(N, d)`` pooled sample.
    n_keep : int
        Neighbours kept per row, ``1 <= n_keep <= N - 1``.

    Returns
    -------
    numpy.ndarray
        ``(N, n_keep)`` integer row indices; ties in distance keep a fixed
        (label-free) order.
    """
    sd = z.std(axis=0)
    zs = (z - z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    dist = squareform(pdist(zs))
    np.fill_diagonal(dist, np.inf)  # a row is not its own neighbour
    n_pool = len(z)
    if n_keep >= n_pool - 1:
        return np.argsort(dist, axis=1, kind="stable")[:, : n_pool - 1]
    part = np.argpartition(dist, n_keep - 1, axis=1)[:, :n_keep]
    near = np.take_along_axis(dist, part, axis=1)
    return np.take_along_axis(part, np.argsort(near, axis=1, kind="stable"), axis=1)


def stratified_folds(labels: np.ndarray, cv: int, rng: np.random.Generator) -> np.ndarray:
    """Random stratified fold numbers for each row of each labelling.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(B, N)`` 0/1 labellings with the same number of ones in each.
    cv : int
        Number of folds.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        ``(B, N)`` fold numbers: within each class, rows in a random order are
        dealt to folds ``0, 1, ..., cv - 1, 0, 1, ...`` (fold sizes differ by
        at most one per class, as scikit-learn's ``StratifiedKFold``).
    """
    b, n_pool = labels.shape
    n_ones = int(labels[0].sum())
    # sorting by label + a uniform key puts class 0 first, each class in random order
    order = np.argsort(labels + rng.random((b, n_pool)), axis=1)
    position = np.arange(n_pool)
    within = np.where(position < n_pool - n_ones, position, position - (n_pool - n_ones))
    folds = np.empty((b, n_pool), dtype=np.int64)
    np.put_along_axis(folds, order, np.broadcast_to(within % cv, (b, n_pool)), axis=1)
    return folds


def knn_cv_correct(
    neighbours: np.ndarray, labels: np.ndarray, folds: np.ndarray, k: int
) -> np.ndarray:
    """Out-of-fold correctness of k-NN for many labellings at once.

    Row ``i`` (in fold ``f``) is predicted by the majority label of its ``k``
    nearest rows outside fold ``f`` -- exactly k-NN trained on the other folds.

    Parameters
    ----------
    neighbours : numpy.ndarray
        ``(N, L)`` nearest rows of each row (:func:`knn_neighbours`); ``L``
        must be at least ``k`` plus the largest fold size minus one, so that
        ``k`` of them are outside any row's fold.
    labels : numpy.ndarray
        ``(B, N)`` 0/1 labellings.
    folds : numpy.ndarray
        ``(B, N)`` fold number of each row under each labelling.
    k : int
        Odd number of neighbours that vote.

    Returns
    -------
    numpy.ndarray
        ``(B, N)`` booleans: the prediction of row ``i`` is right.
    """
    correct, complete = _knn_votes(neighbours, labels, folds, k)
    if not complete:
        raise ValueError(
            "neighbours has too few columns: some row has fewer than k neighbours outside its fold"
        )
    return correct


def _knn_votes(
    neighbours: np.ndarray, labels: np.ndarray, folds: np.ndarray, k: int
) -> tuple[np.ndarray, bool]:
    """:func:`knn_cv_correct`, and whether every row found ``k`` training neighbours."""
    usable = folds[:, neighbours] != folds[:, :, None]  # (B, N, L): in the training folds
    dtype = np.int16 if neighbours.shape[1] < 2**15 else np.int64  # a smaller cumsum
    chosen = usable & (np.cumsum(usable, axis=2, dtype=dtype) <= k)
    complete = bool(np.all(chosen.sum(axis=2, dtype=np.int64) == k))
    votes = np.sum(chosen & (labels[:, neighbours] == 1), axis=2, dtype=np.int64)
    return (2 * votes > k) == (labels == 1), complete


def _knn_k(n_train: int) -> int:
    # the odd number nearest sqrt(n_train): k -> inf and k / n -> 0 make k-NN
    # consistent; odd k leaves no tied vote between two classes
    k = max(1, round(math.sqrt(n_train)))
    return k + 1 - k % 2


def _knn_c2st(
    z: np.ndarray, per_class: int, cv: int, permutations: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The default c2st: observed correctness, its folds, and the permutation null counts."""
    n_pool = len(z)
    largest_fold = 2 * math.ceil(per_class / cv)
    k = _knn_k(n_pool - largest_fold)
    # k + largest_fold - 1 neighbours always hold k outside any row's fold; far
    # fewer usually do (about 1/cv of them are in the row's own fold), so votes
    # run on a short list -- its same-fold count is allowed 6 sd plus 5 above
    # its mean -- and a batch where some row falls short is redone on the long one
    long = min(n_pool - 1, k + largest_fold - 1)
    same = k / (cv - 1)
    short = min(long, k + math.ceil(same + 6 * math.sqrt(same) + 5))
    neighbours = knn_neighbours(z, long)

    def correct_of(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        folds = stratified_folds(lab, cv, rng)
        right, complete = _knn_votes(neighbours[:, :short], lab, folds, k)
        if not complete:
            right = knn_cv_correct(neighbours, lab, folds, k)
        return right, folds

    labels = np.repeat([0, 1], per_class)[None, :]
    correct, folds = correct_of(labels)
    null = np.empty(permutations, dtype=np.int64)
    # bound the (batch, N, L) work arrays to ~2e7 elements
    batch = max(1, int(2e7 // (n_pool * short)))
    for start in range(0, permutations, batch):
        b = min(batch, permutations - start)
        perm = rng.permuted(np.broadcast_to(labels, (b, n_pool)), axis=1)
        null[start : start + b] = correct_of(perm)[0].sum(axis=1)
    return correct[0], folds[0], null, k


def _sklearn_oof_correct(
    clf: Any, z: np.ndarray, labels: np.ndarray, cv: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold correctness (bool per row) of ``clf`` under stratified K-fold, and folds."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    correct = np.zeros(len(labels), dtype=bool)
    fold_of = np.zeros(len(labels), dtype=np.int64)
    for f, (train, test) in enumerate(splitter.split(z, labels)):
        fitted = clone(clf).fit(z[train], labels[train])
        correct[test] = fitted.predict(z[test]) == labels[test]
        fold_of[test] = f
    return correct, fold_of


def _is_classifier(obj: Any) -> bool:
    """A scikit-learn classifier instance (not a class, not a string)."""
    from sklearn.base import is_classifier

    if isinstance(obj, type) or not all(hasattr(obj, a) for a in ("fit", "predict", "get_params")):
        return False
    try:  # is_classifier reads the estimator tags, which a non-estimator may lack
        return bool(is_classifier(obj))
    except (AttributeError, TypeError):
        return False


def c2st(
    x: Any,
    y: Any,
    *,
    classifier: Any = None,
    cv: int = 5,
    seed: int = 0,
    permutations: int | None = None,
) -> TwoSampleResult:
    """Classifier two-sample test: can a classifier tell x from y?

    Following Lopez-Paz & Oquab (2017): label the rows of x 0 and of y 1, and
    measure the accuracy of a classifier on rows it was not trained on. Under
    H0 no classifier beats chance (1/2); a difference shows as accuracy
    above 1/2.

    * **Balance**: the larger sample is subsampled (at random, with ``seed``)
      to the size of the smaller, so chance accuracy is exactly 1/2 and plain
      accuracy is the statistic. (Balanced accuracy would keep every row, but
      its null is not binomial.)
    * **Accuracy**: stratified ``cv``-fold cross-validation; every row is
      predicted once, by the classifier trained on the other folds; the
      statistic is the fraction right of the ``N = 2 min(n, m)`` predictions.
    * **p-value**: by default a **permutation** p-value,
      ``(1 + #{acc_b >= acc}) / (1 + B)`` over ``B`` runs of the whole
      procedure (new stratified folds, new fits) on randomly relabelled rows:
      exact under exchangeability. Why not the binomial null of Lopez-Paz &
      Oquab: that is exact for one held-out split, but the pooled
      out-of-fold predictions of cross-validation are positively correlated
      (the fold classifiers share training rows; with k-NN two rows in
      different folds vote for each other), so the accuracy varies more than
      ``Binomial(N, 1/2) / N`` under H0. Measured at ``n = m = 30`` in 5-D
      (400 repeats): sd 0.074 (k-NN, k = 7) and 0.081 (logistic regression)
      against the binomial 0.065; false-positive rate 0.07--0.08 at
      ``alpha = 0.05``. ``permutations=0`` still gives that binomial p-value,
      ``P(Binomial(N, 1/2) >= #right)``, labelled approximate.

    The default classifier is k-nearest neighbours on columns standardized
    with the pooled mean and sd, ``k`` the odd number nearest
    ``sqrt(n_train)`` (consistent, no tuning, detects location, scale and
    shape). Its neighbour lists are label-free, so they are computed once and
    every permutation is a vectorized vote (measured on 2 shared cores, 500
    permutations: ~0.01 s at ``N = 60``, ~4 s at ``N = 2000``, ~17 s at
    ``N = 3000``; memory about ``28 N²`` bytes). A user classifier is
    refitted ``cv`` times per permutation.

    Parameters
    ----------
    x, y : numpy.ndarray or pandas.DataFrame or pandas.Series
        The two samples, ``(n, d)`` and ``(m, d)`` (see the module docstring).
    classifier : scikit-learn classifier, optional
        Any unfitted scikit-learn classifier (``sklearn.base.is_classifier``;
        pipelines ending in one included), cloned for each fit; a
        ``random_state`` parameter left at None is set to ``seed`` so results
        repeat. Default: the built-in k-NN above.
    cv : int
        Number of stratified folds, >= 2 and at most ``min(n, m)``.
    seed : int
        Seeds the subsampling, the folds, the classifier and the permutations.
    permutations : int, optional
        Relabellings for the permutation p-value; 0 for the approximate
        binomial p-value. Default 500 for the built-in k-NN, 100 for a user
        classifier (``100 * cv`` extra fits).

    Returns
    -------
    TwoSampleResult
        ``statistic`` the out-of-fold accuracy; ``p_value`` as above;
        ``details``: ``n``, ``m``, ``n_per_class`` (rows used of each),
        ``n_correct``, ``n_total``, ``cv``, ``classifier`` (``"knn(k=...)"``
        or the estimator's repr), ``p_value_method`` (``"permutation"`` or
        ``"binomial (approximate)"``), ``permutations``, ``fold_accuracy``
        (one per fold) and ``null`` (permuted accuracies; permutation only).

    Raises
    ------
    DataError
        Bad samples (as :func:`mmd`); for the built-in k-NN, more than
        :data:`MAX_POOLED_ROWS` rows in the balanced pooled sample.
    ValueError, TypeError
        ``cv`` outside ``[2, min(n, m)]``, a negative ``permutations``, a
        classifier that is not a scikit-learn classifier, a bad ``seed``.
    """
    from sklearn.base import clone

    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    seed = int(seed)
    cv = _check_int("cv", cv, 2)
    if permutations is None:
        permutations = 500 if classifier is None else 100
    permutations = _check_int("permutations", permutations, 0)
    if classifier is not None and not _is_classifier(classifier):
        raise TypeError(
            "classifier must be an unfitted scikit-learn classifier (e.g. "
            f"sklearn.ensemble.HistGradientBoostingClassifier()), got {classifier!r}"
        )
    xa, ya = _pair(x, y)
    n, m = len(xa), len(ya)
    per_class = min(n, m)
    if cv > per_class:
        raise ValueError(f"cv must be at most the smaller sample's size ({per_class}), got {cv}")
    if classifier is None and 2 * per_class > MAX_POOLED_ROWS:
        raise DataError(
            f"the balanced pooled sample has {2 * per_class} rows, above the built-in k-NN's "
            f"limit of {MAX_POOLED_ROWS} (it keeps an (N, N) distance matrix); pass "
            f"{MAX_POOLED_ROWS // 2} or fewer rows of each sample, or a classifier"
        )
    rng = np.random.default_rng(seed)
    # balance the classes: a random min(n, m) rows of each sample
    xs = xa[np.sort(rng.choice(n, size=per_class, replace=False))] if n > per_class else xa
    ys = ya[np.sort(rng.choice(m, size=per_class, replace=False))] if m > per_class else ya
    z = np.vstack([xs, ys])
    labels = np.repeat([0, 1], per_class)
    null_counts: np.ndarray | None = None
    if classifier is None:
        correct, fold_of, null_counts, k = _knn_c2st(z, per_class, cv, permutations, rng)
        name = f"knn(k={k}, pooled standardization)"
    else:
        clf = clone(classifier)
        if "random_state" in clf.get_params() and clf.get_params()["random_state"] is None:
            clf.set_params(random_state=seed)
        name = repr(clf)
        correct, fold_of = _sklearn_oof_correct(clf, z, labels, cv, seed)
        if permutations:
            null_counts = np.array(
                [
                    _sklearn_oof_correct(clf, z, rng.permutation(labels), cv, seed + 1 + b)[0].sum()
                    for b in range(permutations)
                ]
            )
    n_correct, n_total = int(correct.sum()), int(correct.size)
    details: dict[str, Any] = {
        "n": n,
        "m": m,
        "n_per_class": per_class,
        "n_correct": n_correct,
        "n_total": n_total,
        "cv": cv,
        "classifier": name,
        "permutations": permutations,
        "fold_accuracy": np.array([correct[fold_of == f].mean() for f in range(cv)]),
    }
    if permutations == 0:
        p = float(binomtest(n_correct, n_total, 0.5, alternative="greater").pvalue)
        details["p_value_method"] = "binomial (approximate)"
    else:
        assert null_counts is not None
        # counts of right predictions are integers: compared exactly, ties count as >=
        p = float((1 + np.count_nonzero(null_counts >= n_correct)) / (1 + permutations))
        details["p_value_method"] = "permutation"
        details["null"] = null_counts / n_total
    return TwoSampleResult(statistic=n_correct / n_total, p_value=p, method="c2st", details=details)
