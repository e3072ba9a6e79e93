"""posteriordb's linear regressions, all fitted by the zoo's ``linear_regression``.

One :class:`~probgen.posteriordb.PosteriorAdapter` row per posterior. The model is
always ``y ~ Normal(intercept + X @ coef, sigma)``; each row sets the priors to
the Stan program's exactly (no ``~`` statement in Stan = ``"flat"``; a flat
``real<lower=0> sigma`` = ``"half_flat"``; half-distributions on sigma differ
from Stan's full ones only by a constant) and does in its ``data`` function what
the Stan program does in ``transformed data``. The posteriordb data files are
never edited. The columns of ``X`` are named (they become the ``feature``
labels of ``coef``) and ordered like the Stan coefficients, so the ``params``
functions map ``intercept`` and ``coef`` back to the reference's flat names by
position.

Transformations, per posterior:

* ``kidiq-kidscore_momiq``: X = [mom_iq], y = kid_score; ``beta[1]`` is the
  intercept, ``beta[2]`` the mom_iq slope.
* ``kidiq-kidscore_interaction``: X = [mom_hs, mom_iq, mom_hs * mom_iq] (the
  Stan program's ``inter``), y = kid_score; ``beta[1..4]``.
* ``earnings-logearn_height``: y = log(earn), X = [height]; ``beta[1..2]``.
* ``kilpisjarvi_mod-kilpisjarvi``: X = [x] (the year, uncentered), y = y;
  reported as ``alpha`` (intercept), ``beta`` (slope), ``sigma``. The Stan
  program reads its prior means and sds (pmualpha, psalpha, pmubeta, psbeta)
  from the data; a row's config is static, so the values of the posteriordb
  data file are written into the prior strings here and the data function
  refuses a data set whose values differ.
* ``mesquite-logmesquite``: y = log(weight), X = [log diam1, log diam2,
  log canopy_height, log total_height, log density, group]; ``beta[1..7]``.
* ``nes<year>-nes`` (1972 ... 2000): y = partyid7, X = [real_ideo, race_adj,
  age30_44, age45_64, age65up, educ1, gender, income] where the three age
  columns are the 0/1 dummies of age_discrete == 2, 3, 4 (level 1, under 30,
  is the baseline); ``beta[1..9]``.
* ``sblrc-blr``, ``sblri-blr``: X as given (its D = 5 columns, no intercept
  column and no intercept parameter: ``intercept=False``), y = y;
  ``beta[1..5]``.
* ``diamonds-diamonds`` (brms-generated program): X's first column is the
  intercept (all ones) and is dropped; the other 24 columns are centered at
  their means (the means are kept in ``attrs["means_X"]`` of the returned
  frame, as the program keeps ``means_X``), so ``intercept`` is brms' centered
  ``Intercept``; reported ``b[1..24]``, ``Intercept``, ``sigma``. The column
  names were worked out from the values (ggplot2's diamonds, N = 5000): carat,
  log x/y/z, the orthogonal-polynomial contrasts of cut (4), color (6) and
  clarity (7), and carat's interactions with log x/y/z, i.e. the design of
  ``log(price) ~ carat * (log(x) + log(y) + log(z)) + cut + color + clarity``.
  The generated quantity ``b_Intercept`` is not reported (it needs the data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from probgen import DataError
from probgen.posteriordb import PosteriorAdapter, stan_flatten


# ---------------------------------------------------------------- helpers
def _columns(d: dict[str, Any], posterior: str, *names: str) -> list[np.ndarray]:
    """The named Stan data entries as float arrays, with a clear error if missing."""
    missing = [n for n in names if n not in d]
    if missing:
        raise DataError(
            f"{posterior}: the data has no {', '.join(map(repr, missing))} (got keys {sorted(d)})"
        )
    return [np.asarray(d[n], dtype=float) for n in names]


def _log(values: np.ndarray, name: str, posterior: str) -> np.ndarray:
    if not np.all(values > 0):
        raise DataError(f"{posterior}: {name} must be > 0 to take its log")
    return np.log(values)


def _coef_draws(posterior: xr.Dataset) -> np.ndarray:
    """``coef`` as a (chain, draw, feature) array, features in the data's order."""
    return posterior["coef"].transpose("chain", "draw", "feature").values


def _vector_params(name: str = "beta", *, intercept: bool = True) -> Callable:
    """``name[1]`` = intercept (if any), then ``name[k]`` = coef in order; and sigma."""

    def params(posterior: xr.Dataset) -> dict[str, np.ndarray]:
        coef = _coef_draws(posterior)
        if intercept:
            coef = np.concatenate([posterior["intercept"].values[..., None], coef], axis=-1)
        return stan_flatten({name: coef, "sigma": posterior["sigma"].values})

    return params


# ------------------------------------------------------------------ kidiq
def _kidiq_momiq(d: dict[str, Any]) -> dict[str, Any]:
    kid_score, mom_iq = _columns(d, "kidiq-kidscore_momiq", "kid_score", "mom_iq")
    return {"X": pd.DataFrame({"mom_iq": mom_iq}), "y": kid_score}


