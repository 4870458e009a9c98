"""One program across accounts, through the real engine and provider against localcloud holding two
accounts: a stack of a member account deploys there, and only there, by assuming a role of that
account with the management account's key (`tencentcloud:assumeRole`); credentials of the wrong
account are stopped by the provider's own `allowedAccountIds`, even when the engine is run without
this project's commands; and the audit reads each account through its role.

Only the engine shows: the provider assuming the role and acting in the member account alone, and
its own account pin stopping a run. The pack's refusal of a pin to an account the approvals do not
name for the stack is proved through the analyzer protocol (tests/test_account_pin.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from commands import engine
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess, call

MANAGEMENT = "100012345678"  # localcloud's main account, whose root key the runs hold
MEMBER = "200098765432"
MEMBER_KEY = ("AKIDmemberaccount", "member-account-secret")
DEPLOY_ROLE = "im-access-deploy"
ROLE_ARN = f"qcs::cam::uin/{MEMBER}:roleName/{DEPLOY_ROLE}"
OPERATOR = "im-member-reader"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    state = tmp_path_factory.mktemp("member-account") / "state.db"
    with LocalCloudProcess(state, "--seed", str(SEED), "--other-account-key", *MEMBER_KEY, MEMBER, *CAM_LAG) as process:
        member = process.cam(secret_id=MEMBER_KEY[0], secret_key=MEMBER_KEY[1])
        # What the member account's one-time bootstrap creates: a role the management account may assume.
        trust = {
            "version": "2.0",
            "statement": [
                {
                    "effect": "allow",
                    "action": "name/sts:AssumeRole",
                    "principal": {"qcs": [f"qcs::cam::uin/{MANAGEMENT}:root"]},
                }
            ],
        }
        call(member, "CreateRole", RoleName=DEPLOY_ROLE, PolicyDocument=json.dumps(trust))
        admin = {"version": "2.0", "statement": [{"effect": "allow", "action": ["*"], "resource": ["*"]}]}
        policy = call(member, "CreatePolicy", PolicyName="im-access-deploy", PolicyDocument=json.dumps(admin))
        call(member, "AttachRolePolicy", PolicyId=policy["PolicyId"], AttachRoleName=DEPLOY_ROLE)
        yield process


def user_names(cloud: LocalCloudProcess, key: tuple[str, str] = (SECRET_ID, SECRET_KEY)) -> set[str]:
    """The account's users, once CAM's reads show every change made so far."""
    cloud.settle()
    cam = cloud.cam(secret_id=key[0], secret_key=key[1])
    return {user["Name"] for user in call(cam, "ListUsers")["Data"]}


def member_stack(project: EngineProject, **provider: Any) -> Path:
    """The staging stack, moved to the member account: one read-only operator, acting through its role.
    Returns the guardrails whose reviewed approvals name the member account for staging."""
    guardrails = project.workdir / "policy_pack"
    approvals = guardrails / "approvals.yaml"
    reviewed = yaml.safe_load(approvals.read_text())
    reviewed["stacks"]["staging"]["account"] = MEMBER
    approvals.write_text(yaml.safe_dump(reviewed))
    config = project.config("staging")
    for key in [k for k in config if k != "tencentcloud:region"]:
        del config[key]
    config.update(
        {
            "im-access:ownerUin": MEMBER,
            "tencentcloud:allowedAccountIds": [MEMBER],
            "tencentcloud:assumeRole": {"roleArn": ROLE_ARN, "sessionName": "im-access-staging"},
            "im-access:operators": [{"name": OPERATOR, "access": "readonly", "email": "reader@example.com"}],
            **provider,
        }
    )
    return guardrails


def test_a_member_account_stack_deploys_there_and_nowhere_else(cloud: LocalCloudProcess, tmp_path: Path) -> None:
    project = EngineProject(tmp_path, cloud)  # signs with the management account's root key
    guardrails = member_stack(project)
    before = user_names(cloud)

    run = project.run("up", "staging", guardrails=guardrails)

    assert run.exit_code == 0, run.output
    line = (
        f"preflight: acting on account {MEMBER} as caller qcs::sts:{MEMBER}:assumed-role/{DEPLOY_ROLE} (stack staging)"
    )
    assert line in "".join(run.output)
    assert OPERATOR in user_names(cloud, MEMBER_KEY)
    assert user_names(cloud) == before  # the management account is untouched
    outputs = project.outputs("staging")
    assert str(outputs["operators"][OPERATOR]["userName"]) == OPERATOR

    removed = project.run("destroy", "staging", guardrails=guardrails)
    assert removed.exit_code == 0, removed.output
    assert OPERATOR not in user_names(cloud, MEMBER_KEY)


def test_a_role_the_member_account_does_not_let_this_account_assume_stops_the_preflight(
    cloud: LocalCloudProcess, tmp_path: Path
) -> None:
    project = EngineProject(tmp_path, cloud)
    role = {"roleArn": f"qcs::cam::uin/{MEMBER}:roleName/no-such-role", "sessionName": "im-access-staging"}
    guardrails = member_stack(project, **{"tencentcloud:assumeRole": role})
    before = user_names(cloud, MEMBER_KEY)
    with pytest.raises(Exception, match="STS refused to let these credentials assume") as raised:
        project.run("preview", "staging", guardrails=guardrails)
    assert "no-such-role" in str(raised.value) and "Previewing" not in str(raised.value)
    assert user_names(cloud, MEMBER_KEY) == before


def raw_engine_env(project: EngineProject, key: tuple[str, str]) -> dict[str, str]:
    """The engine's environment with `key`, for a run that skips this project's commands (and so the preflight)."""
    return {**project.env(), "TENCENTCLOUD_SECRET_ID": key[0], "TENCENTCLOUD_SECRET_KEY": key[1]}


def test_credentials_of_another_account_are_stopped_by_the_providers_pin(
    cloud: LocalCloudProcess, tmp_path: Path
) -> None:
    """The engine run directly, as `pulumi up` would be, on the local stack (pinned to the management
    account) with the member account's root key: the provider refuses before any resource."""
    project = EngineProject(tmp_path, cloud)
    project.write_stack_file("local")
    before = (user_names(cloud), user_names(cloud, MEMBER_KEY))
    env = raw_engine_env(project, MEMBER_KEY)
    with (
        engine.open_stack("local", tmp_path, env, create=True) as stack,
        pytest.raises(auto.errors.CommandError) as raised,
    ):
        stack.up(color="never")
    assert f"TencentCloud account ID not allowed: {MEMBER}" in str(raised.value)
    assert (user_names(cloud), user_names(cloud, MEMBER_KEY)) == before


