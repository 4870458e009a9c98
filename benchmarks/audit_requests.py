"""Benchmark: the audit's per-policy read of an account with 1,000 users, 50 groups, 294 custom
policies and localcloud's 306 presets, against a per-user scan of the same account in the same run;
then its read of how the IM holders use their access (DescribeSubAccounts for 50 users at a time),
against GetUser for each.

Each pair reads through the same paced client (CAM's rate limits, client side) from localcloud with
its documented rate limits (on by default), and must find the same. Printed: requests and seconds
of each, and the ratios.

Run: .venv/bin/python -m benchmarks.audit_requests
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.mode import is_short
from commands.cam_account import PacedReader, day_of, read_holdings, read_usage
from im_access.access import document_grants_some_im, inspect_policy_document, preset_im_level
from im_access.audit import Holding, KeyUse, Usage
from localcloud.catalogue import PRESETS
from tests.localcloud_process import NO_RATE_LIMITS, LocalCloudProcess, call, policy_id

FULL = {"users": 1000, "groups": 50, "custom_policies": 294}  # beside localcloud's 306 presets, as an account lists
SHORT = {"users": 12, "groups": 2, "custom_policies": 8}
IM_SHARE = 0.3  # of the custom policies allow some IM action


def document(im: bool, index: int) -> str:
    action = f"name/im:DescribeApp{index}" if im else f"name/cvm:Describe{index}"
    return json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": [action], "resource": ["*"]}]})


def build_account(cloud: LocalCloudProcess, sizes: dict[str, int]) -> None:
    cam = cloud.cam()
    draw = random.Random(7)
    policies = [p["PolicyId"] for p in call(cam, "ListPolicies", Rp=200)["List"]]
    # The IM presets are past the first page of presets; every account here has IM holders, small ones too.
    im_presets = [policy_id(cam, name) for name in ("QcloudIMReadOnlyAccess", "QcloudAVCFullAccess")]
    policies = list(dict.fromkeys(policies + im_presets))
    for index in range(sizes["custom_policies"]):
        created = call(
            cam, "CreatePolicy", PolicyName=f"bench-{index}", PolicyDocument=document(draw.random() < IM_SHARE, index)
        )
        policies.append(created["PolicyId"])
    for index in range(sizes["users"]):
        uin = call(cam, "AddUser", Name=f"bench-user-{index}")["Uin"]
        for chosen in draw.sample(policies, 2) if index else im_presets:
            call(cam, "AttachUserPolicy", PolicyId=chosen, AttachUin=uin)
    for index in range(sizes["groups"]):
        group_id = call(cam, "CreateGroup", GroupName=f"bench-group-{index}")["GroupId"]
        call(cam, "AttachGroupPolicy", PolicyId=draw.choice(policies), AttachGroupId=group_id)


def per_user_scan(reader: PacedReader) -> list[Holding]:
    """The baseline: every user's and every group's attachments, then each custom policy's document."""
    documents: dict[int, str] = {}
    holdings: list[Holding] = []

    def judge(principal: str, policy: dict[str, object], uin: int | None) -> None:
        policy_id, name = int(str(policy["PolicyId"])), str(policy["PolicyName"])
        since = day_of(policy.get("AddTime"))
        if policy["PolicyType"] == "QCS":
            level = preset_im_level(name, policy_id)
            if level is not None:
                holdings.append(Holding(principal, name, policy_id, level == "full", True, uin, since))
            return
        if policy_id not in documents:
            documents[policy_id] = reader.call("GetPolicy", PolicyId=policy_id)["PolicyDocument"]
        if document_grants_some_im(documents[policy_id]):
            full = inspect_policy_document(documents[policy_id]).grants_all_of_im
            holdings.append(Holding(principal, name, policy_id, full, False, uin, since))

    for user in reader.call("ListUsers")["Data"]:
        for policy in reader.pages("ListAttachedUserPolicies", "List", TargetUin=user["Uin"]):
            judge(f"user:{user['Name']}", policy, int(user["Uin"]))
    for group in reader.pages("ListGroups", "GroupInfo"):
        for policy in reader.pages("ListAttachedGroupPolicies", "List", TargetGroupId=group["GroupId"]):
            judge(f"group:{group['GroupId']}", policy, None)
    return holdings


