"""The read-only CAM identity that previews and the audit use (security/preview-identity-policy.json)
is enough for a real preview of every stack and for the audit, and not enough to change anything.

Only the engine shows: which CAM calls the provider really makes in a preview (of a deployed stack:
reads of what it holds; of a cloud stack: the invokes) and that an `up` with this identity fails
before changing anything. One cloud stack stands for the others: in a preview of a stack with
nothing deployed the provider's only calls are the account check and the preset lookup
(getPolicies, the program's one invoke), the same for every stack."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess, call, error_code

# The tests share one localcloud and the deployed local stack (a 20 s `up`): they run on one worker,
# so it is deployed once (`make test` uses --dist loadgroup).
DEPLOYED = pytest.mark.xdist_group("preview-identity-deployed")

POLICY_FILE = ROOT / "security" / "preview-identity-policy.json"
PREVIEW_KEY = ("AKIDpreviewonly", "preview-only-secret-key")
READ_VERBS = ("Get", "List", "Describe")


IDENTITY = ("--restricted-identity", *PREVIEW_KEY, str(POLICY_FILE))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    """The local stack deployed by the deploy identity; the project then signs with the preview identity."""
    workdir = tmp_path_factory.mktemp("preview-identity")
    with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *IDENTITY, *CAM_LAG) as cloud:
        project = EngineProject(workdir, cloud)
        assert project.run("up").exit_code == 0  # deployed by the deploy identity
        project.credentials = PREVIEW_KEY
        yield project


def test_the_preview_policy_allows_read_actions_only() -> None:
    document = json.loads(POLICY_FILE.read_text())
    actions = [action for statement in document["statement"] for action in statement["action"]]
    assert all(statement["effect"] == "allow" for statement in document["statement"])
    assert actions and all(action.split(":", 1)[1].startswith(READ_VERBS) for action in actions), actions
    assert not any("*" in action for action in actions)


@DEPLOYED
def test_the_preview_identity_can_call_nothing_else(project: EngineProject) -> None:
    reader = project.cloud.cam(secret_key=PREVIEW_KEY[1], secret_id=PREVIEW_KEY[0])
    assert call(reader, "ListPolicies", Rp=10)["TotalNum"] > 0
    assert error_code(reader, "AddUser", Name="intruder") == "UnauthorizedOperation"
    assert error_code(reader, "ListGroups") == "UnauthorizedOperation"
    assert error_code(reader, "CreateAccessKey", TargetUin=1) == "UnauthorizedOperation"


@DEPLOYED
def test_a_preview_of_the_deployed_local_stack_runs_with_the_preview_identity(project: EngineProject) -> None:
    result = project.run("preview", "local")
    assert result.exit_code == 0, result.text
    assert result.summary.changes == []


@DEPLOYED
def test_a_preview_of_a_cloud_stack_runs_with_the_preview_identity(project: EngineProject) -> None:
    result = project.run("preview", "prod")  # a stack of its own: nothing of it is deployed
    assert result.exit_code == 0, result.text
    assert result.summary.changes, "a preview against an empty stack shows what it would create"


@DEPLOYED
def test_the_audit_runs_with_the_preview_identity(project: EngineProject) -> None:
    command = [sys.executable, "-m", "commands.audit", "--stack", "local", "--project", str(project.workdir)]
    env = {"PATH": "/usr/bin:/bin", **project.env()}
    result = subprocess.run([*command, "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"stacks": ["local"], "findings": []}

    # A group with IM full access that a stack's user joins: the audit reads its members too.
    root = project.cloud.cam(secret_key=SECRET_KEY, secret_id=SECRET_ID)
    group = call(root, "CreateGroup", GroupName="console-admins")["GroupId"]
    call(root, "AddUserToGroup", Info=[{"Uin": call(root, "GetUser", Name="qa-lead")["Uin"], "GroupId": group}])
    call(root, "AttachGroupPolicy", PolicyId=524252, AttachGroupId=group)
    result = subprocess.run([*command, "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    found = {(f["kind"], f["principal"]) for f in json.loads(result.stdout)["findings"]}
    assert found == {("unmanaged", f"group:{group}"), ("full-access-off-approved", "user:qa-lead")}


@DEPLOYED
def test_an_up_with_the_preview_identity_changes_nothing(project: EngineProject) -> None:
    project.config("local")["im-access:operators"].append({"name": "im-local-mallory", "access": "readonly"})
    result = project.run("up")
    project.config("local")["im-access:operators"].pop()

    assert result.exit_code != 0
    assert "UnauthorizedOperation" in result.text
    root = project.cloud.cam(secret_key=SECRET_KEY, secret_id=SECRET_ID)
    assert error_code(root, "GetUser", Name="im-local-mallory") == "ResourceNotFound.UserNotExist"
