#!/usr/bin/env bash
# Installs the pinned Pulumi CLI and Tencent Cloud provider plugin into .engine/ (idempotent;
# IM_ACCESS_ENGINE_DIR moves it):
#   .engine/pulumi-<version>/bin   the CLI and its Python language host
#   .engine/home                   PULUMI_HOME: plugins and CLI settings, never the user's ~/.pulumi
# Both come as release tarballs, from the first of:
#   1. a mirror folder: $PULUMI_RELEASE_MIRROR, else ../shared/engine. A mirror's tarball is
#      installed only if its sha256 is one that engine/SHA256SUMS pins for its name (`NAME`, or
#      `mirror/NAME` for a build only a mirror holds).
#   2. the official release downloads (PULUMI_RELEASE_URL and TENCENTCLOUD_PLUGIN_URL in
#      engine/versions.env), over HTTPS only, checked against the publisher's checksums file
#      fetched over HTTPS from the same release, as Pulumi's own installer does. No checksums
#      file, or no line for the tarball in it, refuses (fail closed). A sum engine/SHA256SUMS pins
#      for NAME wins: a download it does not list is refused whatever the checksums file says.
# Anything else stops the setup before a file is extracted. A `pulumi` already on PATH is never
# used: its origin cannot be checked.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/engine_env.sh  # PULUMI_ROOT, PULUMI_HOME, the pinned versions and release URLs

fail() { echo "install_engine: $*" >&2; exit 1; }

mirror="${PULUMI_RELEASE_MIRROR:-}"
if [ -z "$mirror" ] && [ -d ../shared/engine ]; then mirror=../shared/engine; fi
cli_tarball="pulumi-v${PULUMI_VERSION}-linux-x64.tar.gz"
plugin_tarball="pulumi-resource-tencentcloud-v${TENCENTCLOUD_PLUGIN_VERSION}-linux-amd64.tar.gz"
# The checksums file each publisher puts beside its tarballs: Pulumi's release folder, and the
# provider's GitHub release (goreleaser's default name, <project>_<version>_checksums.txt).
cli_checksums="pulumi-${PULUMI_VERSION}-checksums.txt"
plugin_checksums="pulumi-tencentcloud_${TENCENTCLOUD_PLUGIN_VERSION}_checksums.txt"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The sums engine/SHA256SUMS pins for name $1 (one a line; none when it pins nothing).
pinned() { awk -v name="$1" '$1 !~ /^#/ && $2 == name { print $1 }' engine/SHA256SUMS; }

# HTTPS only, TLS 1.2 or later, redirects included: a plain-HTTP hop is refused.
download() { curl -fsSL --proto '=https' --proto-redir '=https' --tlsv1.2 -o "$2" "$1"; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# The mirror's tarball $1, once its sha256 is one engine/SHA256SUMS pins for it.
from_mirror() {
  local name="$1" file="$mirror/$1" expected actual
  expected=$(pinned "$name"; pinned "mirror/$name")
  [ -n "$expected" ] || fail "no pinned sha256 for $name in engine/SHA256SUMS; refusing to install it"
  [ -f "$file" ] || fail "$file is missing from the mirror folder $mirror"
  actual=$(sha256 "$file")
  grep -qxF "$actual" <<<"$expected" \
    || fail "$file has sha256 $actual, but engine/SHA256SUMS pins $(echo $expected) for $name; refusing to install it"
  echo "$file"
}

# Tarball $1 downloaded from $2/$1, once its sha256 is the one the release's checksums file $3
# (from the same release folder) lists for it, and one engine/SHA256SUMS pins if it pins any.
from_release() {
  local name="$1" url="$2/$1" sums_url="$2/$3" file="$scratch/$1" sums="$scratch/$3" published pins actual
  download "$sums_url" "$sums" \
    || fail "could not download the release's checksums file $sums_url; refusing to install $name unchecked"
  published=$(awk -v name="$name" '$2 == name || $2 == "*" name { print $1 }' "$sums")
  [ -n "$published" ] || fail "$sums_url lists no sha256 for $name; refusing to install it"
  download "$url" "$file" || fail "could not download $url"
  actual=$(sha256 "$file")
  grep -qxF "$actual" <<<"$published" \
    || fail "$url has sha256 $actual, but the release's checksums file $sums_url says $(echo $published); refusing to install it"
  pins=$(pinned "$name")
  if [ -n "$pins" ]; then
    grep -qxF "$actual" <<<"$pins" \
      || fail "$url has sha256 $actual, but engine/SHA256SUMS pins $(echo $pins) for $name; refusing to install it"
  fi
  echo "$file"
}

# The verified path of release tarball $1: from the mirror, else from release folder $2 with checksums file $3.
verified() {
  if [ -n "$mirror" ]; then from_mirror "$1"; else from_release "$@"; fi
}

how_verified() {
  if [ -n "$mirror" ]; then echo "sha256 verified"
  else echo "sha256 verified against the release's checksums file$([ -z "$(pinned "$1")" ] || echo " and engine/SHA256SUMS")"; fi
}

cli_version() { "$1" version 2>/dev/null | sed 's/^v//'; }

install_cli() {
  if [ -x "$PULUMI_ROOT/bin/pulumi" ] && [ "$(cli_version "$PULUMI_ROOT/bin/pulumi")" = "$PULUMI_VERSION" ]; then
    echo "install_engine: Pulumi $PULUMI_VERSION already in $PULUMI_ROOT"
    return
  fi
  rm -rf "$PULUMI_ROOT"
  local tarball
  tarball=$(verified "$cli_tarball" "$PULUMI_RELEASE_URL" "$cli_checksums")
  # Extracted aside first, so an interrupted extraction never looks installed.
  tar -xzf "$tarball" -C "$scratch"
  mkdir -p "$PULUMI_ROOT" && mv "$scratch/pulumi" "$PULUMI_ROOT/bin"
  [ "$(cli_version "$PULUMI_ROOT/bin/pulumi")" = "$PULUMI_VERSION" ] || fail "$PULUMI_ROOT/bin/pulumi is not version $PULUMI_VERSION"
  echo "install_engine: Pulumi $PULUMI_VERSION from $tarball ($(how_verified "$cli_tarball"))"
}

install_plugin() {
  # Read the list whole first: `grep -q` closing the pipe early would fail the listing under pipefail.
  local installed tarball
  installed=$(pulumi plugin ls 2>/dev/null || true)
  if grep -qE "^tencentcloud +resource +${TENCENTCLOUD_PLUGIN_VERSION} " <<<"$installed"; then
    echo "install_engine: tencentcloud plugin $TENCENTCLOUD_PLUGIN_VERSION already in $PULUMI_HOME"
    return
  fi
  tarball=$(verified "$plugin_tarball" "$TENCENTCLOUD_PLUGIN_URL" "$plugin_checksums")
  pulumi plugin install resource tencentcloud "v$TENCENTCLOUD_PLUGIN_VERSION" --file "$tarball" --non-interactive
  echo "install_engine: tencentcloud plugin $TENCENTCLOUD_PLUGIN_VERSION from $tarball ($(how_verified "$plugin_tarball"))"
}

mkdir -p "$PULUMI_HOME"
install_cli
install_plugin
echo "install_engine: ready: $(pulumi version) in $PULUMI_ROOT, plugins in $PULUMI_HOME"
