"""The resource types the guardrails look at, and how to name their principals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from im_access.access import normalise_policy_id
from im_access.contract import Props, group_principal, user_principal

CAM_USER = "tencentcloud:Cam/user:User"


@dataclass(frozen=True)
class AttachmentRoute:
    """Where an attachment names its principal and the policy it attaches."""

    principal_key: str
    kind: str  # user, group, role, or what else the principal is
    id_key: str | None
    name_key: str | None

    @property
    def policy_keys(self) -> list[str]:
        return [key for key in (self.id_key, self.name_key) if key is not None]


IDENTITY_CENTER_PERMISSION = (
    "tencentcloud:Identity/centerRoleConfigurationPermissionPolicyAttachment:"
    "CenterRoleConfigurationPermissionPolicyAttachment"
)
IDENTITY_CENTER_ROLE = "Identity Center role configuration"

# Every resource type that attaches a (preset or custom) policy to a principal.
ATTACHMENTS: Mapping[str, AttachmentRoute] = {
    "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment": AttachmentRoute("userName", "user", "policyId", None),
    "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment": AttachmentRoute(
        "groupId", "group", "policyId", None
    ),
    "tencentcloud:Cam/rolePolicyAttachment:RolePolicyAttachment": AttachmentRoute("roleId", "role", "policyId", None),
    "tencentcloud:Cam/rolePolicyAttachmentByName:RolePolicyAttachmentByName": AttachmentRoute(
        "roleName", "role", None, "policyName"
    ),
    IDENTITY_CENTER_PERMISSION: AttachmentRoute(
        "roleConfigurationId", IDENTITY_CENTER_ROLE, "rolePolicyId", "rolePolicyName"
    ),
}

# Every resource type that holds a policy document: the property, or a list property and the key
# of the document in each of its items.
CUSTOM_POLICIES: Mapping[str, tuple[str, str | None]] = {
    "tencentcloud:Cam/policy:Policy": ("document", None),
    "tencentcloud:Cam/policyByName:PolicyByName": ("document", None),
    "tencentcloud:Cam/policyVersion:PolicyVersion": ("policyDocument", None),
    "tencentcloud:Identity/centerRoleConfigurationPermissionCustomPolicyAttachment:"
    "CenterRoleConfigurationPermissionCustomPolicyAttachment": ("rolePolicyDocument", None),
    "tencentcloud:Identity/centerRoleConfigurationPermissionCustomPoliciesAttachment:"
    "CenterRoleConfigurationPermissionCustomPoliciesAttachment": ("policies", "rolePolicyDocument"),
}


def policy_documents(resource_type: str, props: Mapping[str, Any]) -> list[Any]:
    """The policy documents a resource holds (none for other types)."""
    if resource_type not in CUSTOM_POLICIES:
        return []
    key, item_key = CUSTOM_POLICIES[resource_type]
    value = props.get(key)
    if item_key is None:
        return [] if value is None else [value]
    return [item.get(item_key) for item in value or [] if isinstance(item, Mapping) and item.get(item_key) is not None]


def attachment_principal(resource_type: str, props: Mapping[str, Any], name: str) -> str:
    """`user 'alice'`, `group '9001'`, `role 'ops'`; falls back to the resource name."""
    route = ATTACHMENTS[resource_type]
    value = props.get(route.principal_key)
    if value is None and route.kind == "user":
        value = props.get("userId")
    return f"{route.kind} {value!r}" if value is not None else f"{route.kind} of attachment {name!r}"


def component_principal(resource_type: str, props: Mapping[str, Any], name: str) -> str:
    if props.get(Props.USER_NAME) is not None:
        return f"user {props[Props.USER_NAME]!r}"
    if props.get(Props.GROUP_ID) is not None:
        number = normalise_policy_id(props[Props.GROUP_ID])
        return f"group {number if number is not None else str(props[Props.GROUP_ID])[:40]!r}"
    return f"{resource_type.rsplit(':', 1)[-1]} {name!r}"


def component_key(props: Mapping[str, Any]) -> str | None:
    """The principal of an IM component as break-glass exceptions name it: `user:<name>` or `group:<id>`."""
    if props.get(Props.USER_NAME) is not None:
        return user_principal(props[Props.USER_NAME])
    if props.get(Props.GROUP_ID) is not None:
        return group_principal(props[Props.GROUP_ID])
    return None


def attachment_key(resource_type: str, props: Mapping[str, Any]) -> str | None:
    """The principal of an attachment as break-glass exceptions name it; None for roles and role
    configurations, which they never cover."""
    route = ATTACHMENTS[resource_type]
    value = props.get(route.principal_key)
    if value is None or route.kind not in ("user", "group"):
        return None
    return group_principal(value) if route.kind == "group" else user_principal(str(value))
