"""scripts/install_engine.sh: where the engine comes from, and that a tampered mirror is never installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from commands.engine import PULUMI_VERSION
from tests.localcloud_process import ROOT

# Where setup takes the engine from, as scripts/install_engine.sh looks: $PULUMI_RELEASE_MIRROR, else
# ../shared/engine beside the checkout.
MIRROR = Path(os.environ.get("PULUMI_RELEASE_MIRROR") or ROOT.parent / "shared" / "engine")
CLI_TARBALL = f"pulumi-v{PULUMI_VERSION}-linux-x64.tar.gz"
PLUGIN_TARBALL = "pulumi-resource-tencentcloud-v0.2.3-linux-amd64.tar.gz"


def install(
    engine_dir: Path, mirror: Path, path: str = "/usr/bin:/bin", mirror_set: bool = True
) -> subprocess.CompletedProcess[str]:
    """scripts/install_engine.sh into `engine_dir`; without `mirror_set`, run from a copy of the scripts
    with no ../shared/engine beside it, so the downloads are used."""
    env = {**os.environ, "IM_ACCESS_ENGINE_DIR": str(engine_dir), "PATH": path}
    env.pop("PULUMI_RELEASE_MIRROR", None)
    checkout = ROOT
    if mirror_set:
        env["PULUMI_RELEASE_MIRROR"] = str(mirror)
    else:
        checkout = mirror.parent / "checkout" / "project"
        for folder in ("scripts", "engine"):
            shutil.copytree(ROOT / folder, checkout / folder)
    return subprocess.run(
        ["bash", "scripts/install_engine.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=300
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


def fake_downloads(tmp_path: Path, served: Path) -> str:
    """A PATH whose `curl` answers every URL with the file of the same name in `served`, and logs the URL."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text(
        "#!/bin/bash\n"
        'for arg; do case "$prev" in -o) out="$arg";; esac; prev="$arg"; url="$arg"; done\n'
        f'echo "$url" >> {tmp_path / "downloads.log"}\n'
        f'cp "{served}/${{url##*/}}" "$out"\n'
    )
    curl.chmod(0o755)
    return f"{bin_dir}:/usr/bin:/bin"


def test_without_a_mirror_the_official_download_is_verified_before_it_is_installed(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    for name in (CLI_TARBALL, PLUGIN_TARBALL):
        shutil.copy(MIRROR / name, served / name)  # a build whose sums engine/SHA256SUMS pins
    engine_dir = tmp_path / "engine"

    result = install(engine_dir, tmp_path / "no-mirror", path=fake_downloads(tmp_path, served), mirror_set=False)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "downloads.log").read_text().split() == [
        f"https://get.pulumi.com/releases/sdk/{CLI_TARBALL}",
        f"https://github.com/tencentcloudstack/pulumi-tencentcloud/releases/download/v0.2.3/{PLUGIN_TARBALL}",
    ]
    assert result.stdout.count("(sha256 verified)") == 2


def test_a_download_that_does_not_match_the_pinned_sum_stops_the_setup_and_installs_nothing(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    tampered = bytearray((MIRROR / CLI_TARBALL).read_bytes())
    tampered[len(tampered) // 2] ^= 0xFF
    (served / CLI_TARBALL).write_bytes(bytes(tampered))
    engine_dir = tmp_path / "engine"

    result = install(engine_dir, tmp_path / "no-mirror", path=fake_downloads(tmp_path, served), mirror_set=False)

    assert result.returncode != 0
    assert f"{CLI_TARBALL} has sha256" in result.stderr and "refusing to install it" in result.stderr
    # A download names the one reviewed step that lets it in: pinning its sum after checking it.
    assert "published checksums" in result.stderr and f"  {CLI_TARBALL}' to engine/SHA256SUMS" in result.stderr
    assert not (engine_dir / f"pulumi-{PULUMI_VERSION}").exists()