def per_user_usage(reader: PacedReader, users: dict[str, int]) -> dict[str, Usage]:
    """The baseline: GetUser (RecentlyLoginTime) for each user, then the same key reads."""
    usage: dict[str, Usage] = {}
    for principal, uin in users.items():
        login = day_of(reader.call("GetUser", Name=principal.partition(":")[2]).get("RecentlyLoginTime"))
        keys = reader.call("ListAccessKeys", TargetUin=uin).get("AccessKeys") or []
        rows = reader.call("GetSecurityLastUsed", SecretIdList=[k["AccessKeyId"] for k in keys]) if keys else {}
        used = {r["SecretId"]: day_of(r.get("LastSecretUsedDate")) for r in rows.get("SecretIdLastUsedRows") or []}
        usage[principal.casefold()] = Usage(
            login, tuple(KeyUse(k["AccessKeyId"], k["Status"], used.get(k["AccessKeyId"])) for k in keys)
        )
    return usage


def measure_usage(
    cloud: LocalCloudProcess, read: Callable[[PacedReader, dict[str, int]], dict[str, Usage]], users: dict[str, int]
) -> tuple[dict[str, Usage], int, float]:
    reader = PacedReader(cloud.cam())
    started = time.monotonic()
    usage = read(reader, users)
    return usage, sum(reader.requests.values()), time.monotonic() - started


def measure(cloud: LocalCloudProcess, read: Callable[[PacedReader], list[Holding]]) -> tuple[set[Holding], int, float]:
    reader = PacedReader(cloud.cam())
    started = time.monotonic()
    holdings = read(reader)
    return set(holdings), sum(reader.requests.values()), time.monotonic() - started


def main() -> None:
    sizes = SHORT if is_short(__doc__) else FULL
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "state.db"
        with LocalCloudProcess(state, NO_RATE_LIMITS) as cloud:  # building it is not what is measured
            build_account(cloud, sizes)
        with LocalCloudProcess(state, "--rate-limits") as cloud:
            per_policy, policy_requests, policy_seconds = measure(cloud, read_holdings)
            per_user, user_requests, user_seconds = measure(cloud, per_user_scan)
            holders = {h.principal: h.uin for h in per_policy if h.uin is not None}
            batched, batched_requests, batched_seconds = measure_usage(cloud, read_usage, holders)
            one_by_one, one_requests, one_seconds = measure_usage(cloud, per_user_usage, holders)
    assert per_policy == per_user, "the two reads disagree"
    assert batched == one_by_one, "the two usage reads disagree"
    print(
        f"account: {sizes['users']} users, {sizes['groups']} groups, {sizes['custom_policies']} custom and"
        f" {len(PRESETS)} preset policies; {len(per_policy)} IM holdings"
    )
    print(f"per policy (the audit): {policy_requests} requests, {policy_seconds:.1f} s")
    print(f"per user (baseline):    {user_requests} requests, {user_seconds:.1f} s")
    ratios = f"{user_requests / policy_requests:.1f}x requests, {user_seconds / policy_seconds:.1f}x time"
    print(f"ratio baseline/audit: {ratios}")
    print(f"usage of {len(holders)} IM holders")
    print(f"batched (the audit):    {batched_requests} requests, {batched_seconds:.1f} s")
    print(f"GetUser per user:       {one_requests} requests, {one_seconds:.1f} s")
    ratios = f"{one_requests / batched_requests:.1f}x requests, {one_seconds / batched_seconds:.1f}x time"
    print(f"ratio baseline/audit: {ratios}")


if __name__ == "__main__":
    main()
