"""The reach model on its own: every CAM and STS action classified from the official SDK, deny by
default; the graph's paths; and the audit's reading of it."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.sts.v20180813 import sts_client

from im_access.audit import Declared, reach_findings
from im_access.cam_actions import ACTIONS_FILE, allows_assume_role, cam_write_in
from im_access.reach import Admits, Grant, ReachGraph, judge_document, judge_preset

OWNER = "100012345678"


def sdk_actions(module: object) -> set[str]:
    return set(re.findall(r'self\.call\("(\w+)"', Path(module.__file__).read_text()))  # type: ignore[attr-defined]


def test_the_data_classifies_exactly_the_actions_the_official_sdk_names() -> None:
    with ACTIONS_FILE.open() as handle:
        first = handle.readline()
        rows = list(csv.DictReader(handle))
    assert "tencentcloud-sdk-python-cam" in first  # its provenance
    listed = {(row["service"], row["action"]) for row in rows}
    assert listed == {("cam", a) for a in sdk_actions(cam_client)} | {("sts", a) for a in sdk_actions(sts_client)}
    reads = {row["action"] for row in rows if row["service"] == "cam" and row["kind"] == "read"}
    assert reads and all(action.startswith(("Describe", "Get", "List")) for action in reads)
    assert {row["kind"] for row in rows} == {"read", "write", "assume", "own-session"}


@pytest.mark.parametrize(
    ("pattern", "write"),
    [
        ("name/cam:AttachUserPolicy", "AttachUserPolicy"),
        ("cam:createoidcconfig", "CreateOIDCConfig"),
        ("  name/CAM:Update*  ", "UpdateAccessKey"),
        ("\uff4e\uff41\uff4d\uff45/\uff43\uff41\uff4d:AddUser", "AddUser"),  # fullwidth: the same once normalised
        ("*", "AddUser"),
        ("name/*:*", "AddUser"),
        ("c?m:SetMfaFlag", "SetMfaFlag"),
        ("name/cam:Get*", None),
        ("name/cam:List*", None),
        ("name/cam:DescribeRoleList", None),
        ("name/im:*", None),
        ("name/sts:AssumeRole", None),
    ],
)
def test_a_pattern_is_cam_write_when_it_covers_one_write_action(pattern: str, write: str | None) -> None:
    assert cam_write_in(pattern) == write


def test_an_action_the_sdk_does_not_name_is_write() -> None:
    found = cam_write_in("name/cam:GrantEverythingV2")
    assert found is not None and found.startswith("GrantEverythingV2, which the official SDK does not list")


def test_assume_role_is_read_from_every_spelling_that_covers_it() -> None:
    assert all(allows_assume_role(p) for p in ("sts:AssumeRole", "name/sts:*", "*", "STS:assume*"))
    assert not any(allows_assume_role(p) for p in ("sts:GetFederationToken", "name/cam:*", "sts:AssumeRoleWith*"))


def document(*actions: str, resource: str = "*") -> str:
    return json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": list(actions), "resource": resource}]}
    )


def test_two_hops_through_a_role_trusting_the_account_root_give_the_shortest_path() -> None:
    graph = ReachGraph(OWNER)
    graph.hold("user:hopper", judge_document("policy assume", document("sts:AssumeRole")))
    graph.hold("role:break-glass", judge_document("policy cam-all", document("name/cam:*")))
    graph.role("role:break-glass", "break-glass", Admits(accounts=frozenset({OWNER})))
    path = graph.reach("user:hopper")
    assert path is not None and path.kind == "cam-write"
    assert path.describe() == (
        "user:hopper -> role:break-glass (trusts the account root; policy assume allows sts:AssumeRole)"
        " -> policy cam-all allows 'name/cam:*', which covers cam:AddUser"
    )
    # The role counts CAM write only through who may become it.
    assert graph.reach("role:break-glass", cam_write=False) is None


def test_an_assume_permission_scoped_to_another_role_is_no_hop() -> None:
    graph = ReachGraph(OWNER)
    scoped = document("sts:AssumeRole", resource=f"qcs::cam::uin/{OWNER}:roleName/other")
    graph.hold("user:hopper", judge_document("policy assume", scoped))
    graph.hold("role:admin", judge_preset("AdministratorAccess", None, {}))
    graph.role("role:admin", "admin", Admits(accounts=frozenset({OWNER})))
    assert graph.reach("user:hopper") is None


ROLE_ID = "4611686018427397919"


def admin_role_reached_through(resource: str, role_id: str | None) -> bool:
    graph = ReachGraph(OWNER)
    graph.hold("user:hopper", judge_document("policy assume", document("sts:AssumeRole", resource=resource)))
    graph.hold("role:admin", judge_preset("AdministratorAccess", None, {}))
    graph.role("role:admin", "admin", Admits(accounts=frozenset({OWNER})), role_id=role_id)
    return graph.reach("user:hopper") is not None


@pytest.mark.parametrize(
    ("resource", "role_id", "reached"),
    [
        # STS takes a role by its id too (qcs::cam::uin/<owner>:role/<roleId>): the same hop.
        (f"qcs::cam::uin/{OWNER}:role/{ROLE_ID}", ROLE_ID, True),
        (f"QCS::CAM::UIN/{OWNER}:ROLE/{ROLE_ID}", ROLE_ID, True),
        (f"qcs::cam::uin/{OWNER}:role/4611686*", ROLE_ID, True),
        (f"qcs::cam::uin/{OWNER}:role/1", ROLE_ID, False),
        # A role whose id is not known (made by this run, or known by name alone): any pattern that could
        # match an id of the account's roles covers it, however the wildcards are spelled.
        (f"qcs::cam::uin/{OWNER}:role/4611686*", None, True),
        ("qcs::cam::uin/*:role/?*", None, True),
        (f"qcs::cam::uin/{OWNER}:role/{ROLE_ID}", None, True),
        ("*role/*", None, True),
        (f"qcs::cam::uin/{OWNER}:*ole/*", None, True),
        (f"qcs::cam::uin/{OWNER}:r?le/*", None, True),
        (f"qcs::cam::uin/{OWNER}:rol[e]/*", None, True),
        (f"qcs::cam::uin/{OWNER}:role*/4611*", None, True),
        ("qcs::cam::uin/200098765432:role/*", None, False),  # another account's roles
        (f"qcs::cam::uin/{OWNER}:role/admin", None, False),  # no id: ids are digits
        (f"qcs::cam::uin/{OWNER}:roleName/adm*", None, True),
        (f"qcs::cam::uin/{OWNER}:roleName/other*", None, False),
    ],
)
def test_an_assume_permission_reaches_a_role_by_its_name_or_its_id(
    resource: str, role_id: str | None, reached: bool
) -> None:
    assert admin_role_reached_through(resource, role_id) is reached


def test_a_path_unknown_until_up_is_the_answer_only_when_nothing_else_reaches() -> None:
    graph = ReachGraph(OWNER)
    graph.hold("user:a", Grant("the policy of X", pending=".policyId of X"))
    assert graph.reach("user:a").kind == "pending"  # type: ignore[union-attr]
    graph.join("user:a", "group:7")
    graph.hold("group:7", judge_preset("QcloudAVCFullAccess", None, {}))
    assert graph.reach("user:a").kind == "full"  # type: ignore[union-attr]


def test_presets_are_known_by_name_or_listed_id_and_any_other_is_unidentified() -> None:
    assert judge_preset(" qcloudavcfullaccess ", None, {}).full_im
    assert judge_preset(None, 900001, {900001: "QcloudIMReadOnlyAccess"}).reaches(cam_write=True) is None
    assert judge_preset(None, 42, {}).unidentified
    assert judge_preset("QcloudIMSFullAccess", None, {}).unidentified  # Image Moderation: not a preset we know


def test_the_audit_reports_reach_beyond_a_principals_own_im_policy_and_not_what_it_lists() -> None:
    graph = ReachGraph(OWNER)
    graph.hold("user:direct", judge_preset("QcloudAVCFullAccess", None, {}))  # the other findings' to report
    graph.hold("user:writer", judge_document("policy helper", document("name/cam:AttachUserPolicy")))
    graph.hold("group:90002", judge_document("policy cam-all", document("name/cam:*")))
    graph.join("user:member", "group:90002")
    graph.hold("group:7", judge_preset("QcloudAVCFullAccess", None, {}))  # full through a group: the others'
    graph.join("user:in-group", "group:7")
    graph.hold("role:im-admin", judge_preset("QcloudAVCFullAccess", None, {}))  # full through a role: reach's
    graph.role("role:im-admin", "im-admin", Admits(frozenset({"user:hopper"})))
    graph.hold("user:hopper", judge_preset("QcloudIMReadOnlyAccess", None, {}))
    declared = {"dev": [Declared("dev", "user:writer", "QcloudIMReadOnlyAccess", None)]}
    found = {f.principal: f for f in reach_findings(graph, ["group:90002", "group:7"], declared)}
    assert set(found) == {"user:writer", "user:member", "user:hopper"}
    assert (
        "user:hopper -> role:im-admin (its trust names user:hopper) -> preset QcloudAVCFullAccess"
        in found["user:hopper"].fix
    )
    assert found["user:writer"].stack == "dev" and found["user:member"].stack is None
    assert "user:member -> group:90002 (member) -> policy cam-all allows 'name/cam:*'" in found["user:member"].fix
