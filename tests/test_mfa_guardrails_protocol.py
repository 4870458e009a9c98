"""The MFA guardrails over the real analyzer gRPC protocol: operation protection for IM full access
(mandatory, approved stacks included) and a console operator's opt-out of login protection (advisory)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from im_access.contract import IM_OPERATOR
from tests.analyzer_client import AnalyzerResource, PolicyPackProcess

OPERATION = "im-full-access-across-the-stack"  # one stack policy: one pass over the stack
LOGIN = "im-console-login-protection"
USER = "tencentcloud:Cam/user:User"
ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
MFA = "tencentcloud:Cam/mfaFlag:MfaFlag"
POLICY = "tencentcloud:Cam/policy:Policy"
GROUP = "tencentcloud:Cam/group:Group"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
MEMBERSHIP = "tencentcloud:Cam/groupMembership:GroupMembership"
ON = {"phone": 0, "stoken": 1, "wechat": 0}
OFF = {"phone": 0, "stoken": 0, "wechat": 0}


@pytest.fixture(scope="module")
def prod() -> Iterator[PolicyPackProcess]:
    # prod is approved for IM full access: the rule holds there too.
    with PolicyPackProcess("prod", dry_run=False) as pack:
        pack.configure({})
        yield pack


def operator(access: str = "full", action_flag: dict[str, int] | None = ON, **props: object) -> list[AnalyzerResource]:
    """An ImOperator as the component registers it: the component, its user, attachment and MFA flag."""
    component = AnalyzerResource(IM_OPERATOR, "oncall", {"userName": "oncall", "access": access, **props})
    user = AnalyzerResource(
        USER, "oncall-user", {"name": "oncall", "uin": 100020000001, "consoleLogin": True}, parent=component.urn
    )
    attachment = AnalyzerResource(
        ATTACHMENT,
        "oncall-im-access",
        {"userName": "oncall", "policyId": 524252 if access == "full" else 900001},
        parent=component.urn,
        property_dependencies={"userName": [user.urn]},
    )
    resources = [component, user, attachment]
    if action_flag is not None:
        resources.append(
            AnalyzerResource(
                MFA,
                "oncall-mfa",
                {"opUin": 100020000001, "loginFlag": ON, "actionFlag": action_flag},
                parent=component.urn,
                property_dependencies={"opUin": [user.urn]},
            )
        )
    return resources


def found(pack: PolicyPackProcess, resources: list[AnalyzerResource], policy: str) -> list[str]:
    return [d.message for d in pack.analyze_all(resources) if d.policy == policy]


def test_full_access_with_operation_protection_passes(prod: PolicyPackProcess) -> None:
    assert found(prod, operator(), OPERATION) == []


def test_full_access_without_operation_protection_is_mandatory_even_when_approved(prod: PolicyPackProcess) -> None:
    for resources in (operator(action_flag=OFF), operator(action_flag=None)):
        diagnostics = [d for d in prod.analyze_all(resources) if d.policy == OPERATION]
        assert [d.enforcement for d in diagnostics] == ["mandatory"], diagnostics
        assert "'oncall'" in diagnostics[0].message and "actionFlag" in diagnostics[0].message


def test_readonly_needs_no_operation_protection(prod: PolicyPackProcess) -> None:
    assert found(prod, operator(access="readonly", action_flag=OFF), OPERATION) == []


def test_a_raw_user_with_a_full_preset_or_a_wide_custom_policy_needs_it_too(prod: PolicyPackProcess) -> None:
    user = AnalyzerResource(USER, "raw", {"name": "mallory", "uin": 100020000009})
    preset = AnalyzerResource(ATTACHMENT, "raw-full", {"userName": "mallory", "policyId": "0524252"})
    assert len(found(prod, [user, preset], OPERATION)) == 1
    document = json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": "name/im:*", "resource": "*"}]}
    )
    wide = AnalyzerResource(POLICY, "wide", {"name": "wide", "document": document})
    linked = AnalyzerResource(
        ATTACHMENT, "raw-wide", {"userName": "mallory", "policyId": 7}, property_dependencies={"policyId": [wide.urn]}
    )
    assert len(found(prod, [user, wide, linked], OPERATION)) == 1
    # A flag tied by the UIN it resolves to counts, as one tied by dependency does.
    flag = AnalyzerResource(MFA, "raw-mfa", {"opUin": "100020000009", "actionFlag": {"wechat": 1}})
    assert found(prod, [user, wide, linked, flag], OPERATION) == []
    # A flag on another user does not, and is refused itself: the stack creates no user 100020000010.
    other = AnalyzerResource(MFA, "other-mfa", {"opUin": 100020000010, "actionFlag": ON})
    messages = found(prod, [user, preset, other], OPERATION)
    assert len(messages) == 2 and sum("Remove the MFA flags 'other-mfa'" in m for m in messages) == 1


def test_a_user_holding_full_access_through_a_group_of_the_stack_needs_it_too(prod: PolicyPackProcess) -> None:
    """On an approved stack, full access through a group is allowed: operation protection is not optional."""
    user = AnalyzerResource(USER, "raw", {"name": "mallory", "uin": 100020000009})
    group = AnalyzerResource(GROUP, "oncall-group", {"name": "oncall"})
    full = AnalyzerResource(
        GROUP_ATTACHMENT,
        "oncall-full",
        {"groupId": "90007", "policyId": 524252},
        property_dependencies={"groupId": [group.urn]},
    )
    join = AnalyzerResource(
        MEMBERSHIP,
        "oncall-members",
        {"groupId": "90007", "userNames": ["mallory"]},
        property_dependencies={"groupId": [group.urn], "userNames": [user.urn]},
    )
    (message,) = found(prod, [user, group, full, join], OPERATION)
    assert "Turn on operation protection for CAM user 'mallory'" in message, message
    assert "user:mallory -> group:oncall (member) -> preset QcloudAVCFullAccess" in message
    # A policy the guardrails cannot identify, nearer than the group, does not hide the group's full access.
    unknown = AnalyzerResource(ATTACHMENT, "raw-unknown", {"userName": "mallory", "policyId": 12345})
    assert any("group:oncall" in m for m in found(prod, [user, group, full, join, unknown], OPERATION))
    flag = AnalyzerResource(
        MFA, "raw-mfa", {"opUin": 100020000009, "actionFlag": ON}, property_dependencies={"opUin": [user.urn]}
    )
    assert found(prod, [user, group, full, join, flag], OPERATION) == []


def test_a_console_operator_opting_out_of_login_protection_is_advisory_with_its_reason(
    prod: PolicyPackProcess,
) -> None:
    opted_out = operator(access="readonly", console=True, loginMfa=False, mfaOptOutReason="shared NOC screen")
    diagnostics = [d for d in prod.analyze_all(opted_out) if d.policy == LOGIN]
    assert [d.enforcement for d in diagnostics] == ["advisory"]
    assert "shared NOC screen" in diagnostics[0].message and "'oncall'" in diagnostics[0].message
    assert found(prod, operator(access="readonly", console=True, loginMfa=True), LOGIN) == []
    assert found(prod, operator(access="readonly", console=False, loginMfa=False), LOGIN) == []


@pytest.mark.parametrize("linked", [False, True], ids=["by value", "by a resource outside the stack's users"])
def test_flags_on_a_user_the_stack_does_not_create_are_refused(prod: PolicyPackProcess, linked: bool) -> None:
    """Turning MFA off for an administrator outside the stack: refused, approved stack or not."""
    group = AnalyzerResource("tencentcloud:Cam/group:Group", "admins", {"name": "admins"})
    admin_flags = AnalyzerResource(
        MFA,
        "admin-mfa-off",
        {"opUin": 100020000999, "loginFlag": OFF, "actionFlag": OFF},
        property_dependencies={"opUin": [group.urn]} if linked else {},
    )
    messages = found(prod, [*operator(), group, admin_flags], OPERATION)
    assert len(messages) == 1, messages
    assert "Remove the MFA flags 'admin-mfa-off' on stack 'prod': uin '100020000999' is no user" in messages[0]
    # The stack's own operator's flags, tied to its user by value alone, pass.
    by_value = [
        AnalyzerResource(r.type, r.name, r.properties, parent=r.parent) if r.type == MFA else r for r in operator()
    ]
    assert found(prod, by_value, OPERATION) == []
