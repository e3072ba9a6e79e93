"""The machinery every zoo estimator shares: sample in ``fit``, predict from stored draws.

A zoo estimator is a scikit-learn estimator whose ``fit`` runs NUTS on one zoo
model (:func:`probgen.sample`) and keeps

* ``idata_``: the whole fit, an ArviZ ``xarray.DataTree`` (it pickles);
* ``draws_``: every posterior variable as a NumPy array with the (chain, draw)
  axes flattened to one leading axis S, which is all that prediction reads, so a
  fitted estimator predicts the same after ``pickle`` or a copy;
* ``model_``: the configured :class:`probgen.Model` instance.

Layering as in the rest of probgen: the array functions here
(:func:`flatten_draws`, :func:`pick_draws`) take and return NumPy arrays; the
estimator classes (:class:`ZooEstimator` and its subclasses in
``classifiers.py`` / ``regressors.py``) are the thin layer on top that validates
input the scikit-learn way (``validate_data``) and turns arrays into a model's
data.

The sampler settings are constructor parameters of every estimator (``backend``,
``chains``, ``draws``, ``warmup``, ``random_state``, ``progress``, ``check``) beside
the model's own configuration (priors, ``shared_variance``, ...). The seed of a
fit comes from ``random_state`` through :func:`sklearn.utils.check_random_state`:
an int gives the same draws on the same machine and backend, None a fresh seed
each time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from probgen.model import Model
from probgen.registry import get_model

#: seeds handed to probgen.sample lie in [0, SEED_BOUND)
SEED_BOUND = 2**31 - 1

#: the sampler parameters every zoo estimator takes, in constructor order
SAMPLER_PARAMS = ("backend", "chains", "draws", "warmup", "random_state", "progress", "check")


# ------------------------------------------------------------------ arrays
def flatten_draws(posterior: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Posterior arrays (chain, draw, ...) with the two sample axes made one: (S, ...).

    Parameters
    ----------
    posterior : mapping of str to ndarray
        Each array shaped (chain, draw, ...).

    Returns
    -------
    dict of str to ndarray
        Each array shaped (chain * draw, ...), chain-major, as a new contiguous
        copy (so that the estimator owns its draws).
    """
    out = {}
    for name, values in posterior.items():
        values = np.asarray(values)
        if values.ndim < 2:
            raise ValueError(
                f"posterior[{name!r}] must have (chain, draw) leading axes, got shape "
                f"{values.shape}"
            )
        out[name] = np.ascontiguousarray(values.reshape(-1, *values.shape[2:]))
    return out


def pick_draws(draws: Mapping[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    """The draws at ``index`` along the leading axis, for every variable."""
    return {name: np.asarray(values)[index] for name, values in draws.items()}


def n_draws(draws: Mapping[str, np.ndarray]) -> int:
    """How many posterior draws (the length S of the leading axis)."""
    return int(next(iter(draws.values())).shape[0])


def seed_from(random_state: Any) -> int:
    """An int seed for :func:`probgen.sample` from a scikit-learn ``random_state``.

    Parameters
    ----------
    random_state : None, int or numpy.random.RandomState
        As :func:`sklearn.utils.check_random_state` takes it.

    Returns
    -------
    int
        In [0, :data:`SEED_BOUND`). An int ``random_state`` always gives the
        same seed; a RandomState instance advances.
    """
    return int(check_random_state(random_state).randint(SEED_BOUND))


# --------------------------------------------------------------- estimator
class ZooEstimator(BaseEstimator):
    """Base of the estimators over zoo models (not used directly).

    Subclasses set :attr:`model_name` and :attr:`config_params` (the names of
    their constructor parameters that configure the model, the same names as the
    model's ``__init__``), and write an explicit ``__init__`` that stores every
    parameter unchanged (scikit-learn's ``get_params`` reads the signature).
    """

    #: the zoo model this estimator fits (``probgen.get_model`` name)
    model_name: ClassVar[str] = ""
    #: constructor parameters passed on to the model as its configuration
    config_params: ClassVar[tuple[str, ...]] = ()

    # the sampler parameters, declared for type checkers; set by subclasses' __init__
    backend: str
    chains: int
    draws: int
    warmup: int
    random_state: Any
    progress: bool
    check: bool

    def _make_model(self) -> Model:
        """The configured zoo model; a bad configuration value is an error naming it."""
        return get_model(self.model_name, **{p: getattr(self, p) for p in self.config_params})

    def _sample(self, model: Model, data: Mapping[str, Any], coords=None) -> xr.DataTree:
        """Run NUTS on ``data`` with this estimator's sampler settings; store the fit."""
        from probgen.inference import sample

        fit = sample(
            model,
            data,
            backend=self.backend,
            chains=self.chains,
            draws=self.draws,
            warmup=self.warmup,
            seed=seed_from(self.random_state),
            progress=self.progress,
            check=self.check,
            coords=coords,
        )
        self.model_ = model
        self.idata_ = fit
        posterior = fit["posterior"].dataset
        self.draws_ = flatten_draws(
            {name: posterior[name].values for name in model.var_dims() if name in posterior}
        )
        return fit

    def _draw_rng(self, random_state: Any) -> np.random.Generator:
        """A NumPy Generator for prediction-time randomness (``sample_y``, ``sample``)."""
        return np.random.default_rng(seed_from(random_state))
