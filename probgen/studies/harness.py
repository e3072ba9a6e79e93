"""The comparison harness: many contenders, the same repeated splits, tidy results.

Layers (as arviz-stats): index functions on NumPy arrays first
(:func:`stratified_splits`, :func:`nested_subsets`, :func:`missing_mask`), then
one fit-and-score step (:func:`_run_task`), then the public :func:`compare_models`.

Every contender sees exactly the same test sets, the same nested training subsets
and the same missing-value masks: they are drawn once, from ``seed``, before any
contender runs, and each result row carries a digest of its training and test
indices so that this can be checked afterwards.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from probgen.studies.metrics import classification_scores, regression_scores

#: the columns of every result row, before the metric columns
KEY_COLUMNS = ("contender", "split", "train_size", "missing_fraction")


# ----------------------------------------------------------------- index functions


def stratified_splits(
    y: np.ndarray, *, n_splits: int, test_size: float | int, seed: int, stratify: bool = True
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Repeated random train/test splits (stratified by class when ``stratify``).

    Returns
    -------
    list of (train, test)
        Sorted integer index arrays, one pair per split.
    """
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    cls = StratifiedShuffleSplit if stratify else ShuffleSplit
    splitter = cls(n_splits=n_splits, test_size=test_size, random_state=seed)
    return [(np.sort(train), np.sort(test)) for train, test in splitter.split(np.zeros(len(y)), y)]


def nested_subsets(
    y_train: np.ndarray,
    sizes: Sequence[int],
    *,
    min_per_class: int,
    rng: np.random.Generator,
    stratify: bool = True,
) -> dict[int, np.ndarray]:
    """Nested training subsets (positions into ``y_train``), one per size.

    One random order of the training set is drawn in which the first
    ``min_per_class`` examples of every class come first (in random order), then
    all the others; the subset of size ``m`` is the first ``m`` of that order, so a
    smaller subset is always inside a larger one and holds at least
    ``min_per_class`` examples of each class.
    """
    n = len(y_train)
    if stratify:
        head, tail = [], []
        for c in np.unique(y_train):
            members = rng.permutation(np.flatnonzero(y_train == c))
            head.append(members[:min_per_class])
            tail.append(members[min_per_class:])
        order = np.concatenate(
            [rng.permutation(np.concatenate(head)), rng.permutation(np.concatenate(tail))]
        )
    else:
        order = rng.permutation(n)
    return {int(m): np.sort(order[:m]) for m in sizes}


