#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install probgen with the exact pins of
# constraints.txt (the versions CI runs). Safe to run again: it only installs
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  # .python-version makes pyenv's `python` resolve to 3.12 here
  for cand in python python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  echo "error: probgen needs Python >= 3.12 (pymc 6, arviz 1); none found" >&2
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
  PY=$(find_python)
  echo "creating .venv with $("$PY" --version)"
  rm -rf .venv
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev,nutpie,blackjax,dask]"
.venv/bin/python -c 'import probgen, pymc, arviz, numpyro; print(f"probgen ready: pymc {pymc.__version__}, arviz {arviz.__version__}, numpyro {numpyro.__version__}")'
