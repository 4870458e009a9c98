#!/usr/bin/env bash
# The main job on this machine, with no cloud account: `pulumi up --stack local` with the
# guardrails, against localcloud. Prints each operator's login link and where the secrets are.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/with_localcloud.sh bash -c \
  '.venv/bin/python -m commands.stack up local && .venv/bin/python -m commands.handover --stack local --list'
