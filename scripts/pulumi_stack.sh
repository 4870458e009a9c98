#!/usr/bin/env bash
# Preview or deploy one stack with the guardrails, the same way on a laptop and in CI:
#   scripts/pulumi_stack.sh preview dev      scripts/pulumi_stack.sh up prod
# `preview-localcloud` previews a stack against localcloud, for runs without cloud secrets; start
# it through scripts/with_localcloud.sh (`make preview-localcloud STACK=dev`).
# Writes the engine event log and a Markdown summary (what the PR comment shows) to reports/.
set -euo pipefail
cd "$(dirname "$0")/.."

command="${1:?usage: pulumi_stack.sh preview|preview-localcloud|up STACK}"
stack="${2:?usage: pulumi_stack.sh preview|preview-localcloud|up STACK}"
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
summary_flags=() extra_flags=()
if [ "$command" = "preview-localcloud" ]; then
  [ -n "${HTTP_PROXY:-}" ] || { echo "pulumi_stack: run preview-localcloud through scripts/with_localcloud.sh" >&2; exit 2; }
  command=preview
  summary_flags+=(--against-localcloud)
  # A throwaway stack in the local backend; plain HTTP so the provider's requests reach the proxy.
  # --config also writes the stack file, so it is put back afterwards.
  cp "Pulumi.${stack}.yaml" "reports/Pulumi.${stack}.yaml.orig"
  trap 'mv "reports/Pulumi.${stack}.yaml.orig" "Pulumi.${stack}.yaml"' EXIT
  pulumi stack select --create "$stack" --non-interactive >/dev/null
  extra_flags=(--config tencentcloud:protocol=HTTP)
fi
events="reports/${stack}-${command}.events.jsonl"
rm -f "$events"
flags=(--stack "$stack" --policy-pack policy_pack --policy-pack-config "$policy_config" --event-log "$events"
       --non-interactive)
[ "$command" = "up" ] && flags+=(--yes --skip-preview)
flags+=("${extra_flags[@]}")

status=0
pulumi "$command" "${flags[@]}" || status=$?
.venv/bin/python -m im_access.preview_summary --stack "$stack" --events "$events" --exit-code "$status" \
  "${summary_flags[@]}" \
  | tee "reports/${stack}-${command}.md"
exit "$status"
