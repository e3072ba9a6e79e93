"""probgen: a zoo of Bayesian generative models, sampled with NUTS on NumPyro or PyMC.

>>> import probgen
>>> fit = probgen.sample("eight_schools")            # NumPyro, bundled data
>>> print(probgen.diagnose(fit))                    # can this fit be trusted?
"""

from probgen import _runtime

# Before anything imports JAX: several CPU devices so NumPyro chains run in parallel.
_runtime.configure_host_devices()

from probgen._runtime import get_precision, set_precision
from probgen.classify import class_probabilities, predict_proba, sample_labelled
from probgen.data import CollinearityWarning, DataWarning, Field, ModelData, read_data_file
from probgen.diagnostics import Verdict, diagnose
from probgen.errors import (
    ConfigError,
    DataError,
    ProbgenError,
    UnknownNameError,
    UntrustworthyFitWarning,
)
from probgen.evaluation import (
    LPD,
    TwoSampleResult,
    c2st,
    compare,
    energy_distance,
    log_predictive_density,
    loo,
    loo_pit,
    mmd,
    ppc,
    ppc_report,
    reconstruction_error,
)
from probgen.inference import sample
from probgen.latent import decode, latent_scores, reconstruct
from probgen.model import Model
from probgen.posteriordb import run_reference
from probgen.predictive import (
    forecast,
    generate,
    predict,
    sample_posterior_predictive,
    sample_prior_predictive,
)
from probgen.priors import Prior
from probgen.registry import get_model, list_models, register_model
from probgen.results import load_fit, save_fit
from probgen.tidy import to_frame

__version__ = "0.1.0"

# Loaded on first use: scikit-learn estimators, the comparison harness and SBC
# campaigns pull in scikit-learn and more, which `import probgen` (and so every
# CLI call) should not pay for.
_LAZY = {
    "SBCResult": "probgen.calibration",
    "load_sbc": "probgen.calibration",
    "sbc": "probgen.calibration",
    "as_estimator": "probgen.estimators",
    "counterparts": "probgen.estimators",
    "compare_models": "probgen.studies.harness",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'probgen' has no attribute {name!r}")


__all__ = [
    "LPD",
    "CollinearityWarning",
    "ConfigError",
    "DataError",
    "DataWarning",
    "Field",
    "Model",
    "ModelData",
    "Prior",
    "ProbgenError",
    "SBCResult",
    "TwoSampleResult",
    "UnknownNameError",
    "UntrustworthyFitWarning",
    "Verdict",
    "as_estimator",
    "c2st",
    "class_probabilities",
    "compare",
    "compare_models",
    "counterparts",
    "decode",
    "diagnose",
    "energy_distance",
    "forecast",
    "generate",
    "get_model",
    "get_precision",
    "latent_scores",
    "list_models",
    "load_fit",
    "load_sbc",
    "log_predictive_density",
    "loo",
    "loo_pit",
    "mmd",
    "ppc",
    "ppc_report",
    "predict",
    "predict_proba",
    "read_data_file",
    "reconstruct",
    "reconstruction_error",
    "register_model",
    "run_reference",
    "sample",
    "sample_labelled",
    "sample_posterior_predictive",
    "sample_prior_predictive",
    "save_fit",
    "sbc",
    "set_precision",
    "to_frame",
]
