"""Household radon in Minnesota: complete, no and partial pooling across counties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pymc as pm
import pytensor.tensor as pt
from numpyro.distributions import constraints
from numpyro.distributions.transforms import AffineTransform
from pymc.distributions.transforms import Interval

from probgen import DataError, Field, Model, ModelData
from probgen.data import clean_table, column_values

from ._data import load_json

Pooling = Literal[
    "complete", "none", "varying_intercept", "varying_slope", "varying_intercept_slope"
]

#: the poolings with a population distribution over counties
_HIERARCHICAL = ("varying_intercept", "varying_slope", "varying_intercept_slope")
#: prior scales: locations and coefficients Normal(0, 10) on the log-radon scale
#: (vague next to the data's spread of about 0.8), standard deviations HalfNormal(1)
_LOC_SCALE = 10.0
_SD_SCALE = 1.0
#: LKJ concentration of the intercept-slope correlation (correlated form only)
_LKJ_ETA = 2.0
#: key by which from_table hands the county labels of a table to prepare
_LABELS = "__county_labels__"


class _LKJCorrelation2(dist.TransformedDistribution):
    """The correlation of a 2x2 LKJ(eta) matrix: (rho + 1) / 2 ~ Beta(eta, eta) on (-1, 1).

    NumPyro's affine transform does not carry the interval over to its support
    (it reports the whole real line), so the support is stated here: NUTS and
    the initial points then use the (-1, 1) interval transform, as PyMC does.
    """

    support = constraints.interval(-1.0, 1.0)

    def __init__(self, eta: float):
        super().__init__(dist.Beta(eta, eta), AffineTransform(-1.0, 2.0))


class Radon(Model):
    r"""Log radon in Minnesota homes, pooled across counties in five ways.

    Gelman & Hill (2007, ch. 12-13): the radon level of a home depends on the
    floor it was measured on (basement or first floor) and on its county; how
    much the counties share is the pooling.

    Generative story (site names as in both backends), homes n = 1..N in
    counties j = 1..J, c[n] = ``county_idx[n]``, x[n] = ``floor_measure[n]``,
    u[j] = ``log_uppm[j]``; the terms in ``gamma`` are present only with
    ``county_predictor=True``::

        sigma_y ~ HalfNormal(1)
        log_radon[n] ~ Normal(eta[n], sigma_y)                         (observed)

    ``pooling="complete"`` (one regression, counties ignored)::

        alpha ~ Normal(0, 10);  beta ~ Normal(0, 10);  gamma ~ Normal(0, 10)
        eta[n] = alpha + gamma * u[c[n]] + beta * x[n]

    ``pooling="none"`` (an independent intercept per county)::

        alpha[j] ~ Normal(0, 10);  beta ~ Normal(0, 10)
        eta[n] = alpha[c[n]] + beta * x[n]

    ``pooling="varying_intercept"`` (intercepts partially pooled; the default)::

        mu_alpha ~ Normal(0, 10);  sigma_alpha ~ HalfNormal(1);  gamma ~ Normal(0, 10)
        centered:      alpha[j]   ~ Normal(mu_alpha + gamma * u[j], sigma_alpha)
        non-centered:  alpha_z[j] ~ Normal(0, 1)
                       alpha[j]   = mu_alpha + gamma * u[j] + sigma_alpha * alpha_z[j]
        beta ~ Normal(0, 10)
        eta[n] = alpha[c[n]] + beta * x[n]

    ``pooling="varying_slope"`` (one intercept, floor effects partially pooled)::

        alpha ~ Normal(0, 10);  gamma ~ Normal(0, 10)
        mu_beta ~ Normal(0, 10);  sigma_beta ~ HalfNormal(1)
        centered:      beta[j]   ~ Normal(mu_beta, sigma_beta)
        non-centered:  beta_z[j] ~ Normal(0, 1);  beta[j] = mu_beta + sigma_beta * beta_z[j]
        eta[n] = alpha + gamma * u[c[n]] + beta[c[n]] * x[n]

    ``pooling="varying_intercept_slope"``: the intercepts as in
    ``varying_intercept`` and the slopes as in ``varying_slope``,
    ``eta[n] = alpha[c[n]] + beta[c[n]] * x[n]``; independent of each other
    (``correlated=False``, default) or with correlation ``rho`` between a
    county's intercept and slope (``correlated=True``)::

        rho ~ LKJ(2) on the 2x2 correlation matrix, i.e. (rho + 1) / 2 ~ Beta(2, 2)
        centered:      alpha[j] ~ Normal(m[j], sigma_alpha),  m[j] = mu_alpha + gamma * u[j]
                       beta[j]  ~ Normal(mu_beta + rho * sigma_beta * (alpha[j] - m[j]) / sigma_alpha,
                                         sigma_beta * sqrt(1 - rho^2))
        non-centered:  alpha_z[j], beta_z[j] ~ Normal(0, 1)
                       alpha[j] = m[j] + sigma_alpha * alpha_z[j]
                       beta[j]  = mu_beta + sigma_beta * (rho * alpha_z[j] + sqrt(1 - rho^2) * beta_z[j])

    that is (alpha[j], beta[j]) ~ MvNormal((m[j], mu_beta), diag(s) L L^T diag(s))
    with s = (sigma_alpha, sigma_beta) and L = [[1, 0], [rho, sqrt(1 - rho^2)]]
    the Cholesky factor of the LKJ correlation matrix, written out for two
    dimensions (so that both backends carry the same sites and the log density
    agrees to 1e-8); the centered form is the same bivariate normal factored as
    alpha's marginal times beta's conditional.

    Dims: ``log_radon``, ``floor_measure``, ``county_idx`` along ``obs``;
    ``log_uppm`` and the county-level ``alpha``, ``alpha_z``, ``beta``,
    ``beta_z`` along ``county``; ``alpha``, ``beta``, ``gamma``, ``mu_alpha``,
    ``sigma_alpha``, ``mu_beta``, ``sigma_beta``, ``rho`` and ``sigma_y``
    scalars where they are not per county.

    Priors: locations and coefficients Normal(0, 10) on the log scale (vague
    next to the data: log radon has sd about 0.8), standard deviations
    HalfNormal(1) (they are well below 1 here, and the half-normal keeps
    simulated data sets on a plausible scale), correlation LKJ(2) (mildly away
    from +-1).

    Data: ``radon_mn`` (posteriordb, BSD-3; from Gelman & Hill's EPA survey):
    N=919 homes in J=85 Minnesota counties; ``log_radon`` log radon (pCi/L,
    +0.1 before the log as in Gelman & Hill), ``floor_measure`` 0 basement / 1
    first floor, ``county_idx`` the county (1-based, Stan layout) and
    ``log_uppm`` the county's log soil uranium (ppm). The county names are not
    in the posteriordb file, so the ``county`` coordinate holds the ids 1..85
    unless ``coords={"county": [...]}`` (or a table's ``county`` column)
    names them. Stan-style ``N`` and ``J`` are accepted and checked; ``J`` sets
    the number of counties (a county may have no homes). ``log_uppm`` may also
    be given per home, as the posteriordb file does (length N, with ``J`` given
    and different from N): it must then be constant within each county and
    every county must have a home; it is reduced to one value per county. It is
    required in every configuration (it is part of the county-level data and
    kept with the fit) but used only with ``county_predictor=True``.

    Table input (a DataFrame, or a CSV): one row per home with columns
    ``log_radon`` (optional when only generating), ``floor_measure`` (0/1 or
    booleans), ``county`` (labels: text or numbers; the ``county`` coordinate
    is their sorted distinct values) and ``log_uppm`` (per home, constant
    within a county). Other columns are an error, not silently dropped.

    New homes (``probgen.predict``): give ``floor_measure``, ``county_idx``
    (1..J of the fit) and the fit's ``log_uppm``; :meth:`new_homes` builds that
    from county **labels**. A county the fit does not know is an error (a
    clear ``DataError`` naming it): predicting for an unsurveyed county needs a
    draw from the population distribution, which this model does not provide.
    ``probgen.generate`` does not apply (every home needs its floor and
    county): use ``predict``.

    Inference difficulty: the county intercepts of sparsely sampled counties
    (a third of the counties have three homes or fewer) are determined mostly
    by the population distribution, so sigma_alpha and the alpha[j] form a
    funnel. Without the county predictor it is shallow here (sigma_alpha about
    0.3, many counties with many homes): the centered varying-intercept model
    also fits the default data cleanly. With the county predictor the
    unexplained county spread is small (sigma_alpha about 0.15) and the funnel
    deep: the centered form then mixes badly on the default data (E-BFMI
    about 0.1, R-hat and ESS of sigma_alpha failing on both backends, recorded
    by a ``slow`` test) while the non-centered form is trusted. The slopes'
    sd sigma_beta (about 0.25) is weakly identified (most counties have few
    first-floor homes), a funnel of its own: the centered intercepts-and-slopes
    model fails the verdict on the default data (E-BFMI about 0.13, R-hat and
    ESS of sigma_beta). The non-centered forms (default) sample cleanly at the default
    NUTS settings (no ``sampler_defaults``) on both backends; the centered
    forms are kept to show the funnel.
    ``pooling="none"`` is not offered with ``county_predictor=True`` (the
    county-level predictor would be collinear with free county intercepts)
    and ``centered`` only applies to the hierarchical poolings: both are
    configuration errors, not silent no-ops.

    Discriminative counterpart: the same regressions fitted by least squares
    or REML, e.g. ``statsmodels.formula.api.mixedlm("log_radon ~ floor_measure",
    groups="county", re_formula="~floor_measure")`` for varying intercepts and
    slopes; complete and no pooling are ordinary least squares
    (``sklearn.linear_model.LinearRegression`` on floor and county dummies).

    Parameters
    ----------
    pooling : {"complete", "none", "varying_intercept", "varying_slope", \
"varying_intercept_slope"}, default "varying_intercept"
        How the counties share information (see above).
    county_predictor : bool, default False
        Add the county's log uranium as a group-level predictor of the
        intercepts (``gamma``).
    centered : bool, default False
        Centered form of the county effects (hierarchical poolings only).
    correlated : bool, default False
        ``varying_intercept_slope`` only: correlate a county's intercept and
        slope (``rho``, LKJ(2)).
    """

    name = "radon"
    family = "hierarchical"
    summary = "Log radon in Minnesota homes by floor and county, complete/no/partial pooling"
    counterparts = {}
    fields = (
        Field("log_radon", ("obs",), observed=True, doc="log radon level of each home"),
        Field("floor_measure", ("obs",), kind="binary", doc="0 basement, 1 first floor"),
        Field("county_idx", ("obs",), kind="int", doc="county of each home, 1..J"),
        Field("log_uppm", ("county",), doc="log soil uranium (ppm) of each county"),
    )
    sizes = {"N": "obs", "J": "county"}
    covariates = ("floor_measure", "county_idx", "log_uppm")

    def __init__(
        self,
        pooling: Pooling = "varying_intercept",
        county_predictor: bool = False,
        centered: bool = False,
        correlated: bool = False,
    ):
        self.pooling = pooling
        self.county_predictor = county_predictor
        self.centered = centered
        self.correlated = correlated
        if pooling == "none" and county_predictor:
            raise ValueError(
                "county_predictor=True needs pooled intercepts: with pooling='none' the "
                "county-level predictor is collinear with the free county intercepts"
            )
        if centered and pooling not in _HIERARCHICAL:
            raise ValueError(
                f"centered=True applies to the hierarchical poolings {list(_HIERARCHICAL)}, "
                f"not to pooling={pooling!r} (it has no county-level distribution)"
            )
        if correlated and pooling != "varying_intercept_slope":
            raise ValueError(
                "correlated=True needs pooling='varying_intercept_slope' (a county's "
                f"intercept and slope), got pooling={pooling!r}"
            )

    # ------------------------------------------------------------- structure
    @property
    def _varying_intercept(self) -> bool:
        return self.pooling in ("varying_intercept", "varying_intercept_slope")

    @property
    def _county_intercepts(self) -> bool:
        return self.pooling in ("none", "varying_intercept", "varying_intercept_slope")

    @property
    def _varying_slope(self) -> bool:
        return self.pooling in ("varying_slope", "varying_intercept_slope")

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        dims: dict[str, tuple[str, ...]] = {"sigma_y": ()}
        county = ("county",)
        if self.pooling == "none":
            dims["alpha"] = county
        elif self._varying_intercept:
            dims.update(mu_alpha=(), sigma_alpha=(), alpha=county)
            if not self.centered:
                dims["alpha_z"] = county
        else:
            dims["alpha"] = ()
        if self._varying_slope:
            dims.update(mu_beta=(), sigma_beta=(), beta=county)
            if not self.centered:
                dims["beta_z"] = county
        else:
            dims["beta"] = ()
        if self.county_predictor:
            dims["gamma"] = ()
        if self.correlated:
            dims["rho"] = ()
        return dims

    # ------------------------------------------------------------------ data
    def default_data(self) -> dict[str, Any]:
        return load_json("radon_mn.json")

    def from_table(self, frame) -> dict[str, Any]:
        what = f"the table for {self.name}"
        frame = clean_table(frame, what=what)
        needed = ["floor_measure", "county", "log_uppm"]
        missing = [c for c in needed if c not in frame.columns]
        unknown = [c for c in frame.columns if c not in (*needed, "log_radon")]
        if missing or unknown:
            raise DataError(
                f"{what} needs the columns {needed} (and 'log_radon' to fit), one row per "
                f"home; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and unknown else "")
                + (f"unknown column(s) {unknown}" if unknown else "")
            )
        county = frame["county"]
        if county.isna().any():
            raise DataError(f"{what} column 'county' has missing values")
        labels = sorted(set(county.tolist()), key=lambda v: (str(type(v)), v))
        position = {label: i + 1 for i, label in enumerate(labels)}
        county_idx = np.array([position[v] for v in county.tolist()], dtype=np.int64)
        per_home = column_values(frame["log_uppm"], what=f"{what} column 'log_uppm'")
        out: dict[str, Any] = {
            "floor_measure": column_values(
                frame["floor_measure"], what=f"{what} column 'floor_measure'"
            ),
            "county_idx": county_idx,
            "log_uppm": _per_county(per_home, county_idx, len(labels), labels),
            _LABELS: [v.item() if hasattr(v, "item") else v for v in labels],
        }
        if "log_radon" in frame.columns:
            out["log_radon"] = column_values(frame["log_radon"], what=f"{what} column 'log_radon'")
        return out

    def complete_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Reduce a per-home ``log_uppm`` (posteriordb's layout) to one value per county."""
        uppm, idx, J = data.get("log_uppm"), data.get("county_idx"), data.get("J")
        if uppm is None or idx is None or J is None:
            return data
        uppm_arr = np.asarray(uppm)
        idx_arr = np.asarray(idx)
        if (
            uppm_arr.ndim == 1
            and idx_arr.ndim == 1
            and uppm_arr.shape[0] == idx_arr.shape[0]
            and np.ndim(J) == 0
            and uppm_arr.shape[0] != J
            and uppm_arr.dtype.kind in "iuf"
            and idx_arr.dtype.kind in "iuf"
        ):
            n_counties = int(J)
            if not np.all(idx_arr == np.round(idx_arr)) or idx_arr.min() < 1:
                return data  # the field checks will name the problem
            if idx_arr.max() > n_counties:
                raise DataError(
                    f"data['county_idx'] holds county {int(idx_arr.max())} but data['J'] "
                    f"says {n_counties} counties (1-based indices 1..J expected)"
                )
            data["log_uppm"] = _per_county(
                uppm_arr.astype(float), idx_arr.astype(np.int64), n_counties
            )
        return data

    def prepare(
        self,
        data: Mapping[str, Any] | ModelData | None = None,
        *,
        coords: Mapping[str, Any] | None = None,
        require_observed: bool = True,
    ) -> ModelData:
        if isinstance(data, ModelData):
            return data
        data = self.resolve_data(data)
        if isinstance(data, Mapping) and _LABELS in data:
            data = dict(data)
            labels = data.pop(_LABELS)
            if coords and "county" in coords:
                raise DataError(
                    "coords['county'] cannot be given with a table: its 'county' column "
                    "labels the counties"
                )
            coords = {**(coords or {}), "county": labels}
        prepared = super().prepare(data, coords=coords, require_observed=require_observed)
        idx = prepared["county_idx"]
        n_counties = prepared.size("county")
        bad = (idx < 1) | (idx > n_counties)
        if bad.any():
            raise DataError(
                f"data['county_idx'] must hold 1-based county indices 1..{n_counties} (J, the "
                f"length of log_uppm); got {int(idx[bad][0])} at position {int(np.argmax(bad))}"
            )
        return prepared

    def coords(self, data: ModelData) -> dict[str, list]:
        out = dict(data.coords)
        # county ids as Stan numbers them (1..J), unless the user or a table named them
        out["county"] = list(range(1, data.size("county") + 1))
        return out

    def new_homes(
        self,
        fit,
        floor_measure: Sequence[int] | np.ndarray,
        county: Sequence[Any] | np.ndarray,
    ) -> dict[str, np.ndarray]:
        """The data for ``probgen.predict`` of homes in counties the fit knows, by label.

        Parameters
        ----------
        fit : DataTree
            A fit of this model.
        floor_measure : array-like of 0/1
            Floor of each new home (0 basement, 1 first floor).
        county : array-like
            County label of each new home, as in the fit's ``county`` coordinate.

        Returns
        -------
        dict
            ``floor_measure``, ``county_idx`` (1-based positions of the labels) and
            the fit's ``log_uppm``: pass it to ``probgen.predict(fit, ...)``.

        Raises
        ------
        DataError
            A label the fit does not know (no draw from the population
            distribution is made for unsurveyed counties), or lengths that differ.
        """
        from probgen.results import data_from_fit

        old = data_from_fit(fit, self)
        labels = list(old.coords["county"])
        position = {label: i + 1 for i, label in enumerate(labels)}
        county = list(np.asarray(county).tolist())
        unknown = sorted({str(c) for c in county if c not in position})
        if unknown:
            raise DataError(
                f"county has label(s) {unknown[:5]} the fit does not know "
                f"({len(labels)} counties, e.g. {labels[:5]}); predictions are only made "
                "for counties in the fit"
            )
        floor = np.asarray(floor_measure)
        if floor.ndim != 1 or floor.shape[0] != len(county):
            raise DataError(
                f"floor_measure must be 1-D with one value per county label ({len(county)}), "
                f"got shape {floor.shape}"
            )
        return {
            "floor_measure": floor,
            "county_idx": np.array([position[c] for c in county], dtype=np.int64),
            "log_uppm": np.asarray(old["log_uppm"]),
        }

    # --------------------------------------------------------------- NumPyro
    def numpyro_model(self, data: ModelData) -> None:
        c = data["county_idx"] - 1
        x = data["floor_measure"]
        u = data["log_uppm"]
        n_counties, n = data.size("county"), data.size("obs")
        gamma = (
            numpyro.sample("gamma", dist.Normal(0.0, _LOC_SCALE)) if self.county_predictor else 0.0
        )
        if self.pooling == "none":
            with numpyro.plate("county", n_counties):
                alpha = numpyro.sample("alpha", dist.Normal(0.0, _LOC_SCALE))
        elif self._varying_intercept:
            mu_alpha = numpyro.sample("mu_alpha", dist.Normal(0.0, _LOC_SCALE))
            sigma_alpha = numpyro.sample("sigma_alpha", dist.HalfNormal(_SD_SCALE))
        else:
            alpha = numpyro.sample("alpha", dist.Normal(0.0, _LOC_SCALE))
        if self._varying_slope:
            mu_beta = numpyro.sample("mu_beta", dist.Normal(0.0, _LOC_SCALE))
            sigma_beta = numpyro.sample("sigma_beta", dist.HalfNormal(_SD_SCALE))
        else:
            beta = numpyro.sample("beta", dist.Normal(0.0, _LOC_SCALE))
        if self.correlated:
            rho = numpyro.sample("rho", _LKJCorrelation2(_LKJ_ETA))
        else:
            rho = 0.0
        with numpyro.plate("county", n_counties):
            if self._varying_intercept:
                m = mu_alpha + gamma * u
                if self.centered:
                    alpha = numpyro.sample("alpha", dist.Normal(m, sigma_alpha))
                    alpha_z = (alpha - m) / sigma_alpha
                else:
                    alpha_z = numpyro.sample("alpha_z", dist.Normal(0.0, 1.0))
                    alpha = numpyro.deterministic("alpha", m + sigma_alpha * alpha_z)
            if self._varying_slope:
                if self.centered:
                    loc = mu_beta + sigma_beta * rho * alpha_z if self.correlated else mu_beta
                    scale = sigma_beta * jnp.sqrt(1.0 - rho**2) if self.correlated else sigma_beta
                    beta = numpyro.sample("beta", dist.Normal(loc, scale))
                else:
                    beta_z = numpyro.sample("beta_z", dist.Normal(0.0, 1.0))
                    z = (
                        rho * alpha_z + jnp.sqrt(1.0 - rho**2) * beta_z
                        if self.correlated
                        else beta_z
                    )
                    beta = numpyro.deterministic("beta", mu_beta + sigma_beta * z)
        sigma_y = numpyro.sample("sigma_y", dist.HalfNormal(_SD_SCALE))
        intercept = alpha[c] if self._county_intercepts else alpha + gamma * u[c]
        slope = beta[c] if self._varying_slope else beta
        with numpyro.plate("obs", n):
            numpyro.sample(
                "log_radon", dist.Normal(intercept + slope * x, sigma_y), obs=data.get("log_radon")
            )

    # ------------------------------------------------------------------ PyMC
    def pymc_model(self, data: ModelData) -> pm.Model:
        with pm.Model(coords=data.coords) as model:
            x = pm.Data("floor_measure", data["floor_measure"], dims="obs")
            county_idx = pm.Data("county_idx", data["county_idx"], dims="obs")
            u = pm.Data("log_uppm", data["log_uppm"], dims="county")
            c = county_idx - 1
            gamma = pm.Normal("gamma", 0.0, _LOC_SCALE) if self.county_predictor else 0.0
            if self.pooling == "none":
                alpha = pm.Normal("alpha", 0.0, _LOC_SCALE, dims="county")
            elif self._varying_intercept:
                mu_alpha = pm.Normal("mu_alpha", 0.0, _LOC_SCALE)
                sigma_alpha = pm.HalfNormal("sigma_alpha", _SD_SCALE)
            else:
                alpha = pm.Normal("alpha", 0.0, _LOC_SCALE)
            if self._varying_slope:
                mu_beta = pm.Normal("mu_beta", 0.0, _LOC_SCALE)
                sigma_beta = pm.HalfNormal("sigma_beta", _SD_SCALE)
            else:
                beta = pm.Normal("beta", 0.0, _LOC_SCALE)
            if self.correlated:
                # LKJ(eta) for two dimensions: (rho + 1) / 2 ~ Beta(eta, eta)
                rho = pm.CustomDist(
                    "rho",
                    _LKJ_ETA,
                    dist=lambda eta, size: 2.0 * pm.Beta.dist(eta, eta, size=size) - 1.0,
                    transform=Interval(-1.0, 1.0),
                )
            else:
                rho = 0.0
            if self._varying_intercept:
                m = mu_alpha + gamma * u
                if self.centered:
                    alpha = pm.Normal("alpha", m, sigma_alpha, dims="county")
                    alpha_z = (alpha - m) / sigma_alpha
                else:
                    alpha_z = pm.Normal("alpha_z", 0.0, 1.0, dims="county")
                    alpha = pm.Deterministic("alpha", m + sigma_alpha * alpha_z, dims="county")
            if self._varying_slope:
                if self.centered:
                    loc = mu_beta + sigma_beta * rho * alpha_z if self.correlated else mu_beta
                    scale = sigma_beta * pt.sqrt(1.0 - rho**2) if self.correlated else sigma_beta
                    beta = pm.Normal("beta", loc, scale, dims="county")
                else:
                    beta_z = pm.Normal("beta_z", 0.0, 1.0, dims="county")
                    z = (
                        rho * alpha_z + pt.sqrt(1.0 - rho**2) * beta_z
                        if self.correlated
                        else beta_z
                    )
                    beta = pm.Deterministic("beta", mu_beta + sigma_beta * z, dims="county")
            sigma_y = pm.HalfNormal("sigma_y", _SD_SCALE)
            intercept = alpha[c] if self._county_intercepts else alpha + gamma * u[c]
            slope = beta[c] if self._varying_slope else beta
            pm.Normal(
                "log_radon",
                intercept + slope * x,
                sigma_y,
                observed=data["log_radon"],
                dims="obs",
            )
        return model


def _per_county(
    per_home: np.ndarray,
    county_idx: np.ndarray,
    n_counties: int,
    labels: Sequence[Any] | None = None,
) -> np.ndarray:
    """One value per county from a per-home column that must be constant within counties.

    Raises
    ------
    DataError
        A county whose homes disagree, or a county with no home (its value unknown).
    """
    per_home = np.asarray(per_home, dtype=float)
    names = list(labels) if labels is not None else list(range(1, n_counties + 1))
    out = np.empty(n_counties)
    for j in range(n_counties):
        values = per_home[county_idx == j + 1]
        if values.size == 0:
            raise DataError(
                f"log_uppm is given per home, but county {names[j]!r} has no home, so its "
                "log_uppm is unknown; give log_uppm per county (length J) instead"
            )
        if np.ptp(values) > 1e-9 * max(1.0, float(np.abs(values).max())):
            raise DataError(
                f"log_uppm is a county-level value but differs between the homes of county "
                f"{names[j]!r} ({values.min()} to {values.max()})"
            )
        out[j] = values[0]
    return out
