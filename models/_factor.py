"""What the linear-Gaussian latent factor models (PPCA, factor analysis) share.

Both models say ``x[n] = mu + W z[n] + eps[n]`` with ``z[n] ~ Normal(0, I_Q)``
and Gaussian noise ``eps[n] ~ Normal(0, diag(v))``; they differ only in the
noise variances ``v`` (one ``sigma²`` for every feature in PPCA, ``psi[d]²``
per feature in factor analysis). This module holds everything else:

**Sites.** ``mu`` (feature), ``W_diag`` (latent), ``W_lower`` (loading) and the
deterministic ``W`` (feature, latent) assembled from them: ``W[k, k] =
W_diag[k]``, the strictly lower entries (``d > k``) filled from ``W_lower`` row
by row, zeros above the diagonal. The ``loading`` dimension labels the free
entries ``"<feature>:<k>"``.

**The latent z is summed out analytically** on both backends:
``x[n] ~ MvNormal(mu, W Wᵀ + diag(v))``, evaluated through the Cholesky factor
of the DxD covariance on both (NumPyro ``MultivariateNormal(scale_tril=...)``,
PyMC ``MvNormal(cov=...)``): O(D³ + N D²) per evaluation, trivial for tens of
features; ``tests/test_contract.py`` holds the two equal to 1e-8.
NumPyro's ``LowRankMultivariateNormal(mu, W, v)`` (Woodbury identity, O(N D
Q²)) would be cheaper but is not used: it divides by the noise variances, and
as one of them heads to 0 (a Heywood case in factor analysis) it loses all
accuracy. On 120 wine rows a factor-analysis chain found a spurious "mode" at
psi[0] = 1e-8 where the low-rank form overstated the log likelihood by 418
(-1383 against the exact -1801) and stayed there (step size 0, every
transition at the maximum tree depth), while the exact density puts no mass
there.

**Reconstruction** (:mod:`probgen.latent`): per posterior draw the
posterior of the latent given an observation is Gaussian,
``z | x ~ Normal(m, M⁻¹)`` with ``M = I_Q + Wᵀ diag(1/v) W`` and
``m = M⁻¹ Wᵀ diag(1/v) (x - mu)``; :meth:`FactorModel.latent_scores_draws`
gives ``m`` and :meth:`FactorModel.reconstruct_draws` gives ``mu + W m``.

**Starts.** :meth:`FactorModel.initial_point` starts every chain at the
jittered maximum-likelihood PPCA solution in the constrained form
(:func:`factor_start`), so that no chain begins with a column of W mirrored,
where the positive diagonal would trap it (see the models' docstrings).

**Sizes.** ``N`` (rows) and ``D`` (features) are Stan-style size keys, so a data
set can be generated from its sizes alone (``{"N": 100, "D": 5}``); ``Q`` is
configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt

from probgen import DataError, Field, Model, ModelData
from probgen.data import clean_table, column_values, is_frame


def floatx(x) -> np.ndarray:
    """A constant in PyTensor's current floatX (probgen's precision)."""
    return np.asarray(x, dtype=pytensor.config.floatX)


def lower_indices(d: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the strictly lower entries of a (d, q) matrix, row by row.

    These are the free (unconstrained-sign) loadings: ``W[r, c]`` with ``r > c``.
    There are ``q d - q (q + 1) / 2`` of them.
    """
    rows, cols = np.tril_indices(d, k=-1, m=q)
    return rows, cols


def n_loadings(d: int, q: int) -> int:
    """How many strictly lower entries a (d, q) loading matrix has."""
    return len(lower_indices(d, q)[0])


def assemble_w(w_diag: np.ndarray, w_lower: np.ndarray, d: int) -> np.ndarray:
    """``W`` (..., d, q) from its diagonal (..., q) and strictly lower part (..., L), NumPy."""
    w_diag = np.asarray(w_diag, dtype=float)
    w_lower = np.asarray(w_lower, dtype=float)
    q = w_diag.shape[-1]
    rows, cols = lower_indices(d, q)
    w = np.zeros((*w_diag.shape[:-1], d, q))
    w[..., rows, cols] = w_lower
    w[..., np.arange(q), np.arange(q)] = w_diag
    return w


