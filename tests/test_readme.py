"""README's zoo table lists every registered model, with every column filled in."""

from __future__ import annotations

import re
from pathlib import Path

import probgen

README = Path(__file__).resolve().parents[1] / "README.md"
COLUMNS = ["model", "family", "default data", "generates", "beyond fitting", "backends"]


def zoo_table() -> dict[str, dict[str, str]]:
    text = README.read_text()
    section = text.split("## The zoo", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header == COLUMNS, header
    table = {}
    for line in rows[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = re.sub(r"`", "", cells[0])
        table[name] = dict(zip(COLUMNS, cells, strict=True))
    return table


def test_every_model_is_in_the_readme_table():
    table = zoo_table()
    assert sorted(table) == probgen.list_models()
    for name, row in table.items():
        assert all(row.values()), f"README row of {name} has an empty cell"
        model = probgen.get_model(name)
        assert row["family"] == model.family, (name, row["family"], model.family)
