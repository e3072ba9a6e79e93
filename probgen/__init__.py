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
from probgen.inference import sample
from probgen.latent import decode, latent_scores, reconstruct, reconstruction_error
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

__version__ = "0.1.0"

__all__ = [
    "CollinearityWarning",
    "ConfigError",
    "DataError",
    "DataWarning",
    "Field",
    "Model",
    "ModelData",
    "Prior",
    "ProbgenError",
    "UnknownNameError",
    "UntrustworthyFitWarning",
    "Verdict",
    "class_probabilities",
    "decode",
    "diagnose",
    "forecast",
    "generate",
    "get_model",
    "get_precision",
    "latent_scores",
    "list_models",
    "load_fit",
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
    "set_precision",
]