def test_the_audit_reads_the_member_account_through_its_role(cloud: LocalCloudProcess, tmp_path: Path) -> None:
    """An operator made by hand in the member account is unmanaged there, and only there."""
    project = tmp_path / "project"
    project.mkdir()
    member = cloud.cam(secret_id=MEMBER_KEY[0], secret_key=MEMBER_KEY[1])
    created = call(member, "AddUser", Name="console-eve", ConsoleLogin=1, UseApi=0)
    presets = call(member, "ListPolicies", Keyword="QcloudIMReadOnlyAccess", Scope="QCS")["List"]
    call(member, "AttachUserPolicy", PolicyId=presets[0]["PolicyId"], AttachUin=created["Uin"])
    staging = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    staging["config"] = {
        "tencentcloud:region": "ap-guangzhou",
        "im-access:ownerUin": MEMBER,
        "tencentcloud:allowedAccountIds": [MEMBER],
        "tencentcloud:assumeRole": {"roleArn": ROLE_ARN, "sessionName": "im-access-audit"},
    }
    (project / "Pulumi.staging.yaml").write_text(yaml.safe_dump(staging))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "HTTP"))},
        "TENCENTCLOUD_SECRET_ID": SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
        "HTTP_PROXY": f"http://{cloud.address}",
        "NO_PROXY": "127.0.0.1,localhost",
        **cloud.https_env(),  # localcloud's route, as scripts/with_localcloud.sh sets it
        **cloud.lag_env(),
    }
    command = [sys.executable, "-m", "commands.audit", "--stack", "staging", "--project", str(project)]
    command += ["--format", "json"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert (
        f"preflight: acting on account {MEMBER} as caller qcs::sts:{MEMBER}:assumed-role/{DEPLOY_ROLE}" in result.stderr
    )
    findings = json.loads(result.stdout)["findings"]
    unmanaged = sorted(f["principal"] for f in findings if f["kind"] == "unmanaged")
    # The management account's console users (the seed's qa-lead among them) are not this account's. The
    # deploy role, made in the member account outside every stack, holds admin: CAM lists roles among a
    # policy's holders, so the audit shows it.
    assert unmanaged == ["role:im-access-deploy", "user:console-eve"], findings
    assert result.returncode == 1, result.stderr
