"""Reading a posterior database: data sets and reference draws, in either layout.

Two layouts are read:

* a clone of posteriordb as users have it (the folder holding
  ``posterior_database/``, or ``posterior_database/`` itself)::

      posterior_database/posteriors/<posterior>.json          data_name, model_name,
                                                              reference_posterior_name
      posterior_database/data/data/<data_name>.json.zip       Stan-layout data
      posterior_database/reference_posteriors/draws/draws/<reference>.json.zip

* the flat layout of a shipped subset (as ``../shared/posteriordb``)::

      DIR/data/<data_name>.json
      DIR/reference/<posterior>.json.zip

A reference file is a zipped JSON list of chains, each ``{flat name: draws}``
with Stan's 1-based flat names (``theta[1]``). There is no default location
beside any checkout: pass the directory, or set ``PROBGEN_POSTERIORDB``.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: environment variable naming the default database directory
ENV_VAR = "PROBGEN_POSTERIORDB"


def default_db() -> Path | None:
    """The directory named by ``PROBGEN_POSTERIORDB``, or None."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


def _read_zipped_json(path: Path) -> Any:
    with zipfile.ZipFile(path) as zf:
        members = [m for m in zf.namelist() if m.endswith(".json")]
        if len(members) != 1:
            raise ValueError(f"{str(path)!r} should hold exactly one .json file, has {members}")
        return json.loads(zf.read(members[0]))


@dataclass(frozen=True)
class PosteriorDatabase:
    """A posterior database directory in the clone or the flat layout.

    Parameters
    ----------
    root : path
        A posteriordb clone (or its ``posterior_database/`` folder), or a flat
        directory with ``data/`` and ``reference/``.
    """

    root: Path

    @classmethod
    def open(cls, root: str | os.PathLike | None = None) -> PosteriorDatabase:
        """Open ``root`` (default ``PROBGEN_POSTERIORDB``); a clear error if it is not one."""
        if root is None:
            root = default_db()
            if root is None:
                raise FileNotFoundError(
                    f"no posterior database given: pass db= (CLI: --db DIR) or set {ENV_VAR}"
                )
        root = Path(root).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"posterior database directory {str(root)!r} not found")
        if (root / "posterior_database").is_dir():
            root = root / "posterior_database"
        db = cls(root)
        if not (db.is_clone or (root / "data").is_dir()):
            raise FileNotFoundError(
                f"{str(root)!r} is not a posterior database: expected posterior_database/ "
                "(a posteriordb clone) or data/ and reference/ (the flat layout)"
            )
        return db

    @property
    def is_clone(self) -> bool:
        return (self.root / "posteriors").is_dir() and (self.root / "data" / "data").is_dir()

    # ----------------------------------------------------------------- lookups
    def posterior_info(self, posterior: str) -> dict[str, Any] | None:
        """The clone's ``posteriors/<posterior>.json``, or None (flat layout / absent)."""
        path = self.root / "posteriors" / f"{posterior}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def data_name(self, posterior: str) -> str:
        info = self.posterior_info(posterior)
        if info and info.get("data_name"):
            return str(info["data_name"])
        return posterior.split("-", 1)[0]

    def reference_name(self, posterior: str) -> str | None:
        """The reference posterior's name a clone records (None: the posterior's own)."""
        info = self.posterior_info(posterior)
        if info is None:
            return posterior
        return info.get("reference_posterior_name")

    def data_path(self, data_name: str) -> Path:
        if self.is_clone:
            return self.root / "data" / "data" / f"{data_name}.json.zip"
        return self.root / "data" / f"{data_name}.json"

    def reference_path(self, posterior: str) -> Path:
        if self.is_clone:
            name = self.reference_name(posterior) or posterior
            return self.root / "reference_posteriors" / "draws" / "draws" / f"{name}.json.zip"
        return self.root / "reference" / f"{posterior}.json.zip"

    def has_reference(self, posterior: str) -> bool:
        return self.reference_path(posterior).exists()

    # ------------------------------------------------------------------- reads
    def load_data(self, data_name: str) -> dict[str, Any]:
        """A data set in Stan's layout (a dict of scalars and nested lists)."""
        path = self.data_path(data_name)
        if not path.exists():
            raise FileNotFoundError(f"no data file {str(path)!r} in the posterior database")
        obj = _read_zipped_json(path) if path.suffix == ".zip" else json.loads(path.read_text())
        if not isinstance(obj, dict):
            raise ValueError(f"data file {str(path)!r} must hold a JSON object")
        return obj

    def load_reference(self, posterior: str) -> dict[str, np.ndarray]:
        """Reference draws as {flat name: (chain, draw) array}."""
        path = self.reference_path(posterior)
        if not path.exists():
            raise FileNotFoundError(f"no reference draws {str(path)!r}")
        chains = _read_zipped_json(path)
        names = list(chains[0])
        return {n: np.asarray([c[n] for c in chains], dtype=float) for n in names}
