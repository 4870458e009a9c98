"""CAM sub-users, and the policies attached to them directly or through their groups."""

from __future__ import annotations

import re
import secrets
import sqlite3
import string
from typing import Any

from localcloud.cam.access_keys import new_access_key
from localcloud.cam.common import (
    FIRST_SUB_UIN,
    FIRST_UID,
    FLAG,
    MAX_SUB_USERS,
    PAGE,
    PER_PAGE,
    USER_NAME,
    attach,
    attached_page,
    cam,
    detach,
    find_user,
    find_user_by_uin,
)
from localcloud.errors import ApiError
from localcloud.params import Int, Str, page_of
from localcloud.service import Context
from localcloud.store import next_id

# ---- passwords ----------------------------------------------------------------------------


PASSWORD_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation)


def _follows_password_rules(password: str) -> bool:
    return len(password) >= 8 and all(any(ch in chars for ch in password) for chars in PASSWORD_CLASSES)


def _check_password(password: str) -> None:
    if not _follows_password_rules(password):
        raise ApiError(
            "InvalidParameter.PasswordViolatedRules",
            "The password must have at least 8 characters with lower and upper case letters, digits and symbols.",
        )


def _generate_password() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*"
    password = ""
    while not _follows_password_rules(password):
        password = "".join(secrets.choice(alphabet) for _ in range(32))
    return password


# ---- users ---------------------------------------------------------------------------------


def _user_fields(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "Uin": row["uin"],
        "Name": row["name"],
        "Uid": row["uid"],
        "Remark": row["remark"],
        "ConsoleLogin": row["console_login"],
        "PhoneNum": row["phone_num"],
        "CountryCode": row["country_code"],
        "Email": row["email"],
    }


USER_DETAILS = {
    "Remark": Str(max_len=255),
    "ConsoleLogin": FLAG,
    "Password": Str(max_len=128),
    "NeedResetPassword": FLAG,
    "PhoneNum": Str(max_len=20),
    "CountryCode": Str(max_len=4),
    "Email": Str(max_len=254),
}


@cam.action("AddUser", writes=True, Name=Str(required=True), UseApi=FLAG, **USER_DETAILS)
def add_user(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    name = p["Name"]
    if not re.fullmatch(USER_NAME, name):
        raise ApiError("InvalidParameter.UserNameIllegal", f"The user name must match {USER_NAME}.")
    if ctx.db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
        raise ApiError("InvalidParameter.SubUserNameInUse", f"The sub-user name `{name}` is already in use.")
    if ctx.db.execute("SELECT COUNT(*) FROM users").fetchone()[0] >= MAX_SUB_USERS:
        raise ApiError("InvalidParameter.SubUserFull", f"An account may have at most {MAX_SUB_USERS} sub-users.")
    console_login = p.get("ConsoleLogin", 0)
    password = ""
    if console_login:
        password = p.get("Password") or _generate_password()
        _check_password(password)
    uin = next_id(ctx.db, "uin", FIRST_SUB_UIN)
    uid = next_id(ctx.db, "uid", FIRST_UID)
    ctx.db.execute(
        "INSERT INTO users (uin, uid, name, remark, console_login, need_reset_password, phone_num, country_code,"
        " email, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            uin,
            uid,
            name,
            p.get("Remark", ""),
            console_login,
            p.get("NeedResetPassword", 0),
            p.get("PhoneNum", ""),
            p.get("CountryCode", ""),
            p.get("Email", ""),
            ctx.timestamp,
        ),
    )
    secret_id, secret_key = new_access_key(ctx, uin) if p.get("UseApi") else ("", "")
    return {"Uin": uin, "Name": name, "Password": password, "SecretId": secret_id, "SecretKey": secret_key, "Uid": uid}


