"""The resource types the guardrails look at, and how to name their principals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from im_access.contract import Props, group_principal, user_principal

CAM_USER = "tencentcloud:Cam/user:User"

# Attachment type -> the property that names its principal, and the kind of principal.
ATTACHMENTS: Mapping[str, tuple[str, str]] = {
    "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment": ("userName", "user"),
    "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment": ("groupId", "group"),
    "tencentcloud:Cam/rolePolicyAttachment:RolePolicyAttachment": ("roleId", "role"),
    "tencentcloud:Cam/rolePolicyAttachmentByName:RolePolicyAttachmentByName": ("roleName", "role"),
}

# Custom policy type -> the property that holds its document.
CUSTOM_POLICIES: Mapping[str, str] = {
    "tencentcloud:Cam/policy:Policy": "document",
    "tencentcloud:Cam/policyByName:PolicyByName": "document",
    "tencentcloud:Cam/policyVersion:PolicyVersion": "policyDocument",
}


def attachment_principal(resource_type: str, props: Mapping[str, Any], name: str) -> str:
    """`user 'alice'`, `group '9001'`, `role 'ops'`; falls back to the resource name."""
    key, kind = ATTACHMENTS[resource_type]
    value = props.get(key)
    if value is None and kind == "user":
        value = props.get("userId")
    return f"{kind} {value!r}" if value is not None else f"{kind} of attachment {name!r}"


def component_principal(resource_type: str, props: Mapping[str, Any], name: str) -> str:
    if props.get(Props.USER_NAME) is not None:
        return f"user {props[Props.USER_NAME]!r}"
    if props.get(Props.GROUP_ID) is not None:
        return f"group {int(props[Props.GROUP_ID])!r}"
    return f"{resource_type.rsplit(':', 1)[-1]} {name!r}"


def component_key(props: Mapping[str, Any]) -> str | None:
    """The principal of an IM component as break-glass exceptions name it: `user:<name>` or `group:<id>`."""
    if props.get(Props.USER_NAME) is not None:
        return user_principal(props[Props.USER_NAME])
    if props.get(Props.GROUP_ID) is not None:
        return group_principal(props[Props.GROUP_ID])
    return None


def attachment_key(resource_type: str, props: Mapping[str, Any]) -> str | None:
    """The principal of an attachment as break-glass exceptions name it; None for roles, which they never cover."""
    key, kind = ATTACHMENTS[resource_type]
    value = props.get(key)
    if value is None or kind == "role":
        return None
    return group_principal(value) if kind == "group" else user_principal(str(value))
