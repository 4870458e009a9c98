#!/usr/bin/env bash
# The main job on this machine, with no cloud account: `pulumi up --stack local` with the
# guardrails, against localcloud. Prints each operator's login link, where the secrets are, and
# the next commands on the same local state, each runnable as printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/with_localcloud.sh bash -c \
  '.venv/bin/python -m commands.stack up local && .venv/bin/python -m commands.handover --stack local --list'
echo "Who holds IM access in localcloud, against the stack: make audit STACK=local"
echo "The access review report of the local stack: make review STACK=local"
