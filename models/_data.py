"""Loading the data sets bundled with the zoo (``models/data/``)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _read(name: str) -> str:
    return resources.files(__package__).joinpath("data", name).read_text()


def load_json(name: str) -> dict[str, Any]:
    """A fresh copy of a bundled JSON data set (Stan layout)."""
    return json.loads(_read(name))
