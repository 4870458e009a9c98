"""The audit's reach read of a live account (commands/cam_account.read_reach) against localcloud,
through the official SDK: a role becomes a hop by the ARN STS takes it by, its name or its id."""

from __future__ import annotations

import json
from pathlib import Path

from commands.cam_account import PacedReader, read_reach
from im_access.trust import load_trust_settings
from tests.localcloud_process import ROOT, LocalCloudProcess, call

OWNER = "100012345678"  # localcloud's account


def document(action: str, resource: str = "*", **statement: object) -> str:
    return json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": action, "resource": resource, **statement}]}
    )


def test_a_user_allowed_to_assume_a_role_by_its_id_reaches_what_the_role_holds(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db") as cloud:
        cam = cloud.cam()
        root = document("name/sts:AssumeRole", principal={"qcs": [f"qcs::cam::uin/{OWNER}:root"]})
        role_id = call(cam, "CreateRole", RoleName="break-glass", PolicyDocument=root)["RoleId"]
        cam_all = call(cam, "CreatePolicy", PolicyName="console-cam-all", PolicyDocument=document("name/cam:*"))
        call(cam, "AttachRolePolicy", AttachRoleName="break-glass", PolicyId=cam_all["PolicyId"])
        for user, target in (("by-id", role_id), ("elsewhere", "1")):
            uin = call(cam, "AddUser", Name=user, ConsoleLogin=0)["Uin"]
            arn = f"qcs::cam::uin/{OWNER}:role/{target}"
            assume = call(
                cam, "CreatePolicy", PolicyName=f"assume-{user}", PolicyDocument=document("sts:AssumeRole", arn)
            )
            call(cam, "AttachUserPolicy", AttachUin=uin, PolicyId=assume["PolicyId"])

        graph = read_reach(PacedReader(cloud.cam()), OWNER, load_trust_settings(ROOT / "policy_pack"))

    path = graph.reach("user:by-id")
    assert path is not None and path.through_role
    assert path.describe().startswith(
        "user:by-id -> role:break-glass (trusts the account root; policy assume-by-id allows sts:AssumeRole)"
    )
    assert graph.reach("user:elsewhere") is None
