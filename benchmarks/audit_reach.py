"""Benchmark: the audit's read of an account with reach (every holder of CAM write and sts:AssumeRole,
every role's trust, the graph and its question for every principal), against the read it made before
reach (the IM holdings and their groups' members), in the same run, on one account of 1,000 users.

Both read through the audit's paced client from localcloud with `--rate-limits`; the reach read
follows the holdings read on the same client, as the audit does, so the answers they share are not
asked twice. Printed: requests and seconds of each, and the ratios.

Run: .venv/bin/python -m benchmarks.audit_reach [--short]
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

from benchmarks.mode import is_short
from commands.cam_account import PacedReader, read_holdings, read_memberships, read_reach
from im_access.audit import reach_findings
from im_access.trust import load_trust_settings
from tests.localcloud_process import ROOT, LocalCloudProcess, call

OWNER = "100012345678"
ACTIONS = (
    "name/im:DescribeAppStatList",
    "name/im:*",
    "name/cvm:Describe*",
    "name/cam:AttachUserPolicy",
    "sts:AssumeRole",
)


def document(action: str, **statement: object) -> str:
    body = {"effect": "allow", "action": [action], "resource": ["*"], **statement}
    return json.dumps({"version": "2.0", "statement": [body]})


def build_account(cloud: LocalCloudProcess, users: int, groups: int, roles: int) -> None:
    cam = cloud.cam()
    draw = random.Random(7)
    policies = [
        call(cam, "CreatePolicy", PolicyName=f"bench-{i}", PolicyDocument=document(ACTIONS[i % len(ACTIONS)]))[
            "PolicyId"
        ]
        for i in range(max(10, users // 10))
    ]
    root = document("name/sts:AssumeRole", principal={"qcs": [f"qcs::cam::uin/{OWNER}:root"]})
    for index in range(roles):
        call(cam, "CreateRole", RoleName=f"bench-role-{index}", PolicyDocument=root)
        call(cam, "AttachRolePolicy", AttachRoleName=f"bench-role-{index}", PolicyId=draw.choice(policies))
    group_ids = [call(cam, "CreateGroup", GroupName=f"bench-group-{i}")["GroupId"] for i in range(groups)]
    for group_id in group_ids:
        call(cam, "AttachGroupPolicy", PolicyId=draw.choice(policies), AttachGroupId=group_id)
    for index in range(users):
        user = call(cam, "AddUser", Name=f"bench-user-{index}", ConsoleLogin=0)
        call(cam, "AttachUserPolicy", PolicyId=draw.choice(policies), AttachUin=user["Uin"])
        call(cam, "AddUserToGroup", Info=[{"Uid": user["Uid"], "GroupId": draw.choice(group_ids)}])


def main() -> None:
    short = is_short(__doc__)
    users, groups, roles = (40, 4, 3) if short else (1000, 50, 20)
    trust = load_trust_settings(ROOT / "policy_pack")
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "state.db"
        with LocalCloudProcess(state) as cloud:
            build_account(cloud, users, groups, roles)
        with LocalCloudProcess(state, "--rate-limits") as cloud:
            before = PacedReader(cloud.cam())
            started = time.monotonic()
            holdings = read_holdings(before)
            read_memberships(before, holdings, full_only=False)
            before_seconds = time.monotonic() - started

            after = PacedReader(cloud.cam())
            started = time.monotonic()
            holdings = read_holdings(after)
            read_memberships(after, holdings, full_only=False)
            findings = reach_findings(read_reach(after, OWNER, trust), [], {})
            after_seconds = time.monotonic() - started
    before_requests, after_requests = sum(before.requests.values()), sum(after.requests.values())
    print(f"account: {users} users, {groups} groups, {roles} roles; {len(findings)} reach findings")
    print(f"holdings only (before reach): {before_requests} requests, {before_seconds:.1f} s")
    print(f"with reach (the audit):       {after_requests} requests, {after_seconds:.1f} s")
    ratios = f"{after_requests / before_requests:.2f}x requests, {after_seconds / before_seconds:.2f}x time"
    print(f"ratio with reach/before: {ratios}")


if __name__ == "__main__":
    main()
