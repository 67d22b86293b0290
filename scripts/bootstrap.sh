#!/usr/bin/env bash
# Create .venv from requirements-dev.lock: every package pinned, with its hashes (pip refuses a file
# whose hash differs, or a package the lock does not list). The app (scripts/run_app.sh) and the tests
# (scripts/run_tests.sh) share this one .venv and this one lock; requirements-dev.lock holds
# requirements.txt too. Installs again only when a requirements or lock file changed.
# How to regenerate the locks: docs/deployment.md, "Updating the locks".
set -euo pipefail
cd "$(dirname "$0")/.."
LOCK=requirements-dev.lock
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
STAMP=".venv/.installed-$(cat requirements*.txt requirements*.lock pyproject.toml | sha256sum | cut -c1-16)-$LOCK"
if [ ! -f "$STAMP" ]; then
  .venv/bin/python -m pip install --quiet --require-hashes -r "$LOCK"
  .venv/bin/python -m pip install --quiet --no-deps -e .
  touch "$STAMP"
fi
