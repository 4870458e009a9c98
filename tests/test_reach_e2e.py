"""Reach through the real engine and the real account reader: what only they can show.

- `make local-up` of a program that attaches a CAM-write policy with an id carrying no dependency on
  it (route 1) fails: the engine sends the attachment's resolved id to the pack at `up`, where no
  test double stands in for it.
- The audit, reading localcloud with the official SDK, reports the same route made by hand, and a role
  trusting the account root that a user may become, each with its path, and exits 1.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.checkout import checkout_copy
from tests.engine_project import require_engine
from tests.localcloud_process import CAM_LAG, LocalCloudProcess, call

# Appended to the program: route 1, the id taken from the policy's future with no dependency on it.
ROUTE_1 = """
import pulumi as _pulumi
from tencentcloud_iac_pulumi import cam as _cam

_helper = _cam.Policy(
    "platform-helper",
    name="platform-helper",
    document='{"version":"2.0","statement":[{"effect":"allow","action":["name/cam:AttachUserPolicy"],"resource":["*"]}]}',
)
_cam.UserPolicyAttachment(
    "alice-helper",
    user_name="im-local-alice",
    policy_id=_pulumi.Output(set(), _helper.id.future(), _pulumi.Output.from_input(True).is_known()),
)
"""
OWNER = "100012345678"


def _document(action: str, **statement: object) -> str:
    return json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": [action], "resource": ["*"], **statement}]}
    )


def test_route_1_fails_make_local_up_and_the_audit_reports_the_routes_made_by_hand(tmp_path: Path) -> None:
    require_engine()
    checkout = checkout_copy(tmp_path / "checkout")
    with (checkout / "__main__.py").open("a") as program:
        program.write(ROUTE_1)
    state = tmp_path / "localcloud" / "state.db"
    env = {**os.environ, "LOCALCLOUD_STATE": str(state), "LOCALCLOUD_PORT": "0", "LOCALCLOUD_ARGS": " ".join(CAM_LAG)}

    up = subprocess.run(["make", "local-up"], cwd=checkout, env=env, capture_output=True, text=True, timeout=900)
    output = up.stdout + up.stderr
    assert up.returncode != 0, output
    assert "im-full-access-across-the-stack" in output
    assert "is neither a policy of the stack nor a preset listed" in output.replace("\n", " ")

    # By hand, in the console: the same route on qa-lead, and two hops through a role.
    with LocalCloudProcess(state, *CAM_LAG) as cloud:
        cam = cloud.cam()
        helper = call(
            cam, "CreatePolicy", PolicyName="console-helper", PolicyDocument=_document("name/cam:AttachUserPolicy")
        )
        qa = call(cam, "GetUser", Name="qa-lead")
        call(cam, "AttachUserPolicy", AttachUin=qa["Uin"], PolicyId=helper["PolicyId"])
        root = _document("name/sts:AssumeRole", principal={"qcs": [f"qcs::cam::uin/{OWNER}:root"]})
        call(cam, "CreateRole", RoleName="break-glass", PolicyDocument=root)
        admin = call(cam, "CreatePolicy", PolicyName="console-cam-all", PolicyDocument=_document("name/cam:*"))
        call(cam, "AttachRolePolicy", AttachRoleName="break-glass", PolicyId=admin["PolicyId"])
        assume = call(cam, "CreatePolicy", PolicyName="console-assume", PolicyDocument=_document("name/sts:AssumeRole"))
        call(cam, "AddUser", Name="hopper", ConsoleLogin=0)
        hopper = call(cam, "GetUser", Name="hopper")
        call(cam, "AttachUserPolicy", AttachUin=hopper["Uin"], PolicyId=assume["PolicyId"])

    audit = subprocess.run(
        [
            "bash",
            "scripts/with_localcloud.sh",
            ".venv/bin/python",
            "-m",
            "commands.audit",
            "--stack",
            "local",
            "--format",
            "json",
        ],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert audit.returncode == 1, audit.stdout + audit.stderr
    reach = {f["principal"]: f for f in json.loads(audit.stdout)["findings"] if f["kind"] == "reach"}
    assert "user:qa-lead" in reach and reach["user:qa-lead"]["policy"] == "policy console-helper"
    table = subprocess.run(
        ["bash", "scripts/with_localcloud.sh", ".venv/bin/python", "-m", "commands.audit", "--stack", "local"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert table.returncode == 1
    assert "user:qa-lead -> policy console-helper allows 'name/cam:AttachUserPolicy'" in table.stdout
    assert (
        "user:hopper -> role:break-glass (trusts the account root; policy console-assume allows sts:AssumeRole)"
        " -> policy console-cam-all allows 'name/cam:*'" in table.stdout
    ), table.stdout
