#!/usr/bin/env bash
# Installs the pinned Pulumi CLI and Tencent Cloud provider plugin into .engine/ (idempotent;
# IM_ACCESS_ENGINE_DIR moves it):
#   .engine/pulumi-<version>/bin   the CLI and its Python language host
#   .engine/home                   PULUMI_HOME: plugins and CLI settings, never the user's ~/.pulumi
# Both come as release tarballs, from the first of:
#   1. a mirror folder: $PULUMI_RELEASE_MIRROR, else ../shared/engine;
#   2. the official release downloads (PULUMI_RELEASE_URL and TENCENTCLOUD_PLUGIN_URL in
#      engine/versions.env), fetched into a scratch folder.
# Either way a tarball is installed only if its sha256 is one that engine/SHA256SUMS pins for its
# name; anything else stops the setup before a file is extracted. A `pulumi` already on PATH is
# never used: its origin cannot be checked.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/engine_env.sh  # PULUMI_ROOT, PULUMI_HOME and the pinned versions

fail() { echo "install_engine: $*" >&2; exit 1; }

mirror="${PULUMI_RELEASE_MIRROR:-}"
if [ -z "$mirror" ] && [ -d ../shared/engine ]; then mirror=../shared/engine; fi
cli_tarball="pulumi-v${PULUMI_VERSION}-linux-x64.tar.gz"
plugin_tarball="pulumi-resource-tencentcloud-v${TENCENTCLOUD_PLUGIN_VERSION}-linux-amd64.tar.gz"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The path of release tarball $1 (downloaded from $2 when there is no mirror), once its sha256 is
# one engine/SHA256SUMS pins for that name.
verified() {
  local name="$1" url="$2" file expected actual
  expected=$(awk -v name="$name" '$1 !~ /^#/ && $2 == name { print $1 }' engine/SHA256SUMS)
  [ -n "$expected" ] || fail "no pinned sha256 for $name in engine/SHA256SUMS; refusing to install it"
  if [ -n "$mirror" ]; then
    file="$mirror/$name"
    [ -f "$file" ] || fail "$file is missing from the mirror folder $mirror"
  else
    file="$scratch/$name"
    curl -fsSL --proto '=https,http' -o "$file" "$url" || fail "could not download $url"
  fi
  actual=$(sha256sum "$file" | cut -d' ' -f1)
  grep -qxF "$actual" <<<"$expected" \
    || fail "$file has sha256 $actual, but engine/SHA256SUMS pins $(echo $expected) for $name; refusing to install it$( \
      [ -n "$mirror" ] || echo " (an official download whose sum is not pinned yet: compare $actual with the release's published checksums, then add the line '$actual  $name' to engine/SHA256SUMS in a reviewed change)")"
  echo "$file"
}

cli_version() { "$1" version 2>/dev/null | sed 's/^v//'; }

install_cli() {
  if [ -x "$PULUMI_ROOT/bin/pulumi" ] && [ "$(cli_version "$PULUMI_ROOT/bin/pulumi")" = "$PULUMI_VERSION" ]; then
    echo "install_engine: Pulumi $PULUMI_VERSION already in $PULUMI_ROOT"
    return
  fi
  rm -rf "$PULUMI_ROOT"
  local tarball
  tarball=$(verified "$cli_tarball" "$PULUMI_RELEASE_URL/$cli_tarball")
  # Extracted aside first, so an interrupted extraction never looks installed.
  tar -xzf "$tarball" -C "$scratch"
  mkdir -p "$PULUMI_ROOT" && mv "$scratch/pulumi" "$PULUMI_ROOT/bin"
  [ "$(cli_version "$PULUMI_ROOT/bin/pulumi")" = "$PULUMI_VERSION" ] || fail "$PULUMI_ROOT/bin/pulumi is not version $PULUMI_VERSION"
  echo "install_engine: Pulumi $PULUMI_VERSION from $tarball (sha256 verified)"
}

install_plugin() {
  # Read the list whole first: `grep -q` closing the pipe early would fail the listing under pipefail.
  local installed tarball
  installed=$(pulumi plugin ls 2>/dev/null || true)
  if grep -qE "^tencentcloud +resource +${TENCENTCLOUD_PLUGIN_VERSION} " <<<"$installed"; then
    echo "install_engine: tencentcloud plugin $TENCENTCLOUD_PLUGIN_VERSION already in $PULUMI_HOME"
    return
  fi
  tarball=$(verified "$plugin_tarball" "$TENCENTCLOUD_PLUGIN_URL/$plugin_tarball")
  pulumi plugin install resource tencentcloud "v$TENCENTCLOUD_PLUGIN_VERSION" --file "$tarball" --non-interactive
  echo "install_engine: tencentcloud plugin $TENCENTCLOUD_PLUGIN_VERSION from $tarball (sha256 verified)"
}

mkdir -p "$PULUMI_HOME"
install_cli
install_plugin
echo "install_engine: ready: $(pulumi version) in $PULUMI_ROOT, plugins in $PULUMI_HOME"
