"""The resource types the guardrails look at, and how to name their principals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

IM_OPERATOR = "im-access:index:ImOperator"
IM_ACCESS_GRANT = "im-access:index:ImAccessGrant"
IM_COMPONENTS = (IM_OPERATOR, IM_ACCESS_GRANT)

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
    if props.get("userName") is not None:
        return f"user {props['userName']!r}"
    if props.get("groupId") is not None:
        return f"group {int(props['groupId'])!r}"
    return f"{resource_type.rsplit(':', 1)[-1]} {name!r}"


def component_key(props: Mapping[str, Any]) -> str | None:
    """The principal of an IM component as break-glass exceptions name it: `user:<name>` or `group:<id>`."""
    if props.get("userName") is not None:
        return f"user:{props['userName']}"
    if props.get("groupId") is not None:
        return f"group:{int(props['groupId'])}"
    return None


def attachment_key(resource_type: str, props: Mapping[str, Any]) -> str | None:
    """The principal of an attachment as break-glass exceptions name it; None for roles, which they never cover."""
    key, kind = ATTACHMENTS[resource_type]
    value = props.get(key)
    if value is None or kind == "role":
        return None
    return f"{kind}:{int(float(value)) if kind == 'group' else value}"
