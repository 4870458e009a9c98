"""scripts/install_engine.sh: where the engine comes from, and that a tampered mirror is never installed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from commands.engine import PULUMI_VERSION
from tests.localcloud_process import ROOT
from tests.release_server import ReleaseServer

# Where setup takes the engine from, as scripts/install_engine.sh looks: $PULUMI_RELEASE_MIRROR, else
# ../shared/engine beside the checkout.
MIRROR = Path(os.environ.get("PULUMI_RELEASE_MIRROR") or ROOT.parent / "shared" / "engine")
CLI_TARBALL = f"pulumi-v{PULUMI_VERSION}-linux-x64.tar.gz"
PLUGIN_TARBALL = "pulumi-resource-tencentcloud-v0.2.3-linux-amd64.tar.gz"


def install(engine_dir: Path, mirror: Path, path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess[str]:
    """scripts/install_engine.sh into `engine_dir`, from the mirror folder `mirror`."""
    env = {**os.environ, "IM_ACCESS_ENGINE_DIR": str(engine_dir), "PATH": path, "PULUMI_RELEASE_MIRROR": str(mirror)}
    return subprocess.run(
        ["bash", "scripts/install_engine.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_tampered_mirror_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in (CLI_TARBALL, PLUGIN_TARBALL):
        (mirror / name).write_bytes(b"not the release that engine/SHA256SUMS pins")

    result = install(tmp_path / "engine", mirror)

    assert result.returncode != 0
    assert f"{mirror / CLI_TARBALL} has sha256" in result.stderr and "refusing to install it" in result.stderr
    assert not (tmp_path / "engine" / f"pulumi-{PULUMI_VERSION}" / "bin").exists()


def test_the_mirror_is_verified_then_installed_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    assert (MIRROR / CLI_TARBALL).is_file(), f"the release mirror {MIRROR} is missing"
    engine_dir = tmp_path / "engine"

    first = install(engine_dir, MIRROR)
    assert first.returncode == 0, first.stderr
    assert "(sha256 verified)" in first.stdout
    cli = engine_dir / f"pulumi-{PULUMI_VERSION}" / "bin" / "pulumi"
    env = {**os.environ, "PULUMI_HOME": str(engine_dir / "home"), "PULUMI_SKIP_UPDATE_CHECK": "true"}
    assert subprocess.run([cli, "version"], capture_output=True, text=True).stdout.strip() == f"v{PULUMI_VERSION}"
    plugins = subprocess.run([cli, "plugin", "ls"], env=env, capture_output=True, text=True).stdout
    assert "tencentcloud  resource  0.2.3" in plugins

    second = install(engine_dir, tmp_path / "no-mirror-needed")
    assert second.returncode == 0, second.stderr
    assert "already in" in second.stdout and "sha256" not in second.stdout


def test_a_pulumi_on_path_is_never_used(tmp_path: Path) -> None:
    impostor = tmp_path / "bin" / "pulumi"
    impostor.parent.mkdir()
    impostor.write_text(f"#!/bin/sh\necho v{PULUMI_VERSION}\n")
    impostor.chmod(0o755)
    engine_dir = tmp_path / "engine"

    result = install(engine_dir, MIRROR, path=f"{impostor.parent}:/usr/bin:/bin")

    assert result.returncode == 0, result.stderr
    assert "(sha256 verified)" in result.stdout
    cli = engine_dir / f"pulumi-{PULUMI_VERSION}" / "bin" / "pulumi"
    assert not cli.is_symlink() and cli.read_bytes() != impostor.read_bytes()


CLI_CHECKSUMS = f"pulumi-{PULUMI_VERSION}-checksums.txt"
PLUGIN_CHECKSUMS = "pulumi-tencentcloud_0.2.3_checksums.txt"


def online_checkout(tmp_path: Path, release_url: str, pins: str = "") -> Path:
    """A copy of scripts/ and engine/ with no mirror beside it, whose release URLs point at `release_url`
    and whose engine/SHA256SUMS holds `pins` (sha256sum lines) after its comments."""
    checkout = tmp_path / "checkout" / "project"
    for folder in ("scripts", "engine"):
        shutil.copytree(ROOT / folder, checkout / folder)
    versions = checkout / "engine" / "versions.env"
    urls = {"PULUMI_RELEASE_URL": f"{release_url}/pulumi", "TENCENTCLOUD_PLUGIN_URL": f"{release_url}/tencentcloud"}
    lines = [
        f"{line.split('=', 1)[0]}={urls[line.split('=', 1)[0]]}" if line.split("=", 1)[0] in urls else line
        for line in versions.read_text().splitlines()
    ]
    versions.write_text("\n".join(lines) + "\n")
    sums = checkout / "engine" / "SHA256SUMS"
    sums.write_text("".join(line for line in sums.read_text().splitlines(keepends=True) if line.startswith("#")) + pins)
    return checkout


def release(tmp_path: Path, cli: bytes, plugin: bytes, cli_listed: bytes | None = None) -> Path:
    """Release folders as the publishers lay them out: tarballs beside their checksums files. The CLI's
    checksums file lists `cli_listed`'s sum (the served CLI's by default)."""
    served = tmp_path / "served"
    for folder, name, data, sums_name, listed in (
        ("pulumi", CLI_TARBALL, cli, CLI_CHECKSUMS, cli if cli_listed is None else cli_listed),
        ("tencentcloud", PLUGIN_TARBALL, plugin, PLUGIN_CHECKSUMS, plugin),
    ):
        (served / folder).mkdir(parents=True)
        (served / folder / name).write_bytes(data)
        other = "0" * 64 + "  pulumi-v0.0.0-darwin-arm64.tar.gz\n"
        (served / folder / sums_name).write_text(f"{other}{hashlib.sha256(listed).hexdigest()}  {name}\n")
    return served


def install_online(
    tmp_path: Path, served: Path, pins: str = "", trust: bool = True
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """scripts/install_engine.sh with no mirror, downloading from a local HTTPS server of `served`
    (its CA trusted by curl for this run alone, unless not `trust`); the result and the paths the
    server was asked for."""
    with ReleaseServer(served, tmp_path) as server:
        checkout = online_checkout(tmp_path, server.url, pins)
        unset = ("PULUMI_RELEASE_MIRROR", "SSL_CERT_FILE", "CURL_CA_BUNDLE")
        env = {k: v for k, v in os.environ.items() if k not in unset}
        env |= {"IM_ACCESS_ENGINE_DIR": str(tmp_path / "engine"), "PATH": "/usr/bin:/bin"}
        if trust:
            env["CURL_CA_BUNDLE"] = str(server.ca_file)
        result = subprocess.run(
            ["bash", "scripts/install_engine.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=300
        )
        return result, server.requested


def mirror_builds() -> tuple[bytes, bytes]:
    return (MIRROR / CLI_TARBALL).read_bytes(), (MIRROR / PLUGIN_TARBALL).read_bytes()


def tampered(data: bytes) -> bytes:
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0xFF
    return bytes(changed)


def test_online_the_release_is_checked_against_its_checksums_file_then_installed(tmp_path: Path) -> None:
    cli, plugin = mirror_builds()  # stand-ins for the official builds: any tarball the release lists

    result, requested = install_online(tmp_path, release(tmp_path, cli, plugin))

    assert result.returncode == 0, result.stderr
    assert requested == [
        f"/pulumi/{CLI_CHECKSUMS}",
        f"/pulumi/{CLI_TARBALL}",
        f"/tencentcloud/{PLUGIN_CHECKSUMS}",
        f"/tencentcloud/{PLUGIN_TARBALL}",
    ]
    assert result.stdout.count("(sha256 verified against the release's checksums file)") == 2
    cli_path = tmp_path / "engine" / f"pulumi-{PULUMI_VERSION}" / "bin" / "pulumi"
    assert subprocess.run([cli_path, "version"], capture_output=True, text=True).stdout.strip() == f"v{PULUMI_VERSION}"


def test_online_a_tarball_unlike_the_release_checksums_is_refused_and_nothing_installed(tmp_path: Path) -> None:
    cli, plugin = mirror_builds()

    result, _ = install_online(tmp_path, release(tmp_path, tampered(cli), plugin, cli_listed=cli))

    assert result.returncode != 0
    assert result.stderr.startswith("install_engine: https://127.0.0.1:")
    assert f"/{CLI_TARBALL} has sha256 {hashlib.sha256(tampered(cli)).hexdigest()}" in result.stderr
    assert "the release's checksums file" in result.stderr and result.stderr.rstrip().endswith("refusing to install it")
    assert not (tmp_path / "engine" / f"pulumi-{PULUMI_VERSION}").exists()


def test_online_a_missing_checksums_file_refuses_before_any_tarball_is_fetched(tmp_path: Path) -> None:
    cli, plugin = mirror_builds()
    served = release(tmp_path, cli, plugin)
    (served / "pulumi" / CLI_CHECKSUMS).unlink()

    result, requested = install_online(tmp_path, served)

    assert result.returncode != 0
    assert "could not download the release's checksums file" in result.stderr
    assert f"refusing to install {CLI_TARBALL} unchecked" in result.stderr
    assert requested == [f"/pulumi/{CLI_CHECKSUMS}"]
    assert not (tmp_path / "engine" / f"pulumi-{PULUMI_VERSION}").exists()


def test_online_a_checksums_file_without_the_tarball_refuses(tmp_path: Path) -> None:
    cli, plugin = mirror_builds()
    served = release(tmp_path, cli, plugin)
    (served / "pulumi" / CLI_CHECKSUMS).write_text(f"{hashlib.sha256(cli).hexdigest()}  {CLI_TARBALL}.old\n")

    result, _ = install_online(tmp_path, served)

    assert result.returncode != 0
    assert f"lists no sha256 for {CLI_TARBALL}; refusing to install it" in result.stderr
    assert not (tmp_path / "engine" / f"pulumi-{PULUMI_VERSION}").exists()


def test_online_a_pinned_sum_wins_over_a_release_whose_tarball_and_checksums_were_both_replaced(tmp_path: Path) -> None:
    cli, plugin = mirror_builds()
    # The release folder serves another tarball and a checksums file that agrees with it.
    served = release(tmp_path, tampered(cli), plugin)

    result, _ = install_online(tmp_path, served, pins=f"{hashlib.sha256(cli).hexdigest()}  {CLI_TARBALL}\n")

    assert result.returncode != 0
    pinned = hashlib.sha256(cli).hexdigest()
    assert f"but engine/SHA256SUMS pins {pinned} for {CLI_TARBALL}; refusing to install it" in result.stderr
    assert not (tmp_path / "engine" / f"pulumi-{PULUMI_VERSION}").exists()


def test_online_a_pinned_sum_that_matches_installs_and_says_both_were_checked(tmp_path: Path) -> None:
    cli, plugin = mirror_builds()
    pins = f"{hashlib.sha256(cli).hexdigest()}  {CLI_TARBALL}\n"

    result, _ = install_online(tmp_path, release(tmp_path, cli, plugin), pins=pins)

    assert result.returncode == 0, result.stderr
    assert "(sha256 verified against the release's checksums file and engine/SHA256SUMS)" in result.stdout


def test_online_a_server_curl_cannot_authenticate_is_refused(tmp_path: Path) -> None:
    cli, plugin = mirror_builds()
    result, requested = install_online(tmp_path, release(tmp_path, cli, plugin), trust=False)

    assert result.returncode != 0
    assert "could not download the release's checksums file" in result.stderr
    assert requested == []  # the TLS handshake failed before any request
    assert not (tmp_path / "engine" / f"pulumi-{PULUMI_VERSION}").exists()
