"""The probgen zoo: one file per model, one registry line each.

To add a model: write ``models/<name>.py`` with a class following
:class:`probgen.Model`'s contract, then add one line to ``REGISTRY``. The
generic tests (``tests/test_contract.py`` and friends) pick it up from there.
"""

#: registry name -> "module:Class"
REGISTRY: dict[str, str] = {
    "ar": "models.ar:Ar",
    "arma11": "models.arma11:Arma11",
    "eight_schools": "models.eight_schools:EightSchools",
    "garch11": "models.garch11:Garch11",
    "gaussian_mixture": "models.gaussian_mixture:GaussianMixture",
    "gaussian_mixture_mv": "models.gaussian_mixture_mv:GaussianMixtureMV",
    "gp_poisson": "models.gp_poisson:GpPoisson",
    "gp_regression": "models.gp_regression:GpRegression",
    "hmm_gaussian": "models.hmm_gaussian:HmmGaussian",
    "linear_regression": "models.linear_regression:LinearRegression",
    "logistic_regression": "models.logistic_regression:LogisticRegression",
}
