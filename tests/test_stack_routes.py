"""Routes to IM full access through another resource of the stack: blocked on a non-approved stack,
allowed on an approved one; what the stack cannot see is assumed not to be full access."""

from __future__ import annotations

from typing import Any

import pytest
from im_guardrails import im_full_access_across_the_stack
from pulumi_policy.proxy import UnknownValueError

from im_access.contract import IM_ACCESS_GRANT
from tests.policy_args import UNKNOWN, Resource, approvals, on_stack, stack_violations

GROUP = "tencentcloud:Cam/group:Group"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
MEMBERSHIP = "tencentcloud:Cam/groupMembership:GroupMembership"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
USER = "tencentcloud:Cam/user:User"
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
POLICY = "tencentcloud:Cam/policy:Policy"
SET_VERSION = "tencentcloud:Cam/setPolicyVersionConfig:SetPolicyVersionConfig"
ORG_MEMBER_POLICY = "tencentcloud:Organization/orgMemberPolicyAttachment:OrgMemberPolicyAttachment"
APPROVED: dict[str, Any] = {"prod": {"fullAccessApproved": True}, "dev": {"fullAccessApproved": False}}
LISTED = {**APPROVED, "dev": {"fullAccessApproved": False, "fullAccessPrincipals": ["group:90002", "uin:100020000077"]}}


# The stack declares group 90001 by a grant: the guardrails judge what is attached to a group it declares.
IM_SUPPORT = Resource(IM_ACCESS_GRANT, {"groupId": 90001, "access": "readonly"}, "grant-group-90001")


def membership(group_id: Any = "90001", **deps: list[str]) -> Resource:
    return Resource(MEMBERSHIP, {"groupId": group_id, "userNames": ["mallory"]}, "join", deps or None)


def blocked(resources: list[Resource], stacks: dict[str, Any] = APPROVED, stack: str = "dev") -> list[str]:
    with on_stack(stack), approvals(stacks):
        return [message for message, _ in stack_violations(im_full_access_across_the_stack, resources)]


# Each case: the resources of a stack that reach IM full access through another principal.
ROUTES: dict[str, tuple[list[Resource], dict[str, Any]]] = {
    "member of a group given a full preset here": (
        [IM_SUPPORT, Resource(GROUP_ATTACHMENT, {"groupId": "90001", "policyId": "0524252"}, "g-att"), membership()],
        APPROVED,
    ),
    "member of a group given full access by a grant": (
        [Resource(IM_ACCESS_GRANT, {"groupId": 90001, "access": "full"}, "grant-group-90001"), membership()],
        APPROVED,
    ),
    "member of a new group of this stack given full access": (
        [
            Resource(GROUP, {"name": "admins"}, "admins"),
            Resource(
                GROUP_ATTACHMENT,
                {"groupId": UNKNOWN, "policyId": "1"},
                "a",
                {"groupId": [f"urn:pulumi:test::im-access::{GROUP}::admins"]},
            ),
            membership(UNKNOWN, groupId=[f"urn:pulumi:test::im-access::{GROUP}::admins"]),
        ],
        APPROVED,
    ),
    "member of a group listed as holding full access": ([membership("90002")], LISTED),
    "keys of the deploy identity": ([Resource(ACCESS_KEY, {"status": "Active"}, "root-key")], APPROVED),
    "keys of a principal listed as holding full access": (
        [Resource(ACCESS_KEY, {"targetUin": 100020000077}, "their-key")],
        LISTED,
    ),
    "organization member policy of an identity listed as holding full access, whatever its label": (
        [Resource(ORG_MEMBER_POLICY, {"policyName": "ReadOnlyAccess", "identityId": "07", "memberUins": [2]}, "org")],
        {**APPROVED, "dev": {"fullAccessApproved": False, "fullAccessPrincipals": ["orgIdentity:7"]}},
    ),
    "switch of a custom policy's default version the stack does not create": (
        [Resource(SET_VERSION, {"policyId": 200000001, "versionId": 3}, "switch")],
        APPROVED,
    ),
}


@pytest.mark.parametrize("case", ROUTES)
def test_each_route_is_blocked_on_a_non_approved_stack_and_allowed_on_an_approved_one(case: str) -> None:
    resources, config = ROUTES[case]
    assert len(blocked(resources, config)) == 1, case
    assert blocked(resources, config, stack="prod") == [], case


def test_look_alikes_pass() -> None:
    read_only = Resource(GROUP_ATTACHMENT, {"groupId": "90001", "policyId": "400411"}, "g-att")
    assert blocked([IM_SUPPORT, read_only, membership()]) == []
    declared = Resource(IM_ACCESS_GRANT, {"groupId": 90003, "access": "readonly"}, "grant-group-90003")
    assert blocked([declared, membership("90003")], LISTED) == []
    user = Resource(USER, {"name": "bot", "uin": 100020000055}, "bot-user")
    own_key = Resource(ACCESS_KEY, {"targetUin": 100020000055}, "bot-key", {"targetUin": [user.urn]})
    assert blocked([user, own_key], LISTED) == []


def test_a_key_for_a_stack_user_is_judged_at_up_when_its_uin_is_unknown() -> None:
    user = Resource(USER, {"name": "bot", "uin": UNKNOWN}, "bot-user")
    own_key = Resource(ACCESS_KEY, {"targetUin": UNKNOWN}, "bot-key", {"targetUin": [user.urn]})
    with pytest.raises(UnknownValueError, match="AccessKey 'bot-key'"):
        blocked([user, own_key])


