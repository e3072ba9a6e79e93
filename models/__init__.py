"""The probgen zoo: one file per model, one registry line each.

To add a model: write ``models/<name>.py`` with a class following
:class:`probgen.Model`'s contract, then add one line to ``REGISTRY``. The
generic tests (``tests/test_contract.py`` and friends) pick it up from there.
"""

#: registry name -> "module:Class"
REGISTRY: dict[str, str] = {
    "eight_schools": "models.eight_schools:EightSchools",
    "linear_regression": "models.linear_regression:LinearRegression",
    "logistic_regression": "models.logistic_regression:LogisticRegression",
}