def _kidiq_interaction(d: dict[str, Any]) -> dict[str, Any]:
    kid_score, mom_hs, mom_iq = _columns(
        d, "kidiq-kidscore_interaction", "kid_score", "mom_hs", "mom_iq"
    )
    X = pd.DataFrame({"mom_hs": mom_hs, "mom_iq": mom_iq, "mom_hs_x_mom_iq": mom_hs * mom_iq})
    return {"X": X, "y": kid_score}


# --------------------------------------------------------------- earnings
def _logearn_height(d: dict[str, Any]) -> dict[str, Any]:
    earn, height = _columns(d, "earnings-logearn_height", "earn", "height")
    return {
        "X": pd.DataFrame({"height": height}),
        "y": _log(earn, "earn", "earnings-logearn_height"),
    }


# ------------------------------------------------------------ kilpisjarvi
#: The prior parameters in posteriordb's kilpisjarvi_mod data file.
KILPISJARVI_PRIORS = {
    "pmualpha": 9.31290322580645,
    "psalpha": 100.0,
    "pmubeta": 0.0,
    "psbeta": 0.0333333333333333,
}


def _kilpisjarvi(d: dict[str, Any]) -> dict[str, Any]:
    posterior = "kilpisjarvi_mod-kilpisjarvi"
    x, y = _columns(d, posterior, "x", "y")
    given = dict(zip(KILPISJARVI_PRIORS, _columns(d, posterior, *KILPISJARVI_PRIORS), strict=True))
    differ = {k: float(v) for k, v in given.items() if float(v) != KILPISJARVI_PRIORS[k]}
    if differ:
        raise DataError(
            f"{posterior}: the adapter's priors are fixed to the posteriordb data's "
            f"{KILPISJARVI_PRIORS}, but this data has {differ}; its priors would differ "
            "from the model's (set the linear_regression priors yourself for these values)"
        )
    return {"X": pd.DataFrame({"x": x}), "y": y}


def _kilpisjarvi_params(posterior: xr.Dataset) -> dict[str, np.ndarray]:
    return {
        "alpha": posterior["intercept"].values,
        "beta": _coef_draws(posterior)[..., 0],
        "sigma": posterior["sigma"].values,
    }


# --------------------------------------------------------------- mesquite
_MESQUITE_LOGS = ("diam1", "diam2", "canopy_height", "total_height", "density")


def _logmesquite(d: dict[str, Any]) -> dict[str, Any]:
    posterior = "mesquite-logmesquite"
    weight, *logged, group = _columns(d, posterior, "weight", *_MESQUITE_LOGS, "group")
    X = pd.DataFrame(
        {
            **{
                f"log_{n}": _log(v, n, posterior)
                for n, v in zip(_MESQUITE_LOGS, logged, strict=True)
            },
            "group": group,
        }
    )
    return {"X": X, "y": _log(weight, "weight", posterior)}


# -------------------------------------------------------------------- nes
def _nes(d: dict[str, Any]) -> dict[str, Any]:
    posterior = "nes<year>-nes"
    partyid7, real_ideo, race_adj, educ1, gender, income, age = _columns(
        d, posterior, "partyid7", "real_ideo", "race_adj", "educ1", "gender", "income",
        "age_discrete",
    )  # fmt: skip
    X = pd.DataFrame(
        {
            "real_ideo": real_ideo,
            "race_adj": race_adj,
            "age30_44": (age == 2).astype(float),
            "age45_64": (age == 3).astype(float),
            "age65up": (age == 4).astype(float),
            "educ1": educ1,
            "gender": gender,
            "income": income,
        }
    )
    return {"X": X, "y": partyid7}


NES_YEARS = (1972, 1976, 1980, 1984, 1988, 1992, 1996, 2000)


# -------------------------------------------------------------------- blr
def _blr(d: dict[str, Any]) -> dict[str, Any]:
    X, y = _columns(d, "blr", "X", "y")
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise DataError(f"blr: X must be an (N, D) matrix with N = len(y), got {X.shape}")
    return {"X": pd.DataFrame(X, columns=[f"x{k + 1}" for k in range(X.shape[1])]), "y": y}


# --------------------------------------------------------------- diamonds
DIAMONDS_COLUMNS = (
    "carat",
    "log_x",
    "log_y",
    "log_z",
    *(f"cut_{c}" for c in ("L", "Q", "C", "4")),
    *(f"color_{c}" for c in ("L", "Q", "C", "4", "5", "6")),
    *(f"clarity_{c}" for c in ("L", "Q", "C", "4", "5", "6", "7")),
    "carat_x_log_x",
    "carat_x_log_y",
    "carat_x_log_z",
)