def test_a_key_for_a_stack_user_reaching_full_access_is_blocked_in_preview() -> None:
    user = Resource(USER, {"name": "bot", "uin": 100020000055}, "bot-user")
    own_key = Resource(ACCESS_KEY, {"targetUin": 100020000055}, "bot-key", {"targetUin": [user.urn]})
    wide = Resource(POLICY, {"name": "wide", "document": SCOPED_DOC.replace("Describe*", "*")}, "wide")
    holds = Resource(USER_ATTACHMENT, {"userName": "bot", "policyId": UNKNOWN}, "bot-wide", {"policyId": [wide.urn]})
    messages = blocked([user, own_key, wide, holds])
    assert any("Remove API key 'bot-key'" in m and "custom policy 'wide'" in m for m in messages), messages


def test_a_membership_of_a_group_the_stack_does_not_declare_is_refused_off_approved_stacks() -> None:
    (message,) = blocked([membership("90003")], LISTED)
    assert "user:mallory -> group:90003 (member) -> a group the stack does not declare may hold anything" in message
    assert blocked([membership("90003")], LISTED, stack="prod") == []


def test_a_key_or_an_identity_of_a_principal_outside_the_stack_cannot_be_shown_safe() -> None:
    """What a principal outside the stack holds cannot be seen: its key hands out anything (the root
    account's is every permission), and an organization identity may be the organization's admin."""
    (key,) = blocked([Resource(ACCESS_KEY, {"targetUin": 100020000099}, "their-key")], LISTED)
    assert "a key of uin:100020000099, which the stack does not declare" in key
    label = Resource(ORG_MEMBER_POLICY, {"policyName": "ReadOnlyAccess", "identityId": 1}, "org")
    (identity,) = blocked([label], LISTED)
    assert "orgIdentity:1 (given the identity) -> an organization identity the stack does not declare" in identity


POLICY_VERSION = "tencentcloud:Cam/policyVersion:PolicyVersion"
SCOPED_DOC = '{"version":"2.0","statement":[{"effect":"allow","action":"name/im:Describe*","resource":"*"}]}'


def version(document: str) -> Resource:
    return Resource(POLICY_VERSION, {"policyId": 200000001, "policyDocument": document}, "v2")


def switch_to(target: Resource | None, policy_id: Any = 200000001) -> Resource:
    deps = {"versionId": [target.urn]} if target else None
    return Resource(SET_VERSION, {"policyId": policy_id, "versionId": UNKNOWN if target else 3}, "switch", deps)


def test_a_version_switch_the_stack_cannot_show_safe_is_assumed_full_access_and_says_so() -> None:
    (message,) = blocked([switch_to(None)])
    assert "custom policy 200000001 to version 3" in message
    assert "cannot be shown safe and is assumed to be IM full access" in message
    assert "reviewedCustomPolicies" in message


def test_a_switch_of_a_policy_reviewed_elsewhere_passes() -> None:
    reviewed = {**APPROVED, "dev": {"fullAccessApproved": False, "reviewedCustomPolicies": [200000001]}}
    assert blocked([switch_to(None)], reviewed) == []
    assert len(blocked([switch_to(None, policy_id=200000002)], reviewed)) == 1


def test_a_switch_to_a_version_of_the_stack_is_judged_by_its_document_in_preview() -> None:
    scoped = version(SCOPED_DOC)
    assert blocked([scoped, switch_to(scoped)]) == []
    wide = version(SCOPED_DOC.replace("name/im:Describe*", "name/im:*"))
    messages = blocked([wide, switch_to(wide)])
    assert any("to version 'v2'" in m and "allows IM full access" in m for m in messages), messages
    cam_write = version(SCOPED_DOC.replace("name/im:Describe*", "name/cam:AttachUserPolicy"))
    messages = blocked([cam_write, switch_to(cam_write)])
    assert any("to version 'v2'" in m and "allows CAM write" in m for m in messages), messages
    assert blocked([wide, switch_to(wide)], stack="prod") == []


def test_a_switch_of_a_policy_of_the_stack_to_another_version_is_not_shown_safe() -> None:
    policy = Resource("tencentcloud:Cam/policy:Policy", {"name": "scoped", "document": SCOPED_DOC}, "scoped")
    switch = Resource(SET_VERSION, {"policyId": UNKNOWN, "versionId": 2}, "switch", {"policyId": [policy.urn]})
    (message,) = blocked([policy, switch])
    assert "custom policy 'scoped' of this stack to version 2" in message


def test_a_group_given_a_scoped_custom_policy_of_the_stack_is_judged_without_reading_its_unknown_id() -> None:
    scoped_doc = '{"version":"2.0","statement":[{"effect":"allow","action":"name/im:Describe*","resource":"*"}]}'
    policy = Resource("tencentcloud:Cam/policy:Policy", {"name": "scoped", "document": scoped_doc}, "scoped")
    attachment = Resource(GROUP_ATTACHMENT, {"groupId": "90001", "policyId": UNKNOWN}, "g", {"policyId": [policy.urn]})
    assert blocked([IM_SUPPORT, policy, attachment, membership()]) == []
