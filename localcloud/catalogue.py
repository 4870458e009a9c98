"""The preset (type 2, "QCS") policies every account starts with.

Names and ids follow Tencent Cloud where they are known. QcloudIMReadOnlyAccess has no
published id, so 900001 here is this emulator's own; look presets up by name, as im-access does.
QcloudIMSFullAccess (Image Moderation) is included because its name resembles IM's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Preset:
    policy_id: int
    name: str
    description: str
    service_type: str
    statement: list[dict[str, Any]]

    @property
    def document(self) -> str:
        return json.dumps({"version": "2.0", "statement": self.statement}, separators=(",", ":"))


PRESETS = (
    Preset(
        1,
        "AdministratorAccess",
        "Full access to all resources, users, permissions and billing.",
        "",
        [{"effect": "allow", "action": ["*"], "resource": ["*"]}],
    ),
    Preset(
        2,
        "QCloudResourceFullAccess",
        "Full access to all cloud resources, but not to CAM or billing.",
        "",
        [
            {"effect": "allow", "action": ["*"], "resource": ["*"]},
            {"effect": "deny", "action": ["name/cam:*", "name/finance:*"], "resource": ["*"]},
        ],
    ),
    Preset(
        400411,
        "ReadOnlyAccess",
        "Read-only access to all cloud resources that support it.",
        "",
        [{"effect": "allow", "action": ["name/*:Describe*", "name/*:List*", "name/*:Get*"], "resource": ["*"]}],
    ),
    Preset(
        524252,
        "QcloudAVCFullAccess",
        "Full read and write access to Instant Messaging (IM).",
        "im",
        [{"effect": "allow", "action": ["name/avc:*", "name/im:*"], "resource": ["*"]}],
    ),
    Preset(
        900001,
        "QcloudIMReadOnlyAccess",
        "Read-only access to Instant Messaging (IM).",
        "im",
        [{"effect": "allow", "action": ["name/im:Describe*", "name/im:Get*"], "resource": ["*"]}],
    ),
    Preset(
        900002,
        "QcloudIMSFullAccess",
        "Full access to Image Moderation System (IMS).",
        "ims",
        [{"effect": "allow", "action": ["name/ims:*"], "resource": ["*"]}],
    ),
    Preset(
        900003,
        "QcloudCamReadOnlyAccess",
        "Read-only access to Cloud Access Management (CAM).",
        "cam",
        [{"effect": "allow", "action": ["name/cam:Get*", "name/cam:List*"], "resource": ["*"]}],
    ),
)
