"""The policy pack over the real analyzer gRPC protocol, started as the engine starts it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from google.protobuf import json_format

from im_access.contract import IM_ACCESS_GRANT, IM_OPERATOR
from tests.analyzer_client import POLICY_PACK, AnalyzerResource, PolicyPackProcess, mandatory
from tests.policy_args import UNKNOWN
from tests.test_guardrail_spellings import FULL as FULL_SPELLINGS
from tests.test_guardrail_spellings import NOT_FULL as NOT_FULL_SPELLINGS

FULL_ACCESS = "im-full-access-approved-stacks-only"
LINKED = "im-full-access-across-the-stack"
WIDE_DOCUMENT = json.dumps(
    {"version": "2.0", "statement": [{"effect": "allow", "action": "name/im:*", "resource": "*"}]}
)
SCOPED_DOCUMENT = json.dumps(
    {
        "version": "2.0",
        "statement": [
            {
                "effect": "allow",
                "action": ["name/im:DescribeAppStatList"],
                "resource": ["qcs::im::uin/1:sdkappid/1400000001"],
            }
        ],
    }
)


def user(name: str) -> AnalyzerResource:
    """A CAM user the stack creates: attachments to it are judged by what they attach."""
    return AnalyzerResource("tencentcloud:Cam/user:User", name, {"name": name})


def every_route() -> list[AnalyzerResource]:
    """One resource per route to IM full access, plus the attachment that links route 4."""
    wide = AnalyzerResource("tencentcloud:Cam/policy:Policy", "wide", {"name": "wide", "document": WIDE_DOCUMENT})
    return [
        AnalyzerResource(IM_OPERATOR, "oncall", {"access": "full", "userName": "oncall"}),
        AnalyzerResource(IM_ACCESS_GRANT, "grant-group-7", {"access": "full", "groupId": 7}),
        AnalyzerResource(
            "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
            "raw-user",
            {"userName": "mallory", "policyId": "524252"},
        ),
        AnalyzerResource(
            "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment",
            "raw-group",
            {"groupId": "42", "policyId": "1"},
        ),
        AnalyzerResource(
            "tencentcloud:Cam/rolePolicyAttachment:RolePolicyAttachment",
            "raw-role",
            {"roleId": "4611686018427397919", "policyId": "2"},
        ),
        AnalyzerResource(
            "tencentcloud:Cam/rolePolicyAttachmentByName:RolePolicyAttachmentByName",
            "raw-role-name",
            {"roleName": "ops", "policyName": "QcloudAVCFullAccess"},
        ),
        wide,
        AnalyzerResource(
            "tencentcloud:Cam/policyByName:PolicyByName",
            "wide-by-name",
            {"name": "wide2", "document": WIDE_DOCUMENT.replace("name/im:*", "*")},
        ),
        AnalyzerResource(
            "tencentcloud:Cam/policyVersion:PolicyVersion",
            "wide-version",
            {"policyId": 9, "policyDocument": WIDE_DOCUMENT.replace("name/im:*", "IM:*")},
        ),
        AnalyzerResource(
            "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
            "linked",
            {"userName": "eve", "policyId": "90001"},
            property_dependencies={"policyId": [wide.urn]},
        ),
    ]


def test_pack_describes_its_policies_and_their_levels(dev_pack: PolicyPackProcess) -> None:
    info = dev_pack.info()
    assert info.name == "im-access-guardrails"
    policies = {p.name: p for p in info.policies}
    mandatory_policies = {FULL_ACCESS, LINKED, "im-access-not-expired", "im-console-password-generated-and-reset"}
    mandatory_policies |= {"im-break-glass-exceptions-valid", "im-provider-endpoint-fixed", "im-role-trust-pinned"}
    mandatory_policies |= {"im-resource-kinds-known"}
    assert mandatory_policies == {name for name, p in policies.items() if p.enforcementLevel == 1}
    advisory = {name for name, p in policies.items() if p.enforcementLevel == 0}
    assert advisory == {"im-full-access-break-glass", "im-custom-actions-in-catalogue", "im-console-login-protection"}
    # One stack policy: each one costs the analyzer a full pass over the stack.
    assert [p.name for p in info.policies if p.name in (LINKED,)] == [LINKED]
    # Approvals live in policy_pack/approvals.yaml only: no policy config can approve a stack.
    for policy in info.policies:
        assert "approvedStacks" not in json_format.MessageToDict(policy.configSchema).get("properties", {})


def test_every_route_is_blocked_on_a_non_approved_stack(dev_pack: PolicyPackProcess) -> None:
    resources = every_route()
    per_resource = {r.name: mandatory(dev_pack.analyze(r)) for r in resources}
    # Routes 1-3: each resource on its own.
    for name in (
        "oncall",
        "grant-group-7",
        "raw-user",
        "raw-group",
        "raw-role",
        "raw-role-name",
        "wide",
        "wide-by-name",
        "wide-version",
    ):
        assert [d.policy for d in per_resource[name]] == [FULL_ACCESS], name
        assert "'dev'" in per_resource[name][0].message
    assert per_resource["linked"] == [], "the link to a custom policy is only visible across the stack"
    # Route 4: the stack policy links the attachment to the wide custom policy; the raw attachments name
    # principals the stack does not declare, which it refuses too.
    stack = mandatory(dev_pack.analyze_stack(resources))
    assert {d.policy for d in stack} == {LINKED}
    linked = [d.message for d in stack if d.urn == resources[-1].urn]
    assert any("user:eve -> custom policy 'wide' allows all of IM" in message for message in linked), linked


def test_every_route_is_allowed_on_an_approved_stack(prod_pack: PolicyPackProcess) -> None:
    """But a role known only by an id: it could be one a pull request assumes, which no stack may arm."""
    (by_id,) = mandatory(prod_pack.analyze_all(every_route()))
    assert by_id.urn.endswith("::raw-role") and "by its name (cam.RolePolicyAttachmentByName)" in by_id.message


def test_readonly_and_custom_access_trips_nothing(dev_pack: PolicyPackProcess) -> None:
    scoped = AnalyzerResource("tencentcloud:Cam/policy:Policy", "scoped", {"name": "s", "document": SCOPED_DOCUMENT})
    resources = [
        AnalyzerResource(IM_OPERATOR, "reader", {"access": "readonly", "userName": "reader"}),
        AnalyzerResource(IM_OPERATOR, "bot", {"access": "custom", "userName": "bot"}),
        AnalyzerResource(IM_ACCESS_GRANT, "g", {"access": "readonly", "userName": "qa"}),
        AnalyzerResource(
            "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
            "ro",
            {"userName": "reader", "policyId": "900001"},  # QcloudIMReadOnlyAccess, listed in presetPolicies
        ),
        AnalyzerResource(
            "tencentcloud:Cam/user:User",
            "reader-user",
            {"name": "reader", "consoleLogin": True, "needResetPassword": True},
        ),
        scoped,
        AnalyzerResource(
            "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
            "bot-att",
            {"userName": "bot", "policyId": "90002"},
            property_dependencies={"policyId": [scoped.urn]},
        ),
    ]
    assert dev_pack.analyze_all(resources) == []


def test_unknown_values_in_preview_give_a_note_not_a_pass(dev_pack: PolicyPackProcess) -> None:
    attachment = AnalyzerResource(
        "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
        "pending",
        {"userName": "mallory", "policyId": UNKNOWN},
    )
    assert dev_pack.analyze(attachment) == []  # the stack policy follows or flags it
    (note,) = dev_pack.analyze_stack([user("mallory"), attachment])
    assert note.policy == LINKED and note.enforcement == "advisory"
    assert "can't be known during preview" in note.message


def test_an_unknown_id_of_a_scoped_custom_policy_of_the_stack_gives_no_note(dev_pack: PolicyPackProcess) -> None:
    scoped = AnalyzerResource(
        "tencentcloud:Cam/policy:Policy", "scoped", {"name": "scoped", "document": SCOPED_DOCUMENT}
    )
    attachment = AnalyzerResource(
        "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
        "pending",
        {"userName": "bot", "policyId": UNKNOWN},
        property_dependencies={"policyId": [scoped.urn]},
    )
    assert dev_pack.analyze(attachment) == []
    assert dev_pack.analyze_stack([user("bot"), scoped, attachment]) == []


def test_the_same_attachment_is_blocked_at_up_once_the_id_is_known() -> None:
    with PolicyPackProcess("dev", dry_run=False) as pack:
        pack.configure({})
        attachment = AnalyzerResource(
            "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
            "pending",
            {"userName": "mallory", "policyId": "524252"},
        )
        assert [d.policy for d in mandatory(pack.analyze(attachment))] == [FULL_ACCESS]


def test_link_to_a_wide_policy_is_found_in_preview_while_the_id_is_unknown(dev_pack: PolicyPackProcess) -> None:
    wide = AnalyzerResource("tencentcloud:Cam/policy:Policy", "wide", {"name": "wide", "document": WIDE_DOCUMENT})
    attachment = AnalyzerResource(
        "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
        "pending",
        {"userName": "eve", "policyId": UNKNOWN},
        property_dependencies={"policyId": [wide.urn]},
    )
    found = mandatory(dev_pack.analyze_stack([user("eve"), wide, attachment]))
    assert {d.policy for d in found} == {LINKED}
    # The route itself, and eve's want of operation protection for what the route gives her.
    assert len(found) == 2
    assert sum("Remove IM full access for user:eve on stack 'dev'" in d.message for d in found) == 1
    assert sum("Turn on operation protection for CAM user 'eve' on stack 'dev'" in d.message for d in found) == 1


def test_approvals_with_a_problem_approve_nothing_and_fail_the_stack(tmp_path: Path) -> None:
    pack_dir = tmp_path / "pack"
    shutil.copytree(POLICY_PACK, pack_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (pack_dir / "approvals.yaml").write_text(
        'stacks:\n  prod:\n    account: "100012345678"\n    fullAccessApproved: yes please\n'
    )
    with PolicyPackProcess("prod", pack_dir=pack_dir) as pack:
        pack.configure({})
        operator = AnalyzerResource(IM_OPERATOR, "oncall", {"access": "full", "userName": "oncall"})
        assert [d.policy for d in mandatory(pack.analyze(operator))] == [FULL_ACCESS]
        (error,) = pack.analyze(AnalyzerResource("pulumi:pulumi:Stack", "im-access-prod", {}))
    assert error.policy == FULL_ACCESS and error.enforcement == "mandatory"
    assert "stacks.prod.fullAccessApproved: required, true or false" in error.message


def test_a_typo_in_a_custom_action_is_a_warning_with_the_closest_names(dev_pack: PolicyPackProcess) -> None:
    bot = AnalyzerResource(
        IM_OPERATOR, "bot", {"access": "custom", "userName": "bot", "actions": ["name/im:DescribeAppStatLst"]}
    )
    (warning,) = dev_pack.analyze(bot)
    assert warning.policy == "im-custom-actions-in-catalogue" and warning.enforcement == "advisory"
    assert "did you mean name/im:DescribeAppStatList" in warning.message


def test_a_switch_to_a_version_the_stack_does_not_create_is_blocked_unless_approved(
    dev_pack: PolicyPackProcess, prod_pack: PolicyPackProcess
) -> None:
    switch = AnalyzerResource(
        "tencentcloud:Cam/setPolicyVersionConfig:SetPolicyVersionConfig", "switch", {"policyId": 200001, "versionId": 2}
    )
    (blocked,) = mandatory(dev_pack.analyze_stack([switch]))
    assert blocked.policy == LINKED and "assumed to be IM full access" in blocked.message
    assert prod_pack.analyze_stack([switch]) == []


def test_expired_access_is_blocked(dev_pack: PolicyPackProcess) -> None:
    grant = AnalyzerResource(IM_ACCESS_GRANT, "old", {"access": "readonly", "userName": "qa", "expires": "2020-01-01"})
    assert [d.policy for d in mandatory(dev_pack.analyze(grant))] == ["im-access-not-expired"]


def test_password_in_code_is_blocked(dev_pack: PolicyPackProcess) -> None:
    user = AnalyzerResource(
        "tencentcloud:Cam/user:User",
        "u",
        {"name": "u", "consoleLogin": True, "needResetPassword": True, "password": "Hunter2!x"},
    )
    (diagnostic,) = mandatory(dev_pack.analyze(user))
    assert diagnostic.policy == "im-console-password-generated-and-reset"
    assert "Hunter2" not in diagnostic.message


@pytest.mark.parametrize("case", FULL_SPELLINGS)
def test_every_spelling_and_route_over_the_protocol(
    case: str, dev_pack: PolicyPackProcess, prod_pack: PolicyPackProcess
) -> None:
    resource_type, props = FULL_SPELLINGS[case]
    resource = AnalyzerResource(resource_type, "r", props)
    assert [d.policy for d in mandatory(dev_pack.analyze(resource))] == [FULL_ACCESS], case
    assert prod_pack.analyze(resource) == [], case


@pytest.mark.parametrize("case", NOT_FULL_SPELLINGS)
def test_look_alikes_pass_over_the_protocol(case: str, dev_pack: PolicyPackProcess) -> None:
    resource_type, props = NOT_FULL_SPELLINGS[case]
    assert dev_pack.analyze(AnalyzerResource(resource_type, "r", props)) == [], case


def test_a_member_of_a_full_access_group_is_blocked_over_the_protocol(
    dev_pack: PolicyPackProcess, prod_pack: PolicyPackProcess
) -> None:
    group = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
    resources = [
        AnalyzerResource(IM_ACCESS_GRANT, "declares-90001", {"access": "readonly", "groupId": 90001}),
        AnalyzerResource(group, "admins-att", {"groupId": "90001", "policyId": "524252"}),
        AnalyzerResource(
            "tencentcloud:Cam/groupMembership:GroupMembership", "join", {"groupId": "90001", "userNames": ["mallory"]}
        ),
    ]
    found = mandatory(dev_pack.analyze_stack(resources))
    assert [d.policy for d in found] == [LINKED]
    assert "mallory" in found[0].message
    assert prod_pack.analyze_stack(resources) == []
