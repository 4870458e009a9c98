#!/usr/bin/env bash
# Installs the pinned Pulumi CLI and Tencent Cloud provider plugin into .engine/ (idempotent;
# IM_ACCESS_ENGINE_DIR moves it):
#   .engine/pulumi-<version>/bin   the CLI and its Python language host
#   .engine/home                   PULUMI_HOME: plugins and CLI settings, never the user's ~/.pulumi
# Where the CLI comes from, first match wins:
#   1. a `pulumi` of the pinned version already on PATH (linked, not copied);
#   2. the release tarballs in a mirror folder: $PULUMI_RELEASE_MIRROR, else ../shared/engine,
#      each checked against engine/SHA256SUMS before anything is extracted;
#   3. the official installer at the pinned version, and the plugin from its release server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/engine_env.sh  # PULUMI_ROOT, PULUMI_HOME and the pinned versions

fail() { echo "install_engine: $*" >&2; exit 1; }

mirror="${PULUMI_RELEASE_MIRROR:-}"
if [ -z "$mirror" ] && [ -d ../shared/engine ]; then mirror=../shared/engine; fi
cli_tarball="pulumi-v${PULUMI_VERSION}-linux-x64.tar.gz"
plugin_tarball="pulumi-resource-tencentcloud-v${TENCENTCLOUD_PLUGIN_VERSION}-linux-amd64.tar.gz"

# Refuses a tarball whose sum differs from the one pinned in this repository.
verified() {
  local file="$mirror/$1" expected actual
  expected=$(awk -v name="$1" '$2 == name { print $1 }' engine/SHA256SUMS)
  [ -n "$expected" ] || fail "no pinned sha256 for $1 in engine/SHA256SUMS"
  [ -f "$file" ] || fail "$file is missing from the mirror folder $mirror"
  actual=$(sha256sum "$file" | cut -d' ' -f1)
  [ "$actual" = "$expected" ] || fail "$file has sha256 $actual, but engine/SHA256SUMS pins $expected; refusing to install it"
  echo "$file"
}

cli_version() { "$1" version 2>/dev/null | sed 's/^v//'; }

install_cli() {
  local staging
  if [ -x "$PULUMI_ROOT/bin/pulumi" ] && [ "$(cli_version "$PULUMI_ROOT/bin/pulumi")" = "$PULUMI_VERSION" ]; then
    echo "install_engine: Pulumi $PULUMI_VERSION already in $PULUMI_ROOT"
    return
  fi
  rm -rf "$PULUMI_ROOT"
  local on_path
  on_path=$(command -v pulumi || true)
  if [ -n "$on_path" ] && [ "$(cli_version "$on_path")" = "$PULUMI_VERSION" ]; then
    mkdir -p "$PULUMI_ROOT/bin"
    for tool in "$(dirname "$on_path")"/pulumi "$(dirname "$on_path")"/pulumi-language-python*; do
      [ -e "$tool" ] && ln -s "$tool" "$PULUMI_ROOT/bin/"
    done
    echo "install_engine: using Pulumi $PULUMI_VERSION from $on_path"
  elif [ -n "$mirror" ]; then
    local tarball
    tarball=$(verified "$cli_tarball")
    # Extracted aside first, so an interrupted extraction never looks installed.
    staging=$(mktemp -d)
    tar -xzf "$tarball" -C "$staging"
    mkdir -p "$PULUMI_ROOT" && mv "$staging/pulumi" "$PULUMI_ROOT/bin" && rmdir "$staging"
    echo "install_engine: Pulumi $PULUMI_VERSION from $tarball (sha256 verified)"
  else
    curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION" --install-root "$PULUMI_ROOT" --no-edit-path
  fi
  [ "$(cli_version "$PULUMI_ROOT/bin/pulumi")" = "$PULUMI_VERSION" ] || fail "$PULUMI_ROOT/bin/pulumi is not version $PULUMI_VERSION"
}

install_plugin() {
  # Read the list whole first: `grep -q` closing the pipe early would fail the listing under pipefail.
  local installed
  installed=$(pulumi plugin ls 2>/dev/null || true)
  if grep -qE "^tencentcloud +resource +${TENCENTCLOUD_PLUGIN_VERSION} " <<<"$installed"; then
    echo "install_engine: tencentcloud plugin $TENCENTCLOUD_PLUGIN_VERSION already in $PULUMI_HOME"
  elif [ -n "$mirror" ]; then
    local tarball
    tarball=$(verified "$plugin_tarball")
    pulumi plugin install resource tencentcloud "v$TENCENTCLOUD_PLUGIN_VERSION" --file "$tarball" --non-interactive
  else
    pulumi plugin install resource tencentcloud "v$TENCENTCLOUD_PLUGIN_VERSION" \
      --server "$TENCENTCLOUD_PLUGIN_SERVER" --non-interactive
  fi
}

mkdir -p "$PULUMI_HOME"
install_cli
install_plugin
echo "install_engine: ready: $(pulumi version) in $PULUMI_ROOT, plugins in $PULUMI_HOME"
