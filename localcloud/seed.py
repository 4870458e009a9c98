"""Principals that exist before im-access runs: the users and groups its grants point at.

    {"users": [{"Name": "qa-lead", "Remark": "...", "MfaFlag": {"LoginFlag": {"Stoken": 1}}}],
     "groups": [{"GroupId": 90001, "GroupName": "im-support", "Members": ["qa-lead"]}]}

A user's `MfaFlag` holds SetMfaFlag's `LoginFlag` and `ActionFlag`, set when the user is made.
Applying a seed twice changes nothing; what already exists is left as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from localcloud.cam import add_user, cam
from localcloud.cam.mfa import set_mfa_flag
from localcloud.params import check_fields
from localcloud.server import LocalCloud
from localcloud.service import Context


def apply_seed(cloud: LocalCloud, seed: dict[str, Any]) -> None:
    with cloud.store.transaction(write=True) as db:
        ctx = Context(db, cloud.owner_uin, dt.datetime.now(dt.UTC))
        for entry in seed.get("users", []):
            user = {key: value for key, value in entry.items() if key != "MfaFlag"}
            if not db.execute("SELECT 1 FROM users WHERE name = ?", (user["Name"],)).fetchone():
                uin = add_user(ctx, check_fields(cam.actions["AddUser"].schema, user))["Uin"]
                if "MfaFlag" in entry:
                    flags = {"OpUin": uin, **entry["MfaFlag"]}
                    set_mfa_flag(ctx, check_fields(cam.actions["SetMfaFlag"].schema, flags))
        for group in seed.get("groups", []):
            db.execute(
                "INSERT OR IGNORE INTO groups (group_id, name, remark, create_time) VALUES (?, ?, ?, ?)",
                (group["GroupId"], group["GroupName"], group.get("Remark", ""), ctx.timestamp),
            )
            for member in group.get("Members", []):
                db.execute(
                    "INSERT OR IGNORE INTO group_members (group_id, uin, add_time)"
                    " SELECT ?, uin, ? FROM users WHERE name = ?",
                    (group["GroupId"], ctx.timestamp, member),
                )
