#!/usr/bin/env bash
# One-time (and idempotent) setup: the Python environment and the tools the tests use. Needs
# Python 3.11 (no Go, no npm): every package comes from PyPI with a pinned sha256 (requirement
# files made by `make lock`), the engine from the mirror folder (checked against engine/SHA256SUMS)
# or the official release (checked against its published checksums; scripts/install_engine.sh), and
# the browser test's chromium from the
# system's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# --require-hashes: a package whose file does not match its pinned hash stops the setup. The list
# includes pip and setuptools, and the project itself is then built with that setuptools, so
# nothing unpinned is fetched (no build isolation).
.venv/bin/python -m pip install --quiet --require-hashes -r requirements-dev.txt
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
# The browser the access review's browser test drives: Debian's chromium, installed when missing and
# this is Debian with root; otherwise the command that installs it is printed.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -f /etc/debian_version ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: the browser test needs chromium; on Debian or Ubuntu: sudo apt-get install chromium" >&2
  fi
fi
# The pinned Pulumi CLI and provider plugin, in .engine/ (see scripts/install_engine.sh).
bash scripts/install_engine.sh
echo "setup: ready (.venv with $(.venv/bin/python -c 'import importlib.metadata as m; print("pulumi", m.version("pulumi"))'), $(.venv/bin/actionlint -version | head -n 1), $(source scripts/engine_env.sh && pulumi version))"