def missing_mask(shape: tuple[int, int], fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Entries to hide: each one independently with probability ``fraction``.

    A row never loses all its features (one is kept at random), because no
    contender can predict from nothing but the prior and that would mix two
    questions.
    """
    mask = rng.random(shape) < fraction
    full = np.flatnonzero(mask.all(axis=1))
    if full.size:
        mask[full, rng.integers(0, shape[1], size=full.size)] = False
    return mask


def _digest(idx: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(idx, dtype=np.int64).tobytes()).hexdigest()[:12]


# ----------------------------------------------------------------- input checks


def _check_estimator(name: str, est: Any, task: str) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"estimators' keys must be non-empty strings (contender names), got {name!r}"
        )
    if isinstance(est, type):
        raise TypeError(
            f"estimators[{name!r}] is the class {est.__name__}, not an estimator: pass an "
            f"instance, e.g. {est.__name__}()"
        )
    need = ("fit", "predict_proba") if task == "classification" else ("fit", "predict")
    missing = [m for m in (*need, "get_params") if not callable(getattr(est, m, None))]
    if missing:
        raise TypeError(
            f"estimators[{name!r}] ({type(est).__name__}) is not a scikit-learn {task} "
            f"estimator: it lacks {', '.join(missing)}"
        )


def _check_binary_only(estimators: Mapping[str, Any], n_classes: int) -> None:
    """Refuse binary-only contenders on a multiclass target before any fit runs
    (otherwise the study fails after the other contenders' fits)."""
    from probgen.estimators.classifiers import BayesianLogisticRegression

    if n_classes <= 2:
        return
    for name, est in estimators.items():
        if isinstance(est, BayesianLogisticRegression):
            raise ValueError(
                f"estimators[{name!r}] is BayesianLogisticRegression, which is binary, but y "
                f"has {n_classes} classes: wrap it in "
                "sklearn.multiclass.OneVsRestClassifier, or take the counterparts with "
                f"probgen.counterparts(model, n_classes={n_classes})"
            )


def _as_matrix(X: Any) -> np.ndarray:
    if isinstance(X, pd.DataFrame) and not all(
        pd.api.types.is_numeric_dtype(dtype) for dtype in X.dtypes
    ):
        # a table with text, categorical (or mixed) columns: encode it by column
        # name as every table in probgen is (booleans 0/1, text dummy-coded
        # against a named reference level), the same encoding `probgen compare`
        # applies to a CSV — rather than failing on the first string
        from probgen.data import encode_table

        X, _ = encode_table(X, what="X")
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            "X must be numeric (an array or a DataFrame of numbers); encode text columns "
            "first (the CLI uses probgen.data.encode_table)"
        ) from None
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D (examples, features), got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(
            "X has missing values (NaN); the harness hides test features itself through "
            "missing_fractions, so X must be complete"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("X has infinite values")
    return arr


def _task_of(y: np.ndarray, task: str) -> str:
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    if task != "auto":
        return task
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y)
    if kind in ("binary", "multiclass"):
        return "classification"
    if kind == "continuous":
        return "regression"
    raise ValueError(f"y must be class labels or a real target, got a {kind!r} target")


def _resolve_sizes(
    train_sizes: Sequence[float | int] | None, n_train: int, n_min: int
) -> list[int]:
    if train_sizes is None:
        return [n_train]
    sizes = []
    for s in train_sizes:
        if isinstance(s, bool) or not isinstance(s, int | float | np.integer | np.floating):
            raise TypeError(f"train_sizes must hold numbers, got {s!r}")
        if isinstance(s, float | np.floating):
            if 0 < s <= 1:
                m = int(np.floor(s * n_train))
            elif float(s).is_integer() and s > 1:
                m = int(s)
            else:
                raise ValueError(
                    f"train sizes are counts (integers) or fractions in (0, 1], got {s}"
                )
        else:
            m = int(s)
        if m > n_train:
            raise ValueError(
                f"train size {s} is {m} examples but each split's training set has only "
                f"{n_train} (test_size leaves {n_train} for training)"
            )
        if m < n_min:
            raise ValueError(
                f"train size {s} ({m} examples) is smaller than {n_min}, the least that "
                "holds min_per_class examples of every class"
            )
        sizes.append(m)
    return sorted(set(sizes))


# ----------------------------------------------------------------- one task


def _fresh(est: Any, seed: int) -> Any:
    from sklearn.base import clone

    est = clone(est)
    # a Pipeline names its steps' seeds "step__random_state": seed every one of them
    seeds = {
        k: seed for k in est.get_params() if k == "random_state" or k.endswith("__random_state")
    }
    if seeds:
        est.set_params(**seeds)
    return est


def _proba_columns(est: Any, proba: np.ndarray, n_classes: int) -> np.ndarray:
    """Columns in code order 0..K-1 (a class absent from training gets probability 0)."""
    classes = np.asarray(getattr(est, "classes_", np.arange(proba.shape[1])))
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes.astype(np.int64)] = proba
    return out


def _regression_draws(est: Any, X: np.ndarray, seed: int) -> np.ndarray | None:
    """Posterior-predictive draws ``(S, n)`` where the estimator offers ``sample_y``."""
    sample_y = getattr(est, "sample_y", None)
    if not callable(sample_y):
        return None
    draws = np.asarray(sample_y(X, n_samples=400, random_state=seed), dtype=np.float64)
    # scikit-learn's GaussianProcessRegressor returns (n, S): put draws first
    return draws.T if draws.shape[0] == X.shape[0] and draws.shape[1] != X.shape[0] else draws


