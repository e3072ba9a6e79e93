"""Rats: hierarchical linear growth curves (Gelfand et al. 1990)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm

from probgen import DataError, Field, Model, ModelData

from ._data import load_json

#: prior scales (see the docstring): the weights are in grams, the ages in days
_MU_SCALE = 100.0
_SIGMA_Y_SCALE = 20.0
_SIGMA_ALPHA_SCALE = 50.0
_SIGMA_BETA_SCALE = 5.0


class Rats(Model):
    r"""Hierarchical linear growth curves of 30 young rats (Gelfand et al. 1990).

    Generative story (site names as in both backends), rats i = 1..N weighed
    at ages j = 1..T (the same ages x[j] for every rat), centred at
    ``xbar``::

        mu_alpha    ~ Normal(0, 100)
        mu_beta     ~ Normal(0, 100)
        sigma_y     ~ HalfNormal(20)
        sigma_alpha ~ HalfNormal(50)
        sigma_beta  ~ HalfNormal(5)
        centered:      alpha[i]   ~ Normal(mu_alpha, sigma_alpha)
                       beta[i]    ~ Normal(mu_beta, sigma_beta)
        non-centered:  alpha_z[i] ~ Normal(0, 1);  alpha[i] = mu_alpha + sigma_alpha * alpha_z[i]
                       beta_z[i]  ~ Normal(0, 1);  beta[i]  = mu_beta + sigma_beta * beta_z[i]
        y[i, j] ~ Normal(alpha[i] + beta[i] * (x[j] - xbar), sigma_y)      (observed)

    alpha[i] is rat i's weight at age xbar and beta[i] its growth rate (grams
    per day). posteriordb also reports the weight at birth, alpha0 = mu_alpha -
    xbar * mu_beta, a function of the draws (not a site here).

    Dims: ``y`` along (``rat``, ``age``); ``x`` along ``age``; ``alpha``,
    ``beta``, ``alpha_z``, ``beta_z`` along ``rat``; ``xbar``, ``mu_alpha``,
    ``mu_beta``, ``sigma_y``, ``sigma_alpha``, ``sigma_beta`` scalars.

    Priors: the locations Normal(0, 100) as in posteriordb's ``rats_model``
    (vague: the data pin mu_alpha to about +-3 g and mu_beta to about +-0.1
    g/day). posteriordb (like the BUGS original's near-flat gammas on the
    precisions) leaves the three standard deviations flat; here they are
    half-normal with scales that are wide for the weight of a rat in grams
    (sigma_y, sigma_alpha) and its daily gain (sigma_beta), so that the prior
    is proper (prior predictive, simulated data sets) while the posterior on
    the default data is essentially posteriordb's.

    Data: ``rats_data`` (posteriordb, BSD-3; Gelfand, Hills, Racine-Poon & Smith
    1990, the BUGS example): the weights ``y`` (grams) of N=30 rats at T=5 ages
    ``x`` = 8, 15, 22, 29, 36 days; ``xbar`` = 22, the mean age. Given as a
    30 x 5 table ``y[i, j]`` with the ages ``x[j]``; ``xbar`` is filled in as
    the mean of ``x`` when not given. posteriordb's long layout (``y``, ``x``
    and ``rat`` one entry per weighing, with ``N`` and ``Npts``) is accepted too
    when every rat is weighed once at each of the same ages; it is rearranged
    into the table (an incomplete or irregular layout is an error, not
    silently padded). Stan-style ``N`` (rats) and ``T`` (ages) are accepted and
    checked; with ``x`` they size a data set to simulate (``model.simulate``).

    Generation: :meth:`new_rats` (``generate_draws`` the array version) draws
    growth curves of new rats at the fit's ages from the posterior predictive:
    new alpha, beta from the population distribution, one set per posterior
    draw. The fitted rats' own alpha[i], beta[i] are not reused.

    Inference difficulty: mild, but it decides the parameterization. The
    30 x 5 design is balanced and informative: each rat's weight at xbar is
    known to about sigma_y / sqrt(5) = 2.7 g against a spread sigma_alpha of
    about 14 g between rats, and its slope to about 0.27 g/day against
    sigma_beta about 0.5. Where the data pin the group members this well the
    centered form (default) has the easy geometry, and it samples cleanly at
    the default NUTS settings on both backends (no divergences, bulk ESS in
    the thousands). The non-centered form makes mu_alpha and all the alpha_z
    move together (mu_alpha's bulk ESS falls to about 400 in 4 x 1000 draws,
    R-hat about 1.01-1.015: the verdict fails on the default data); it is the
    better form for data sets with few weighings per rat or tiny
    sigma_alpha / sigma_beta (a funnel), and is kept for those. Centring the
    ages at xbar decorrelates each rat's intercept from its slope.

    Discriminative counterpart: a linear mixed model fitted by REML,
    ``statsmodels.formula.api.mixedlm("y ~ age", groups="rat",
    re_formula="~age")`` (independent random effects here), or per-rat least
    squares lines (no pooling).

    Parameters
    ----------
    centered : bool, default True
        Centered parameterization of the rat effects (see "Inference
        difficulty" for why it is the default here).
    """

    name = "rats"
    family = "hierarchical"
    summary = "Hierarchical linear growth curves of 30 rats weighed at 5 ages (Gelfand et al.)"
    counterparts = {}
    fields = (
        Field("y", ("rat", "age"), observed=True, doc="weight (g) of each rat at each age"),
        Field("x", ("age",), doc="the ages (days) at which every rat was weighed"),
        Field("xbar", (), doc="age (days) the intercepts refer to; default the mean of x"),
    )
    sizes = {"N": "rat", "T": "age"}

    def __init__(self, centered: bool = True):
        self.centered = centered

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {
            "mu_alpha": (),
            "mu_beta": (),
            "sigma_y": (),
            "sigma_alpha": (),
            "sigma_beta": (),
            "alpha": ("rat",),
            "beta": ("rat",),
        }
        if not self.centered:
            dims.update(alpha_z=("rat",), beta_z=("rat",))
        return dims

    def default_data(self) -> dict[str, Any]:
        return load_json("rats_data.json")

    def complete_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Rearrange posteriordb's long layout into the table; fill in ``xbar``."""
        if "rat" in data:
            data = _long_to_table(data)
        if data.get("xbar") is None and data.get("x") is not None:
            x = np.asarray(data["x"])
            if x.ndim == 1 and x.size and x.dtype.kind in "iuf":
                data["xbar"] = float(np.mean(x))
        return data

    def new_rats(self, fit, n: int, *, seed: int = 0):
        """Growth curves of ``n`` new rats from the posterior predictive, at the fit's ages.

        One set of ``n`` rats per posterior draw: with that draw's mu_alpha,
        sigma_alpha, mu_beta, sigma_beta and sigma_y, each new rat gets its own
        alpha ~ Normal(mu_alpha, sigma_alpha) and beta ~ Normal(mu_beta,
        sigma_beta), then y[i, j] ~ Normal(alpha + beta (x[j] - xbar), sigma_y).
        This is what generating new data means for a hierarchical model: the
        fitted rats' own alpha[i], beta[i] belong to those rats, so new rats come
        from the population distribution (``probgen.generate``'s generic path
        would replicate the fitted rats instead).

        Parameters
        ----------
        fit : DataTree
            A fit of this model (either parameterization).
        n : int
            Number of new rats (>= 1).
        seed : int

        Returns
        -------
        DataTree
            A copy of ``fit`` with a ``predictions`` group: ``y`` along
            (chain, draw, rat, age), the new rats labelled 0..n-1 and the ages
            as in the fit.
        """
        from probgen.results import add_groups, data_from_fit
        from probgen.settings import check_count

        n = check_count("n", n)
        seed = check_count("seed", seed, minimum=0)
        data = data_from_fit(fit, self)
        post = fit["posterior"].dataset
        posterior = {name: post[name].values for name in self.var_dims() if name in post}
        y = self.generate_draws(posterior, data, n=n, rng=np.random.default_rng(seed))["y"]
        coords = {**data.coords, "rat": list(range(n))}
        out = add_groups(fit, self, {"predictions": {"y": y}}, coords)
        out["predictions"].attrs.update({"generated_n": n, "seed": seed})
        return out

    def new_unit_log_likelihood(
        self, posterior: Mapping[str, np.ndarray], data: ModelData
    ) -> dict[str, np.ndarray]:
        """A new rat's curve, its intercept and slope integrated out.

        With alpha ~ Normal(mu_alpha, sigma_alpha) and beta ~ Normal(mu_beta,
        sigma_beta) independent, a rat's weights at ages a (centred on xbar) are
        multivariate normal: mean mu_alpha + mu_beta a, covariance
        sigma_alpha² 11ᵀ + sigma_beta² a aᵀ + sigma_y² I.
        """
        age = np.asarray(data["x"], dtype=float) - float(np.asarray(data["xbar"]))
        y = np.asarray(data["y"], dtype=float)  # (rat, age)
        p = {
            k: np.asarray(posterior[k], dtype=float)
            for k in ("mu_alpha", "mu_beta", "sigma_y", "sigma_alpha", "sigma_beta")
        }
        shape = p["mu_alpha"].shape
        flat = {k: v.reshape(-1) for k, v in p.items()}
        n_ages = age.size
        cov = (
            flat["sigma_alpha"][:, None, None] ** 2
            + flat["sigma_beta"][:, None, None] ** 2 * np.outer(age, age)[None]
            + flat["sigma_y"][:, None, None] ** 2 * np.eye(n_ages)[None]
        )
        chol = np.linalg.cholesky(cov)  # (S, A, A)
        mean = flat["mu_alpha"][:, None] + flat["mu_beta"][:, None] * age[None, :]  # (S, A)
        resid = y[None, :, :] - mean[:, None, :]  # (S, rat, A)
        z = np.linalg.solve(chol[:, None], resid[..., None])[..., 0]
        log_det = 2 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)  # (S,)
        out = -0.5 * (np.sum(z**2, axis=-1) + log_det[:, None] + n_ages * np.log(2 * np.pi))
        return {"y": out.reshape(*shape, y.shape[0])}

    def generate_draws(
        self,
        posterior: dict[str, np.ndarray],
        data: ModelData,
        *,
        n: int,
        rng: np.random.Generator,
    ) -> dict[str, np.ndarray]:
        """``n`` new rats per posterior draw at the ages of ``data`` (see :meth:`new_rats`).

        ``posterior`` holds (chain, draw) arrays of the hyperparameters; returns
        {"y": (chain, draw, n, T)}.
        """

        def draws(name: str) -> np.ndarray:
            return np.asarray(posterior[name], dtype=float)[..., None]  # (chain, draw, 1)

        shape = (*np.shape(posterior["mu_alpha"]), n)
        alpha = rng.normal(draws("mu_alpha"), draws("sigma_alpha"), size=shape)
        beta = rng.normal(draws("mu_beta"), draws("sigma_beta"), size=shape)
        age = np.asarray(data["x"], dtype=float) - float(np.asarray(data["xbar"]))
        mean = alpha[..., None] + beta[..., None] * age
        return {"y": rng.normal(mean, draws("sigma_y")[..., None])}

    def numpyro_model(self, data: ModelData) -> None:
        age = data["x"] - data["xbar"]
        mu_alpha = numpyro.sample("mu_alpha", dist.Normal(0.0, _MU_SCALE))
        mu_beta = numpyro.sample("mu_beta", dist.Normal(0.0, _MU_SCALE))
        sigma_y = numpyro.sample("sigma_y", dist.HalfNormal(_SIGMA_Y_SCALE))
        sigma_alpha = numpyro.sample("sigma_alpha", dist.HalfNormal(_SIGMA_ALPHA_SCALE))
        sigma_beta = numpyro.sample("sigma_beta", dist.HalfNormal(_SIGMA_BETA_SCALE))
        n_rats, n_ages = data.size("rat"), data.size("age")
        with numpyro.plate("rat", n_rats):
            if self.centered:
                alpha = numpyro.sample("alpha", dist.Normal(mu_alpha, sigma_alpha))
                beta = numpyro.sample("beta", dist.Normal(mu_beta, sigma_beta))
            else:
                alpha_z = numpyro.sample("alpha_z", dist.Normal(0.0, 1.0))
                beta_z = numpyro.sample("beta_z", dist.Normal(0.0, 1.0))
                alpha = numpyro.deterministic("alpha", mu_alpha + sigma_alpha * alpha_z)
                beta = numpyro.deterministic("beta", mu_beta + sigma_beta * beta_z)
        mean = alpha[:, None] + beta[:, None] * age[None, :]
        with numpyro.plate("rat", n_rats, dim=-2), numpyro.plate("age", n_ages, dim=-1):
            numpyro.sample("y", dist.Normal(mean, sigma_y), obs=data.get("y"))

    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            x = pm.Data("x", data["x"], dims="age")
            xbar = pm.Data("xbar", data["xbar"])
            mu_alpha = pm.Normal("mu_alpha", 0.0, _MU_SCALE)
            mu_beta = pm.Normal("mu_beta", 0.0, _MU_SCALE)
            sigma_y = pm.HalfNormal("sigma_y", _SIGMA_Y_SCALE)
            sigma_alpha = pm.HalfNormal("sigma_alpha", _SIGMA_ALPHA_SCALE)
            sigma_beta = pm.HalfNormal("sigma_beta", _SIGMA_BETA_SCALE)
            if self.centered:
                alpha = pm.Normal("alpha", mu_alpha, sigma_alpha, dims="rat")
                beta = pm.Normal("beta", mu_beta, sigma_beta, dims="rat")
            else:
                alpha_z = pm.Normal("alpha_z", 0.0, 1.0, dims="rat")
                beta_z = pm.Normal("beta_z", 0.0, 1.0, dims="rat")
                alpha = pm.Deterministic("alpha", mu_alpha + sigma_alpha * alpha_z, dims="rat")
                beta = pm.Deterministic("beta", mu_beta + sigma_beta * beta_z, dims="rat")
            mean = alpha[:, None] + beta[:, None] * (x - xbar)[None, :]
            pm.Normal("y", mean, sigma_y, observed=data["y"], dims=("rat", "age"))
        return model


