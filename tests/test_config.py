"""Model configuration is checked against the types the model declares.

The failure these guard against: a configuration value taken by truthiness
(``centered="false"`` or ``--config centered=False`` fitting the centered
model). Every key of every zoo model goes through one checker
(:mod:`probgen.config`), in Python and on the command line; the registry-driven
tests hold every key to it, so a new model or key is covered by adding it.
No test here samples: the backends are replaced by a function that fails.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import numpy as np
import pytest

import probgen
from probgen.config import (
    FALSE_WORDS,
    TRUE_WORDS,
    config_defaults,
    config_types,
    format_value,
    parse_config,
    parse_value,
)
from probgen.errors import ConfigError
from probgen.registry import get_model_class


class Sampled(Exception):
    """Raised instead of sampling: the model reached the backend."""


@pytest.fixture(autouse=True)
def no_sampling(monkeypatch):
    def fit(self, model, data, settings, *, progress=False):
        raise Sampled(model)

    from probgen.backends.numpyro import NumPyroBackend
    from probgen.backends.pymc import PyMCBackend

    monkeypatch.setattr(NumPyroBackend, "fit", fit)
    monkeypatch.setattr(PyMCBackend, "fit", fit)


def zoo_keys() -> list[tuple[str, str]]:
    return [
        (name, key) for name in probgen.list_models() for key in config_types(get_model_class(name))
    ]


def key_id(case: tuple[str, str]) -> str:
    return f"{case[0]}.{case[1]}"


def _members(tp: Any) -> tuple[Any, ...]:
    return (
        typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, type(int | None)) else (tp,)
    )


def wrong_values(tp: Any, default: Any) -> list[Any]:
    """Values that are not of type ``tp``, judged independently of the checker."""
    members = _members(tp)
    wrong: list[Any] = [{"not": "a configuration value"}, object()]
    choices = [
        arg for m in members if typing.get_origin(m) is typing.Literal for arg in typing.get_args(m)
    ]
    if str not in members and not any(isinstance(c, str) for c in choices):
        # the bug itself: the value's spelling as a string, and the classic "false"
        wrong += [format_value(default), "false", "1"]
    else:
        # a string key (or a choice of strings): other kinds, and a choice not offered
        wrong += [1, 2.5]
        if choices:
            wrong += ["no_such_choice", *(c.upper() for c in choices if isinstance(c, str))]
    if bool not in members:
        wrong += [True, np.bool_(False)]
    if int in members and float not in members:
        wrong += [2.0]
    if type(None) not in members and default is not None:
        wrong += [None]
    return wrong


# ------------------------------------------------------- every zoo key
def test_every_zoo_key_declares_a_type():
    for name in probgen.list_models():
        cls = get_model_class(name)
        for key, tp in config_types(cls).items():
            assert tp is not Any, f"{name}: __init__ parameter {key!r} has no type annotation"
            assert key in config_defaults(cls), f"{name}: {key!r} has no default"


@pytest.mark.parametrize("case", zoo_keys(), ids=key_id)
def test_wrongly_typed_value_is_rejected(case):
    name, key = case
    cls = get_model_class(name)
    tp = config_types(cls)[key]
    for value in wrong_values(tp, config_defaults(cls)[key]):
        with pytest.raises(ConfigError) as info:
            probgen.get_model(name, **{key: value})
        message = str(info.value)
        assert f"model {name!r}" in message and key in message, message
        assert repr(value) in message, message
        assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("case", zoo_keys(), ids=key_id)
def test_default_round_trips_through_the_cli_parser(case):
    name, key = case
    cls = get_model_class(name)
    default = config_defaults(cls)[key]
    text = format_value(default)
    parsed = parse_value(cls, key, text)
    assert parsed == default and type(parsed) is type(default), (text, parsed)
    assert probgen.get_model(name, **{key: parsed}) == probgen.get_model(name)


@pytest.mark.parametrize("case", zoo_keys(), ids=key_id)
def test_cli_rejects_a_value_of_another_type(case):
    name, key = case
    cls = get_model_class(name)
    tp = config_types(cls)[key]
    if str in _members(tp):
        pytest.skip("any text is a str; the model checks its content (e.g. prior strings)")
    with pytest.raises(ConfigError, match=f"{key}='maybe' is not"):
        parse_value(cls, key, "maybe")


@pytest.mark.parametrize("name", probgen.list_models())
def test_unknown_key_lists_the_valid_ones(name):
    keys = list(config_types(get_model_class(name)))
    with pytest.raises(ConfigError) as info:
        probgen.get_model(name, no_such_key=1)
    message = str(info.value)
    assert "no_such_key" in message
    if keys:
        assert "Valid keys: " + ", ".join(keys) in message
    else:
        assert "takes no configuration" in message


# ---------------------------------------------------- the reported cases
def test_string_false_is_not_true():
    with pytest.raises(ConfigError, match="intercept must be bool, got str 'false'"):
        probgen.get_model("linear_regression", intercept="false")
    with pytest.raises(ConfigError, match="centered must be bool, got str 'False'"):
        probgen.get_model("eight_schools", centered="False")


def test_direct_construction_is_checked_too():
    cls = get_model_class("eight_schools")
    with pytest.raises(ConfigError, match="centered must be bool"):
        cls(centered="no")
    with pytest.raises(ConfigError, match="centered must be bool"):
        cls("no")  # positional
    assert cls(True).centered is True


@pytest.mark.parametrize(
    ("name", "config", "match"),
    [
        ("gaussian_mixture", {"K": True}, "K must be int, got bool True"),
        ("gaussian_mixture", {"K": 2.0}, "K must be int, got float 2.0"),
        ("gaussian_mixture", {"mu_scale": True}, "mu_scale must be float, got bool"),
        ("gaussian_mixture", {"mu_loc": "0"}, "mu_loc must be float, got str '0'"),
        ("hmm_gaussian", {"mu_loc": [1.0, "5"]}, "mu_loc must be float or a sequence"),
        ("hmm_gaussian", {"mu_loc": np.ones((2, 1))}, "mu_loc must be"),
        ("hmm_gaussian", {"mu_positive": 1}, "mu_positive must be bool, got int 1"),
        ("linear_regression", {"coef_prior": 1.0}, "coef_prior must be str, got float"),
    ],
)
def test_python_side_is_strict(name, config, match):
    with pytest.raises(ConfigError, match=match):
        probgen.get_model(name, **config)


def test_python_side_accepts_the_usual_equivalents():
    # int for float, list and 1-D arrays for tuples, NumPy scalars, None where optional
    m = probgen.get_model("hmm_gaussian", K=np.int64(3), mu_loc=[1, 5, 9], sigma=None)
    assert m.K == 3 and m.mu_loc == (1.0, 5.0, 9.0) and m.sigma is None
    m = probgen.get_model("hmm_gaussian", K=3, mu_loc=np.array([1.0, 5.0, 9.0]))
    assert m.mu_loc == (1.0, 5.0, 9.0)
    assert probgen.get_model("gaussian_mixture", mu_loc=0, mu_scale=np.float32(1.5)).mu_loc == 0
    assert probgen.get_model("eight_schools", centered=np.bool_(True)).centered


def test_numpy_config_survives_the_json_round_trip():
    # a fit stores the configuration as JSON and rebuilds the model from it
    model = probgen.get_model("gaussian_mixture", K=np.int64(3), mu_scale=np.float64(1.5))
    config = json.loads(model.config_json())
    assert config["K"] == 3 and type(config["K"]) is int
    assert probgen.get_model("gaussian_mixture", **config) == model


# -------------------------------------------------------- command line
@pytest.mark.parametrize("word", [*TRUE_WORDS, "TRUE", "Yes", "On"])
def test_cli_true_spellings(word):
    cls = get_model_class("eight_schools")
    assert parse_config(cls, [f"centered={word}"]) == {"centered": True}


@pytest.mark.parametrize("word", [*FALSE_WORDS, "False", "NO", "Off"])
def test_cli_false_spellings(word):
    cls = get_model_class("eight_schools")
    assert parse_config(cls, [f"centered={word}"]) == {"centered": False}


@pytest.mark.parametrize("word", ["maybe", "", "2", "truee", "none"])
def test_cli_other_words_are_not_booleans(word):
    cls = get_model_class("eight_schools")
    with pytest.raises(ConfigError, match="true/false, yes/no, 1/0 or on/off"):
        parse_config(cls, [f"centered={word}"])


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("mu_loc=1,5,9", (1.0, 5.0, 9.0)),
        ("mu_loc=[1, 5.5, 9]", (1, 5.5, 9)),
        ("mu_loc=(1.5, 2)", (1.5, 2.0)),
        ("mu_loc=none", None),
        ("mu_loc=None", None),
        ("mu_loc=2.5", 2.5),
        ("sigma=none", None),
        ("K=3", 3),
        ("sigma_scale=1e-1", 0.1),
    ],
)
def test_cli_reads_the_declared_type(pair, expected):
    key = pair.partition("=")[0]
    value = parse_config(get_model_class("hmm_gaussian"), [pair])[key]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("pair", "match"),
    [
        ("K=2.0", "K='2.0' is not int"),
        ("K=two", "K='two' is not int"),
        ("mu_scale=none", "mu_scale='none' is not float"),
        ("mu_loc=1,a", "mu_loc='1,a' is not float or a sequence of float or None"),
        ("mu_loc=[1, true]", "is not float or a sequence"),
        ("sigma=", "sigma='' is not float or None"),
        ("centred=true", "unknown key 'centred'"),
        ("K", "KEY=VALUE"),
    ],
)
def test_cli_rejects_what_does_not_read(pair, match):
    with pytest.raises(ConfigError, match=match):
        parse_config(get_model_class("hmm_gaussian"), [pair])


def test_cli_key_given_twice():
    with pytest.raises(ConfigError, match="'K' twice"):
        parse_config(get_model_class("hmm_gaussian"), ["K=3", "K=4"])


def test_cli_strings_are_taken_as_typed():
    cls = get_model_class("linear_regression")
    assert parse_config(cls, ["coef_prior=normal(0, 1)"]) == {"coef_prior": "normal(0, 1)"}
    with pytest.raises(ValueError, match="not a prior probgen knows"):
        probgen.get_model("linear_regression", **parse_config(cls, ["coef_prior=true"]))


# ------------------------------------------------------ probgen.sample
def test_sample_takes_the_configuration():
    with pytest.raises(Sampled) as info:
        probgen.sample("eight_schools", config={"centered": True})
    assert info.value.args[0] == probgen.get_model("eight_schools", centered=True)


def test_sample_checks_the_configuration_before_sampling():
    with pytest.raises(ConfigError, match="centered must be bool, got str 'false'"):
        probgen.sample("eight_schools", config={"centered": "false"})
    with pytest.raises(ConfigError, match="unknown key 'centred'"):
        probgen.sample("eight_schools", config={"centred": True})


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ([("centered", True)], "config must be a mapping"),
        ({1: True}, "config keys must be strings"),
    ],
)
def test_sample_rejects_a_malformed_config(config, match):
    with pytest.raises(TypeError, match=match):
        probgen.sample("eight_schools", config=config)


def test_sample_config_with_a_model_instance_is_an_error():
    model = probgen.get_model("eight_schools")
    with pytest.raises(TypeError, match="config= cannot be given with a model instance"):
        probgen.sample(model, config={"centered": True})
