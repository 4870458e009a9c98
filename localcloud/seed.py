"""Principals that exist before im-access runs: the users and groups its grants point at.

    {"users": [{"Name": "qa-lead", "Remark": "..."}],
     "groups": [{"GroupId": 90001, "GroupName": "im-support", "Members": ["qa-lead"]}]}

Applying a seed twice changes nothing; what already exists is left as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from localcloud.cam import add_user, cam
from localcloud.params import check_fields
from localcloud.server import LocalCloud
from localcloud.service import Context


def apply_seed(cloud: LocalCloud, seed: dict[str, Any]) -> None:
    with cloud.store.transaction(write=True) as db:
        ctx = Context(db, cloud.owner_uin, dt.datetime.now(dt.UTC))
        for user in seed.get("users", []):
            if not db.execute("SELECT 1 FROM users WHERE name = ?", (user["Name"],)).fetchone():
                add_user(ctx, check_fields(cam.actions["AddUser"].schema, user))
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
