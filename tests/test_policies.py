"""Validator unit tests with the real pulumi_policy argument types.

Each case starts from a valid resource and changes one thing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from im_guardrails import (
    console_password_generated_and_reset,
    im_access_not_expired,
    im_full_access_across_the_stack,
    im_full_access_approved_stacks_only,
)
from pulumi_policy.proxy import UnknownValueError

from im_access.contract import IM_ACCESS_GRANT, IM_OPERATOR
from tests.policy_args import UNKNOWN, Resource, approvals, on_stack, stack_violations, violations

OPERATOR = IM_OPERATOR
GRANT = IM_ACCESS_GRANT
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
ROLE_ATTACHMENT = "tencentcloud:Cam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_BY_NAME = "tencentcloud:Cam/rolePolicyAttachmentByName:RolePolicyAttachmentByName"
POLICY = "tencentcloud:Cam/policy:Policy"
POLICY_BY_NAME = "tencentcloud:Cam/policyByName:PolicyByName"
POLICY_VERSION = "tencentcloud:Cam/policyVersion:PolicyVersion"
USER = "tencentcloud:Cam/user:User"

full_access = im_full_access_approved_stacks_only


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"version": "2.0", "statement": list(statements)})


def allow(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"effect": "allow", "action": action, "resource": resource}


SCOPED = document(allow(["name/im:DescribeAppStatList"], ["qcs::im::uin/1:sdkappid/1400000001"]))


@pytest.fixture(autouse=True)
def dev_stack() -> Any:
    with on_stack("dev"):
        yield


# Route 1: the components.
@pytest.mark.parametrize("resource_type", [OPERATOR, GRANT])
def test_full_component_is_blocked_on_an_unapproved_stack(resource_type: str) -> None:
    (message,) = violations(full_access, resource_type, {"access": "full", "userName": "oncall"})
    assert "user 'oncall'" in message
    assert "'dev'" in message
    assert "policy_pack/approvals.yaml" in message and "'readonly' or 'custom'" in message


@pytest.mark.parametrize("access", ["readonly", "custom"])
def test_readonly_and_custom_components_pass(access: str) -> None:
    assert violations(full_access, OPERATOR, {"access": access, "userName": "x"}) == []


def test_full_component_is_allowed_on_an_approved_stack() -> None:
    with on_stack("prod"):
        assert violations(full_access, OPERATOR, {"access": "full", "userName": "oncall"}) == []


@pytest.mark.parametrize(
    "stacks",
    [
        {},  # a stack the approvals do not list
        {"prod": {"fullAccessApproved": False}},
        {"prod": {"fullAccessApproved": "yes"}},  # a problem in the file approves nothing
        {"prod": {"fullAccessApproved": True}, "acme/im-access/prod": {"fullAccessApproved": True}},
    ],
)
def test_only_a_well_formed_approval_naming_the_stack_approves_it(stacks: dict[str, Any]) -> None:
    with on_stack("prod", organization="acme"), approvals(stacks):
        assert violations(full_access, OPERATOR, {"access": "full", "userName": "oncall"}) != []
    with on_stack("prod", organization="acme"), approvals({"prod": {"fullAccessApproved": True}}):
        assert violations(full_access, OPERATOR, {"access": "full", "userName": "oncall"}) == []


def test_group_grant_names_the_group() -> None:
    (message,) = violations(full_access, GRANT, {"access": "full", "groupId": 90001})
    assert "group 90001" in message


# Route 2: raw attachments of full-access presets.
@pytest.mark.parametrize("policy_id", ["524252", "1", "2", 524252])
@pytest.mark.parametrize(
    ("resource_type", "principal", "expected"),
    [
        (USER_ATTACHMENT, {"userName": "mallory"}, "user 'mallory'"),
        (GROUP_ATTACHMENT, {"groupId": "42"}, "group '42'"),
        (ROLE_ATTACHMENT, {"roleId": "4611686018427397919"}, "role '4611686018427397919'"),
    ],
)
def test_attaching_a_full_access_preset_is_blocked(
    resource_type: str, principal: dict[str, str], expected: str, policy_id: Any
) -> None:
    (message,) = violations(full_access, resource_type, {**principal, "policyId": policy_id})
    assert expected in message
    assert f"id {int(policy_id)}" in message


@pytest.mark.parametrize("policy_name", ["QcloudAVCFullAccess", "administratoraccess", "QCloudResourceFullAccess"])
def test_by_name_attachment_of_a_full_access_preset_is_blocked(policy_name: str) -> None:
    (message,) = violations(full_access, ROLE_BY_NAME, {"roleName": "ops", "policyName": policy_name})
    assert "role 'ops'" in message and policy_name in message


@pytest.mark.parametrize("policy_name", ["QcloudIMReadOnlyAccess", "QcloudIMSFullAccess", "ReadOnlyAccess"])
def test_other_presets_pass(policy_name: str) -> None:
    assert violations(full_access, ROLE_BY_NAME, {"roleName": "ops", "policyName": policy_name}) == []
    assert violations(full_access, USER_ATTACHMENT, {"userName": "u", "policyId": "400411"}) == []


def test_full_access_ids_and_names_are_configurable() -> None:
    config = {"fullAccessPolicyIds": [777], "fullAccessPolicyNames": ["MyImAdmin"]}
    assert violations(full_access, USER_ATTACHMENT, {"userName": "u", "policyId": "777"}, config=config) != []
    assert violations(full_access, USER_ATTACHMENT, {"userName": "u", "policyId": "524252"}, config=config) == []
    assert violations(full_access, ROLE_BY_NAME, {"roleName": "r", "policyName": "MyImAdmin"}, config=config) != []


def test_attachments_pass_on_an_approved_stack() -> None:
    with on_stack("prod"):
        assert violations(full_access, USER_ATTACHMENT, {"userName": "u", "policyId": "524252"}) == []


# Route 3: custom policies whose document allows every IM action.
@pytest.mark.parametrize(
    "action",
    [
        "*",
        "*:*",
        "im:*",
        "name/im:*",
        "NAME/IM:*",
        "Im:*",
        ["name/im:DescribeAppStatList", "name/im:*"],
        "name/*",
        "name/i*",
        "avc:*",
        "name/avc:*",
        "*im:*",
    ],
)
def test_custom_policy_allowing_all_of_im_is_blocked(action: Any) -> None:
    (message,) = violations(full_access, POLICY, {"name": "wide", "document": document(allow(action))})
    assert "custom policy 'wide'" in message and "'dev'" in message


@pytest.mark.parametrize(
    "doc",
    [
        SCOPED,
        document(allow(["name/im:Describe*"])),
        document(allow("name/cvm:*")),
        document({"effect": "deny", "action": "name/im:*", "resource": "*"}),
        document(allow("name/im:DescribeAppStatList"), {"effect": "deny", "action": "*", "resource": "*"}),
    ],
)
def test_scoped_or_denying_custom_policies_pass(doc: str) -> None:
    assert violations(full_access, POLICY, {"name": "ok", "document": doc}) == []


def test_every_im_action_on_some_apps_counts_as_full_access() -> None:
    scoped_wildcard = document(allow("name/im:*", ["qcs::im::uin/1:sdkappid/1400000001"]))
    assert violations(full_access, POLICY, {"name": "app-admin", "document": scoped_wildcard}) != []


@pytest.mark.parametrize(("resource_type", "key"), [(POLICY_BY_NAME, "document"), (POLICY_VERSION, "policyDocument")])
def test_policy_variants_are_checked(resource_type: str, key: str) -> None:
    assert violations(full_access, resource_type, {key: document(allow("im:*"))}) != []
    assert violations(full_access, resource_type, {key: SCOPED}) == []


def test_a_single_statement_object_is_read_like_a_list() -> None:
    lone_statement = json.dumps({"version": "2.0", "statement": allow("name/im:*")})
    assert violations(full_access, POLICY, {"name": "lone", "document": lone_statement}) != []


def test_unreadable_document_cannot_be_shown_safe() -> None:
    (message,) = violations(full_access, POLICY, {"name": "broken", "document": "{not json"})
    assert "not valid JSON" in message


def test_custom_policy_passes_on_an_approved_stack() -> None:
    with on_stack("prod"):
        assert violations(full_access, POLICY, {"document": document(allow("*"))}) == []


# Unknown values in preview: a check that cannot run must raise (the engine's note), never pass silently.
def test_unknown_policy_id_is_left_to_the_stack_policy() -> None:
    assert violations(full_access, USER_ATTACHMENT, {"userName": "u", "policyId": UNKNOWN}) == []


def test_unknown_policy_id_from_outside_the_stack_raises_in_the_stack_policy() -> None:
    pending = Resource(USER_ATTACHMENT, {"userName": "u", "policyId": UNKNOWN}, name="pending")
    with pytest.raises(UnknownValueError):
        stack_violations(im_full_access_across_the_stack, [pending])


def test_unknown_document_raises_instead_of_passing() -> None:
    with pytest.raises(UnknownValueError):
        violations(full_access, POLICY, {"name": "p", "document": UNKNOWN})


def test_known_policy_name_is_judged_even_when_the_id_is_unknown() -> None:
    found = violations(
        full_access, ROLE_BY_NAME, {"roleName": "r", "policyName": "AdministratorAccess", "policyId": UNKNOWN}
    )
    assert found != []


# Route 4: attachments of a full-access custom policy defined in the same stack.
def _linked_stack(doc: str) -> list[Resource]:
    policy = Resource(POLICY, {"name": "wide", "document": doc}, name="wide")
    attachment = Resource(
        USER_ATTACHMENT,
        {"userName": "mallory", "policyId": UNKNOWN},
        name="mallory-att",
        property_dependencies={"policyId": [policy.urn]},
    )
    unrelated = Resource(USER_ATTACHMENT, {"userName": "bob", "policyId": "900001"}, name="bob-att")  # read-only
    users = [Resource("tencentcloud:Cam/user:User", {"name": name}, name=name) for name in ("mallory", "bob")]
    return [*users, policy, attachment, unrelated]


def test_attachment_of_a_wide_custom_policy_is_blocked_even_with_unknown_id() -> None:
    protection, found = sorted(
        stack_violations(im_full_access_across_the_stack, _linked_stack(document(allow("name/im:*")))),
        key=lambda violation: violation[0].startswith("Remove"),
    )
    assert protection[0].startswith("Turn on operation protection for CAM user 'mallory'")
    message, urn = found
    assert "user:mallory -> custom policy 'wide' allows all of IM" in message and "'dev'" in message
    assert urn is not None and urn.endswith("::mallory-att")


def test_attachment_of_a_scoped_custom_policy_passes() -> None:
    assert stack_violations(im_full_access_across_the_stack, _linked_stack(SCOPED)) == []


def test_linked_attachment_on_an_approved_stack_needs_operation_protection_alone() -> None:
    with on_stack("prod"):
        resources = _linked_stack(document(allow("*")))
        ((message, _),) = stack_violations(im_full_access_across_the_stack, resources)
        assert message.startswith("Turn on operation protection for CAM user 'mallory' on stack 'prod'")
        mallory = resources[0]
        flag = Resource(
            "tencentcloud:Cam/mfaFlag:MfaFlag",
            {"opUin": 100020000009, "actionFlag": {"stoken": 1}},
            name="mallory-mfa",
            property_dependencies={"opUin": [mallory.urn]},
        )
        assert stack_violations(im_full_access_across_the_stack, [*resources, flag]) == []


# im-access-not-expired
def test_expired_access_is_a_violation() -> None:
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    (message,) = violations(
        im_access_not_expired, GRANT, {"access": "readonly", "userName": "qa", "expires": yesterday}
    )
    assert "user 'qa'" in message and f"expired on {yesterday}" in message


@pytest.mark.parametrize("days", [0, 30])
def test_current_access_passes(days: int) -> None:
    expires = (dt.date.today() + dt.timedelta(days=days)).isoformat()
    assert violations(im_access_not_expired, OPERATOR, {"access": "readonly", "expires": expires}) == []
    assert violations(im_access_not_expired, OPERATOR, {"access": "readonly"}) == []


def test_grace_days_tolerate_recent_expiry() -> None:
    two_days_ago = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    props = {"access": "readonly", "expires": two_days_ago}
    assert violations(im_access_not_expired, OPERATOR, props, config={"graceDays": 3}) == []
    assert violations(im_access_not_expired, OPERATOR, props, config={"graceDays": 1}) != []


def test_malformed_expiry_is_a_violation() -> None:
    assert violations(im_access_not_expired, OPERATOR, {"access": "readonly", "expires": "soon"}) != []


# im-console-password-generated-and-reset
GOOD_USER = {"name": "alice", "consoleLogin": True, "needResetPassword": True}


def test_generated_password_with_reset_passes() -> None:
    assert violations(console_password_generated_and_reset, USER, GOOD_USER) == []
    assert violations(console_password_generated_and_reset, USER, {"name": "bot", "consoleLogin": False}) == []


def test_password_in_code_is_a_violation_and_is_not_echoed() -> None:
    (message,) = violations(console_password_generated_and_reset, USER, {**GOOD_USER, "password": "Hunter2!x"})
    assert "alice" in message and "Hunter2" not in message


def test_console_user_without_reset_is_a_violation() -> None:
    (message,) = violations(console_password_generated_and_reset, USER, {**GOOD_USER, "needResetPassword": False})
    assert "needResetPassword" in message
    config = {"requirePasswordReset": False}
    assert (
        violations(console_password_generated_and_reset, USER, {**GOOD_USER, "needResetPassword": False}, config=config)
        == []
    )
