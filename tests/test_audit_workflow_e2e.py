"""The daily audit exactly as `.github/workflows/audit.yml` runs it, against localcloud: the step's
own script, under the shell GitHub Actions uses, with every cloud stack of the project.

Exit 1 on drift (the step passes and opens the issue), 2 when the audit cannot run (the step
fails); a holding no stack declares is reported once for the account, and full access a stack's
user holds through a group is found. An unreadable policy document is full access, never a crash.

It runs no engine: the audit reads the stack files and the account (the table of engine runs
counts none here).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.localcloud_process import CAM_LAG, ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess, call

SEED = ROOT / "localcloud" / "seeds" / "local.json"
WORKFLOW = ROOT / ".github" / "workflows" / "audit.yml"
PROJECT_FILES = ("commands", "engine", "im_access", "policy_pack")
IM_FULL_ID = 524252


def audit_step() -> dict[str, Any]:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["audit"]["steps"]
    return next(step for step in steps if step.get("id") == "audit")


def copy_project(workdir: Path) -> Path:
    """The project's commands, guardrails and stack files, as reviewed: on localcloud's route (HTTP_PROXY
    on this machine) the audit reaches every stack's account over plain HTTP by itself."""
    workdir.mkdir()
    for name in PROJECT_FILES:
        shutil.copytree(ROOT / name, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (*ROOT.glob("Pulumi.*.yaml"), ROOT / "Pulumi.yaml"):
        shutil.copy(path, workdir / path.name)
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    return workdir


def env_for(cloud: LocalCloudProcess, **extra: str) -> dict[str, str]:
    proxy = f"http://{cloud.address}"
    return {
        "PATH": "/usr/bin:/bin",
        "TENCENTCLOUD_SECRET_ID": SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
        "HTTP_PROXY": proxy,
        "http_proxy": proxy,
        "NO_PROXY": "127.0.0.1,localhost",
        **cloud.https_env(),  # localcloud's route, as scripts/with_localcloud.sh sets it
        **cloud.lag_env(),
        **extra,
    }


def run_step(project: Path, env: dict[str, str]) -> tuple[int, dict[str, str], str, str]:
    """The step's `run` script as GitHub runs it (bash --noprofile --norc -eo pipefail): its exit code,
    its step outputs, audit.md and the step summary."""
    output, summary = project / "github-output", project / "step-summary"
    for path in (output, summary, project / "audit.md"):
        path.unlink(missing_ok=True)
        path.touch()
    script = project / "step.sh"
    script.write_text(audit_step()["run"])
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=project,
        env={**env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return result.returncode, outputs, (project / "audit.md").read_text(), summary.read_text()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with LocalCloudProcess(
        tmp_path_factory.mktemp("audit-workflow") / "localcloud.db", "--seed", str(SEED), *CAM_LAG
    ) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("audit-project") / "checkout")


def test_the_workflow_command_exits_1_on_drift_and_writes_the_issue_body(
    cloud: LocalCloudProcess, project: Path
) -> None:
    cam = cloud.cam()
    read_only = next(p["PolicyId"] for p in call(cam, "ListPolicies", Keyword="QcloudIMReadOnlyAccess")["List"])
    carol = call(cam, "AddUser", Name="console-carol")["Uin"]
    call(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=carol)
    # qa-lead, whom dev and local grant read-only, joins a console-made group with IM full access.
    admins = call(cam, "CreateGroup", GroupName="console-admins")["GroupId"]
    qa_lead = call(cam, "GetUser", Name="qa-lead")["Uin"]
    call(cam, "AddUserToGroup", Info=[{"Uin": qa_lead, "GroupId": admins}])
    call(cam, "AttachGroupPolicy", PolicyId=IM_FULL_ID, AttachGroupId=admins)

    code, outputs, body, summary = run_step(project, env_for(cloud))

    assert code == 0, "drift is no failure of the step: the next step opens the issue"
    assert outputs == {"status": "1"}
    assert body.startswith("### IM access audit of stacks `dev`, `prod`, `staging`: ")
    assert summary == body
    rows = [line for line in body.splitlines() if line.startswith("| ")]
    assert rows[0] == "| kind | stack | principal | policy | policy id | what to do |"
    carol_rows = [row for row in rows if "user:console-carol" in row]
    assert len(carol_rows) == 1, "an unmanaged holding is reported once for the account, not once per stack"
    assert carol_rows[0].startswith(
        f"| unmanaged | (account) | user:console-carol | QcloudIMReadOnlyAccess | {read_only} |"
    )
    assert sum(f"| unmanaged | (account) | group:{admins} | QcloudAVCFullAccess |" in row for row in rows) == 1
    through_group = [row for row in rows if row.startswith("| full-access-off-approved | dev | user:qa-lead |")]
    assert len(through_group) == 1 and f"held through group:{admins}" in through_group[0]
    assert not any(row.startswith("| full-access-off-approved | prod |") for row in rows)
    assert "| missing | staging | user:im-stg-alice | QcloudIMReadOnlyAccess |" in body


def test_the_workflow_command_exits_2_and_fails_the_step_when_the_account_cannot_be_read(
    cloud: LocalCloudProcess, project: Path
) -> None:
    code, outputs, body, _ = run_step(project, env_for(cloud, TENCENTCLOUD_SECRET_KEY="not-the-key"))
    assert outputs == {"status": "2"}
    assert code != 0, "the step fails rather than report a partial account"
    assert body == ""


def audit_json(project: Path, cloud: LocalCloudProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-m", "commands.audit", "--format", "json", *args],
        cwd=project,
        env=env_for(cloud),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_policy_document_nested_3000_deep_is_full_access_not_a_crash(cloud: LocalCloudProcess, project: Path) -> None:
    cam = cloud.cam()
    doc = {"version": "2.0", "statement": [{"effect": "allow", "action": "name/cvm:*", "resource": "*"}]}
    created = call(cam, "CreatePolicy", PolicyName="console-deep", PolicyDocument=json.dumps(doc))
    # localcloud's own parser refuses such a document; CAM's may not: store it as if CAM had, before
    # the next write, which CAM's lagging reads then show with it.
    deep = '{"version":"2.0","statement":' + "[" * 3000 + "]" * 3000 + "}"
    with sqlite3.connect(cloud.state) as db:
        db.execute("UPDATE policies SET document = ? WHERE policy_id = ?", (deep, created["PolicyId"]))
    qa_lead = call(cam, "GetUser", Name="qa-lead")["Uin"]
    call(cam, "AttachUserPolicy", PolicyId=created["PolicyId"], AttachUin=qa_lead)

    result = audit_json(project, cloud, "--stack", "dev")

    assert result.returncode == 1, result.stderr
    findings = {(f["kind"], f["principal"], f["policy"]) for f in json.loads(result.stdout)["findings"]}
    assert ("full-access-off-approved", "user:qa-lead", "console-deep") in findings
    assert ("unmanaged", "user:qa-lead", "console-deep") in findings


@pytest.mark.parametrize("breakage", ["a stack file that is not YAML", "a checkout without its engine pins"])
def test_any_unexpected_error_exits_2_with_nothing_on_stdout(
    cloud: LocalCloudProcess, tmp_path: Path, breakage: str
) -> None:
    project = copy_project(tmp_path / "broken")
    if breakage == "a stack file that is not YAML":
        (project / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    else:
        shutil.rmtree(project / "engine")
    result = audit_json(project, cloud)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    expected = "Pulumi.dev.yaml cannot be read" if breakage == "a stack file that is not YAML" else "engine"
    assert result.stderr.startswith("audit: could not ") and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
