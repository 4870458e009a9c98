"""Everything the pack, the previews and the engine install execute is owned by the security
reviewers, derived from the imports and scripts (commands/guarded_files.py), and a change to any
of it is named in the preview summary (through the engine: tests/test_preflight_e2e.py)."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from pathlib import Path

import pytest

from commands.guarded_files import changed_guarded_files, guarded_files
from tests.localcloud_process import ROOT

SECURITY = ["@im-access/security"]


def codeowners(path: str) -> list[str]:
    """The owners of a path: the last matching CODEOWNERS pattern wins (the patterns used here)."""
    owners: list[str] = []
    for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, *teams = line.split()
        anchored = pattern.lstrip("/")
        if (
            pattern == "*"
            or (pattern.endswith("/") and path.startswith(anchored))
            or path == anchored
            or fnmatch.fnmatch(path, anchored)
        ):
            owners = teams
    return owners


def tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_the_derived_list_holds_what_the_guardrails_execute() -> None:
    guarded = guarded_files(ROOT)
    for path in (
        "policy_pack/__main__.py",
        "policy_pack/im_guardrails/full_access.py",
        "policy_pack/break_glass.yaml",
        "im_access/access.py",
        "im_access/contract.py",
        "im_access/break_glass.py",
        "commands/stack.py",
        "commands/engine.py",
        "commands/preview_summary.py",
        "scripts/setup.sh",
        "scripts/install_engine.sh",
        "scripts/engine_env.sh",
        "scripts/with_localcloud.sh",
        "engine/versions.env",
        "engine/SHA256SUMS",
        "requirements.txt",
        "requirements-dev.txt",
        "pyproject.toml",
        "localcloud/server.py",
    ):
        assert path in guarded, path
    # The program a pull request changes is not part of the guardrails.
    assert not guarded & {"__main__.py", "components/im_operator.py", "Pulumi.dev.yaml"}
    assert guarded <= set(tracked())


def test_every_file_the_guardrails_execute_is_owned_by_the_security_reviewers() -> None:
    unowned = sorted(path for path in guarded_files(ROOT) if codeowners(path) != SECURITY)
    assert unowned == [], f"add these to .github/CODEOWNERS for @im-access/security: {unowned}"


def copy_checkout(target: Path) -> Path:
    for name in tracked():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target / name)
    return target


def test_a_new_module_the_pack_imports_becomes_guarded_at_once(tmp_path: Path) -> None:
    checkout = copy_checkout(tmp_path / "pr")
    helper = checkout / "im_access" / "quiet_helper.py"
    helper.write_text("SWITCHED_OFF = True\n")
    resources = checkout / "policy_pack" / "im_guardrails" / "resources.py"
    resources.write_text("from im_access.quiet_helper import SWITCHED_OFF  # noqa: F401\n" + resources.read_text())
    assert "im_access/quiet_helper.py" in guarded_files(checkout)
    changed = ["im_access/quiet_helper.py", "policy_pack/im_guardrails/resources.py"]
    assert changed_guarded_files(checkout, ROOT) == changed


@pytest.mark.parametrize("path", ["im_access/access.py", "scripts/engine_env.sh", "requirements.txt"])
def test_a_one_line_change_outside_policy_pack_is_a_guardrails_change(tmp_path: Path, path: str) -> None:
    checkout = copy_checkout(tmp_path / "pr")
    with (checkout / path).open("a") as changed:
        changed.write("\n# one line\n")
    assert changed_guarded_files(checkout, ROOT) == [path]
    assert changed_guarded_files(copy_checkout(tmp_path / "same"), ROOT) == []
