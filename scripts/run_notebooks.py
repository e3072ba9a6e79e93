"""Execute every notebook in notebooks/ (small sizes); exit 1 if any cell fails."""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

os.environ.setdefault("PROBGEN_NB_DRAWS", "200")
os.environ.setdefault("MPLBACKEND", "Agg")

root = Path(__file__).resolve().parents[1]
failed = []
for path in sorted((root / "notebooks").glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(root)}}
        ).execute()
        print(f"ok    {path.name} ({time.perf_counter() - start:.0f} s)")
    except Exception as exc:  # report every notebook, then fail
        failed.append(path.name)
        print(f"FAIL  {path.name}: {exc}")
sys.exit(1 if failed else 0)
