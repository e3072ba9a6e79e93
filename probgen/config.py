"""Model configuration, checked against the types the model class declares.

A model's configuration keys are the parameters of its class's ``__init__`` and
their declared types are the annotations (``centered: bool = False``,
``K: int = 2``, ``mu_loc: float | tuple[float, ...] | None = None``, prior
strings ``str``). This module is the one place those values are checked:

* :func:`check_config` for Python values, strict: ``"false"`` is not a bool,
  ``True`` is not an int or a float, ``2.0`` is not an int; an int is a float,
  a list (or 1-D array) is a tuple, NumPy scalars count as their Python kind.
  Every :class:`probgen.Model` runs it when constructed, so ``get_model``,
  ``probgen.sample(config=...)``, fits read back from files and direct
  construction are all covered.
* :func:`parse_config` for the command line's ``KEY=VALUE`` strings, parsed
  against the same declared types (the usual spellings of booleans, ``none``
  for an optional value, comma or JSON lists for tuples, strings as given),
  then checked by :func:`check_config`.

Nothing is coerced silently: a value that is not of the declared type is an
error naming the model, the key, the expected type and the value.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

import numpy as np

from probgen.errors import ConfigError

#: command-line spellings of booleans (compared case-insensitively)
TRUE_WORDS = ("true", "yes", "1", "on")
FALSE_WORDS = ("false", "no", "0", "off")
#: command-line spellings of None, for keys whose type allows it
NONE_WORDS = ("none", "null")


@functools.cache
def config_types(cls: type) -> dict[str, Any]:
    """Configuration keys of a model class and their declared types, in order.

    A parameter without an annotation has type ``typing.Any`` (nothing is
    checked; the zoo annotates every parameter and its tests hold it to that).
    """
    sig = inspect.signature(cls.__init__)
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception as exc:  # an annotation that does not resolve is the class's bug
        raise TypeError(
            f"cannot read the configuration types of {cls.__name__}.__init__: {exc}"
        ) from exc
    return {
        name: hints.get(name, Any)
        for name, p in list(sig.parameters.items())[1:]  # [0] is self
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def config_defaults(cls: type) -> dict[str, Any]:
    """The default of every configuration key that has one."""
    sig = inspect.signature(cls.__init__)
    return {
        name: sig.parameters[name].default
        for name in config_types(cls)
        if sig.parameters[name].default is not inspect.Parameter.empty
    }


def _label(cls: type) -> str:
    return getattr(cls, "name", "") or cls.__name__


def _unknown_key(cls: type, key: object) -> ConfigError:
    keys = list(config_types(cls))
    if not keys:
        return ConfigError(
            f"bad configuration for model {_label(cls)!r}: it takes no configuration, got {key!r}"
        )
    close = difflib.get_close_matches(str(key), keys, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"bad configuration for model {_label(cls)!r}: unknown key {key!r}.{hint} "
        f"Valid keys: {', '.join(keys)}"
    )


# ------------------------------------------------------------------ types
def _members(tp: Any) -> tuple[Any, ...] | None:
    """The members of a union type, or None when ``tp`` is not a union."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return None


def describe_type(tp: Any) -> str:
    """A declared type in words, for error messages and help texts."""
    members = _members(tp)
    if members is not None:
        return " or ".join(describe_type(m) for m in members)
    if tp is None or tp is type(None):
        return "None"
    if tp is Any:
        return "any value"
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(tp)))
    if origin in (tuple, list):
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a sequence of {len(args)} ({', '.join(describe_type(a) for a in args)})"
        return f"a sequence of {describe_type(args[0]) if args else 'values'}"
    return getattr(tp, "__name__", str(tp))


def _is_bool(value: object) -> bool:
    return isinstance(value, bool | np.bool_)


def matches(value: object, tp: Any) -> bool:
    """Whether a Python value is of a declared type (the strict rules above)."""
    members = _members(tp)
    if members is not None:
        return any(matches(value, m) for m in members)
    if tp is Any:
        return True
    if tp is None or tp is type(None):
        return value is None
    if tp is bool:
        return _is_bool(value)
    if tp is int:
        return isinstance(value, int | np.integer) and not _is_bool(value)
    if tp is float:
        return isinstance(value, int | float | np.integer | np.floating) and not _is_bool(value)
    if tp is str:
        return isinstance(value, str)
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        # type-exact: True == 1 must not let True through for Literal[1]
        return any(type(value) is type(a) and value == a for a in typing.get_args(tp))
    if origin in (tuple, list):
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                return False
            value = value.tolist()
        if not isinstance(value, tuple | list):
            return False
        args = typing.get_args(tp)
        if not args:
            return True
        if origin is tuple and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(map(matches, value, args))
        return all(matches(v, args[0]) for v in value)
    if origin is not None:  # other generics (dict[str, float], ...): the container only
        return isinstance(value, origin)
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True  # a typing construct this checker does not know: nothing to hold it to


def _bad_value(cls: type, key: str, value: object, tp: Any) -> ConfigError:
    # the failure this guards against: "false" taken as true, "2" as a number
    hint = " (strings are not converted: pass the value itself)" if isinstance(value, str) else ""
    return ConfigError(
        f"bad configuration for model {_label(cls)!r}: {key} must be {describe_type(tp)}, "
        f"got {type(value).__name__} {value!r}{hint}"
    )