def _long_to_table(data: dict[str, Any]) -> dict[str, Any]:
    """posteriordb's long layout (one entry per weighing) as the (rat, age) table.

    Every rat must be weighed exactly once at each of the same ages; ``N`` and
    ``Npts`` are checked when given. Anything else is a DataError naming the
    problem (nothing is padded or dropped).
    """
    out = {k: v for k, v in data.items() if k not in ("rat", "Npts")}
    try:
        rat = np.asarray(data["rat"])
        x = np.asarray(data.get("x"), dtype=float)
        y = np.asarray(data.get("y"), dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"the long layout (rat, x, y per weighing) could not be read: {exc}"
        ) from None
    if (
        rat.ndim != 1
        or x.shape != rat.shape
        or (data.get("y") is not None and y.shape != rat.shape)
    ):
        raise DataError(
            "the long layout needs 'rat', 'x' and 'y' as 1-D arrays of one length (one entry "
            f"per weighing); got shapes rat {rat.shape}, x {x.shape}, y {y.shape}"
        )
    if rat.dtype.kind not in "iuf" or not np.all(rat == np.round(rat)) or rat.min() < 1:
        raise DataError("data['rat'] must hold 1-based rat indices (1..N)")
    rat = rat.astype(np.int64)
    n_rats = int(rat.max())
    if data.get("N") is not None and int(data["N"]) < n_rats:
        raise DataError(f"data['rat'] holds rat {n_rats} but data['N'] says {data['N']} rats")
    n_rats = int(data["N"]) if data.get("N") is not None else n_rats
    if data.get("Npts") is not None and int(data["Npts"]) != rat.size:
        raise DataError(f"data['Npts'] says {data['Npts']} weighings but 'rat' has {rat.size}")
    ages = np.unique(x)
    counts = np.zeros((n_rats, ages.size), dtype=np.int64)
    np.add.at(counts, (rat - 1, np.searchsorted(ages, x)), 1)
    if not np.all(counts == 1):
        i, j = np.argwhere(counts != 1)[0]
        raise DataError(
            "the long layout must weigh every rat once at each of the same ages "
            f"{ages.tolist()}; rat {i + 1} has {counts[i, j]} weighing(s) at age {ages[j]:g}"
        )
    out["x"] = ages
    if data.get("y") is not None:
        table = np.empty((n_rats, ages.size))
        table[rat - 1, np.searchsorted(ages, x)] = y
        out["y"] = table
    else:
        out.pop("y", None)
    return out