def _fit_recording_trust(name: str, est: Any, X: np.ndarray, y: np.ndarray) -> bool:
    """Fit ``est``; False when a Bayesian fit warned that it is not trustworthy.

    A study makes hundreds of fits: one multi-line UntrustworthyFitWarning per
    fit would bury the output (and is lost in worker processes anyway), so the
    warning is recorded in the row's ``trustworthy`` column and counted once by
    :func:`compare_models`; every other warning passes through unchanged.
    """
    from probgen.errors import UntrustworthyFitWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UntrustworthyFitWarning)
        try:
            est.fit(X, y)
        except Exception as exc:
            # name the contender and the training set: a study runs many fits
            exc.add_note(f"(compare_models: contender {name!r}, fit on {len(y)} training rows)")
            raise
    trustworthy = True
    for w in caught:
        if issubclass(w.category, UntrustworthyFitWarning):
            trustworthy = False
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return trustworthy


def _run_task(task: dict[str, Any]) -> tuple[list[dict[str, Any]], list[pd.DataFrame]]:
    """Fit one contender on every training size of one split and score every case."""
    X, y, est0 = task["X"], task["y"], task["estimator"]
    rows, preds = [], []
    for size, train in task["subsets"].items():
        est = _fresh(est0, task["seed"])
        start = time.perf_counter()
        trustworthy = _fit_recording_trust(task["name"], est, X[train], y[train])
        fit_time = time.perf_counter() - start
        for fraction, mask in task["masks"].items():
            Xt = X[task["test"]].copy()
            Xt[mask] = np.nan
            start = time.perf_counter()
            try:
                if task["task"] == "classification":
                    proba = np.asarray(est.predict_proba(Xt), dtype=np.float64)
                else:
                    mean = np.asarray(est.predict(Xt), dtype=np.float64)
            except ValueError as exc:
                if fraction > 0 and "nan" in str(exc).lower():
                    raise ValueError(
                        f"contender {task['name']!r} cannot predict with missing features "
                        f"({exc}); wrap it in a Pipeline with an imputer (e.g. "
                        "make_pipeline(SimpleImputer(), LogisticRegression()))"
                    ) from None
                raise
            predict_time = time.perf_counter() - start
            yt = y[task["test"]]
            row = {
                "contender": task["name"],
                "split": task["split"],
                "train_size": size,
                "missing_fraction": fraction,
                "n_test": len(yt),
            }
            if task["task"] == "classification":
                proba = _proba_columns(est, proba, task["n_classes"])
                row.update(classification_scores(yt, proba))
                if task["keep"]:
                    frame = pd.DataFrame(proba, columns=[f"p{k}" for k in range(proba.shape[1])])
                    frame.insert(0, "y_true", yt)
                    frame.insert(0, "row", task["test"])
                    for key in reversed(KEY_COLUMNS):
                        frame.insert(0, key, row[key])
                    preds.append(frame)
            else:
                draws = _regression_draws(est, Xt, task["seed"])
                row.update(regression_scores(yt, mean, draws))
            row.update(
                trustworthy=trustworthy,
                fit_time=fit_time,
                predict_time=predict_time,
                train_digest=_digest(train),
                test_digest=_digest(task["test"]),
            )
            rows.append(row)
    return rows, preds


def _warn_untrustworthy(frame: pd.DataFrame) -> None:
    """One warning for all the fits that were not shown trustworthy."""
    from probgen.errors import UntrustworthyFitWarning

    fits = frame.drop_duplicates(["contender", "split", "train_size"])
    bad = fits[~fits["trustworthy"]]
    if bad.empty:
        return
    per = bad.groupby("contender", sort=True).size()
    total = fits.groupby("contender").size()
    detail = ", ".join(f"{name} {per[name]} of {total[name]}" for name in per.index)
    warnings.warn(
        f"{len(bad)} of {len(fits)} fits were not shown trustworthy by their sampler "
        f"diagnostics ({detail}; rows with trustworthy=False); their scores may be off. "
        "Give those contenders more draws/warmup (e.g. draws=1000, warmup=1000)",
        UntrustworthyFitWarning,
        stacklevel=3,
    )


# ----------------------------------------------------------------- public


