"""CAM user groups: members and the policies attached to them."""

from __future__ import annotations

import sqlite3
from typing import Any

from localcloud.cam.common import (
    FIRST_GROUP_ID,
    MAX_GROUPS,
    PAGE,
    PER_PAGE,
    USER_NAME,
    attach,
    attached_page,
    cam,
    detach,
    find_group,
    find_one,
    find_user_by_uin,
)
from localcloud.errors import ApiError
from localcloud.params import Int, ListOf, Obj, Str, page_of
from localcloud.service import Context
from localcloud.store import next_id

# ---- groups --------------------------------------------------------------------------------


def _member_info(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "Uid": row["uid"],
        "Uin": row["uin"],
        "Name": row["name"],
        "PhoneNum": row["phone_num"],
        "CountryCode": row["country_code"],
        "PhoneFlag": 0,
        "Email": row["email"],
        "EmailFlag": 0,
        "UserType": 0,
        "CreateTime": row["add_time"],
        "IsReceiverOwner": 0,
        "Remark": row["remark"],
    }


def _members(db: sqlite3.Connection, group_id: int) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT users.*, group_members.add_time FROM group_members JOIN users USING (uin)"
        " WHERE group_id = ? ORDER BY group_members.rowid",
        (group_id,),
    ).fetchall()


@cam.action(
    "CreateGroup", writes=True, GroupName=Str(required=True, max_len=64, pattern=USER_NAME), Remark=Str(max_len=255)
)
def create_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if ctx.db.execute("SELECT 1 FROM groups WHERE name = ?", (p["GroupName"],)).fetchone():
        raise ApiError("InvalidParameter.GroupNameInUse", f"The group name `{p['GroupName']}` is already in use.")
    if ctx.db.execute("SELECT COUNT(*) FROM groups").fetchone()[0] >= MAX_GROUPS:
        raise ApiError("InvalidParameter.GroupFull", f"An account may have at most {MAX_GROUPS} user groups.")
    group_id = next_id(ctx.db, "group", FIRST_GROUP_ID)
    ctx.db.execute(
        "INSERT INTO groups (group_id, name, remark, create_time) VALUES (?, ?, ?, ?)",
        (group_id, p["GroupName"], p.get("Remark", ""), ctx.timestamp),
    )
    return {"GroupId": group_id}


@cam.action("GetGroup", writes=False, GroupId=Int(required=True))
def get_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    group = find_group(ctx.db, p["GroupId"], "ResourceNotFound")
    members = _members(ctx.db, group["group_id"])
    return {
        "GroupId": group["group_id"],
        "GroupName": group["name"],
        "GroupNum": len(members),
        "Remark": group["remark"],
        "CreateTime": group["create_time"],
        "UserInfo": [_member_info(m) for m in members],
    }


@cam.action("DeleteGroup", writes=True, GroupId=Int(required=True))
def delete_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_group(ctx.db, p["GroupId"], "ResourceNotFound")
    ctx.db.execute("DELETE FROM groups WHERE group_id = ?", (p["GroupId"],))
    return {}


@cam.action("ListGroups", writes=False, Page=PAGE, Rp=PER_PAGE, Keyword=Str(max_len=64))
def list_groups(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    rows = ctx.db.execute(
        "SELECT * FROM groups WHERE instr(lower(name), lower(?)) > 0 ORDER BY group_id", (p.get("Keyword", ""),)
    ).fetchall()
    page = page_of(rows, p.get("Page", 1), p.get("Rp", 20))
    return {
        "TotalNum": len(rows),
        "GroupInfo": [
            {"GroupId": r["group_id"], "GroupName": r["name"], "CreateTime": r["create_time"], "Remark": r["remark"]}
            for r in page
        ],
    }


MEMBERSHIP = ListOf(
    required=True, max_items=50, item=Obj(fields={"GroupId": Int(required=True), "Uid": Int(), "Uin": Int()})
)


def _membership_user(db: sqlite3.Connection, info: dict[str, Any]) -> sqlite3.Row:
    if "Uin" in info:
        return find_user_by_uin(db, info["Uin"])
    if "Uid" in info:
        message = f"The sub-user with Uid {info['Uid']} does not exist."
        return find_one(
            db, "SELECT * FROM users WHERE uid = ?", (info["Uid"],), "ResourceNotFound.UserNotExist", message
        )
    raise ApiError("InvalidParameter.UserUinAndUinNotAllNull", "Each Info item needs a Uin or a Uid.")


@cam.action("AddUserToGroup", writes=True, Info=MEMBERSHIP)
def add_user_to_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    for info in p["Info"]:
        group = find_group(ctx.db, info["GroupId"], "InvalidParameter.GroupNotExist")
        user = _membership_user(ctx.db, info)
        ctx.db.execute(
            "INSERT OR IGNORE INTO group_members (group_id, uin, add_time) VALUES (?, ?, ?)",
            (group["group_id"], user["uin"], ctx.timestamp),
        )
    return {}


@cam.action("RemoveUserFromGroup", writes=True, Info=MEMBERSHIP)
def remove_user_from_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    for info in p["Info"]:
        group = find_group(ctx.db, info["GroupId"], "ResourceNotFound")
        user = _membership_user(ctx.db, info)
        removed = ctx.db.execute(
            "DELETE FROM group_members WHERE group_id = ? AND uin = ?", (group["group_id"], user["uin"])
        )
        if removed.rowcount == 0:
            raise ApiError("FailedOperation", f"`{user['name']}` is not a member of group {group['group_id']}.")
    return {}


@cam.action("ListUsersForGroup", writes=False, GroupId=Int(required=True), Page=PAGE, Rp=PER_PAGE)
def list_users_for_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_group(ctx.db, p["GroupId"])
    members = _members(ctx.db, p["GroupId"])
    page = page_of(members, p.get("Page", 1), p.get("Rp", 20))
    return {"TotalNum": len(members), "UserInfo": [_member_info(m) for m in page]}


@cam.action("AttachGroupPolicy", writes=True, PolicyId=Int(required=True), AttachGroupId=Int(required=True))
def attach_group_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_group(ctx.db, p["AttachGroupId"])
    attach(ctx, "group_policies", "group_id", p["AttachGroupId"], p["PolicyId"])
    return {}


@cam.action("DetachGroupPolicy", writes=True, PolicyId=Int(required=True), DetachGroupId=Int(required=True))
def detach_group_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_group(ctx.db, p["DetachGroupId"])
    detach(ctx, "group_policies", "group_id", p["DetachGroupId"], p["PolicyId"])
    return {}


@cam.action(
    "ListAttachedGroupPolicies",
    writes=False,
    TargetGroupId=Int(required=True),
    Page=PAGE,
    Rp=PER_PAGE,
    Keyword=Str(max_len=128),
)
def list_attached_group_policies(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_group(ctx.db, p["TargetGroupId"], "InvalidParameter.ParamError")
    return attached_page(ctx, "group_policies", "group_id", p["TargetGroupId"], p)
