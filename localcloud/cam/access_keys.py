"""CAM API keys of sub-users (SecretId/SecretKey)."""

from __future__ import annotations

import secrets
import sqlite3
import string
from typing import Any

from localcloud.cam.common import (
    MAX_ACCESS_KEYS,
    cam,
    find_one,
    find_user_by_uin,
)
from localcloud.errors import ApiError
from localcloud.params import Int, Str
from localcloud.service import Context


def new_access_key(ctx: Context, uin: int, description: str = "") -> tuple[str, str]:
    count = ctx.db.execute("SELECT COUNT(*) FROM access_keys WHERE uin = ?", (uin,)).fetchone()[0]
    if count >= MAX_ACCESS_KEYS:
        raise ApiError("OperationDenied.AccessKeyOverLimit", f"A sub-user may have at most {MAX_ACCESS_KEYS} API keys.")
    alphabet = string.ascii_letters + string.digits
    access_key_id = "AKID" + "".join(secrets.choice(alphabet) for _ in range(32))
    # The SecretKey is shown once and never stored, as in the real service.
    secret_key = "".join(secrets.choice(alphabet) for _ in range(32))
    ctx.db.execute(
        "INSERT INTO access_keys (access_key_id, uin, status, description, create_time) VALUES (?, ?, 'Active', ?, ?)",
        (access_key_id, uin, description, ctx.timestamp),
    )
    return access_key_id, secret_key


MISSING_USER = "InvalidParameter.UserNotExist"  # an unknown TargetUin, as the key actions' lists name it

# ---- API keys ------------------------------------------------------------------------------


def _access_key(db: sqlite3.Connection, access_key_id: str, uin: int) -> sqlite3.Row:
    query = "SELECT * FROM access_keys WHERE access_key_id = ? AND uin = ?"
    message = f"The API key {access_key_id} does not exist for {uin}."
    return find_one(db, query, (access_key_id, uin), "ResourceNotFound.SecretNotExist", message)


def _target(ctx: Context, p: dict[str, Any]) -> sqlite3.Row | None:
    """The sub-user TargetUin names; without TargetUin, the caller as CAM defaults to (None when the
    caller is no sub-user localcloud lists: the account's root, a role session, a restricted key)."""
    if "TargetUin" in p:
        return find_user_by_uin(ctx.db, p["TargetUin"], MISSING_USER)
    uin = ctx.caller.uin if ctx.caller else ctx.owner_uin
    return ctx.db.execute("SELECT * FROM users WHERE uin = ?", (uin,)).fetchone()


@cam.action("CreateAccessKey", writes=True, TargetUin=Int(), Description=Str(max_len=1024))
def create_access_key(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    user = _target(ctx, p)
    if user is None:
        # A new key of the root would have to sign requests too; localcloud takes only the keys it starts with.
        raise ApiError("UnsupportedOperation", "localcloud creates API keys for sub-users only: give TargetUin.")
    access_key_id, secret_key = new_access_key(ctx, user["uin"], p.get("Description", ""))
    return {
        "AccessKey": {
            "AccessKeyId": access_key_id,
            "SecretAccessKey": secret_key,
            "Status": "Active",
            "CreateTime": ctx.timestamp,
            "Description": p.get("Description", ""),
        }
    }


@cam.action("ListAccessKeys", writes=False, TargetUin=Int())
def list_access_keys(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    user = _target(ctx, p)
    if user is None:  # the caller's own key, the one localcloud knows it by
        own = ctx.caller.secret_id if ctx.caller else ""
        return {"AccessKeys": [{"AccessKeyId": own, "Status": "Active", "CreateTime": "", "Description": ""}]}
    rows = ctx.db.execute(
        "SELECT * FROM access_keys WHERE uin = ? ORDER BY create_time, rowid", (user["uin"],)
    ).fetchall()
    return {
        "AccessKeys": [
            {
                "AccessKeyId": r["access_key_id"],
                "Status": r["status"],
                "CreateTime": r["create_time"],
                "Description": r["description"],
            }
            for r in rows
        ]
    }


@cam.action(
    "UpdateAccessKey",
    writes=True,
    AccessKeyId=Str(required=True),
    Status=Str(required=True, choices=("Active", "Inactive")),
    TargetUin=Int(required=True),
)
def update_access_key(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    key = _access_key(ctx.db, p["AccessKeyId"], find_user_by_uin(ctx.db, p["TargetUin"], MISSING_USER)["uin"])
    ctx.db.execute("UPDATE access_keys SET status = ? WHERE access_key_id = ?", (p["Status"], key["access_key_id"]))
    return {}


@cam.action("DeleteAccessKey", writes=True, AccessKeyId=Str(required=True), TargetUin=Int(required=True))
def delete_access_key(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    key = _access_key(ctx.db, p["AccessKeyId"], find_user_by_uin(ctx.db, p["TargetUin"], MISSING_USER)["uin"])
    ctx.db.execute("DELETE FROM access_keys WHERE access_key_id = ?", (key["access_key_id"],))
    return {}
