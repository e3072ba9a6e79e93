"""The model contract: the one extension point of probgen.

A zoo model is a subclass of :class:`Model` in its own file under ``models/``,
registered with one line in ``models/__init__.py``. It provides

* class attributes ``name``, ``family``, ``summary`` (one line) and ``fields``
  (its inputs, :class:`probgen.data.Field`);
* a docstring with the generative story in math using the exact site names,
  the data, the inference difficulty and the discriminative counterpart;
* ``var_dims()``: every posterior variable (sampled and deterministic) and its
  dims; the observed sites take their dims from their fields;
* ``numpyro_model(data)`` and ``pymc_model(data)``, written by hand with the
  SAME site names, dims (NumPyro plates named like the PyMC dims) and
  parameterization; an observed value of None means "generate it";
* ``default_data()``: a bundled data set.

Optional: ``sizes`` (Stan-style size keys such as ``J`` accepted in data),
``covariates`` (fields that may be replaced for out-of-sample predictions),
``predict_draws`` (when new observations are not conditionally independent of
the old ones given the parameters, e.g. a Gaussian process),
``sampler_defaults`` (known-good settings, justified in the docstring),
``from_table`` (how a CSV's columns map to fields) and ``coords``.

Whole synthetic data sets (``simulate``) are generated generically from the
NumPyro twin, which the tests hold equal to the PyMC twin.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from probgen.data import Field, ModelData, apply_coords, prepare_data


class Model:
    """Base class of every zoo model (see the module docstring for the contract)."""

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    sizes: ClassVar[dict[str, str]] = {}
    covariates: ClassVar[tuple[str, ...]] = ()
    sampler_defaults: ClassVar[dict[str, Any]] = {}
    counterpart: ClassVar[str | None] = None

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as stored (scikit-learn's ``get_params``)."""
        sig = inspect.signature(type(self).__init__)
        return {
            p: getattr(self, p)
            for p in sig.parameters
            if p != "self" and sig.parameters[p].kind is not inspect.Parameter.VAR_KEYWORD
        }

    def config_json(self) -> str:
        return json.dumps(self.get_config(), sort_keys=True, default=str)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.config_json()))

    # ------------------------------------------------------------------ sites
    @property
    def observed(self) -> tuple[str, ...]:
        """Names of the observed sites (the fields marked ``observed``)."""
        return tuple(f.name for f in self.fields if f.observed)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def var_dims(self) -> dict[str, tuple[str, ...]]:
        """Every posterior variable (sampled and deterministic) and its dims."""
        raise NotImplementedError

    def all_dims(self) -> dict[str, tuple[str, ...]]:
        """Dims of posterior variables and of every data field."""
        dims = {f.name: f.dims for f in self.fields}
        dims.update(self.var_dims())
        return dims

    # ------------------------------------------------------------------- data
    def default_data(self) -> dict[str, Any]:
        """The bundled data set."""
        raise NotImplementedError

    def from_table(self, frame) -> dict[str, Any]:
        """Map a table (pandas DataFrame, e.g. a CSV) to this model's data.

        Default: one 1-D field per column of the same name.
        """
        return {col: frame[col].to_numpy() for col in frame.columns}

    def coords(self, data: ModelData) -> dict[str, list]:
        """Labels of the dimensions; override to name them (e.g. coefficients)."""
        return data.coords

    def resolve_data(self, data: Any) -> Any:
        """The raw data to validate: the default data set for None, a table mapped
        through :meth:`from_table`; anything else as given."""
        if data is None:
            return self.default_data()
        if isinstance(data, Mapping) and "__table__" in data:
            return self.from_table(data["__table__"])
        if _is_frame(data):
            return self.from_table(data)
        return data

    def complete_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Hook: fill in what can be derived before validation (e.g. a series
        length from the series itself) and check configuration against data.

        Default: nothing to add.
        """
        return data

    def prepare(
        self,
        data: Mapping[str, Any] | ModelData | None = None,
        *,
        coords: Mapping[str, Any] | None = None,
        require_observed: bool = True,
    ) -> ModelData:
        """Validate data (default data if None) and attach coordinates."""
        if isinstance(data, ModelData):
            return data
        data = self.resolve_data(data)
        if isinstance(data, Mapping):
            data = self.complete_data(dict(data))
        prepared = prepare_data(
            self.fields,
            data,
            sizes=self.sizes,
            require_observed=require_observed,
            model_name=self.name,
        )
        prepared.coords = self.coords(prepared)
        # the user's labels win over the model's, validated by the same rules
        return apply_coords(prepared, coords) if coords else prepared

    # --------------------------------------------------------------- backends
    def numpyro_model(self, data: dict[str, Any]) -> None:
        """The NumPyro twin: ``data`` maps field names to arrays (observed may be None)."""
        raise NotImplementedError

    def pymc_model(self, data: ModelData):
        """The PyMC twin: return a ``pm.Model`` built from ``data``."""
        raise NotImplementedError

    def predict_draws(self, fit, data: ModelData, *, seed: int) -> dict[str, np.ndarray] | None:
        """Draws of the observed sites at new covariates, or None for the generic path.

        The generic path re-runs the model on the new covariates with the
        posterior draws plugged in, which is right when observations are
        conditionally independent given the parameters (regressions). Models
        where they are not (Gaussian processes) override this to condition on
        the training data. Return arrays shaped (chain, draw, ...).
        """
        return None

    # ------------------------------------------------------------- generation
    def simulate(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Generate one whole data set.

        Parameters
        ----------
        data : mapping, optional
            Covariates (and sizes) to generate for; default data if None. Observed
            values in it are ignored and replaced.
        params : mapping, optional
            Parameter values to generate from; drawn from the prior if None.
        seed : int

        Returns
        -------
        data : dict
            A complete data set for this model (observed fields generated).
        params : dict
            The parameter values used (the "truth").
        """
        from probgen.backends import numpyro as nb

        prepared = self.prepare(data, require_observed=False).with_values(
            **{name: None for name in self.observed}
        )
        return nb.simulate(self, prepared, params=params, seed=seed)

    @classmethod
    def describe(cls) -> str:
        """The model's generative story (its docstring)."""
        return inspect.cleandoc(cls.__doc__ or "")


def _is_frame(obj: object) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns")