def check_config(cls: type, config: Mapping[str, Any]) -> None:
    """Check configuration values against ``cls.__init__``'s declared types.

    Parameters
    ----------
    cls : type
        A :class:`probgen.Model` subclass.
    config : mapping
        Key to value, as passed to the constructor.

    Raises
    ------
    ConfigError
        For an unknown key (listing the valid ones) or a value that is not of
        the key's declared type (naming the key, the type and the value).
    """
    declared = config_types(cls)
    for key, value in config.items():
        if key not in declared:
            raise _unknown_key(cls, key)
        if not matches(value, declared[key]):
            raise _bad_value(cls, key, value, declared[key])


def check_call(cls: type, args: tuple, kwargs: Mapping[str, Any]) -> None:
    """Check a constructor call ``cls(*args, **kwargs)`` (positional arguments too)."""
    keys = list(config_types(cls))
    if len(args) > len(keys):
        raise ConfigError(
            f"bad configuration for model {_label(cls)!r}: takes {len(keys)} configuration "
            f"value(s) ({', '.join(keys) or 'none'}), got {len(args)} positional"
        )
    given = dict(zip(keys, args, strict=False))
    for key, value in kwargs.items():
        if key in given:
            raise ConfigError(f"bad configuration for model {_label(cls)!r}: {key} given twice")
        given[key] = value
    check_config(cls, given)


# ---------------------------------------------------------- command line
def _parse(text: str, tp: Any) -> Any:
    """``text`` read as a value of type ``tp``; ValueError when it is not one."""
    members = _members(tp)
    if members is not None:
        if type(None) in members and text.strip().lower() in NONE_WORDS:
            return None
        # str accepts anything, so it is tried last whatever the declared order
        for member in sorted((m for m in members if m is not type(None)), key=lambda m: m is str):
            try:
                return _parse(text, member)
            except ValueError:
                continue
        raise ValueError
    if tp is Any:
        try:  # an unannotated key (user models): JSON if it reads, else the string
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    if tp is None or tp is type(None):
        if text.strip().lower() in NONE_WORDS:
            return None
        raise ValueError
    if tp is str:
        return text
    word = text.strip().lower()
    if tp is bool:
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError
    if tp is int:
        # int() would also take "1_0"; a plain optionally signed integer only
        if not word.lstrip("+-").isdigit() or word.count("-") + word.count("+") > 1:
            raise ValueError
        return int(word)
    if tp is float:
        return float(word)  # raises ValueError itself; "1e-3", "inf" read as usual
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        for option in typing.get_args(tp):
            try:
                if _parse(text, type(option)) == option:
                    return option
            except ValueError:
                continue
        raise ValueError
    if origin in (tuple, list):
        args = typing.get_args(tp)
        body = text.strip()
        if body.startswith("["):
            try:
                items = json.loads(body)
            except json.JSONDecodeError:
                raise ValueError from None
            if not isinstance(items, list):
                raise ValueError
            value = tuple(items)
        else:
            if body.startswith("(") and body.endswith(")"):
                body = body[1:-1]
            parts = [p.strip() for p in body.split(",")] if body.strip() else []
            if parts and parts[-1] == "":  # "1.0," is a one-element tuple
                parts.pop()
            if origin is tuple and args and args[-1] is not Ellipsis:
                if len(parts) != len(args):
                    raise ValueError
                value = tuple(_parse(p, a) for p, a in zip(parts, args, strict=True))
            else:
                item = args[0] if args else Any
                value = tuple(_parse(p, item) for p in parts)
        if not matches(value, tp):
            raise ValueError
        return value if origin is tuple else list(value)
    raise ValueError


def _spelling(tp: Any) -> str:
    """How a value of type ``tp`` is written on the command line."""
    members = _members(tp)
    if members is not None:
        return "; or ".join(_spelling(m) for m in members)
    if tp is bool:
        return "true/false, yes/no, 1/0 or on/off"
    if tp is None or tp is type(None):
        return "none"
    if tp is int:
        return "an integer such as 3"
    if tp is float:
        return "a number such as 2.5"
    if typing.get_origin(tp) in (tuple, list):
        return f"{describe_type(tp)}, comma-separated (1,2) or a JSON list ([1, 2])"
    return describe_type(tp)


def parse_value(cls: type, key: str, text: str) -> Any:
    """One command-line value read against the declared type of ``key``.

    Parameters
    ----------
    cls : type
        A :class:`probgen.Model` subclass.
    key : str
        A configuration key of ``cls``.
    text : str
        The value as typed.

    Raises
    ------
    ConfigError
        Unknown key, or a value that does not read as the declared type.
    """
    declared = config_types(cls)
    if key not in declared:
        raise _unknown_key(cls, key)
    tp = declared[key]
    try:
        value = _parse(text, tp)
    except ValueError:
        raise ConfigError(
            f"bad configuration for model {_label(cls)!r}: {key}={text!r} is not "
            f"{describe_type(tp)} (write {_spelling(tp)})"
        ) from None
    check_config(cls, {key: value})
    return value


def parse_config(cls: type, pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` strings (the CLI's ``--config``) read against ``cls``'s types.

    Raises
    ------
    ConfigError
        A pair without ``=``, a key given twice, an unknown key, or a value that
        does not read as the key's declared type.
    """
    config: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--config expects KEY=VALUE, got {pair!r}")
        if key in config:
            raise ConfigError(f"--config gives {key!r} twice")
        config[key] = parse_value(cls, key, text)
    return config


def format_value(value: Any) -> str:
    """A configuration value written the way :func:`parse_value` reads it back."""
    if value is None:
        return "none"
    if _is_bool(value):
        return "true" if value else "false"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple | list | np.ndarray):
        return ",".join(format_value(v) for v in value) + ("," if len(value) == 1 else "")
    return str(value)
