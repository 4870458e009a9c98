"""`make adopt` through the real engine against localcloud: users, a group and attachments made by hand
with the official SDK ("in the console") are adopted into the stack file, the preview imports them and
creates nothing in the cloud, `up` takes them under code without touching them, and the audit then
reports none of them."""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess, call, policy_id

pytestmark = pytest.mark.xdist_group("adopt")

READ_ONLY, FULL = "QcloudIMReadOnlyAccess", "QcloudAVCFullAccess"
CLOUD = "tencentcloud:"


def described(cam: Any, action: str, **params: Any) -> dict[str, Any]:
    """An answer without its RequestId, to compare what CAM holds before and after."""
    return {key: value for key, value in call(cam, action, **params).items() if key != "RequestId"}


def run(project: EngineProject, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", module, "--stack", "local", "--project", str(project.workdir), *args]
    env = {"PATH": "/usr/bin:/bin", **project.env()}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def unmanaged(project: EngineProject) -> set[str]:
    result = run(project, "commands.audit", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return {f["principal"] for f in json.loads(result.stdout)["findings"] if f["kind"] == "unmanaged"}


def reload_stack_file(project: EngineProject) -> str:
    """The stack file as adopt left it, as the project's config for the next engine run."""
    text = (project.workdir / "Pulumi.local.yaml").read_text()
    project.configs["local"] = yaml.safe_load(text)
    return text


def cloud_changes(changes: list[tuple[str, str]]) -> dict[str, str]:
    """Resource name -> operation, for the cloud's resources (components are the program's own)."""
    return {urn.rsplit("::", 1)[1]: op for op, urn in changes if f"${CLOUD}" in urn or f"::{CLOUD}" in urn}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    workdir = tmp_path_factory.mktemp("adopt")
    with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *CAM_LAG) as cloud:
        project = EngineProject(workdir, cloud)
        result = project.run("up")
        assert result.exit_code == 0, result.text
        yield project


def test_console_made_operators_and_a_group_are_imported_untouched(project: EngineProject) -> None:
    cam = project.cloud.cam()
    read_only = policy_id(cam, READ_ONLY)
    carol = call(cam, "AddUser", Name="console-carol", ConsoleLogin=1, UseApi=1, Remark="made by hand", Email="c@x.io")
    dave = call(cam, "AddUser", Name="console-dave", UseApi=1)
    group = call(cam, "CreateGroup", GroupName="console-support")["GroupId"]
    for uin in (carol["Uin"], dave["Uin"]):
        call(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=uin)
    call(cam, "AttachGroupPolicy", PolicyId=read_only, AttachGroupId=group)
    before = {name: described(cam, "GetUser", Name=name) for name in ("console-carol", "console-dave")}
    keys_before = {uin: described(cam, "ListAccessKeys", TargetUin=uin) for uin in (carol["Uin"], dave["Uin"])}
    flags_before = {uin: described(cam, "DescribeSafeAuthFlagColl", SubUin=uin) for uin in keys_before}
    assert {"user:console-carol", "user:console-dave", f"group:{group}"} <= unmanaged(project)
    # The reviewed file, comments and all, as the team keeps it.
    original = (ROOT / "Pulumi.local.yaml").read_text()
    (project.workdir / "Pulumi.local.yaml").write_text(original)

    adopted = run(project, "commands.adopt", "--as", "operator")

    assert adopted.returncode == 0, adopted.stderr
    assert "adopt: wrote Pulumi.local.yaml (3 entries added)" in adopted.stdout
    text = reload_stack_file(project)
    removed = [line for line in difflib.ndiff(original.splitlines(), text.splitlines()) if line.startswith("- ")]
    assert removed == []  # comments, order and quoting kept: lines are only added
    config = project.config("local")
    carol_entry = next(e for e in config["im-access:operators"] if e["name"] == "console-carol")
    assert carol_entry == {
        "name": "console-carol",
        "access": "readonly",
        "console": True,
        "apiKey": True,
        "email": "c@x.io",
        "remark": "made by hand",
        "adopted": {"uin": str(carol["Uin"]), "policyId": read_only},
    }
    assert {"group": group, "access": "readonly", "adopted": {"policyId": read_only}} in config["im-access:grants"]

    preview = project.run("preview")
    assert preview.exit_code == 0, preview.text
    assert cloud_changes(preview.summary.changes) == {
        **{f"console-{who}-{part}": "import" for who in ("carol", "dave") for part in ("user", "im-access", "mfa")},
        f"grant-group-{group}-im-access": "import",
    }
    up = project.run("up")
    assert up.exit_code == 0, up.text
    assert set(cloud_changes(up.summary.changes).values()) == {"import"}
    assert project.run("preview", expect_no_changes=True).exit_code == 0

    # Nothing changed in the account: the same users, the same keys; no password was reset (the
    # provider only sets one in an update, and there was none).
    assert {name: described(cam, "GetUser", Name=name) for name in before} == before
    assert {uin: described(cam, "ListAccessKeys", TargetUin=uin) for uin in keys_before} == keys_before
    assert {uin: described(cam, "DescribeSafeAuthFlagColl", SubUin=uin) for uin in keys_before} == flags_before
    assert not {"user:console-carol", "user:console-dave", f"group:{group}"} & unmanaged(project)
    operators = project.outputs()["operators"]
    assert operators["console-carol"]["adopted"] is True and operators["console-carol"]["password"] is None
    assert operators["im-local-alice"]["adopted"] is False and operators["im-local-alice"]["password"]
    adopted_file = (project.workdir / "Pulumi.local.yaml").read_text()
    again = run(project, "commands.adopt", "--as", "operator")
    assert again.returncode == 0 and "nothing to adopt; Pulumi.local.yaml is unchanged" in again.stdout
    assert (project.workdir / "Pulumi.local.yaml").read_text() == adopted_file


def test_full_access_off_an_approved_stack_is_written_as_found_and_the_guardrails_say_so(
    project: EngineProject,
) -> None:
    cam = project.cloud.cam()
    erin = call(cam, "AddUser", Name="console-erin", ConsoleLogin=1)
    call(cam, "AttachUserPolicy", PolicyId=policy_id(cam, FULL), AttachUin=erin["Uin"])
    project.write_stack_file("local")

    adopted = run(project, "commands.adopt")  # as a grant, the default

    assert adopted.returncode == 0, adopted.stderr
    assert "user:console-erin holds QcloudAVCFullAccess" in adopted.stdout
    text = reload_stack_file(project)
    line = next(line for line in text.splitlines() if "user: console-erin" in line)
    assert "# IM full access off an approved stack: the guardrails refuse it on local" in line
    preview = project.run("preview")
    assert preview.exit_code == 1
    assert any("grant-user-console-erin" in urn for _, _, urn, _ in preview.summary.violations)
    assert cloud_changes(preview.summary.changes) == {"grant-user-console-erin-im-access": "import"}


def test_adopt_without_credentials_changes_nothing_and_says_why(project: EngineProject) -> None:
    project.write_stack_file("local")
    before = (project.workdir / "Pulumi.local.yaml").read_text()
    env = {"PATH": "/usr/bin:/bin", **project.env(), "TENCENTCLOUD_SECRET_KEY": "not-the-key"}
    command = [sys.executable, "-m", "commands.adopt", "--stack", "local", "--project", str(project.workdir)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert "adopt: could not adopt for stack local:" in result.stderr
    assert (project.workdir / "Pulumi.local.yaml").read_text() == before
