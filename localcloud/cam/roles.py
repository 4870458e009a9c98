"""CAM roles (their trust policies and attached policies) and role OIDC identity providers.

The calls are the ones the provider's `cam.Role`, `cam.RolePolicyAttachment` and `cam.RoleSso`
make. An OIDC provider's IdentityKey is the base64 of its JWKS, as in CAM, so a test publishes
the keys that sign its tokens by creating the provider.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
from typing import Any

from localcloud.cam.common import MAX_ATTACHED_POLICIES, PAGE, PER_PAGE, POLICY_NAME, cam, find_one, find_policy
from localcloud.cam.policy_document import document_statements
from localcloud.errors import ApiError
from localcloud.params import Int, ListOf, Obj, Str, page_of
from localcloud.service import Context
from localcloud.store import next_id

ROLE_NAME = r"[A-Za-z0-9+=,.@_-]{1,128}"
FIRST_ROLE_ID = 4611686018427397919
MAX_ROLES = 1000
MAX_SESSION_DURATION = 43200
PROVIDER_NAME = r"[A-Za-z0-9+=,.@_-]{1,128}"
TAGS = ListOf(item=Obj(fields={"Key": Str(required=True), "Value": Str()}), max_items=50)

SCHEMA = """
CREATE TABLE IF NOT EXISTS roles (
    role_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, document TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', console_login INTEGER NOT NULL DEFAULT 0,
    session_duration INTEGER NOT NULL, add_time TEXT NOT NULL, update_time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS role_policies (
    role_id INTEGER NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
    policy_id INTEGER NOT NULL REFERENCES policies(policy_id) ON DELETE CASCADE,
    add_time TEXT NOT NULL, PRIMARY KEY (role_id, policy_id));
CREATE TABLE IF NOT EXISTS oidc_providers (
    name TEXT PRIMARY KEY, identity_url TEXT NOT NULL, identity_key TEXT NOT NULL,
    client_ids TEXT NOT NULL, description TEXT NOT NULL DEFAULT '');
"""


def install_roles(db: sqlite3.Connection) -> None:
    """The tables of roles and identity providers, inside the caller's transaction."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def role_arn(owner_uin: int, name: str) -> str:
    return f"qcs::cam::uin/{owner_uin}:roleName/{name}"


def check_trust_document(document: str) -> None:
    """A trust policy as CreateRole takes it: JSON, version 2.0, statements with effect, action and principal."""
    # CreateRole's and UpdateAssumeRolePolicy's lists name no PolicyDocumentError: a document that
    # is no JSON object is a bad parameter.
    for statement in document_statements(document, "trust policy", "ParamError"):
        if not isinstance(statement, dict) or str(statement.get("effect", "")).lower() not in ("allow", "deny"):
            raise ApiError("InvalidParameter.EffectError", 'Every statement needs "effect": "allow" or "deny".')
        if not statement.get("action"):
            raise ApiError("InvalidParameter.ActionError", 'Every statement needs an "action".')
        if not statement.get("principal"):
            raise ApiError("InvalidParameter.PrincipalError", 'Every statement of a trust policy needs a "principal".')


def find_role(
    db: sqlite3.Connection, role_id: Any = None, name: Any = None, code: str = "InvalidParameter.RoleNotExist"
) -> sqlite3.Row:
    """The role named by id or name; `code` when there is none (the one the provider matches)."""
    value: object
    if role_id is not None:
        if not str(role_id).isdigit():
            raise ApiError("InvalidParameter.ParamError", f"The role id `{role_id}` is not a role id.")
        query, value = "SELECT * FROM roles WHERE role_id = ?", int(role_id)
    elif name is not None:
        query, value = "SELECT * FROM roles WHERE name = ?", str(name)
    else:
        raise ApiError("InvalidParameter.ParamError", "Name the role by RoleId or RoleName.")
    return find_one(db, query, (value,), code, f"The role {role_id or name} does not exist.")


def role_info(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "RoleId": str(row["role_id"]),
        "RoleName": row["name"],
        "PolicyDocument": row["document"],
        "Description": row["description"],
        "AddTime": row["add_time"],
        "UpdateTime": row["update_time"],
        "ConsoleLogin": row["console_login"],
        "RoleType": "user",
        "SessionDuration": row["session_duration"],
        "Tags": [],
        "RoleArn": role_arn(ctx.owner_uin, row["name"]),
    }


def role_policy_documents(db: sqlite3.Connection, role_id: int) -> list[str]:
    """The documents of every policy attached to a role: what its temporary credentials may do."""
    rows = db.execute(
        "SELECT document FROM role_policies JOIN policies USING (policy_id) WHERE role_id = ?", (role_id,)
    ).fetchall()
    return [row["document"] for row in rows]


# ---- roles ---------------------------------------------------------------------------------


@cam.action(
    "CreateRole",
    writes=True,
    RoleName=Str(required=True),
    PolicyDocument=Str(required=True),
    Description=Str(max_len=300),
    ConsoleLogin=Int(choices=(0, 1)),
    SessionDuration=Int(minimum=0, maximum=MAX_SESSION_DURATION),
    Tags=TAGS,
)
def create_role(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if not re.fullmatch(ROLE_NAME, p["RoleName"]):
        raise ApiError("InvalidParameter.RoleNameError", f"The role name `{p['RoleName'][:60]}` is not allowed.")
    if ctx.db.execute("SELECT 1 FROM roles WHERE lower(name) = lower(?)", (p["RoleName"],)).fetchone():
        raise ApiError("InvalidParameter.RoleNameInUse", f"The role name `{p['RoleName']}` is in use.")
    if ctx.db.execute("SELECT COUNT(*) FROM roles").fetchone()[0] >= MAX_ROLES:
        raise ApiError("InvalidParameter.RoleFull", f"An account may have at most {MAX_ROLES} roles.")
    check_trust_document(p["PolicyDocument"])
    role_id = next_id(ctx.db, "role", FIRST_ROLE_ID)
    ctx.db.execute(
        "INSERT INTO roles (role_id, name, document, description, console_login, session_duration, add_time,"
        " update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            role_id,
            p["RoleName"],
            p["PolicyDocument"],
            p.get("Description", ""),
            p.get("ConsoleLogin", 0),
            p.get("SessionDuration") or MAX_SESSION_DURATION,
            ctx.timestamp,
            ctx.timestamp,
        ),
    )
    return {"RoleId": str(role_id)}


@cam.action("GetRole", writes=False, RoleId=Str(), RoleName=Str(max_len=128))
def get_role(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    return {"RoleInfo": role_info(ctx, find_role(ctx.db, p.get("RoleId"), p.get("RoleName")))}


@cam.action("DescribeRoleList", writes=False, Page=PAGE, Rp=PER_PAGE, Tags=TAGS)
def describe_role_list(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    rows = ctx.db.execute("SELECT * FROM roles ORDER BY role_id").fetchall()
    page = page_of(rows, p.get("Page", 1), p.get("Rp", 20))
    return {"List": [role_info(ctx, row) for row in page], "TotalNum": len(rows)}


@cam.action("DeleteRole", writes=True, RoleId=Str(), RoleName=Str(max_len=128))
def delete_role(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    role = find_role(ctx.db, p.get("RoleId"), p.get("RoleName"))
    ctx.db.execute("DELETE FROM roles WHERE role_id = ?", (role["role_id"],))
    return {}


@cam.action(
    "UpdateAssumeRolePolicy", writes=True, PolicyDocument=Str(required=True), RoleId=Str(), RoleName=Str(max_len=128)
)
def update_assume_role_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    role = find_role(ctx.db, p.get("RoleId"), p.get("RoleName"))
    check_trust_document(p["PolicyDocument"])
    ctx.db.execute(
        "UPDATE roles SET document = ?, update_time = ? WHERE role_id = ?",
        (p["PolicyDocument"], ctx.timestamp, role["role_id"]),
    )
    return {}


@cam.action(
    "UpdateRoleDescription", writes=True, Description=Str(required=True, max_len=300), RoleId=Str(), RoleName=Str()
)
def update_role_description(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    role = find_role(ctx.db, p.get("RoleId"), p.get("RoleName"))
    ctx.db.execute("UPDATE roles SET description = ? WHERE role_id = ?", (p["Description"], role["role_id"]))
    return {}


@cam.action(
    "UpdateRoleConsoleLogin", writes=True, ConsoleLogin=Int(required=True, choices=(0, 1)), RoleId=Int(), RoleName=Str()
)
def update_role_console_login(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    role = find_role(ctx.db, p.get("RoleId"), p.get("RoleName"))
    ctx.db.execute("UPDATE roles SET console_login = ? WHERE role_id = ?", (p["ConsoleLogin"], role["role_id"]))
    return {}


@cam.action(
    "UpdateRoleSessionDuration",
    writes=True,
    SessionDuration=Int(required=True, minimum=0, maximum=MAX_SESSION_DURATION),
    RoleName=Str(max_len=128),
    RoleId=Int(),
)
def update_role_session_duration(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """What `cam.Role` calls when `session_duration` changes; 0 means the longest, as at CreateRole."""
    role = find_role(ctx.db, p.get("RoleId"), p.get("RoleName"))
    duration = p["SessionDuration"] or MAX_SESSION_DURATION
    ctx.db.execute(
        "UPDATE roles SET session_duration = ?, update_time = ? WHERE role_id = ?",
        (duration, ctx.timestamp, role["role_id"]),
    )
    return {}


# ---- attachments ---------------------------------------------------------------------------


def _policy_id(db: sqlite3.Connection, p: dict[str, Any]) -> int:
    if p.get("PolicyId") is not None:
        return int(find_policy(db, p["PolicyId"], "InvalidParameter.PolicyIdNotExist")["policy_id"])
    if p.get("PolicyName") is not None:
        row = find_one(
            db,
            "SELECT * FROM policies WHERE name = ?",
            (p["PolicyName"],),
            "InvalidParameter.PolicyIdNotExist",
            f"The policy `{p['PolicyName']}` does not exist.",
        )
        return int(row["policy_id"])
    raise ApiError("InvalidParameter.ParamError", "Name the policy by PolicyId or PolicyName.")


@cam.action(
    "AttachRolePolicy",
    writes=True,
    PolicyId=Int(minimum=1),
    AttachRoleId=Str(),
    AttachRoleName=Str(max_len=128),
    PolicyName=Str(pattern=POLICY_NAME),
)
def attach_role_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    role = find_role(ctx.db, p.get("AttachRoleId"), p.get("AttachRoleName"))
    policy_id = _policy_id(ctx.db, p)
    exists = ctx.db.execute(
        "SELECT 1 FROM role_policies WHERE role_id = ? AND policy_id = ?", (role["role_id"], policy_id)
    ).fetchone()
    if exists:
        return {}
    count = ctx.db.execute("SELECT COUNT(*) FROM role_policies WHERE role_id = ?", (role["role_id"],)).fetchone()[0]
    if count >= MAX_ATTACHED_POLICIES:
        raise ApiError("InvalidParameter.AttachmentFull", f"At most {MAX_ATTACHED_POLICIES} policies per role.")
    ctx.db.execute(
        "INSERT INTO role_policies (role_id, policy_id, add_time) VALUES (?, ?, ?)",
        (role["role_id"], policy_id, ctx.timestamp),
    )
    return {}


@cam.action(
    "DetachRolePolicy",
    writes=True,
    PolicyId=Int(minimum=1),
    DetachRoleId=Str(),
    DetachRoleName=Str(max_len=128),
    PolicyName=Str(pattern=POLICY_NAME),
)
def detach_role_policy(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    role = find_role(ctx.db, p.get("DetachRoleId"), p.get("DetachRoleName"))
    policy_id = _policy_id(ctx.db, p)
    deleted = ctx.db.execute(
        "DELETE FROM role_policies WHERE role_id = ? AND policy_id = ?", (role["role_id"], policy_id)
    )
    if deleted.rowcount == 0:
        raise ApiError("InvalidParameter.PolicyIdNotExist", f"The policy {policy_id} is not attached to the role.")
    return {}


@cam.action(
    "ListAttachedRolePolicies",
    writes=False,
    Page=PAGE,
    Rp=PER_PAGE,
    RoleId=Str(),
    RoleName=Str(max_len=128),
    PolicyType=Str(choices=("User", "QCS")),
    Keyword=Str(max_len=128),
)
def list_attached_role_policies(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    role = find_role(ctx.db, p.get("RoleId"), p.get("RoleName"), "InvalidParameter.ParamError")
    types = {"User": (1,), "QCS": (2,)}.get(p.get("PolicyType", ""), (1, 2))
    rows = [
        row
        for row in ctx.db.execute(
            "SELECT policies.*, role_policies.add_time AS attached_at FROM role_policies JOIN policies"
            " USING (policy_id) WHERE role_id = ? AND instr(lower(policies.name), lower(?)) > 0"
            " ORDER BY role_policies.rowid",
            (role["role_id"], p.get("Keyword", "")),
        ).fetchall()
        if row["type"] in types
    ]
    page = page_of(rows, p["Page"], p["Rp"]) if "Page" in p and "Rp" in p else page_of(rows, 1, 20)
    return {
        "List": [
            {
                "PolicyId": row["policy_id"],
                "PolicyName": row["name"],
                "AddTime": row["attached_at"],
                "PolicyType": "QCS" if row["type"] == 2 else "User",
                "CreateMode": row["create_mode"],
                "Deactived": 0,
                "DeactivedDetail": [],
                "Description": row["description"],
            }
            for row in page
        ],
        "TotalNum": len(rows),
    }


# ---- role OIDC identity providers ----------------------------------------------------------


def decode_jwks(identity_key: str) -> dict[str, Any]:
    """The JWKS an IdentityKey holds (base64 of its JSON); InvalidParameter when it holds none."""
    try:
        jwks = json.loads(base64.b64decode(identity_key, validate=True))
    except (binascii.Error, ValueError):
        raise ApiError("InvalidParameter", "IdentityKey must be the base64 of a JWKS.") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ApiError("InvalidParameter", 'IdentityKey must hold a JWKS: {"keys": [...]}.')
    return jwks


OIDC_FIELDS = {
    "IdentityUrl": Str(required=True, pattern=r"https://[^\s]{1,255}"),
    "ClientId": ListOf(item=Str(max_len=255), max_items=50),
    "Name": Str(required=True, pattern=PROVIDER_NAME),
    "IdentityKey": Str(required=True, max_len=65536),
    "Description": Str(max_len=300),
    "AutoRotateKey": Int(choices=(0, 1)),
}


def _save_oidc(ctx: Context, p: dict[str, Any], insert: bool) -> None:
    decode_jwks(p["IdentityKey"])
    if not p.get("ClientId"):
        raise ApiError("InvalidParameter", "ClientId needs at least one audience.")
    values = (p["IdentityUrl"], p["IdentityKey"], json.dumps(p["ClientId"]), p.get("Description", ""), p["Name"])
    if insert:
        if ctx.db.execute("SELECT 1 FROM oidc_providers WHERE name = ?", (p["Name"],)).fetchone():
            raise ApiError("InvalidParameter.IdentityNameInUse", f"The identity provider `{p['Name']}` exists.")
        ctx.db.execute(
            "INSERT INTO oidc_providers (identity_url, identity_key, client_ids, description, name)"
            " VALUES (?, ?, ?, ?, ?)",
            values,
        )
    else:
        find_provider(ctx.db, p["Name"])
        ctx.db.execute(
            "UPDATE oidc_providers SET identity_url = ?, identity_key = ?, client_ids = ?, description = ?"
            " WHERE name = ?",
            values,
        )


def find_provider(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    return find_one(
        db,
        "SELECT * FROM oidc_providers WHERE name = ?",
        (name,),
        "ResourceNotFound.IdentityNotExist",
        f"The identity provider `{name}` does not exist.",
    )


@cam.action("CreateOIDCConfig", writes=True, **OIDC_FIELDS)
def create_oidc_config(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    _save_oidc(ctx, p, insert=True)
    return {}


@cam.action("UpdateOIDCConfig", writes=True, **OIDC_FIELDS)
def update_oidc_config(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    _save_oidc(ctx, p, insert=False)
    return {}


@cam.action("DescribeOIDCConfig", writes=False, Name=Str(required=True, pattern=PROVIDER_NAME))
def describe_oidc_config(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    row = find_provider(ctx.db, p["Name"])
    return {
        "ProviderType": 11,
        "IdentityUrl": row["identity_url"],
        "IdentityKey": row["identity_key"],
        "ClientId": json.loads(row["client_ids"]),
        "Status": 11,
        "Description": row["description"],
        "Name": row["name"],
        "AutoRotateKey": 0,
    }


@cam.action("DeleteOIDCConfig", writes=True, Name=Str(required=True, pattern=PROVIDER_NAME))
def delete_oidc_config(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    find_provider(ctx.db, p["Name"])
    ctx.db.execute("DELETE FROM oidc_providers WHERE name = ?", (p["Name"],))
    return {}
