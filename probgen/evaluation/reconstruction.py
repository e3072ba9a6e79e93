"""Held-out reconstruction error of the latent-variable models.

One function, :func:`reconstruction_error`, for every model that encodes an
observation into a latent representation and decodes it back:

* latent linear models (``probabilistic_pca``, ``factor_analysis``: models
  with ``reconstruct_draws``) — :func:`probgen.latent.reconstruction_error`,
  the mean squared error of the posterior-mean reconstruction;
* mixtures of independent Bernoullis (``bernoulli_mixture``: models whose
  module provides ``responsibilities_from_draws``) — each image's expected
  pixels given its posterior responsibilities,
  ``x̂[n, d] = E_post[ sum_k P(z_n = k | x_n, theta) theta[k, d] ]``
  (responsibilities computed per draw, then averaged: the posterior mean, not
  a plug-in of averaged parameters), scored by the mean squared error over the
  seen pixels (the Brier score of the pixel probabilities).

Held-out rows are rows not used in the fit; on training rows the error is
optimistic. A baseline to beat is predicting every pixel or feature by its mean.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import xarray as xr

from probgen.evaluation.ppc import check_fit
from probgen.model import Model


# ============================================================ array functions
def mixture_reconstruction(
    weights: np.ndarray, theta: np.ndarray, images: np.ndarray, responsibilities
) -> np.ndarray:
    """Posterior-mean expected pixels of ``images`` under a Bernoulli mixture.

    Parameters
    ----------
    weights : ndarray (S, K)
    theta : ndarray (S, K, D)
    images : ndarray (n, D), 0, 1 or NaN (missing; summed out)
    responsibilities : callable
        ``(weights (s, K), theta (s, K, D), images) -> (n, K)``, the draws'
        average of P(z = k | image) (the model's ``responsibilities_from_draws``).

    Returns
    -------
    ndarray (n, D)
    """
    out = np.zeros(images.shape)
    for s in range(weights.shape[0]):
        r = responsibilities(weights[s : s + 1], theta[s : s + 1], images)
        out += r @ theta[s]
    return out / weights.shape[0]


def squared_error(x: np.ndarray, recon: np.ndarray) -> float:
    """Mean of (x - recon)² over the non-missing entries of ``x``."""
    seen = ~np.isnan(x)
    if not seen.any():
        raise ValueError("X_heldout has no observed values to reconstruct")
    return float(np.mean((x[seen] - recon[seen]) ** 2))


# ==================================================================== public
def _mixture_helper(model: Model):
    module = importlib.import_module(type(model).__module__)
    return getattr(module, "responsibilities_from_draws", None)


def reconstruction_error(fit: xr.DataTree, X_heldout: Any) -> float:
    """Mean squared reconstruction error of held-out rows under a fitted latent model.

    Parameters
    ----------
    fit : DataTree
        A fit of ``probabilistic_pca``, ``factor_analysis`` or
        ``bernoulli_mixture``.
    X_heldout : array-like (n, D) or DataFrame
        New rows (features as in the fit; for the mixture, pixels 0/1 with NaN
        for missing ones).

    Returns
    -------
    float
        Mean squared error over rows and features (see the module docstring).

    Raises
    ------
    ValueError
        For a fit of any other model, or rows of the wrong width.
    """
    model = check_fit(fit, need=("posterior",))
    if hasattr(model, "reconstruct_draws"):
        from probgen import latent

        return latent.reconstruction_error(fit, X_heldout)
    helper = _mixture_helper(model)
    if helper is not None:
        post = fit["posterior"]
        weights = np.asarray(post["weights"].values, dtype=float)
        theta = np.asarray(post["theta"].values, dtype=float)
        weights = weights.reshape((-1, *weights.shape[2:]))
        theta = theta.reshape((-1, *theta.shape[2:]))
        try:
            images = np.asarray(X_heldout, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"X_heldout must be an (n, {theta.shape[-1]}) array of 0/1 pixels (NaN for "
                f"missing), got {type(X_heldout).__name__}"
            ) from None
        if images.ndim != 2 or images.shape[1] != theta.shape[-1]:
            raise ValueError(
                f"X_heldout must be an (n, {theta.shape[-1]}) array of pixels, got shape "
                f"{images.shape}"
            )
        seen = images[~np.isnan(images)]
        if not np.isin(seen, (0.0, 1.0)).all():
            raise ValueError("X_heldout must hold 0, 1 or NaN (missing) pixels")
        recon = mixture_reconstruction(weights, theta, images, helper)
        return squared_error(images, recon)
    raise ValueError(
        f"reconstruction_error applies to latent-variable models that encode and decode "
        f"an observation (probabilistic_pca, factor_analysis, bernoulli_mixture), not to "
        f"{model.name}"
    )
