"""Exceptions and warnings raised by probgen, and how probgen issues warnings."""

from __future__ import annotations

import sys
import warnings


class ProbgenError(Exception):
    """Base class of probgen's own errors."""


class DataError(ProbgenError, ValueError):
    """The data given to a model is missing, misshapen or invalid."""


class ConfigError(ProbgenError, TypeError, ValueError):
    """A model configuration value of the wrong type, or an unknown configuration key.

    Both a TypeError (the usual error for a wrong argument type or an unexpected
    keyword) and a ValueError (the usual error for an unparseable string on the
    command line), so either ``except`` clause catches it.
    """


class UnknownNameError(ProbgenError, KeyError):
    """A model, backend, sampler or posterior name that probgen does not know."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class UntrustworthyFitWarning(UserWarning):
    """The diagnostics say this fit should not be trusted."""


class HighParetoKWarning(UserWarning):
    """PSIS-LOO is unreliable for some observations (Pareto k above its threshold)."""


def _internal(module: str) -> bool:
    return module == "probgen" or module.startswith("probgen.")


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the user's call rather than to probgen's code.

    The warning's file and line are those of the first caller outside probgen
    (frames are recognised as probgen's by their module name, ``probgen`` and
    ``probgen.*``, the zoo included), however deep inside probgen it was issued,
    so no library path shows in the user's output.

    Parameters
    ----------
    message : str
    category : Warning subclass
    """
    frame = sys._getframe(1)  # the function that issues the warning
    level = 2  # stacklevel=2 names that frame (1 would name this function)
    while frame is not None and _internal(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
