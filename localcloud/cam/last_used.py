"""When CAM last saw each sub-user and API key: console logins and key use.

CAM records these itself, from the console and from signed requests; no API sets them. The
actions here read them as CAM answers them (DescribeSubAccounts' LastLoginTime, GetUser's
RecentlyLoginTime, GetSecurityLastUsed). Tests set them through `record_use`, a local-only hook
(`python -m localcloud record-use`) that writes the state file directly and is not reachable
through the API.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from typing import Any

from localcloud.cam.common import cam
from localcloud.errors import ApiError
from localcloud.params import Int, ListOf, Str
from localcloud.service import Context
from localcloud.store import Store

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_SECRET_IDS = 10  # GetSecurityLastUsed's documented limit
MAX_SUB_ACCOUNT_UINS = 50  # DescribeSubAccounts' documented limit
SUB_USER_TYPE = 2  # SubAccountUser.UserType of a sub-user


def last_login(db: sqlite3.Connection, uin: int) -> sqlite3.Row | None:
    return db.execute("SELECT ip, login_time FROM console_logins WHERE uin = ?", (uin,)).fetchone()


@cam.action(
    "DescribeSubAccounts",
    writes=False,
    FilterSubAccountUin=ListOf(item=Int(minimum=0), max_items=MAX_SUB_ACCOUNT_UINS, required=True),
)
def describe_sub_accounts(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """The asked sub-users that exist (others are left out), with their last console login; a
    user who never logged in has an empty IP and a null time."""
    accounts = []
    for uin in dict.fromkeys(p["FilterSubAccountUin"]):
        user = ctx.db.execute("SELECT * FROM users WHERE uin = ?", (uin,)).fetchone()
        if user is None:
            continue
        login = last_login(ctx.db, uin)
        accounts.append(
            {
                "Uin": user["uin"],
                "Name": user["name"],
                "Uid": user["uid"],
                "Remark": user["remark"],
                "CreateTime": user["create_time"],
                "UserType": SUB_USER_TYPE,
                "LastLoginIp": login["ip"] if login else "",
                "LastLoginTime": login["login_time"] if login else None,
            }
        )
    return {"SubAccounts": accounts}


@cam.action(
    "GetSecurityLastUsed",
    writes=False,
    SecretIdList=ListOf(item=Str(max_len=128), max_items=MAX_SECRET_IDS, required=True),
)
def get_security_last_used(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """A row for each asked key of the account (unknown ids are left out); a key never used has null
    dates. LastUsedDate is the day, LastSecretUsedDate the time in milliseconds since the epoch."""
    rows = []
    for secret_id in dict.fromkeys(p["SecretIdList"]):
        key = ctx.db.execute(
            "SELECT access_keys.access_key_id, key_last_used.used_time FROM access_keys"
            " LEFT JOIN key_last_used USING (access_key_id) WHERE access_key_id = ?",
            (secret_id,),
        ).fetchone()
        if key is None:
            continue
        used = key["used_time"] and dt.datetime.strptime(key["used_time"], TIME_FORMAT).replace(tzinfo=dt.UTC)
        rows.append(
            {
                "SecretId": key["access_key_id"],
                "LastUsedDate": used.date().isoformat() if used else None,
                "LastSecretUsedDate": int(used.timestamp() * 1000) if used else None,
            }
        )
    return {"SecretIdLastUsedRows": rows}


def _moment(value: str) -> str:
    """A time as CAM writes it (YYYY-MM-DD HH:MM:SS, UTC here); a bare date is that day's midnight."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ApiError("InvalidParameterValue", f"`{value}` is not a date or time (YYYY-MM-DD[ HH:MM:SS]).") from None
    return moment.strftime(TIME_FORMAT)


def record_use(
    store: Store, logins: Mapping[str, str] | None = None, keys: Mapping[str, str] | None = None, ip: str = "127.0.0.1"
) -> None:
    """Local only, for tests: record console logins (user name -> time) and key use (SecretId -> time),
    as CAM would from the console and from signed requests. All or nothing: an unknown user or key
    changes nothing."""
    with store.transaction(write=True) as db:
        for name, moment in (logins or {}).items():
            user = db.execute("SELECT uin FROM users WHERE name = ?", (name,)).fetchone()
            if user is None:
                raise ApiError("ResourceNotFound.UserNotExist", f"The sub-user `{name}` does not exist.")
            db.execute(
                "INSERT INTO console_logins (uin, ip, login_time) VALUES (?, ?, ?)"
                " ON CONFLICT(uin) DO UPDATE SET ip = excluded.ip, login_time = excluded.login_time",
                (user["uin"], ip, _moment(moment)),
            )
        for secret_id, moment in (keys or {}).items():
            if not db.execute("SELECT 1 FROM access_keys WHERE access_key_id = ?", (secret_id,)).fetchone():
                raise ApiError("ResourceNotFound.SecretNotExist", f"The API key {secret_id} does not exist.")
            db.execute(
                "INSERT INTO key_last_used (access_key_id, used_time) VALUES (?, ?)"
                " ON CONFLICT(access_key_id) DO UPDATE SET used_time = excluded.used_time",
                (secret_id, _moment(moment)),
            )
