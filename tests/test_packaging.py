"""probgen installs its zoo as ``probgen.zoo``, never as a top-level ``models`` package.

A user's project with its own ``models`` package (Django apps, most ML projects)
must be able to use probgen, from an editable install (this checkout) and from a
wheel. .ci/run repeats the wheel case on a bare install.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECK = REPO / "scripts" / "user_models_check.py"


def _user_project(tmp_path: Path) -> Path:
    project = tmp_path / "userproject"
    (project / "models").mkdir(parents=True)
    (project / "models" / "__init__.py").write_text('OWNER = "user"\n')
    (project / "check.py").write_text(CHECK.read_text())
    return project


def _run(project: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "check.py"],
        cwd=project,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_no_top_level_models_package_is_importable_from_probgen():
    import probgen

    probgen.list_models()
    assert "models" not in sys.modules or "probgen" not in str(
        getattr(sys.modules["models"], "__file__", "")
    )
    assert importlib.util.find_spec("probgen.zoo") is not None


def test_user_models_package_with_the_editable_install(tmp_path):
    result = _run(_user_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_user_models_package_with_a_wheel(tmp_path):
    pytest.importorskip("setuptools")
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("probgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("models/")], "wheel ships a top-level models/"
    assert "probgen/zoo/eight_schools.py" in names
    assert "probgen/zoo/data/eight_schools.json" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # the unpacked wheel comes first on sys.path, ahead of the editable install
    result = _run(_user_project(tmp_path), {"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_subpackage_is_listed_for_the_wheel():
    """setuptools installs only the packages pyproject.toml lists: a new package
    folder under probgen/ that is not listed works in the editable install and
    breaks `pip install .` (caught once by the bare-install smoke test)."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(root).parts) for p in (root / "probgen").rglob("__init__.py")
    }
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"
