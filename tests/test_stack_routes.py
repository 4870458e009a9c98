"""Routes to IM full access through another resource of the stack: blocked on a non-approved stack,
allowed on an approved one; what the stack cannot see is assumed not to be full access."""

from __future__ import annotations

from typing import Any

import pytest
from im_guardrails import im_full_access_across_the_stack
from pulumi_policy.proxy import UnknownValueError

from im_access.contract import IM_ACCESS_GRANT
from tests.policy_args import UNKNOWN, Resource, on_stack, stack_violations

GROUP = "tencentcloud:Cam/group:Group"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
MEMBERSHIP = "tencentcloud:Cam/groupMembership:GroupMembership"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
USER = "tencentcloud:Cam/user:User"
SET_VERSION = "tencentcloud:Cam/setPolicyVersionConfig:SetPolicyVersionConfig"
ORG_MEMBER_POLICY = "tencentcloud:Organization/orgMemberPolicyAttachment:OrgMemberPolicyAttachment"
APPROVED = {"approvedStacks": ["prod"]}
LISTED = {"approvedStacks": ["prod"], "fullAccessPrincipals": ["group:90002", "uin:100020000077"]}


def membership(group_id: Any = "90001", **deps: list[str]) -> Resource:
    return Resource(MEMBERSHIP, {"groupId": group_id, "userNames": ["mallory"]}, "join", deps or None)


def blocked(resources: list[Resource], config: dict[str, Any] = APPROVED, stack: str = "dev") -> list[str]:
    with on_stack(stack):
        return [message for message, _ in stack_violations(im_full_access_across_the_stack, resources, config=config)]


# Each case: the resources of a stack that reach IM full access through another principal.
ROUTES: dict[str, tuple[list[Resource], dict[str, Any]]] = {
    "member of a group given a full preset here": (
        [Resource(GROUP_ATTACHMENT, {"groupId": "90001", "policyId": "0524252"}, "g-att"), membership()],
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
        {**LISTED, "fullAccessPrincipals": ["OrgIdentity:7"]},
    ),
}


@pytest.mark.parametrize("case", ROUTES)
def test_each_route_is_blocked_on_a_non_approved_stack_and_allowed_on_an_approved_one(case: str) -> None:
    resources, config = ROUTES[case]
    assert len(blocked(resources, config)) == 1, case
    assert blocked(resources, config, stack="prod") == [], case


def test_look_alikes_pass() -> None:
    read_only = Resource(GROUP_ATTACHMENT, {"groupId": "90001", "policyId": "400411"}, "g-att")
    assert blocked([read_only, membership()]) == []
    assert blocked([membership("90003")], LISTED) == []
    user = Resource(USER, {"name": "bot", "uin": 100020000055}, "bot-user")
    own_key = Resource(ACCESS_KEY, {"targetUin": 100020000055}, "bot-key", {"targetUin": [user.urn]})
    assert blocked([user, own_key], LISTED) == []
    label = Resource(ORG_MEMBER_POLICY, {"policyName": "AdministratorAccess", "identityId": 1}, "org")
    assert blocked([label], LISTED) == []  # a label; identity 1 is outside the stack and not listed


def test_a_key_for_a_stack_user_is_judged_at_up_when_its_uin_is_unknown() -> None:
    user = Resource(USER, {"name": "bot", "uin": UNKNOWN}, "bot-user")
    own_key = Resource(ACCESS_KEY, {"targetUin": UNKNOWN}, "bot-key", {"targetUin": [user.urn]})
    with pytest.raises(UnknownValueError, match="AccessKey 'bot-key'"):
        blocked([user, own_key])


def test_what_the_stack_cannot_see_is_assumed_not_to_be_full_access() -> None:
    outside_key = Resource(ACCESS_KEY, {"targetUin": 100020000099}, "their-key")
    switch = Resource(SET_VERSION, {"policyId": 200000001, "versionId": 3}, "switch")
    assert blocked([outside_key, switch], LISTED) == []


def test_a_group_given_a_scoped_custom_policy_of_the_stack_is_judged_without_reading_its_unknown_id() -> None:
    scoped_doc = '{"version":"2.0","statement":[{"effect":"allow","action":"name/im:Describe*","resource":"*"}]}'
    policy = Resource("tencentcloud:Cam/policy:Policy", {"name": "scoped", "document": scoped_doc}, "scoped")
    attachment = Resource(GROUP_ATTACHMENT, {"groupId": "90001", "policyId": UNKNOWN}, "g", {"policyId": [policy.urn]})
    assert blocked([policy, attachment, membership()]) == []
