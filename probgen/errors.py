"""Exceptions and warnings raised by probgen."""


class ProbgenError(Exception):
    """Base class of probgen's own errors."""


class DataError(ProbgenError, ValueError):
    """The data given to a model is missing, misshapen or invalid."""


class UnknownNameError(ProbgenError, KeyError):
    """A model, backend, sampler or posterior name that probgen does not know."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class UntrustworthyFitWarning(UserWarning):
    """The diagnostics say this fit should not be trusted."""