def _diamonds(d: dict[str, Any]) -> dict[str, Any]:
    posterior = "diamonds-diamonds"
    Y, X = _columns(d, posterior, "Y", "X")
    if X.ndim != 2 or X.shape != (Y.shape[0], len(DIAMONDS_COLUMNS) + 1):
        raise DataError(
            f"{posterior}: X must be N x {len(DIAMONDS_COLUMNS) + 1} (intercept column "
            f"first), got {X.shape}"
        )
    if not np.all(X[:, 0] == 1.0):
        raise DataError(f"{posterior}: X's first column must be the intercept (all ones)")
    if int(d.get("prior_only", 0)):
        raise DataError(f"{posterior}: prior_only=1 (no likelihood) is not supported")
    means = X[:, 1:].mean(axis=0)
    Xc = pd.DataFrame(X[:, 1:] - means, columns=list(DIAMONDS_COLUMNS))
    Xc.attrs["means_X"] = dict(zip(DIAMONDS_COLUMNS, means.tolist(), strict=True))
    return {"X": Xc, "y": Y}


def _diamonds_params(posterior: xr.Dataset) -> dict[str, np.ndarray]:
    return {
        **stan_flatten({"b": _coef_draws(posterior)}),
        "Intercept": posterior["intercept"].values,
        "sigma": posterior["sigma"].values,
    }


# ------------------------------------------------------------------- rows
_FLAT = {"intercept_prior": "flat", "coef_prior": "flat"}

POSTERIORDB = [
    PosteriorAdapter(
        "kidiq-kidscore_momiq",
        "linear_regression",
        data=_kidiq_momiq,
        params=_vector_params("beta"),
        config={**_FLAT, "sigma_prior": "half_cauchy(2.5)"},
    ),
    PosteriorAdapter(
        "kidiq-kidscore_interaction",
        "linear_regression",
        data=_kidiq_interaction,
        params=_vector_params("beta"),
        config={**_FLAT, "sigma_prior": "half_cauchy(2.5)"},
    ),
    PosteriorAdapter(
        "earnings-logearn_height",
        "linear_regression",
        data=_logearn_height,
        params=_vector_params("beta"),
        config={**_FLAT, "sigma_prior": "half_flat"},
    ),
    PosteriorAdapter(
        "kilpisjarvi_mod-kilpisjarvi",
        "linear_regression",
        data=_kilpisjarvi,
        params=_kilpisjarvi_params,
        config={
            "intercept_prior": "normal({pmualpha!r}, {psalpha!r})".format(**KILPISJARVI_PRIORS),
            "coef_prior": "normal({pmubeta!r}, {psbeta!r})".format(**KILPISJARVI_PRIORS),
            "sigma_prior": "half_flat",
        },
        # x is the year (about 3950-4010, uncentered), so alpha = mean(y) - beta * x
        # makes alpha and beta correlated at about -0.9999. With a diagonal mass
        # matrix half of NumPyro's transitions hit the maximum tree depth (10); a
        # dense one learns the correlation (no transition at the limit, clean fits
        # on both backends).
        sampler={"dense_mass": True},
    ),
    PosteriorAdapter(
        "mesquite-logmesquite",
        "linear_regression",
        data=_logmesquite,
        params=_vector_params("beta"),
        config={**_FLAT, "sigma_prior": "half_flat"},
    ),
    *(
        PosteriorAdapter(
            f"nes{year}-nes",
            "linear_regression",
            data=_nes,
            params=_vector_params("beta"),
            config={**_FLAT, "sigma_prior": "half_flat"},
        )
        for year in NES_YEARS
    ),
    *(
        PosteriorAdapter(
            f"{data_name}-blr",
            "linear_regression",
            data=_blr,
            params=_vector_params("beta", intercept=False),
            config={
                "intercept": False,
                "coef_prior": "normal(0, 10)",
                "sigma_prior": "half_normal(10)",
            },
            # sblrc's columns are strongly correlated: with a diagonal mass matrix
            # NumPyro's chains mix slowly along the ridge (R-hat just above 1.01 on
            # some seeds); a dense one makes the Gaussian posterior well conditioned
            sampler={"dense_mass": True},
        )
        for data_name in ("sblrc", "sblri")
    ),
    PosteriorAdapter(
        "diamonds-diamonds",
        "linear_regression",
        data=_diamonds,
        params=_diamonds_params,
        config={
            "intercept_prior": "student_t(3, 8, 10)",
            "coef_prior": "normal(0, 1)",
            "sigma_prior": "half_student_t(3, 10)",
        },
        # carat, log x/y/z and their interactions with carat are correlated at
        # 0.93-1.0, so the coefficients' posterior is a narrow, strongly correlated
        # (but Gaussian) ridge. With a diagonal mass matrix two thirds of NumPyro's
        # transitions hit the maximum tree depth (10) and ESS stays low;
        # a dense one makes it a well-conditioned Gaussian (tree depth <= 4,
        # ESS in the thousands, about 1 min NumPyro / 2.5 min PyMC on 2 cores).
        # The default warmup (1000) is enough to adapt it.
        sampler={"dense_mass": True},
    ),
]
