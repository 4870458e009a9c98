"""scripts/install_engine.sh: where the engine comes from, and that a tampered mirror is never installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from commands.engine import PULUMI_HOME, PULUMI_ROOT, PULUMI_VERSION
from tests.localcloud_process import ROOT

MIRROR = ROOT.parent / "shared" / "engine"
CLI_TARBALL = f"pulumi-v{PULUMI_VERSION}-linux-x64.tar.gz"
PLUGIN_TARBALL = "pulumi-resource-tencentcloud-v0.2.3-linux-amd64.tar.gz"


def install(engine_dir: Path, mirror: Path, path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IM_ACCESS_ENGINE_DIR": str(engine_dir), "PULUMI_RELEASE_MIRROR": str(mirror), "PATH": path}
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


def test_a_pinned_pulumi_already_on_path_is_used_as_it_is(tmp_path: Path) -> None:
    engine_dir = tmp_path / "engine"
    # The plugin is there already (only the plugins: logs of other runs may come and go meanwhile).
    shutil.copytree(PULUMI_HOME / "plugins", engine_dir / "home" / "plugins", symlinks=True)

    result = install(engine_dir, tmp_path / "no-mirror", path=f"{PULUMI_ROOT / 'bin'}:/usr/bin:/bin")

    assert result.returncode == 0, result.stderr
    assert f"using Pulumi {PULUMI_VERSION} from {PULUMI_ROOT / 'bin' / 'pulumi'}" in result.stdout
    assert (engine_dir / f"pulumi-{PULUMI_VERSION}" / "bin" / "pulumi").resolve() == PULUMI_ROOT / "bin" / "pulumi"