def compare_models(
    estimators: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    train_sizes: Sequence[float | int] | None = None,
    n_splits: int = 10,
    test_size: float | int = 0.25,
    seed: int = 0,
    min_per_class: int = 2,
    missing_fractions: Sequence[float] | None = None,
    task: str = "auto",
    progress: bool = True,
    n_jobs: int = 1,
    return_predictions: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Fit and score contenders on the same repeated held-out splits.

    Parameters
    ----------
    estimators : mapping of str to estimator
        Contender name to an unfitted scikit-learn-compatible estimator (it is
        cloned for every fit; ``random_state``, where it has one, is set to
        ``seed + split``). Classifiers need ``predict_proba``.
    X : array-like (n, p) or DataFrame
        Features, complete (no NaN). A DataFrame with text, categorical or
        boolean columns is encoded by column name as probgen encodes every
        table (:func:`probgen.data.encode_table`: booleans 0/1, text
        dummy-coded against a reference level), as ``probgen compare`` does.
    y : array-like (n,)
        Class labels (any values; coded ``0..K-1`` in sorted order before any
        contender sees them) or a real target.
    train_sizes : sequence of int or float, optional
        Training-set sizes for learning curves: integers are counts, floats in
        ``(0, 1)`` fractions of each split's training set. The subsets are nested
        inside each split's training set, hold at least ``min_per_class``
        examples of every class, and are the same for every contender. Default:
        the whole training set.
    n_splits : int
        Number of random train/test splits (stratified for classification).
    test_size : float or int
        Test share (float) or count (int), as scikit-learn's splitters.
    seed : int
        Seeds the splits, subsets and masks (and each contender's
        ``random_state``).
    min_per_class : int
        Least examples of each class in every training subset.
    missing_fractions : sequence of float, optional
        Fractions of test features hidden (NaN) independently per entry, the
        same entries for every contender; a contender must handle NaN itself
        (probgen's generative classifiers marginalize; wrap others in a
        ``Pipeline`` with an imputer). Default ``[0.0]``.
    task : {"auto", "classification", "regression"}
        Default: from ``y`` (scikit-learn's ``type_of_target``).
    progress : bool
        A tqdm bar over the (contender, split) tasks.
    n_jobs : int
        Processes for joblib's loky backend (fresh processes, never a fork of a
        process where JAX runs); 1 runs in this process.
    return_predictions : bool
        Also return the test-set probabilities (classification) for reliability
        diagrams.

    Returns
    -------
    DataFrame
        One row per contender, split, train size and missing fraction: the
        keys, ``n_test``, the metrics (classification: ``accuracy``,
        ``log_loss``, ``brier``, ``ece``; regression: ``rmse``, ``coverage90``),
        ``trustworthy`` (False when a Bayesian fit's sampler diagnostics
        failed: one UntrustworthyFitWarning then counts them all, instead of
        one per fit), ``fit_time`` and ``predict_time`` in seconds (the fit
        time repeats on the rows of one fit) and ``train_digest`` / ``test_digest`` (hashes of
        the indices). ``-log_loss`` is the mean log predictive density of the
        test labels (the test ELPD over ``n``) for every contender, reported
        once. ``attrs["classes"]`` holds the labels in code order.
    predictions : DataFrame
        Only with ``return_predictions``: keys, ``row``, ``y_true`` and
        ``p0 .. p{K-1}``.

    Raises
    ------
    TypeError, ValueError
        Before anything is fitted: a non-estimator, X and y of different
        lengths, too few examples of a class for the requested sizes, bad
        fractions.
    """
    if not isinstance(estimators, Mapping) or not estimators:
        raise TypeError("estimators must be a non-empty mapping of name to estimator")
    Xa = _as_matrix(X)
    ya = np.asarray(y)
    if ya.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {ya.shape}")
    if len(ya) != len(Xa):
        raise ValueError(f"X has {len(Xa)} rows but y has {len(ya)} values; they must match")
    if pd.isna(ya).any():
        raise ValueError("y has missing values")
    kind = _task_of(ya, task)
    for name, est in estimators.items():
        _check_estimator(name, est, kind)
    for arg, v in (("n_splits", n_splits), ("min_per_class", min_per_class), ("n_jobs", n_jobs)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{arg} must be a positive integer, got {v!r}")
    fractions = [0.0] if missing_fractions is None else [float(f) for f in missing_fractions]
    if any(not 0 <= f < 1 for f in fractions):
        raise ValueError(f"missing_fractions must lie in [0, 1), got {list(missing_fractions)}")

    classes: np.ndarray | None = None
    if kind == "classification":
        classes, codes = np.unique(ya, return_inverse=True)
        n_classes = len(classes)
        _check_binary_only(estimators, n_classes)
        counts = np.bincount(codes)
        splits = stratified_splits(codes, n_splits=n_splits, test_size=test_size, seed=seed)
        n_train = len(splits[0][0])
        fewest = min(
            int(np.bincount(codes[train], minlength=n_classes).min()) for train, _ in splits
        )
        if fewest < min_per_class:
            raise ValueError(
                f"too few examples per class: class {classes[np.argmin(counts)]!r} has "
                f"{int(counts.min())} examples in all, and some training set keeps only "
                f"{fewest} of a class after test_size={test_size}; min_per_class="
                f"{min_per_class} needs more (lower test_size or min_per_class)"
            )
        n_min = min_per_class * n_classes
        target = codes
    else:
        n_classes = 0
        target = ya.astype(np.float64)
        splits = stratified_splits(
            target, n_splits=n_splits, test_size=test_size, seed=seed, stratify=False
        )
        n_train = len(splits[0][0])
        n_min = max(2, Xa.shape[1] + 1)
    sizes = _resolve_sizes(train_sizes, n_train, n_min)

    rng = np.random.default_rng(seed)
    tasks = []
    for s, (train, test) in enumerate(splits):
        pos = nested_subsets(
            target[train],
            sizes,
            min_per_class=min_per_class,
            rng=rng,
            stratify=kind == "classification",
        )
        subsets = {m: train[p] for m, p in pos.items()}
        masks = {f: missing_mask((len(test), Xa.shape[1]), f, rng) for f in fractions}
        for name, est in estimators.items():
            tasks.append(
                {
                    "name": name,
                    "estimator": est,
                    "split": s,
                    "seed": seed + s,
                    "X": Xa,
                    "y": target,
                    "subsets": subsets,
                    "test": test,
                    "masks": masks,
                    "task": kind,
                    "n_classes": n_classes,
                    "keep": return_predictions and kind == "classification",
                }
            )
    # contender-major order: one contender's fits of one shape follow each other, so a
    # compiled program (NumPyro caches per data shape) is reused as soon as possible
    tasks.sort(key=lambda t: (list(estimators).index(t["name"]), t["split"]))
    results = _execute(tasks, progress=progress, n_jobs=n_jobs)
    rows = [r for rs, _ in results for r in rs]
    frame = pd.DataFrame(rows).sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)
    _warn_untrustworthy(frame)
    frame.attrs["task"] = kind
    if classes is not None:
        frame.attrs["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
    if not return_predictions:
        return frame
    preds = [p for _, ps in results for p in ps]
    pred_frame = pd.concat(preds, ignore_index=True) if preds else pd.DataFrame()
    return frame, pred_frame


def _execute(tasks: list[dict], *, progress: bool, n_jobs: int) -> list:
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc="compare_models", unit="fit-set")
    try:
        if n_jobs == 1:
            out = []
            for t in tasks:
                out.append(_run_task(t))
                if bar is not None:
                    bar.update(1)
            return out
        from joblib import Parallel, delayed

        # loky starts fresh worker processes (no fork of a process in which JAX's
        # threads already run); results come back as they finish, for the bar
        parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")
        out = []
        for r in parallel(delayed(_run_task)(t) for t in tasks):
            out.append(r)
            if bar is not None:
                bar.update(1)
        return out
    finally:
        if bar is not None:
            bar.close()


def save_results(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write results atomically: ``.csv``, or ``.parquet`` (needs pyarrow).

    The table is written to a temporary file in the target directory and moved
    into place, so a reader never sees half a file.

    Returns
    -------
    Path
        The written file.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"path must end in .csv or .parquet, not {suffix or 'nothing'!r}")
    if suffix == ".parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise ImportError(
                "writing Parquet needs pyarrow, which is not installed: pip install pyarrow, "
                "or save to .csv"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False, engine="pyarrow")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
