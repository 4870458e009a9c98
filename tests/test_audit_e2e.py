"""The access audit against localcloud after a real `pulumi up` of the local stack: console-made
changes, made through the official SDK, each reported with its kind; nothing reported for what
the stack manages.

Only the engine shows: that what the provider really creates for the stack (users, attachments)
is what the audit counts as declared. The findings' logic is tested on fixed holdings
(tests/test_audit.py); one `up` serves every test of the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess, call, policy_id

# One deployed account for the module: the first test needs it as deployed, before the console
# changes of the next; run on one worker, deployed once (`make test` uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("audit")

IM_READ_ONLY = "QcloudIMReadOnlyAccess"
IM_FULL_ID = 524252
GRANT_EXPIRES = "2027-03-31"


def audit(project: EngineProject, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "commands.audit", "--stack", "local", "--project", str(project.workdir), *args]
    return subprocess.run(
        command, cwd=ROOT, env={"PATH": "/usr/bin:/bin", **(env or project.env())}, capture_output=True, text=True
    )


def findings(project: EngineProject, *args: str) -> tuple[int, set[tuple[str, str, str, Any]]]:
    result = audit(project, "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)  # exactly one JSON document
    assert document["stacks"] == ["local"] and set(document) == {"stacks", "findings"}
    # The account's own: unmanaged holdings, and unused access no stack declares.
    account_level = [f for f in document["findings"] if f["stack"] is None]
    assert all(f["kind"] in ("unmanaged", "unused") for f in account_level)
    assert all(f["stack"] == "local" for f in document["findings"] if f["kind"] not in ("unmanaged", "unused"))
    found = {(f["kind"], f["principal"], f["policy"], f["policyId"]) for f in document["findings"]}
    assert len(found) == len(document["findings"])
    return result.returncode, found


def unmanaged_read_only(project: EngineProject) -> set[str]:
    """The principals the audit finds holding IM read-only access that no stack declares."""
    _, found = findings(project)
    return {principal for kind, principal, policy, _ in found if kind == "unmanaged" and policy == IM_READ_ONLY}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    workdir = tmp_path_factory.mktemp("audit")
    with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *CAM_LAG) as cloud:
        project = EngineProject(workdir, cloud)
        for grant in project.config("local")["im-access:grants"]:
            if grant.get("user") == "qa-lead":
                grant["expires"] = GRANT_EXPIRES
        result = project.run("up")
        assert result.exit_code == 0, result.text
        yield project


def test_an_account_that_holds_what_the_stack_declares_has_no_finding(project: EngineProject) -> None:
    result = audit(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no drift" in result.stdout
    assert findings(project) == (0, set())


def test_console_made_changes_are_each_reported_with_their_kind(project: EngineProject) -> None:
    cam = project.cloud.cam()
    read_only = policy_id(cam, IM_READ_ONLY)
    qa_lead = call(cam, "GetUser", Name="qa-lead")["Uin"]
    alice = call(cam, "GetUser", Name="im-local-alice")["Uin"]
    # 2 a.m.: full access for a colleague, a managed attachment removed, a user made by hand.
    call(cam, "AttachUserPolicy", PolicyId=IM_FULL_ID, AttachUin=qa_lead)
    call(cam, "DetachUserPolicy", PolicyId=read_only, DetachUin=alice)
    carol = call(cam, "AddUser", Name="console-carol")["Uin"]
    call(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=carol)
    # A custom policy with one IM action, on the seeded group; and one with no IM action at all.
    im_doc = {"version": "2.0", "statement": [{"effect": "allow", "action": "name/im:RemoveUser", "resource": "*"}]}
    cvm_doc = {"version": "2.0", "statement": [{"effect": "allow", "action": "name/cvm:*", "resource": "*"}]}
    im_custom = call(cam, "CreatePolicy", PolicyName="console-im-remove", PolicyDocument=json.dumps(im_doc))
    cvm_custom = call(cam, "CreatePolicy", PolicyName="console-cvm", PolicyDocument=json.dumps(cvm_doc))
    call(cam, "AttachGroupPolicy", PolicyId=im_custom["PolicyId"], AttachGroupId=90001)
    call(cam, "AttachUserPolicy", PolicyId=cvm_custom["PolicyId"], AttachUin=qa_lead)
    # A role made by hand with IM full access: CAM lists roles among a policy's holders.
    trust = {
        "version": "2.0",
        "statement": [
            {"effect": "allow", "action": "name/sts:AssumeRole", "principal": {"service": ["scf.qcloud.com"]}}
        ],
    }
    call(cam, "CreateRole", RoleName="console-ops", PolicyDocument=json.dumps(trust))
    call(cam, "AttachRolePolicy", PolicyId=IM_FULL_ID, AttachRoleName="console-ops")

    code, found = findings(project)

    assert code == 1
    assert found == {
        ("unmanaged", "user:qa-lead", "QcloudAVCFullAccess", IM_FULL_ID),
        ("full-access-off-approved", "user:qa-lead", "QcloudAVCFullAccess", IM_FULL_ID),
        ("missing", "user:im-local-alice", IM_READ_ONLY, None),
        ("unmanaged", "user:console-carol", IM_READ_ONLY, read_only),
        ("unmanaged", "group:90001", "console-im-remove", im_custom["PolicyId"]),
        ("unmanaged", "role:console-ops", "QcloudAVCFullAccess", IM_FULL_ID),
    }
    table = audit(project).stdout
    assert "IM access audit of stack `local`: 6 findings" in table
    assert f"tccli cam DetachUserPolicy --DetachUin {qa_lead} --PolicyId {IM_FULL_ID}" in table
    assert f"tccli cam DetachRolePolicy --DetachRoleName console-ops --PolicyId {IM_FULL_ID}" in table
    assert "adopt: add to im-access:grants `- {user: console-carol, access: readonly}`" in table
    markdown = audit(project, "--format", "markdown").stdout
    assert markdown.startswith("### IM access audit of stack `local`: 6 findings")
    assert f"| unmanaged | (account) | role:console-ops | QcloudAVCFullAccess | {IM_FULL_ID} |" in markdown
    assert "| missing | local | user:im-local-alice | QcloudIMReadOnlyAccess |" in markdown


def test_access_kept_past_its_expiry_is_reported(project: EngineProject) -> None:
    read_only = policy_id(project.cloud.cam(), IM_READ_ONLY)
    _, on_the_day = findings(project, "--today", GRANT_EXPIRES)
    _, day_after = findings(project, "--today", "2027-04-01")

    expired = ("expired", "user:qa-lead", IM_READ_ONLY, read_only)
    assert expired not in on_the_day
    assert day_after - on_the_day == {expired}
    # Nobody has logged in or used a key since the grants, 119 days before: unused, unless 200 days is the limit.
    assert ("unused", "user:qa-lead", IM_READ_ONLY, read_only) in on_the_day
    _, patient = findings(project, "--today", GRANT_EXPIRES, "--unused-days", "200")
    assert {kind for kind, *_ in patient} == {kind for kind, *_ in on_the_day} - {"unused"}


def test_every_page_of_a_large_account_is_read(project: EngineProject) -> None:
    cam = project.cloud.cam()
    read_only = policy_id(cam, IM_READ_ONLY)
    doc = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "name/cvm:*", "resource": "*"}]})
    before = unmanaged_read_only(project)
    for index in range(200):  # more than one page of ListPolicies
        call(cam, "CreatePolicy", PolicyName=f"filler-{index}", PolicyDocument=doc)
    users = [call(cam, "AddUser", Name=f"bulk-user-{index}")["Uin"] for index in range(150)]
    groups = [call(cam, "CreateGroup", GroupName=f"bulk-group-{index}")["GroupId"] for index in range(60)]
    for uin in users:
        call(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=uin)
    for group_id in groups:  # 150 users and 60 groups: two pages of entities for one policy
        call(cam, "AttachGroupPolicy", PolicyId=read_only, AttachGroupId=group_id)

    bulk = {f"user:bulk-user-{i}" for i in range(150)} | {f"group:{g}" for g in groups}
    assert unmanaged_read_only(project) == before | bulk


def test_an_audit_that_cannot_read_the_account_says_why_and_prints_no_report(project: EngineProject) -> None:
    env = {**project.env(), "TENCENTCLOUD_SECRET_KEY": "not-the-key"}
    result = audit(project, "--format", "json", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "AuthFailure.SignatureFailure" in result.stderr
