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
# actionlint lints the GitHub workflows in the tests; built from its Go module (no release download).
ACTIONLINT_VERSION=v1.7.7
if [ ! -x .tools/bin/actionlint ] || ! .tools/bin/actionlint -version | grep -q "${ACTIONLINT_VERSION#v}"; then
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}"
fi
# The SARIF 2.1.0 schema the tests validate preview reports against, from the npm package of
# Microsoft's SARIF SDK (only the schema file is kept).
SARIF_SCHEMA=.tools/sarif-2.1.0-rtm.5.json
if [ ! -f "$SARIF_SCHEMA" ]; then
  scratch=$(mktemp -d)
  (cd "$scratch" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null)
  tar -xzf "$scratch"/microsoft-jest-sarif-1.0.0-beta.0.tgz -C "$scratch" package/lib/schemas/sarif-2.1.0-rtm.5.json
  mkdir -p .tools && mv "$scratch/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$SARIF_SCHEMA"
  rm -rf "$scratch"
fi
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
echo "setup: ready (.venv with $(.venv/bin/python -c 'import importlib.metadata as m; print("pulumi", m.version("pulumi"))'), actionlint ${ACTIONLINT_VERSION}, $(source scripts/engine_env.sh && pulumi version))"