def posterior_latent_mean(
    x: np.ndarray, mu: np.ndarray, w: np.ndarray, noise_var: np.ndarray
) -> np.ndarray:
    """E[z | x] per draw: ``M⁻¹ Wᵀ diag(1/v) (x - mu)``, ``M = I + Wᵀ diag(1/v) W``.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    mu : ndarray, shape (S, D)
        One row per draw (draws flattened).
    w : ndarray, shape (S, D, Q)
    noise_var : ndarray, shape (S, D)
        The noise variances ``v`` (positive).

    Returns
    -------
    ndarray, shape (S, N, Q)
    """
    wt_inv = np.swapaxes(w, -1, -2) / noise_var[:, None, :]  # (S, Q, D) = Wᵀ diag(1/v)
    q = w.shape[-1]
    m = np.eye(q) + wt_inv @ w  # (S, Q, Q)
    centred = x[None, :, :] - mu[:, None, :]  # (S, N, D)
    rhs = wt_inv @ np.swapaxes(centred, -1, -2)  # (S, Q, N)
    return np.swapaxes(np.linalg.solve(m, rhs), -1, -2)


def factor_start(
    x: np.ndarray, q: int, rng: np.random.Generator, *, isotropic: bool
) -> dict[str, np.ndarray]:
    """A data-informed starting point in the constrained (lower-triangular) parameterization.

    The maximum-likelihood PPCA solution from the sample covariance S (Tipping &
    Bishop 1999): ``W0 = U_Q (Λ_Q - s² I)^{1/2}`` with ``s²`` the mean of the
    discarded eigenvalues, rotated to its lower-triangular factor with a
    positive diagonal (``W0 = Rᵀ Qᵀ`` from the QR decomposition ``W0ᵀ = Q R``,
    so ``L = Rᵀ`` has ``L Lᵀ = W0 W0ᵀ``; rows of R with a negative diagonal are
    negated). Noise: ``s`` (PPCA) or ``sqrt(max(diag(S - L Lᵀ), S_dd / 20))``
    per feature (factor analysis). Each chain's start is jittered
    (loadings and noise by exp(uniform(-0.2, 0.2)), means by 0.1 sd / sqrt(N)),
    so the chains start apart but on the same side of every W_diag = 0 boundary.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    q : int
        Latent dimensions (< D).
    rng : numpy.random.Generator
    isotropic : bool
        One noise sd (PPCA, key ``sigma``) or one per feature (``psi``).

    Returns
    -------
    dict
        ``mu``, ``W_diag``, ``W_lower`` and ``sigma`` or ``psi``.
    """
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    mean = x.mean(axis=0)
    cov = np.cov(x, rowvar=False, ddof=0).reshape(d, d)
    scale = max(float(np.trace(cov)) / d, 1e-12)
    evals, evecs = np.linalg.eigh(cov)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    s2 = max(float(evals[q:].mean()), 1e-3 * scale)
    w0 = evecs[:, :q] * np.sqrt(np.maximum(evals[:q] - s2, 1e-2 * scale))
    r = np.linalg.qr(w0.T, mode="r")  # (q, d) upper triangular: w0 = rᵀ (orthogonal)
    r = r * np.where(np.diag(r) < 0, -1.0, 1.0)[:, None]
    lower = r.T  # (d, q) lower triangular, positive diagonal, lower lowerᵀ = w0 w0ᵀ
    diag = np.maximum(np.diag(lower), 1e-2 * np.sqrt(scale))
    rows, cols = lower_indices(d, q)
    jitter = lambda size: np.exp(rng.uniform(-0.2, 0.2, size=size))  # noqa: E731
    sd = np.sqrt(np.maximum(np.diag(cov), 1e-12 * scale))
    start = {
        "mu": mean + 0.1 * sd / np.sqrt(max(n, 1)) * rng.standard_normal(d),
        "W_diag": diag * jitter(q),
        "W_lower": lower[rows, cols] * jitter(len(rows)),
    }
    if isotropic:
        start["sigma"] = np.sqrt(s2) * jitter(())
    else:
        unique = np.diag(cov) - np.sum(lower**2, axis=1)
        start["psi"] = np.sqrt(np.maximum(unique, np.diag(cov) / 20 + 1e-12 * scale)) * jitter(d)
    return start


