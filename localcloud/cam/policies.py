"""CAM policies: the preset catalogue and custom policies."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from localcloud.cam.common import (
    FIRST_CUSTOM_POLICY_ID,
    MAX_CUSTOM_POLICIES,
    PAGE,
    PER_PAGE,
    POLICY_NAME,
    cam,
    find_one,
    find_policy,
)
from localcloud.cam.policy_document import check_policy_document
from localcloud.catalogue import PRESETS
from localcloud.errors import ApiError
from localcloud.params import Int, ListOf, Obj, Str, page_of
from localcloud.service import Context
from localcloud.store import next_id


def install_presets(db: sqlite3.Connection, timestamp: str) -> None:
    for preset in PRESETS:
        db.execute(
            "INSERT OR IGNORE INTO policies (policy_id, name, type, description, document, service_type, create_mode,"
            " add_time, update_time) VALUES (?, ?, 2, ?, ?, ?, 2, ?, ?)",
            (
                preset.policy_id,
                preset.name,
                preset.description,
                preset.document,
                preset.service_type,
                timestamp,
                timestamp,
            ),
        )


# ---- policies ------------------------------------------------------------------------------


@cam.action(
    "ListPolicies",
    writes=False,
    Rp=PER_PAGE,
    Page=PAGE,
    Scope=Str(choices=("All", "QCS", "Local")),
    Keyword=Str(max_len=128),
)
def list_policies(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    types = {"All": (1, 2), "QCS": (2, 2), "Local": (1, 1)}[p.get("Scope", "All")]
    rows = ctx.db.execute(
        "SELECT policies.*, (SELECT COUNT(*) FROM user_policies u WHERE u.policy_id = policies.policy_id)"
        " + (SELECT COUNT(*) FROM group_policies g WHERE g.policy_id = policies.policy_id)"
        " + (SELECT COUNT(*) FROM role_policies r WHERE r.policy_id = policies.policy_id) AS attachments"
        " FROM policies WHERE type IN (?, ?) AND instr(lower(name), lower(?)) > 0 ORDER BY policy_id",
        (*types, p.get("Keyword", "")),
    ).fetchall()
    page = page_of(rows, p.get("Page", 1), p.get("Rp", 20))
    return {
        "TotalNum": len(rows),
        "List": [
            {
                "PolicyId": r["policy_id"],
                "PolicyName": r["name"],
                "AddTime": r["add_time"],
                "Type": r["type"],
                "Description": r["description"],
                "CreateMode": r["create_mode"],
                "Attachments": r["attachments"],
                "ServiceType": r["service_type"],
                "IsAttached": int(r["attachments"] > 0),
                "Deactived": 0,
                "DeactivedDetail": [],
                "IsServiceLinkedPolicy": 0,
                "AttachEntityCount": r["attachments"],
                "AttachEntityBoundaryCount": 0,
                "UpdateTime": r["update_time"],
                "Tags": [],
            }
            for r in page
        ],
        "ServiceTypeList": [],
    }


@cam.action(
    "ListEntitiesForPolicy",
    writes=False,
    PolicyId=Int(required=True),
    Page=PAGE,
    Rp=PER_PAGE,
    EntityFilter=Str(choices=("All", "User", "Group", "Role")),
)
def list_entities_for_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """The users, groups and roles a policy is attached to, in that order, each in attachment order."""
    find_policy(ctx.db, p["PolicyId"], "InvalidParameter.PolicyIdError")
    entity_filter = p.get("EntityFilter", "All")
    users = ctx.db.execute(
        "SELECT users.uid AS id, users.name, users.uin, 1 AS related_type, user_policies.add_time"
        " FROM user_policies JOIN users USING (uin) WHERE policy_id = ? ORDER BY user_policies.rowid",
        (p["PolicyId"],),
    ).fetchall()
    groups = ctx.db.execute(
        "SELECT groups.group_id AS id, groups.name, 0 AS uin, 2 AS related_type, group_policies.add_time"
        " FROM group_policies JOIN groups USING (group_id) WHERE policy_id = ? ORDER BY group_policies.rowid",
        (p["PolicyId"],),
    ).fetchall()
    roles = ctx.db.execute(
        "SELECT roles.role_id AS id, roles.name, 0 AS uin, 3 AS related_type, role_policies.add_time"
        " FROM role_policies JOIN roles USING (role_id) WHERE policy_id = ? ORDER BY role_policies.rowid",
        (p["PolicyId"],),
    ).fetchall()
    rows = {"All": [*users, *groups, *roles], "User": users, "Group": groups, "Role": roles}[entity_filter]
    page = page_of(rows, p.get("Page", 1), p.get("Rp", 20))
    return {
        "TotalNum": len(rows),
        "List": [
            {
                "Id": str(r["id"]),
                "Name": r["name"],
                "Uin": r["uin"],
                "RelatedType": r["related_type"],
                "AttachmentTime": r["add_time"],
            }
            for r in page
        ],
    }


@cam.action("GetPolicy", writes=False, PolicyId=Int(required=True))
def get_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    row = find_policy(ctx.db, p["PolicyId"])
    return {
        "PolicyName": row["name"],
        "Description": row["description"],
        "Type": row["type"],
        "AddTime": row["add_time"],
        "UpdateTime": row["update_time"],
        "PolicyDocument": row["document"],
        "PresetAlias": "",
        "IsServiceLinkedRolePolicy": 0,
        "Tags": [],
    }


POLICY_TAGS = ListOf(max_items=50, item=Obj(fields={"Key": Str(required=True), "Value": Str()}))


@cam.action(
    "CreatePolicy",
    writes=True,
    PolicyName=Str(required=True),
    PolicyDocument=Str(required=True),
    Description=Str(max_len=300),
    Tags=POLICY_TAGS,
)
def create_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if not re.fullmatch(POLICY_NAME, p["PolicyName"]):
        raise ApiError("InvalidParameter.PolicyNameError", f"The policy name must match {POLICY_NAME}.")
    if ctx.db.execute("SELECT 1 FROM policies WHERE name = ?", (p["PolicyName"],)).fetchone():
        raise ApiError("FailedOperation.PolicyNameInUse", f"The policy name `{p['PolicyName']}` is already in use.")
    if ctx.db.execute("SELECT COUNT(*) FROM policies WHERE type = 1").fetchone()[0] >= MAX_CUSTOM_POLICIES:
        raise ApiError(
            "FailedOperation.PolicyFull", f"An account may have at most {MAX_CUSTOM_POLICIES} custom policies."
        )
    check_policy_document(p["PolicyDocument"])
    policy_id = next_id(ctx.db, "policy", FIRST_CUSTOM_POLICY_ID)
    ctx.db.execute(
        "INSERT INTO policies (policy_id, name, type, description, document, create_mode, add_time, update_time)"
        " VALUES (?, ?, 1, ?, ?, 2, ?, ?)",
        (policy_id, p["PolicyName"], p.get("Description", ""), p["PolicyDocument"], ctx.timestamp, ctx.timestamp),
    )
    return {"PolicyId": policy_id}


@cam.action(
    "UpdatePolicy",
    writes=True,
    PolicyId=Int(),
    PolicyName=Str(),
    Description=Str(max_len=300),
    PolicyDocument=Str(),
    Alias=Str(max_len=300),
)
def update_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if "PolicyId" in p:
        row = find_policy(ctx.db, p["PolicyId"])
    elif "PolicyName" in p:
        message = f"The policy `{p['PolicyName']}` does not exist."
        query = "SELECT * FROM policies WHERE name = ?"
        row = find_one(ctx.db, query, (p["PolicyName"],), "ResourceNotFound.PolicyIdNotFound", message)
    else:
        raise ApiError("MissingParameter", "The request is missing a required parameter `PolicyId` or `PolicyName`.")
    if row["type"] == 2:
        raise ApiError("FailedOperation", f"The preset policy `{row['name']}` cannot be changed.")
    if "PolicyDocument" in p:
        check_policy_document(p["PolicyDocument"])
    new_name = p.get("PolicyName", row["name"])
    if new_name != row["name"] and ctx.db.execute("SELECT 1 FROM policies WHERE name = ?", (new_name,)).fetchone():
        raise ApiError("FailedOperation.PolicyNameInUse", f"The policy name `{new_name}` is already in use.")
    ctx.db.execute(
        "UPDATE policies SET name = ?, description = ?, document = ?, update_time = ? WHERE policy_id = ?",
        (
            new_name,
            p.get("Description", row["description"]),
            p.get("PolicyDocument", row["document"]),
            ctx.timestamp,
            row["policy_id"],
        ),
    )
    return {"PolicyId": row["policy_id"]}


@cam.action("DeletePolicy", writes=True, PolicyId=ListOf(required=True, item=Int(), max_items=100))
def delete_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if not p["PolicyId"]:
        raise ApiError("MissingParameter", "The request is missing a required parameter `PolicyId`.")
    for policy_id in p["PolicyId"]:
        if find_policy(ctx.db, policy_id)["type"] == 2:
            raise ApiError("FailedOperation", f"The preset policy {policy_id} cannot be deleted.")
        ctx.db.execute("DELETE FROM policies WHERE policy_id = ?", (policy_id,))
    return {}
