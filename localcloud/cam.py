"""CAM (`cam`, version 2019-01-16): users, groups, policies, attachments and API keys."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import string
from typing import Any

from localcloud.catalogue import PRESETS
from localcloud.errors import ApiError
from localcloud.params import Int, ListOf, Obj, Str, page_of
from localcloud.service import Context, Service
from localcloud.store import next_id

cam = Service("cam", "2019-01-16")

# Limits of a real account (see the README of localcloud).
MAX_SUB_USERS = 1000
MAX_GROUPS = 300
MAX_ATTACHED_POLICIES = 200
MAX_ACCESS_KEYS = 2
MAX_CUSTOM_POLICIES = 1500
MAX_POLICY_DOCUMENT = 6144

USER_NAME = r"[A-Za-z0-9+=,.@_-]{1,64}"
POLICY_NAME = r"[A-Za-z0-9+=,.@_-]{1,128}"
FIRST_SUB_UIN = 100020000001
FIRST_UID = 11000001
FIRST_GROUP_ID = 10001
FIRST_CUSTOM_POLICY_ID = 200000001

PAGE = Int(minimum=1)
PER_PAGE = Int(minimum=1, maximum=200)
FLAG = Int(choices=(0, 1))


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


# ---- lookups -------------------------------------------------------------------------------


def _user_by_name(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    row = db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise ApiError("ResourceNotFound.UserNotExist", f"The sub-user `{name}` does not exist.")
    return row


def _user_by_uin(db: sqlite3.Connection, uin: int, code: str = "ResourceNotFound.UserNotExist") -> sqlite3.Row:
    row = db.execute("SELECT * FROM users WHERE uin = ?", (uin,)).fetchone()
    if row is None:
        raise ApiError(code, f"The sub-user with Uin {uin} does not exist.")
    return row


def _group(db: sqlite3.Connection, group_id: int) -> sqlite3.Row:
    row = db.execute("SELECT * FROM groups WHERE group_id = ?", (group_id,)).fetchone()
    if row is None:
        raise ApiError("ResourceNotFound.GroupNotExist", f"The user group {group_id} does not exist.")
    return row


def _policy(db: sqlite3.Connection, policy_id: int, code: str = "ResourceNotFound.PolicyIdNotFound") -> sqlite3.Row:
    row = db.execute("SELECT * FROM policies WHERE policy_id = ?", (policy_id,)).fetchone()
    if row is None:
        raise ApiError(code, f"The policy {policy_id} does not exist.")
    return row


# ---- checks on values ----------------------------------------------------------------------


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


def _check_policy_document(document: str) -> None:
    if len(document) > MAX_POLICY_DOCUMENT:
        raise ApiError(
            "InvalidParameter.PolicyDocumentLengthOverLimit",
            f"The policy document has {len(document)} characters; at most {MAX_POLICY_DOCUMENT} are allowed.",
        )
    try:
        parsed = json.loads(document)
    except json.JSONDecodeError as error:
        raise ApiError("InvalidParameter.PolicyDocumentError", f"The policy document is not JSON: {error}.") from None
    if not isinstance(parsed, dict) or parsed.get("version") != "2.0":
        raise ApiError(
            "InvalidParameter.PolicyDocumentError", 'The policy document must be an object with "version": "2.0".'
        )
    statements = parsed.get("statement")
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements:
        raise ApiError("InvalidParameter.StatementError", "The policy document needs at least one statement.")
    for statement in statements:
        if not isinstance(statement, dict) or str(statement.get("effect", "")).lower() not in ("allow", "deny"):
            raise ApiError("InvalidParameter.EffectError", 'Every statement needs "effect": "allow" or "deny".')
        if not statement.get("action"):
            raise ApiError("InvalidParameter.ActionError", 'Every statement needs an "action".')
        if not statement.get("resource"):
            raise ApiError("InvalidParameter.ResourceError", 'Every statement needs a "resource".')


def _new_access_key(ctx: Context, uin: int, description: str = "") -> tuple[str, str]:
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


def _policy_info(ctx: Context, row: sqlite3.Row, add_time: str) -> dict[str, Any]:
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


def _attach(ctx: Context, table: str, column: str, principal: int, policy_id: int) -> None:
    attached = ctx.db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (principal,)).fetchone()[0]
    exists = ctx.db.execute(
        f"SELECT 1 FROM {table} WHERE {column} = ? AND policy_id = ?", (principal, policy_id)
    ).fetchone()
    if exists:
        return  # attaching twice changes nothing
    if attached >= MAX_ATTACHED_POLICIES:
        raise ApiError(
            "InvalidParameter.AttachmentFull",
            f"At most {MAX_ATTACHED_POLICIES} policies can be attached to one user or group.",
        )
    ctx.db.execute(
        f"INSERT INTO {table} ({column}, policy_id, add_time) VALUES (?, ?, ?)", (principal, policy_id, ctx.timestamp)
    )


def _detach(ctx: Context, table: str, column: str, principal: int, policy_id: int) -> None:
    deleted = ctx.db.execute(f"DELETE FROM {table} WHERE {column} = ? AND policy_id = ?", (principal, policy_id))
    if deleted.rowcount == 0:
        raise ApiError("InvalidParameter.PolicyIdNotExist", f"The policy {policy_id} is not attached to {principal}.")


def _attached_page(ctx: Context, table: str, column: str, principal: int, p: dict[str, Any]) -> dict[str, Any]:
    keyword = p.get("Keyword", "")
    rows = ctx.db.execute(
        f"SELECT policies.*, {table}.add_time AS attached_at FROM {table} JOIN policies USING (policy_id)"
        f" WHERE {column} = ? AND instr(lower(policies.name), lower(?)) > 0 ORDER BY {table}.rowid",
        (principal, keyword),
    ).fetchall()
    page = page_of(rows, p.get("Page", 1), p.get("Rp", 20))
    return {"TotalNum": len(rows), "List": [_policy_info(ctx, row, row["attached_at"]) for row in page]}


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
    secret_id, secret_key = _new_access_key(ctx, uin) if p.get("UseApi") else ("", "")
    return {"Uin": uin, "Name": name, "Password": password, "SecretId": secret_id, "SecretKey": secret_key, "Uid": uid}


@cam.action("GetUser", writes=False, Name=Str(required=True))
def get_user(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    return {**_user_fields(_user_by_name(ctx.db, p["Name"])), "RecentlyLoginIP": "", "RecentlyLoginTime": ""}


@cam.action("UpdateUser", writes=True, Name=Str(required=True), **USER_DETAILS)
def update_user(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    user = _user_by_name(ctx.db, p["Name"])
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
    user = _user_by_name(ctx.db, p["Name"])
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
    _user_by_uin(ctx.db, p["AttachUin"], "InvalidParameter.UserNotExist")
    _policy(ctx.db, p["PolicyId"], "InvalidParameter.PolicyIdNotExist")
    _attach(ctx, "user_policies", "uin", p["AttachUin"], p["PolicyId"])
    return {}


@cam.action("DetachUserPolicy", writes=True, PolicyId=Int(required=True), DetachUin=Int(required=True))
def detach_user_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    _user_by_uin(ctx.db, p["DetachUin"], "InvalidParameter.UserNotExist")
    _policy(ctx.db, p["PolicyId"], "InvalidParameter.PolicyIdNotExist")
    _detach(ctx, "user_policies", "uin", p["DetachUin"], p["PolicyId"])
    return {}


@cam.action("ListAttachedUserPolicies", writes=False, TargetUin=Int(required=True), Page=PAGE, Rp=PER_PAGE)
def list_attached_user_policies(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    _user_by_uin(ctx.db, p["TargetUin"])
    return _attached_page(ctx, "user_policies", "uin", p["TargetUin"], p)


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
    uin = _user_by_uin(ctx.db, p["TargetUin"])["uin"]
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
    group = _group(ctx.db, p["GroupId"])
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
    _group(ctx.db, p["GroupId"])
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
        return _user_by_uin(db, info["Uin"])
    if "Uid" in info:
        row = db.execute("SELECT * FROM users WHERE uid = ?", (info["Uid"],)).fetchone()
        if row is None:
            raise ApiError("ResourceNotFound.UserNotExist", f"The sub-user with Uid {info['Uid']} does not exist.")
        return row
    raise ApiError("InvalidParameter.UserUinAndUinNotAllNull", "Each Info item needs a Uin or a Uid.")


@cam.action("AddUserToGroup", writes=True, Info=MEMBERSHIP)
def add_user_to_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    for info in p["Info"]:
        group = _group(ctx.db, info["GroupId"])
        user = _membership_user(ctx.db, info)
        ctx.db.execute(
            "INSERT OR IGNORE INTO group_members (group_id, uin, add_time) VALUES (?, ?, ?)",
            (group["group_id"], user["uin"], ctx.timestamp),
        )
    return {}


@cam.action("RemoveUserFromGroup", writes=True, Info=MEMBERSHIP)
def remove_user_from_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    for info in p["Info"]:
        group = _group(ctx.db, info["GroupId"])
        user = _membership_user(ctx.db, info)
        removed = ctx.db.execute(
            "DELETE FROM group_members WHERE group_id = ? AND uin = ?", (group["group_id"], user["uin"])
        )
        if removed.rowcount == 0:
            raise ApiError(
                "InvalidParameter.ParamError", f"`{user['name']}` is not a member of group {group['group_id']}."
            )
    return {}


@cam.action("ListUsersForGroup", writes=False, GroupId=Int(required=True), Page=PAGE, Rp=PER_PAGE)
def list_users_for_group(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    _group(ctx.db, p["GroupId"])
    members = _members(ctx.db, p["GroupId"])
    page = page_of(members, p.get("Page", 1), p.get("Rp", 20))
    return {"TotalNum": len(members), "UserInfo": [_member_info(m) for m in page]}


@cam.action("AttachGroupPolicy", writes=True, PolicyId=Int(required=True), AttachGroupId=Int(required=True))
def attach_group_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    _group(ctx.db, p["AttachGroupId"])
    _policy(ctx.db, p["PolicyId"], "InvalidParameter.PolicyIdNotExist")
    _attach(ctx, "group_policies", "group_id", p["AttachGroupId"], p["PolicyId"])
    return {}


@cam.action("DetachGroupPolicy", writes=True, PolicyId=Int(required=True), DetachGroupId=Int(required=True))
def detach_group_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    _group(ctx.db, p["DetachGroupId"])
    _policy(ctx.db, p["PolicyId"], "InvalidParameter.PolicyIdNotExist")
    _detach(ctx, "group_policies", "group_id", p["DetachGroupId"], p["PolicyId"])
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
    _group(ctx.db, p["TargetGroupId"])
    return _attached_page(ctx, "group_policies", "group_id", p["TargetGroupId"], p)


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
        " + (SELECT COUNT(*) FROM group_policies g WHERE g.policy_id = policies.policy_id) AS attachments"
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


@cam.action("GetPolicy", writes=False, PolicyId=Int(required=True))
def get_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    row = _policy(ctx.db, p["PolicyId"])
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
    _check_policy_document(p["PolicyDocument"])
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
        row = _policy(ctx.db, p["PolicyId"])
    elif "PolicyName" in p:
        row = ctx.db.execute("SELECT * FROM policies WHERE name = ?", (p["PolicyName"],)).fetchone()
        if row is None:
            raise ApiError("ResourceNotFound.PolicyIdNotFound", f"The policy `{p['PolicyName']}` does not exist.")
    else:
        raise ApiError("MissingParameter", "The request is missing a required parameter `PolicyId` or `PolicyName`.")
    if row["type"] == 2:
        raise ApiError("FailedOperation.Unmodifiable", f"The preset policy `{row['name']}` cannot be changed.")
    if "PolicyDocument" in p:
        _check_policy_document(p["PolicyDocument"])
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
        if _policy(ctx.db, policy_id)["type"] == 2:
            raise ApiError("FailedOperation.Unmodifiable", f"The preset policy {policy_id} cannot be deleted.")
        ctx.db.execute("DELETE FROM policies WHERE policy_id = ?", (policy_id,))
    return {}


# ---- API keys ------------------------------------------------------------------------------


def _access_key(db: sqlite3.Connection, access_key_id: str, uin: int) -> sqlite3.Row:
    row = db.execute("SELECT * FROM access_keys WHERE access_key_id = ? AND uin = ?", (access_key_id, uin)).fetchone()
    if row is None:
        raise ApiError("ResourceNotFound.SecretNotExist", f"The API key {access_key_id} does not exist for {uin}.")
    return row


# Only sub-users' keys are modelled, so TargetUin is required where the real API defaults to the caller.
@cam.action("CreateAccessKey", writes=True, TargetUin=Int(required=True), Description=Str(max_len=1024))
def create_access_key(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    uin = _user_by_uin(ctx.db, p["TargetUin"])["uin"]
    access_key_id, secret_key = _new_access_key(ctx, uin, p.get("Description", ""))
    return {
        "AccessKey": {
            "AccessKeyId": access_key_id,
            "SecretAccessKey": secret_key,
            "Status": "Active",
            "CreateTime": ctx.timestamp,
            "Description": p.get("Description", ""),
        }
    }


@cam.action("ListAccessKeys", writes=False, TargetUin=Int(required=True))
def list_access_keys(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    uin = _user_by_uin(ctx.db, p["TargetUin"])["uin"]
    rows = ctx.db.execute("SELECT * FROM access_keys WHERE uin = ? ORDER BY create_time, rowid", (uin,)).fetchall()
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
    key = _access_key(ctx.db, p["AccessKeyId"], _user_by_uin(ctx.db, p["TargetUin"])["uin"])
    ctx.db.execute("UPDATE access_keys SET status = ? WHERE access_key_id = ?", (p["Status"], key["access_key_id"]))
    return {}


@cam.action("DeleteAccessKey", writes=True, AccessKeyId=Str(required=True), TargetUin=Int(required=True))
def delete_access_key(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    key = _access_key(ctx.db, p["AccessKeyId"], _user_by_uin(ctx.db, p["TargetUin"])["uin"])
    ctx.db.execute("DELETE FROM access_keys WHERE access_key_id = ?", (key["access_key_id"],))
    return {}
