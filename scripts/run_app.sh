#!/usr/bin/env bash
# The one command that starts the app with the committed model on http://localhost:${PORT:-8080}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh   # .venv from requirements-dev.lock, which holds requirements.txt
export TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/gunicorn -c gunicorn.conf.py app:app
