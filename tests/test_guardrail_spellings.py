"""Full IM access however it is spelled, and through Identity Center: blocked on a non-approved
stack, allowed on an approved one; look-alikes that are not full access pass."""

from __future__ import annotations

import json
from typing import Any

import pytest
from im_guardrails import im_full_access_approved_stacks_only

from tests.policy_args import on_stack, violations

full_access = im_full_access_approved_stacks_only
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
ROLE_BY_NAME = "tencentcloud:Cam/rolePolicyAttachmentByName:RolePolicyAttachmentByName"
POLICY = "tencentcloud:Cam/policy:Policy"
IDENTITY = "tencentcloud:Identity/"
PERMISSION = IDENTITY + (
    "centerRoleConfigurationPermissionPolicyAttachment:CenterRoleConfigurationPermissionPolicyAttachment"
)
CUSTOM_PERMISSION = IDENTITY + (
    "centerRoleConfigurationPermissionCustomPolicyAttachment:CenterRoleConfigurationPermissionCustomPolicyAttachment"
)
CUSTOM_PERMISSIONS = IDENTITY + (
    "centerRoleConfigurationPermissionCustomPoliciesAttachment:CenterRoleConfigurationPermissionCustomPoliciesAttachment"
)
WIDE = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "name/im:*", "resource": "*"}]})
NARROW = json.dumps(
    {"version": "2.0", "statement": [{"effect": "allow", "action": "name/im:Describe*", "resource": "*"}]}
)
# The first letters of every action in IM's catalogue (im_access/data/im-cam-actions.csv).
CATALOGUE_INITIALS = "ACDEORSU"


def by_initials(initials: str) -> str:
    """Two statements whose patterns, one per initial and in two spellings of IM, cover those initials."""
    half = len(initials) // 2
    statements = [
        {"effect": "allow", "action": [f"name/im:{c}*" for c in initials[:half]], "resource": "*"},
        {"effect": "allow", "action": [f"IM:{c.lower()}*" for c in initials[half:]], "resource": "*"},
    ]
    return json.dumps({"version": "2.0", "statement": statements})


# Each resource grants IM full access: (type, properties).
FULL: dict[str, tuple[str, dict[str, Any]]] = {
    "id with leading zero": (USER_ATTACHMENT, {"userName": "u", "policyId": "0524252"}),
    "id with spaces": (USER_ATTACHMENT, {"userName": "u", "policyId": " 524252 "}),
    "id with a plus sign": (USER_ATTACHMENT, {"userName": "u", "policyId": "+524252"}),
    "id as a decimal string": (USER_ATTACHMENT, {"userName": "u", "policyId": "524252.0"}),
    "id in fullwidth digits": (USER_ATTACHMENT, {"userName": "u", "policyId": "\uff15\uff12\uff14\uff12\uff15\uff12"}),
    "AdministratorAccess as 01": (USER_ATTACHMENT, {"userName": "u", "policyId": "01"}),
    "name with stray whitespace": (ROLE_BY_NAME, {"roleName": "r", "policyName": "  QcloudAVCFullAccess\t"}),
    "name in fullwidth letters": (ROLE_BY_NAME, {"roleName": "r", "policyName": "\uff21dministratorAccess"}),
    "duplicate statement key": (
        POLICY,
        {
            "document": '{"version":"2.0","statement":[{"effect":"deny","action":"*","resource":"*"}],'
            '"statement":[{"effect":"allow","action":"name/im:Describe*","resource":"*"}]}'
        },
    ),
    "keys differing in case": (
        POLICY,
        {
            "document": '{"version":"2.0","statement":[{"effect":"allow","action":"name/im:DescribeAppInfo",'
            '"Action":"name/im:*","resource":"*"}]}'
        },
    ),
    "duplicate effect": (
        POLICY,
        {
            "document": '{"version":"2.0","statement":[{"effect":"deny","effect":"allow","action":"name/im:RemoveUser",'
            '"resource":"*"}]}'
        },
    ),
    "element CAM does not read": (
        POLICY,
        {
            "document": '{"Version":"2.0","Statement":[{"Effect":"Allow","Action":"name/im:DescribeAppInfo",'
            '"Resource":"*"}]}'
        },
    ),
    "patterns that together cover every catalogue action": (POLICY, {"document": by_initials(CATALOGUE_INITIALS)}),
    "a document nested 3,000 deep": (
        POLICY,
        {"document": '{"version":"2.0","statement":' + "[" * 3000 + "]" * 3000 + "}"},
    ),
    "Identity Center preset by id": (PERMISSION, {"roleConfigurationId": "rc-1", "rolePolicyId": 524252}),
    "Identity Center preset by name": (
        PERMISSION,
        {"roleConfigurationId": "rc-1", "rolePolicyName": " administratoraccess "},
    ),
    "Identity Center custom document": (CUSTOM_PERMISSION, {"roleConfigurationId": "rc-1", "rolePolicyDocument": WIDE}),
    "Identity Center custom documents": (
        CUSTOM_PERMISSIONS,
        {
            "roleConfigurationId": "rc-1",
            "policies": [
                {"rolePolicyName": "ok", "rolePolicyDocument": NARROW},
                {"rolePolicyName": "x", "rolePolicyDocument": WIDE},
            ],
        },
    ),
}

