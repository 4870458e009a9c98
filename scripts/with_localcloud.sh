#!/usr/bin/env bash
# Run a command with the Tencent Cloud provider routed to localcloud, the local CAM stand-in:
#   scripts/with_localcloud.sh .venv/bin/python -m commands.stack up local
# Starts localcloud (state in .localcloud/, seeded with the principals the local stack's grants
# name), points HTTP_PROXY (and HTTPS_PROXY, trusting its own CA) at it and keeps Pulumi state in
# .localcloud/pulumi-state/. Stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

# LOCALCLOUD_PORT=0 takes any free port (parallel runs); the address is read from localcloud's banner.
port="${LOCALCLOUD_PORT:-18080}"
state="${LOCALCLOUD_STATE:-.localcloud/state.db}"
log="$(dirname "$state")/server.log"
ca="$(dirname "$state")/ca.pem"  # localcloud's CA certificate, made afresh at each start
# Always local-only credentials: should a request ever miss the proxy, the real cloud refuses it.
export TENCENTCLOUD_SECRET_ID=AKIDlocalcloud TENCENTCLOUD_SECRET_KEY=localcloud-secret-key
# Pulumi state that describes localcloud's resources lives beside localcloud's own state, never
# in a team backend.
mkdir -p "$(dirname "$state")/pulumi-state"
export PULUMI_BACKEND_URL="file://$(cd "$(dirname "$state")/pulumi-state" && pwd)"
# ... and its secrets are encrypted with a passphrase of its own, whatever the shell exports for a
# cloud backend (a team's passphrase would not decrypt this state, and must not be written into it).
export PULUMI_CONFIG_PASSPHRASE=local-only-passphrase
unset PULUMI_CONFIG_PASSPHRASE_FILE

# Emptied first: a banner left by an earlier run must not pass for this server's.
: > "$log"
# LOCALCLOUD_ARGS adds faults, e.g. "--throttle-rate 0.3"; it is split into words on purpose.
# shellcheck disable=SC2086
.venv/bin/python -m localcloud serve --port "$port" --state "$state" --ca-file "$ca" \
  --seed localcloud/seeds/local.json ${LOCALCLOUD_ARGS:-} > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 300); do  # up to 30 s: a loaded machine starts Python slowly
  grep -q "listening on" "$log" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
echo "with_localcloud: $(head -n 1 "$log") (state: $state)" >&2
# The project's CAM readers wait out localcloud's lag as they wait out CAM's (commands/cam_account.py):
# the last --consistency-lag-ms of LOCALCLOUD_ARGS (localcloud took it), rounded up to a millisecond.
lag_ms=""
set -f  # split as localcloud's command line above splits it: on any whitespace, no globbing
# shellcheck disable=SC2206
words=(${LOCALCLOUD_ARGS:-})
set +f
for i in "${!words[@]}"; do
  case "${words[$i]}" in
    --consistency-lag-ms) lag_ms="${words[$((i + 1))]:-}" ;;
    --consistency-lag-ms=*) lag_ms="${words[$i]#*=}" ;;
  esac
done
if [ -n "$lag_ms" ]; then
  IM_ACCESS_CAM_LAG_MS=$(.venv/bin/python -c 'import math, sys; print(math.ceil(float(sys.argv[1])))' "$lag_ms")
  export IM_ACCESS_CAM_LAG_MS
fi
port=$(sed -n '1s/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
[ -n "$port" ] || { echo "with_localcloud: no port in localcloud's banner: $(head -n 1 "$log")" >&2; exit 1; }

# The provider sends plain-HTTP requests for cam/tag.tencentcloudapi.com to localcloud as a proxy;
# the engine's own loopback traffic to its plugins must not go through it.
export HTTP_PROXY="http://127.0.0.1:$port" http_proxy="http://127.0.0.1:$port"
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
# The provider asks STS whose its credentials are (allowedAccountIds) over HTTPS whatever its protocol:
# localcloud answers that too, with a certificate of its own CA, trusted by this run alone.
export HTTPS_PROXY="http://127.0.0.1:$port" https_proxy="http://127.0.0.1:$port"
export SSL_CERT_FILE="$(cd "$(dirname "$ca")" && pwd)/$(basename "$ca")"
export PULUMI_SKIP_UPDATE_CHECK=1  # the engine's update check would go to localcloud's proxy too
"$@"