@cam.action("GetUser", writes=False, Name=Str(required=True))
def get_user(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    user = find_user(ctx.db, p["Name"])
    login = ctx.db.execute("SELECT ip, login_time FROM console_logins WHERE uin = ?", (user["uin"],)).fetchone()
    return {
        **_user_fields(user),
        "RecentlyLoginIP": login["ip"] if login else "",
        "RecentlyLoginTime": login["login_time"] if login else "",
    }


@cam.action("UpdateUser", writes=True, Name=Str(required=True), **USER_DETAILS)
def update_user(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    user = find_user(ctx.db, p["Name"])
    if p.get("Password"):
        _check_password(p["Password"])
    columns = {
        "Remark": "remark",
        "ConsoleLogin": "console_login",
        "NeedResetPassword": "need_reset_password",
        "PhoneNum": "phone_num",
        "CountryCode": "country_code",
        "Email": "email",
    }
    for param, column in columns.items():
        if param in p:
            ctx.db.execute(f"UPDATE users SET {column} = ? WHERE uin = ?", (p[param], user["uin"]))
    return {}


@cam.action("DeleteUser", writes=True, Name=Str(required=True), Force=FLAG)
def delete_user(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    user = find_user(ctx.db, p["Name"])
    keys = ctx.db.execute("SELECT COUNT(*) FROM access_keys WHERE uin = ?", (user["uin"],)).fetchone()[0]
    if keys and not p.get("Force"):
        raise ApiError(
            "OperationDenied.HaveKeys", f"The sub-user `{user['name']}` still has API keys; delete them or set Force=1."
        )
    ctx.db.execute("DELETE FROM users WHERE uin = ?", (user["uin"],))
    ctx.db.execute(
        "DELETE FROM tags WHERE service = 'cam' AND prefix = 'uin' AND resource_id IN (?, ?)",
        (str(user["uin"]), user["name"]),
    )
    return {}


@cam.action("ListUsers", writes=False)
def list_users(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    rows = ctx.db.execute("SELECT * FROM users ORDER BY uin").fetchall()
    return {"Data": [{**_user_fields(row), "CreateTime": row["create_time"], "NickName": row["name"]} for row in rows]}


# ---- policies attached to users ------------------------------------------------------------


@cam.action("AttachUserPolicy", writes=True, PolicyId=Int(required=True), AttachUin=Int(required=True))
def attach_user_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_user_by_uin(ctx.db, p["AttachUin"], "InvalidParameter.UserNotExist")
    attach(ctx, "user_policies", "uin", p["AttachUin"], p["PolicyId"])
    return {}


@cam.action("DetachUserPolicy", writes=True, PolicyId=Int(required=True), DetachUin=Int(required=True))
def detach_user_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_user_by_uin(ctx.db, p["DetachUin"], "InvalidParameter.UserNotExist")
    detach(ctx, "user_policies", "uin", p["DetachUin"], p["PolicyId"])
    return {}


@cam.action("ListAttachedUserPolicies", writes=False, TargetUin=Int(required=True), Page=PAGE, Rp=PER_PAGE)
def list_attached_user_policies(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_user_by_uin(ctx.db, p["TargetUin"], "InvalidParameter.ParamError")
    return attached_page(ctx, "user_policies", "uin", p["TargetUin"], p)


@cam.action(
    "ListAttachedUserAllPolicies",
    writes=False,
    TargetUin=Int(required=True),
    Rp=Int(required=True, minimum=1, maximum=200),
    Page=Int(required=True, minimum=1, maximum=200),
    AttachType=Int(required=True, choices=(0, 1, 2)),
    StrategyType=Int(choices=(1, 2)),
    Keyword=Str(max_len=128),
)
def list_attached_user_all_policies(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    uin = find_user_by_uin(ctx.db, p["TargetUin"])["uin"]
    entries: dict[int, dict[str, Any]] = {}

    def entry(row: sqlite3.Row, add_time: str) -> dict[str, Any]:
        return entries.setdefault(
            row["policy_id"],
            {
                "PolicyId": str(row["policy_id"]),
                "PolicyName": row["name"],
                "Description": row["description"],
                "AddTime": add_time,
                "StrategyType": str(row["type"]),
                "CreateMode": str(row["create_mode"]),
                "Groups": [],
                "Deactived": 0,
                "DeactivedDetail": [],
            },
        )

    if p["AttachType"] in (0, 1):
        for row in ctx.db.execute(
            "SELECT policies.*, user_policies.add_time AS attached_at"
            " FROM user_policies JOIN policies USING (policy_id)"
            " WHERE uin = ? ORDER BY user_policies.rowid",
            (uin,),
        ):
            entry(row, row["attached_at"])
    if p["AttachType"] in (0, 2):
        for row in ctx.db.execute(
            "SELECT policies.*, group_policies.add_time AS attached_at, groups.group_id AS gid, groups.name AS gname"
            " FROM group_members JOIN group_policies USING (group_id) JOIN groups USING (group_id)"
            " JOIN policies USING (policy_id) WHERE group_members.uin = ? ORDER BY group_policies.rowid",
            (uin,),
        ):
            entry(row, row["attached_at"])["Groups"].append({"GroupId": row["gid"], "GroupName": row["gname"]})
    keyword = p.get("Keyword", "").lower()
    matching = [
        item
        for item in entries.values()
        if keyword in item["PolicyName"].lower() and p.get("StrategyType") in (None, int(item["StrategyType"]))
    ]
    return {"PolicyList": page_of(matching, p["Page"], p["Rp"]), "TotalNum": len(matching)}