# Look-alikes that are not full IM access.
NOT_FULL: dict[str, tuple[str, dict[str, Any]]] = {
    "a longer id": (USER_ATTACHMENT, {"userName": "u", "policyId": "5242520"}),
    "a shorter id": (USER_ATTACHMENT, {"userName": "u", "policyId": "52425"}),
    "Image Moderation": (ROLE_BY_NAME, {"roleName": "r", "policyName": " QcloudIMSFullAccess "}),
    "IM read-only": (ROLE_BY_NAME, {"roleName": "r", "policyName": "QcloudIMReadOnlyAccess"}),
    "Identity Center read-only": (PERMISSION, {"roleConfigurationId": "rc-1", "rolePolicyName": "ReadOnlyAccess"}),
    "patterns that cover all catalogue actions but those of one initial": (
        POLICY,
        {"document": by_initials(CATALOGUE_INITIALS.replace("U", ""))},
    ),
    "Identity Center narrow document": (
        CUSTOM_PERMISSION,
        {"roleConfigurationId": "rc-1", "rolePolicyDocument": NARROW},
    ),
}


@pytest.mark.parametrize("case", FULL)
def test_every_spelling_and_route_is_blocked_on_a_non_approved_stack(case: str) -> None:
    resource_type, props = FULL[case]
    with on_stack("dev"):
        assert violations(full_access, resource_type, props), case


@pytest.mark.parametrize("case", FULL)
def test_every_spelling_and_route_is_allowed_on_an_approved_stack(case: str) -> None:
    resource_type, props = FULL[case]
    with on_stack("prod"):
        assert violations(full_access, resource_type, props) == []


@pytest.mark.parametrize("case", NOT_FULL)
def test_look_alikes_are_not_blocked(case: str) -> None:
    resource_type, props = NOT_FULL[case]
    with on_stack("dev"):
        assert violations(full_access, resource_type, props) == []


def test_patterns_that_cover_the_catalogue_together_are_named_as_such() -> None:
    with on_stack("dev"):
        (together,) = violations(full_access, POLICY, {"name": "split", "document": by_initials(CATALOGUE_INITIALS)})
        (deep,) = violations(full_access, POLICY, {"name": "deep", **FULL["a document nested 3,000 deep"][1]})
    assert "together cover every action of IM's catalogue" in together
    assert "nested too deeply" in deep and "cannot be shown safe" in deep


def test_an_ambiguous_document_is_named_as_such() -> None:
    _, props = FULL["keys differing in case"]
    with on_stack("dev"):
        (message,) = violations(full_access, POLICY, {"name": "sneaky", **props})
    assert "the keys 'action' and 'Action' differ only in letter case" in message
    assert "cannot be shown safe" in message
