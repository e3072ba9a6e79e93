"""The probgen zoo: one file per model, one registry line each.

To add a model: write ``models/<name>.py`` with a class following
:class:`probgen.Model`'s contract, then add one line to ``REGISTRY``. The
generic tests (``tests/test_contract.py`` and friends) pick it up from there.
"""

#: registry name -> "module:Class", the module relative to this package
REGISTRY: dict[str, str] = {
    "ar": "ar:Ar",
    "arma11": "arma11:Arma11",
    "eight_schools": "eight_schools:EightSchools",
    "garch11": "garch11:Garch11",
    "gaussian_mixture": "gaussian_mixture:GaussianMixture",
    "gaussian_mixture_mv": "gaussian_mixture_mv:GaussianMixtureMV",
    "gp_poisson": "gp_poisson:GpPoisson",
    "gp_regression": "gp_regression:GpRegression",
    "hmm_gaussian": "hmm_gaussian:HmmGaussian",
    "linear_regression": "linear_regression:LinearRegression",
    "logistic_regression": "logistic_regression:LogisticRegression",
}