class FactorModel(Model):
    """Base of PPCA and factor analysis (see the module docstring).

    Subclasses set ``noise_site`` and ``noise_dims`` and implement the noise
    prior on each backend (:meth:`_numpyro_noise_var`, :meth:`_pymc_noise_var`)
    and :meth:`noise_var_draws`.
    """

    family = "latent_variable"
    fields = (Field("x", ("obs", "feature"), observed=True, doc="observations, one row each"),)
    sizes = {"N": "obs", "D": "feature"}
    noise_site: ClassVar[str] = ""
    noise_dims: ClassVar[tuple[str, ...]] = ()

    Q: int
    mu_scale: float
    w_scale: float

    # ------------------------------------------------------------- config
    def _check_config(self, noise_scale_name: str) -> None:
        if isinstance(self.Q, bool) or not (isinstance(self.Q, int | np.integer) and self.Q >= 1):
            raise ValueError(f"Q must be an integer >= 1 (latent dimensions), got {self.Q!r}")
        for name in ("mu_scale", "w_scale", noise_scale_name):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")

    def check_dimensions(self, d: int) -> None:
        """Raise a DataError when ``Q`` latent dimensions cannot be fitted to ``d`` features."""
        if d <= self.Q:
            raise DataError(
                f"{self.name} with Q={self.Q} latent dimensions needs more than Q features; "
                f"the data has D={d}. Configure a smaller Q"
            )

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        return {
            "mu": ("feature",),
            "W_diag": ("latent",),
            "W_lower": ("loading",),
            "W": ("feature", "latent"),
            self.noise_site: self.noise_dims,
        }

    # --------------------------------------------------------------- data
    def from_table(self, frame) -> dict[str, Any]:
        """Every column of the table is a feature of ``x`` (named by its column)."""
        return {"x": frame}

    def prepare(
        self,
        data: Mapping[str, Any] | ModelData | None = None,
        *,
        coords: Mapping[str, Any] | None = None,
        require_observed: bool = True,
    ) -> ModelData:
        """Validate data; a DataFrame ``x`` (or a table) names the features by its columns."""
        if isinstance(data, ModelData):
            return data
        data = self.resolve_data(data)  # a table arrives as {"x": frame} (from_table)
        if isinstance(data, Mapping) and is_frame(data.get("x")):
            if coords and "feature" in coords:
                raise DataError(
                    "coords['feature'] cannot be given with a DataFrame x: its column "
                    "names label the features (rename the columns instead)"
                )
            values, names = frame_values(data["x"], what="x")
            data = {**data, "x": values}
            coords = {**(coords or {}), "feature": names}
        prepared = super().prepare(data, coords=coords, require_observed=require_observed)
        self.check_dimensions(prepared.size("feature"))
        # the loading labels follow the final feature labels (user coords included)
        prepared.coords = self.coords(prepared)
        return prepared

    def coords(self, data: ModelData) -> dict[str, list]:
        out = dict(data.coords)
        features = out.get("feature")
        if features is None:
            return out
        out.setdefault("latent", list(range(self.Q)))
        rows, cols = lower_indices(len(features), self.Q)
        latent = out["latent"]
        out["loading"] = [f"{features[r]}:{latent[c]}" for r, c in zip(rows, cols, strict=True)]
        return out

    def initial_point(self, data: ModelData, rng: np.random.Generator) -> dict[str, Any] | None:
        """Each chain starts at the jittered PPCA solution (see "Initialisation")."""
        x = data.get("x")
        if x is None:
            return None
        return factor_start(np.asarray(x), self.Q, rng, isotropic=self.noise_dims == ())

    # ----------------------------------------------------------- backends
    def _numpyro_noise_var(self, d: int):
        """Sample the noise site; return the (d,) noise variances (NumPyro)."""
        raise NotImplementedError

    def _pymc_noise_var(self, d: int):
        """Create the noise variable; return the (d,) noise variances (PyMC)."""
        raise NotImplementedError

    def numpyro_model(self, data: ModelData) -> None:
        d, q, n = data.size("feature"), self.Q, data.size("obs")
        rows, cols = lower_indices(d, q)
        with numpyro.plate("feature", d):
            mu = numpyro.sample("mu", dist.Normal(0.0, float(self.mu_scale)))
        with numpyro.plate("latent", q):
            w_diag = numpyro.sample("W_diag", dist.HalfNormal(float(self.w_scale)))
        with numpyro.plate("loading", len(rows)):
            w_lower = numpyro.sample("W_lower", dist.Normal(0.0, float(self.w_scale)))
        diag = np.arange(q)
        w = jnp.zeros((d, q), dtype=w_lower.dtype).at[rows, cols].set(w_lower)
        w = numpyro.deterministic("W", w.at[diag, diag].set(w_diag))
        noise_var = self._numpyro_noise_var(d)
        # the full Cholesky factor, not LowRankMultivariateNormal: see the module docstring
        cov = w @ w.T + jnp.diag(noise_var)
        with numpyro.plate("obs", n):
            numpyro.sample(
                "x",
                dist.MultivariateNormal(mu, scale_tril=jnp.linalg.cholesky(cov)),
                obs=data.get("x"),
            )

    def pymc_model(self, data: ModelData) -> pm.Model:
        d, q = data.size("feature"), self.Q
        rows, cols = lower_indices(d, q)
        diag = np.arange(q)
        # the latent dims too: data read back from a fit may lack them
        with pm.Model(coords=self.coords(data)) as model:
            mu = pm.Normal("mu", mu=0.0, sigma=floatx(self.mu_scale), dims="feature")
            w_diag = pm.HalfNormal("W_diag", sigma=floatx(self.w_scale), dims="latent")
            w_lower = pm.Normal("W_lower", mu=0.0, sigma=floatx(self.w_scale), dims="loading")
            w = pt.zeros((d, q), dtype=w_lower.dtype)
            w = pt.set_subtensor(w[rows, cols], w_lower)
            w = pt.set_subtensor(w[diag, diag], w_diag)
            w = pm.Deterministic("W", w, dims=("feature", "latent"))
            noise_var = self._pymc_noise_var(d)
            cov = w @ w.T + pt.diag(noise_var)
            pm.MvNormal("x", mu=mu, cov=cov, observed=data["x"], dims=("obs", "feature"))
        return model

    # ------------------------------------------------------- reconstruction
    def noise_var_draws(self, posterior: Mapping[str, np.ndarray], d: int) -> np.ndarray:
        """The noise variances per draw, (chain, draw, d)."""
        raise NotImplementedError

    def _flat_draws(self, posterior: Mapping[str, np.ndarray], d: int):
        mu = np.asarray(posterior["mu"], dtype=float)
        batch = mu.shape[:-1]
        if mu.shape[-1] != d:
            raise DataError(f"X has {d} features but the fit has {mu.shape[-1]}")
        w = assemble_w(posterior["W_diag"], posterior["W_lower"], d)
        v = self.noise_var_draws(posterior, d)
        return batch, mu.reshape(-1, d), w.reshape(-1, d, self.Q), v.reshape(-1, d)

    def latent_scores_draws(self, posterior: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        """E[z | x] for every row of ``X`` and every draw: (chain, draw, N, Q).

        ``posterior`` holds (chain, draw, ...) arrays of ``mu``, ``W_diag``,
        ``W_lower`` and the noise site; ``X`` is an (N, D) array.
        """
        X = np.asarray(X, dtype=float)
        batch, mu, w, v = self._flat_draws(posterior, X.shape[1])
        scores = posterior_latent_mean(X, mu, w, v)
        return scores.reshape(*batch, X.shape[0], self.Q)

    def reconstruct_draws(self, posterior: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        """``mu + W E[z | x]`` for every row of ``X`` and every draw: (chain, draw, N, D)."""
        X = np.asarray(X, dtype=float)
        batch, mu, w, v = self._flat_draws(posterior, X.shape[1])
        scores = posterior_latent_mean(X, mu, w, v)  # (S, N, Q)
        recon = mu[:, None, :] + scores @ np.swapaxes(w, -1, -2)
        return recon.reshape(*batch, *X.shape)

    def decode_draws(
        self,
        posterior: Mapping[str, np.ndarray],
        Z: np.ndarray,
        *,
        noise: bool,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """New observations at chosen latent positions: ``mu + W z`` (+ noise), per draw.

        Parameters
        ----------
        posterior : mapping
            (chain, draw, ...) arrays of the posterior variables.
        Z : ndarray, shape (M, Q)
            Latent positions (e.g. a line through latent space).
        noise : bool
            Add the observation noise ``eps ~ Normal(0, diag(v))`` of each draw
            (a draw of ``x | z``); False gives its mean ``mu + W z``.
        rng : numpy.random.Generator

        Returns
        -------
        ndarray, shape (chain, draw, M, D)
        """
        Z = np.asarray(Z, dtype=float)
        d = np.asarray(posterior["mu"]).shape[-1]
        batch, mu, w, v = self._flat_draws(posterior, d)
        out = mu[:, None, :] + Z[None] @ np.swapaxes(w, -1, -2)
        if noise:
            out = out + np.sqrt(v)[:, None, :] * rng.standard_normal(out.shape)
        return out.reshape(*batch, Z.shape[0], d)


def frame_values(frame: pd.DataFrame, *, what: str) -> tuple[np.ndarray, list[str]]:
    """A table of numeric features as an (N, D) float array and its column names.

    Text, categorical and boolean columns are refused (a factor model is a model
    of real-valued features; dummy codes are not Gaussian), as are missing and
    infinite values, naming the column.
    """
    frame = clean_table(frame, what=what)
    columns = []
    for name in frame.columns:
        col = column_values(frame[name], what=f"column {name!r} of {what}")
        if col.dtype.kind == "b":
            raise DataError(
                f"column {name!r} of {what} is boolean; a factor model needs real-valued features"
            )
        columns.append(np.asarray(col, dtype=float))
    if not columns:
        raise DataError(f"{what} has no columns")
    return np.column_stack(columns), [str(c) for c in frame.columns]


def wine_frame(first: tuple[str, ...]) -> pd.DataFrame:
    """scikit-learn's bundled wine data, standardized, with the ``first`` columns leading.

    Each column is centred and divided by its standard deviation (``ddof=0``,
    as ``sklearn.preprocessing.StandardScaler`` does). The columns named in
    ``first`` come first, in that order; the rest keep scikit-learn's order.
    """
    from sklearn.datasets import load_wine

    raw = load_wine(as_frame=True).data
    order = [*first, *[c for c in raw.columns if c not in first]]
    raw = raw[order].astype(float)
    return (raw - raw.mean()) / raw.std(ddof=0)


#: the wine columns that lead the default data: each loads strongly on "its"
#: factor, so the positive diagonal of W is far from 0 (see the models' docstrings)
WINE_LEADERS = ("flavanoids", "color_intensity", "ash")
