"""CAM's MFA flags of sub-users: login protection and operation (sensitive action) protection.

SetMfaFlag and DescribeSafeAuthFlagColl are what the provider's `cam.MfaFlag` resource calls (create
and update: SetMfaFlag; read: DescribeSafeAuthFlagColl with SubUin). A flag object given to
SetMfaFlag replaces that flag whole: a factor it leaves out is off.
"""

from __future__ import annotations

from typing import Any

from localcloud.cam.common import FLAG, cam, find_user_by_uin
from localcloud.params import Int, Obj
from localcloud.service import Context

FACTORS = ("phone", "stoken", "wechat")
MFA_FLAG = Obj(fields={"Phone": FLAG, "Stoken": FLAG, "Wechat": FLAG})


def _stored(ctx: Context, uin: int) -> dict[str, int]:
    row = ctx.db.execute("SELECT * FROM mfa_flags WHERE uin = ?", (uin,)).fetchone()
    columns = [f"{kind}_{factor}" for kind in ("login", "action") for factor in FACTORS]
    return {column: (row[column] if row is not None else 0) for column in columns}


@cam.action("SetMfaFlag", writes=True, OpUin=Int(required=True), LoginFlag=MFA_FLAG, ActionFlag=MFA_FLAG)
def set_mfa_flag(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    uin = find_user_by_uin(ctx.db, p["OpUin"])["uin"]
    flags = _stored(ctx, uin)
    for kind, param in (("login", "LoginFlag"), ("action", "ActionFlag")):
        if param in p:
            for factor in FACTORS:
                flags[f"{kind}_{factor}"] = p[param].get(factor.capitalize(), 0)
    columns = ", ".join(flags)
    ctx.db.execute(
        f"INSERT OR REPLACE INTO mfa_flags (uin, {columns}) VALUES (?{', ?' * len(flags)})", (uin, *flags.values())
    )
    return {}


def _flag(flags: dict[str, int], kind: str) -> dict[str, int]:
    """A LoginActionFlag: the three factors SetMfaFlag sets, and the others CAM reports, off here."""
    return {
        "Phone": flags[f"{kind}_phone"],
        "Token": 0,
        "Stoken": flags[f"{kind}_stoken"],
        "Wechat": flags[f"{kind}_wechat"],
        "Custom": 0,
        "Mail": 0,
        "U2FToken": 0,
        "Passkey": 0,
    }


@cam.action("DescribeSafeAuthFlagColl", writes=False, SubUin=Int(required=True))
def describe_safe_auth_flag_coll(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    uin = find_user_by_uin(ctx.db, p["SubUin"])["uin"]
    flags = _stored(ctx, uin)
    return {
        "LoginFlag": _flag(flags, "login"),
        "ActionFlag": _flag(flags, "action"),
        "OffsiteFlag": {"VerifyFlag": 0, "NotifyPhone": 0, "NotifyEmail": 0, "NotifyWechat": 0, "Tips": 0},
        "PromptTrust": 0,
    }
