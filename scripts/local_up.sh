#!/usr/bin/env bash
# The main job on this machine, with no cloud account: `pulumi up --stack local` with the
# guardrails, against localcloud. Prints each operator's login link and where the secrets are.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pulumi >/dev/null 2>&1; then
  echo "local_up: the pulumi CLI is not on PATH; install Pulumi 3.259.0 and the tencentcloud provider plugin (see README, Setup)" >&2
  exit 2
fi
run_local_stack() {
  pulumi stack select --create local --non-interactive >/dev/null
  bash scripts/pulumi_stack.sh up local
  .venv/bin/python -m im_access.handover --stack local --list
}
export -f run_local_stack
bash scripts/with_localcloud.sh bash -c run_local_stack
