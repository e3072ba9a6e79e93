"""The probgen zoo: one file per model, one registry line each.

To add a model: write ``models/<name>.py`` with a class following
:class:`probgen.Model`'s contract, then add one line to ``REGISTRY``. The
generic tests (``tests/test_contract.py`` and friends) pick it up from there.
"""

#: registry name -> "module:Class", the module relative to this package
REGISTRY: dict[str, str] = {
    "ar": "ar:Ar",
    "arma11": "arma11:Arma11",
    "bernoulli_mixture": "bernoulli_mixture:BernoulliMixture",
    "bernoulli_naive_bayes": "bernoulli_naive_bayes:BernoulliNaiveBayes",
    "eight_schools": "eight_schools:EightSchools",
    "factor_analysis": "factor_analysis:FactorAnalysis",
    "garch11": "garch11:Garch11",
    "gaussian_discriminant": "gaussian_discriminant:GaussianDiscriminant",
    "gaussian_mixture": "gaussian_mixture:GaussianMixture",
    "gaussian_mixture_mv": "gaussian_mixture_mv:GaussianMixtureMV",
    "gaussian_naive_bayes": "gaussian_naive_bayes:GaussianNaiveBayes",
    "gp_poisson": "gp_poisson:GpPoisson",
    "gp_regression": "gp_regression:GpRegression",
    "hmm_gaussian": "hmm_gaussian:HmmGaussian",
    "irt_2pl": "irt_2pl:Irt2PL",
    "lda_topic_model": "lda_topic_model:LdaTopicModel",
    "linear_regression": "linear_regression:LinearRegression",
    "logistic_regression": "logistic_regression:LogisticRegression",
    "multinomial_naive_bayes": "multinomial_naive_bayes:MultinomialNaiveBayes",
    "negative_binomial_regression": "negative_binomial_regression:NegativeBinomialRegression",
    "poisson_regression": "poisson_regression:PoissonRegression",
    "probabilistic_pca": "probabilistic_pca:ProbabilisticPCA",
    "radon": "radon:Radon",
    "rats": "rats:Rats",
    "robust_regression": "robust_regression:RobustRegression",
    "stochastic_volatility": "stochastic_volatility:StochasticVolatility",
}
