#!/usr/bin/env bash
# One-time (and idempotent) setup: the Python environment and the tools the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements-dev.txt
.venv/bin/python -m pip install --quiet --no-deps -e .
echo "setup: Python environment ready in .venv ($(.venv/bin/python -c 'import pulumi, sys; print("pulumi SDK", pulumi.__version__ if hasattr(pulumi, "__version__") else "?")'))"
