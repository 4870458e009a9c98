"""The requirement files `make setup` installs: every package pinned exactly with its sha256 hashes,
made from the .in files (`make lock`) and installed with pip's hash checking on."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.localcloud_process import ROOT

LOCKED = ("requirements.txt", "requirements-dev.txt")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})+)", re.M)


def pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    entries = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    found: dict[str, str] = {canonicalize_name(m.group(1)): m.group(2) for m in _PIN.finditer(text)}
    assert len(found) == len(entries), f"{name}: lines that are not `name==version` with sha256 hashes: {entries}"
    return found


def wanted(name: str) -> list[Requirement]:
    lines = [line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


@pytest.mark.parametrize("name", LOCKED)
def test_every_package_is_pinned_exactly_with_its_hashes(name: str) -> None:
    assert pins(name)


def test_the_locked_versions_are_the_ones_the_in_files_accept_and_the_runtime_is_tested_as_pinned() -> None:
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    for source, locked in (("requirements.in", runtime), ("requirements-dev.in", dev), ("requirements.in", dev)):
        for requirement in wanted(source):
            version = locked.get(canonicalize_name(requirement.name))
            assert version is not None, f"{requirement.name} of {source} is not locked: run `make lock`"
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{requirement.name}=={version} is outside {source}'s {requirement.specifier}: run `make lock`"
            )
    assert {name: dev[name] for name in runtime} == runtime


def test_setup_installs_with_hash_checking_and_fetches_nothing_unpinned() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    installs = [line for line in setup.splitlines() if "pip install" in line and not line.lstrip().startswith("#")]
    assert installs
    for line in installs:
        hashed = "--require-hashes -r requirements-dev.txt" in line
        assert hashed or "--no-deps --no-build-isolation -e ." in line, f"an install without hash checking: {line}"
    assert "../requirements.txt" in (ROOT / "policy_pack" / "requirements.txt").read_text()


def test_the_locked_dev_requirements_are_what_this_environment_holds() -> None:
    # Offline: every hashed pin already satisfied by the environment `make setup` built.
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--require-hashes", "-q"]
    result = subprocess.run(
        [*command, "-r", "requirements-dev.txt"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
