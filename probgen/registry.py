"""The model registry: names to zoo classes.

The zoo (the repo's ``models/`` folder, installed as ``probgen.zoo``) is read
at first use through :func:`zoo_package` — the one place probgen imports it —
so ``import probgen`` loads no model and the zoo depends on probgen, not the
other way round. Users add their own classes with :func:`register_model`.
"""

from __future__ import annotations

import importlib
from typing import Any

from probgen.errors import ConfigError, UnknownNameError
from probgen.model import Model

_extra: dict[str, type[Model]] = {}


#: the import name of the zoo package (the repo's models/ folder)
ZOO_PACKAGE = "probgen.zoo"


def zoo_package():
    """The zoo package: the one import of the zoo by probgen."""
    return importlib.import_module(ZOO_PACKAGE)


def zoo_modules():
    """Every public module of the zoo (one per model, plus adapter modules)."""
    import pkgutil

    package = zoo_package()
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{package.__name__}.{info.name}")


def _zoo() -> dict[str, str]:
    return dict(zoo_package().REGISTRY)


def register_model(cls: type[Model]) -> type[Model]:
    """Register a user model class under ``cls.name`` (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise TypeError(f"register_model expects a probgen.Model subclass, got {cls!r}")
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no `name` class attribute")
    _extra[cls.name] = cls
    return cls


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(set(_zoo()) | set(_extra))


def get_model_class(name: str) -> type[Model]:
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {type(name).__name__}")
    if name in _extra:
        return _extra[name]
    zoo = _zoo()
    if name not in zoo:
        import difflib

        close = difflib.get_close_matches(name, list_models(), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownNameError(
            f"unknown model {name!r}.{hint} Known models: {', '.join(list_models())}"
        )
    module, _, cls_name = zoo[name].partition(":")
    return getattr(importlib.import_module(f"{ZOO_PACKAGE}.{module}"), cls_name)


def get_model(name: str | Model, **config: Any) -> Model:
    """Return a model instance by registry name, configured with ``config``.

    Parameters
    ----------
    name : str or Model
        Registry name (see :func:`list_models`); a Model instance is returned as is.
    **config
        Constructor arguments of the model class (e.g. ``centered=True``), each
        checked against the type its ``__init__`` declares (see
        :mod:`probgen.config`): ``centered="false"`` is an error, not True.

    Raises
    ------
    ConfigError
        (a TypeError and a ValueError) for an unknown key, listing the valid
        ones, or a value of the wrong type, naming the key, type and value.
    """
    if isinstance(name, Model):
        if config:
            raise TypeError("config arguments cannot be given with a model instance")
        return name
    cls = get_model_class(name)
    try:
        return cls(**config)
    except ConfigError:
        raise  # already names the model, the key and what was expected
    except TypeError as exc:
        raise TypeError(f"bad configuration for model {name!r}: {exc}") from None
