"""What the CAM actions share: the service table, account limits, lookups and attachments."""

from __future__ import annotations

import sqlite3
from typing import Any

from localcloud.errors import ApiError
from localcloud.params import Int, page_of
from localcloud.service import Context, Service

cam = Service("cam", "2019-01-16")

# Limits of a real account (see the README of localcloud).
MAX_SUB_USERS = 1000
MAX_GROUPS = 300
MAX_ATTACHED_POLICIES = 200
MAX_ACCESS_KEYS = 2
MAX_CUSTOM_POLICIES = 1500

USER_NAME = r"[A-Za-z0-9+=,.@_-]{1,64}"
POLICY_NAME = r"[A-Za-z0-9+=,.@_-]{1,128}"
FIRST_SUB_UIN = 100020000001
FIRST_UID = 11000001
FIRST_GROUP_ID = 10001
FIRST_CUSTOM_POLICY_ID = 200000001

PAGE = Int(minimum=1, maximum=200)
PER_PAGE = Int(minimum=1, maximum=200)
FLAG = Int(choices=(0, 1))


# ---- lookups -------------------------------------------------------------------------------


def find_one(db: sqlite3.Connection, query: str, values: tuple[object, ...], code: str, message: str) -> sqlite3.Row:
    """The single row `query` finds with `values`, or the API error that says it is missing."""
    row = db.execute(query, values).fetchone()
    if row is None:
        raise ApiError(code, message)
    return row


def find_user(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    query = "SELECT * FROM users WHERE name = ?"
    return find_one(db, query, (name,), "ResourceNotFound.UserNotExist", f"The sub-user `{name}` does not exist.")


def find_user_by_uin(db: sqlite3.Connection, uin: int, code: str = "ResourceNotFound.UserNotExist") -> sqlite3.Row:
    return find_one(
        db, "SELECT * FROM users WHERE uin = ?", (uin,), code, f"The sub-user with Uin {uin} does not exist."
    )


# Each action answers a missing principal with its own code, as the official per-action lists
# (localcloud/reference/api.json) name them; where a list names none, the common `ResourceNotFound`.
def find_group(db: sqlite3.Connection, group_id: int, code: str = "ResourceNotFound.GroupNotExist") -> sqlite3.Row:
    query = "SELECT * FROM groups WHERE group_id = ?"
    return find_one(db, query, (group_id,), code, f"The user group {group_id} does not exist.")


def find_policy(db: sqlite3.Connection, policy_id: int, code: str = "ResourceNotFound.PolicyIdNotFound") -> sqlite3.Row:
    query = "SELECT * FROM policies WHERE policy_id = ?"
    return find_one(db, query, (policy_id,), code, f"The policy {policy_id} does not exist.")


# ---- attachments ----------------------------------------------------------------------------


def policy_info(ctx: Context, row: sqlite3.Row, add_time: str) -> dict[str, Any]:
    """An attachment as ListAttached{User,Group}Policies show it (AttachPolicyInfo)."""
    return {
        "PolicyId": row["policy_id"],
        "PolicyName": row["name"],
        "AddTime": add_time,
        "CreateMode": row["create_mode"],
        "PolicyType": "QCS" if row["type"] == 2 else "User",
        "Remark": row["description"],
        "OperateOwnerUin": str(ctx.owner_uin),
        "OperateUin": str(ctx.owner_uin),
        "OperateUinType": 0,
        "Deactived": 0,
        "DeactivedDetail": [],
    }


# The principal (user or group) is checked by the caller, each with its own error code.
def attach(ctx: Context, table: str, column: str, principal: int, policy_id: int) -> None:
    find_policy(ctx.db, policy_id, "InvalidParameter.PolicyIdNotExist")
    exists = ctx.db.execute(
        f"SELECT 1 FROM {table} WHERE {column} = ? AND policy_id = ?", (principal, policy_id)
    ).fetchone()
    if exists:
        return  # attaching twice changes nothing
    attached = ctx.db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (principal,)).fetchone()[0]
    if attached >= MAX_ATTACHED_POLICIES:
        raise ApiError(
            "InvalidParameter.AttachmentFull",
            f"At most {MAX_ATTACHED_POLICIES} policies can be attached to one user or group.",
        )
    ctx.db.execute(
        f"INSERT INTO {table} ({column}, policy_id, add_time) VALUES (?, ?, ?)", (principal, policy_id, ctx.timestamp)
    )


def detach(ctx: Context, table: str, column: str, principal: int, policy_id: int) -> None:
    find_policy(ctx.db, policy_id, "InvalidParameter.PolicyIdNotExist")
    deleted = ctx.db.execute(f"DELETE FROM {table} WHERE {column} = ? AND policy_id = ?", (principal, policy_id))
    if deleted.rowcount == 0:
        raise ApiError("InvalidParameter.PolicyIdNotExist", f"The policy {policy_id} is not attached to {principal}.")


def attached_page(ctx: Context, table: str, column: str, principal: int, p: dict[str, Any]) -> dict[str, Any]:
    keyword = p.get("Keyword", "")
    rows = ctx.db.execute(
        f"SELECT policies.*, {table}.add_time AS attached_at FROM {table} JOIN policies USING (policy_id)"
        f" WHERE {column} = ? AND instr(lower(policies.name), lower(?)) > 0 ORDER BY {table}.rowid",
        (principal, keyword),
    ).fetchall()
    page = page_of(rows, p.get("Page", 1), p.get("Rp", 20))
    return {"TotalNum": len(rows), "List": [policy_info(ctx, row, row["attached_at"]) for row in page]}
