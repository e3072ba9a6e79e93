#!/usr/bin/env bash
# A bare install works: `pip install .` (a wheel, no extras) in a fresh venv, then
# one fit per backend through the CLI, from a folder with its own `models` package.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PY=${PYTHON:-$(.venv/bin/python -c 'import sys; print(sys.executable)')}
# the base interpreter (not the dev venv's) builds the bare venv
BASE=$("$PY" -c 'import sys; print(sys.base_prefix)')/bin/python3
[ -x "$BASE" ] || BASE=python3

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BASE" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --upgrade pip
"$WORK/venv/bin/python" -m pip install --quiet -c constraints.txt "$REPO"

# nothing beyond the core dependencies: no extras, no dev tools
for pkg in nutpie blackjax pytest; do
  if "$WORK/venv/bin/python" -c "import $pkg" 2>/dev/null; then
    echo "bare install unexpectedly has $pkg" >&2; exit 1
  fi
done

mkdir -p "$WORK/project/models"
echo 'OWNER = "user"' > "$WORK/project/models/__init__.py"
cp scripts/user_models_check.py "$WORK/project/check.py"
cd "$WORK/project"
"$WORK/venv/bin/python" check.py
for backend in numpyro pymc; do
  "$WORK/venv/bin/probgen" fit eight_schools --backend "$backend" --chains 2 \
    --draws 200 --warmup 200 --no-progress --out "es-$backend.nc"
  test -s "es-$backend.nc"
done
# a sampler whose extra is missing says which extra to install
if "$WORK/venv/bin/probgen" fit eight_schools --backend pymc --sampler nutpie \
    --out x.nc 2> err.txt; then
  echo "nutpie should be missing from a bare install" >&2; exit 1
fi
grep -q "probgen\[nutpie\]" err.txt
echo "bare install: ok"
