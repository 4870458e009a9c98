#!/usr/bin/env bash
# Preview or deploy one stack with the guardrails, the same way on a laptop and in CI:
#   scripts/pulumi_stack.sh preview dev      scripts/pulumi_stack.sh up prod
# Writes the engine event log and a Markdown summary (what the PR comment shows) to reports/.
set -euo pipefail
cd "$(dirname "$0")/.."

command="${1:?usage: pulumi_stack.sh preview|up STACK}"
stack="${2:?usage: pulumi_stack.sh preview|up STACK}"
policy_config="policy_pack/config/${stack}.json"

if ! command -v pulumi >/dev/null 2>&1; then
  echo "pulumi_stack: the pulumi CLI is not on PATH; install Pulumi 3.259.0 (see README, Setup)" >&2
  exit 2
fi
if [ ! -f "$policy_config" ]; then
  echo "pulumi_stack: $policy_config is missing; every stack needs its policy config" >&2
  exit 2
fi

export PULUMI_SKIP_UPDATE_CHECK=true
mkdir -p reports
events="reports/${stack}-${command}.events.jsonl"
rm -f "$events"
flags=(--stack "$stack" --policy-pack policy_pack --policy-pack-config "$policy_config" --event-log "$events"
       --non-interactive)
[ "$command" = "up" ] && flags+=(--yes --skip-preview)

status=0
pulumi "$command" "${flags[@]}" || status=$?
.venv/bin/python -m im_access.preview_summary --stack "$stack" --events "$events" --exit-code "$status" \
  | tee "reports/${stack}-${command}.md"
exit "$status"
