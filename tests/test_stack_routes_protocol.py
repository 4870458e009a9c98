"""The routes through another resource over the analyzer protocol: what an organization identity
grants, values computed from other resources, and unknown values in preview, each noted for its
resource without hiding the verdicts on the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from im_access.contract import IM_ACCESS_GRANT
from tests.analyzer_client import POLICY_PACK, AnalyzerResource, Diagnostic, PolicyPackProcess, mandatory, pack_copy
from tests.policy_args import UNKNOWN

ROUTES = "im-full-access-across-the-stack"
GROUP = "tencentcloud:Cam/group:Group"
USER = "tencentcloud:Cam/user:User"
MEMBERSHIP = "tencentcloud:Cam/groupMembership:GroupMembership"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
ORG_IDENTITY = "tencentcloud:Organization/orgIdentity:OrgIdentity"
ORG_MEMBER_POLICY = "tencentcloud:Organization/orgMemberPolicyAttachment:OrgMemberPolicyAttachment"
ORG_MEMBER_IDENTITIES = "tencentcloud:Organization/orgMemberAuthIdentityAttachment:OrgMemberAuthIdentityAttachment"
RANDOM = "random:index/randomInteger:RandomInteger"
LISTED = ["group:90002", "uin:100020000077", "orgIdentity:7"]


def _document(action: str) -> str:
    return json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": action, "resource": "*"}]})


@pytest.fixture(scope="module")
def listed_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pack with approvals that list LISTED as holding full access outside dev and prod."""
    approvals = yaml.safe_load((POLICY_PACK / "approvals.yaml").read_text())
    for stack in ("dev", "prod"):
        approvals["stacks"][stack]["fullAccessPrincipals"] = list(LISTED)  # a copy each: the file has no aliases
    return pack_copy(tmp_path_factory.mktemp("pack") / "policy_pack", {"approvals.yaml": yaml.safe_dump(approvals)})


@pytest.fixture(scope="module")
def dev_pack(listed_pack: Path) -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess("dev", pack_dir=listed_pack) as pack:
        pack.configure({})
        yield pack


@pytest.fixture(scope="module")
def dev_pack_at_up(listed_pack: Path) -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess("dev", dry_run=False, pack_dir=listed_pack) as pack:
        pack.configure({})
        yield pack


@pytest.fixture(scope="module")
def prod_pack(listed_pack: Path) -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess("prod", pack_dir=listed_pack) as pack:
        pack.configure({})
        yield pack


def identity(name: str, *policies: dict[str, object]) -> AnalyzerResource:
    return AnalyzerResource(ORG_IDENTITY, name, {"identityAliasName": name, "identityPolicies": list(policies)})


def member_policy(label: str, identity_id: object, source: AnalyzerResource | None = None) -> AnalyzerResource:
    return AnalyzerResource(
        ORG_MEMBER_POLICY,
        f"members-{label}",
        {"identityId": identity_id, "memberUins": [100020000123], "policyName": label},
        property_dependencies={"identityId": [source.urn]} if source else {},
    )


def blocked_urns(found: list[Diagnostic]) -> set[str]:
    return {d.urn for d in mandatory(found) if d.policy == ROUTES}


def notes(found: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in found if d.enforcement == "advisory" and d.policy == ROUTES]


# Organization identities grant what their identityPolicies say; a member policy's name is a label.
FULL_IDENTITIES: dict[str, dict[str, object]] = {
    "preset by name": {"policyType": 2, "policyName": " administratoraccess"},
    "preset by id": {"policyType": 2, "policyId": 2},
    "IM preset by id spelled otherwise": {"policyType": 2, "policyId": "0524252"},
    "custom document allowing all of IM": {"policyType": 1, "policyDocument": _document("name/im:*")},
    "unreadable custom document": {"policyType": 1, "policyDocument": "{not json"},
}


@pytest.mark.parametrize("case", FULL_IDENTITIES)
def test_a_member_policy_of_an_identity_granting_full_access_is_blocked_whatever_its_label(
    case: str, dev_pack: PolicyPackProcess, prod_pack: PolicyPackProcess
) -> None:
    read_only = {"policyType": 2, "policyName": "QcloudIMReadOnlyAccess"}
    admins = identity("admins", read_only, FULL_IDENTITIES[case])
    attachment = member_policy("ReadOnlyAccess", UNKNOWN, admins)
    found = dev_pack.analyze_stack([admins, attachment])
    assert blocked_urns(found) == {admins.urn, attachment.urn}, case
    (message,) = [d.message for d in found if d.urn == attachment.urn]
    assert "organization identity 'admins' (given the identity)" in message and "100020000123" in message
    assert prod_pack.analyze_stack([admins, attachment]) == [], case


def test_a_member_policy_of_an_identity_listed_as_holding_full_access_is_blocked(dev_pack: PolicyPackProcess) -> None:
    attachment = member_policy("QcloudIMReadOnlyAccess", 7)
    (found,) = mandatory(dev_pack.analyze_stack([attachment]))
    assert found.urn == attachment.urn and "fullAccessPrincipals" in found.message


def test_identity_look_alikes_pass_whatever_the_label(dev_pack: PolicyPackProcess) -> None:
    support = identity(
        "support",
        {"policyType": 2, "policyName": "QcloudIMReadOnlyAccess"},
        {"policyType": 2, "policyName": "ReadOnlyAccess"},
        {"policyType": 1, "policyDocument": _document("name/im:Describe*")},
    )
    resources = [support, member_policy("AdministratorAccess", 12, support)]  # an identity of the stack, id known
    assert dev_pack.analyze_stack(resources) == []
    outside = member_policy("ReadOnlyAccess", 8)  # an identity outside the stack, not listed: it may be the admin
    assert blocked_urns(dev_pack.analyze_stack([outside])) == {outside.urn}


def test_an_identity_with_a_preset_the_guardrails_do_not_know_is_refused(dev_pack: PolicyPackProcess) -> None:
    moderation = identity("moderation", {"policyType": 2, "policyName": "QcloudIMSFullAccess"})  # not IM, not known
    found = mandatory(dev_pack.analyze_stack([moderation]))
    assert [d.urn for d in found] == [moderation.urn]
    assert "identityPolicies[0], preset QcloudIMSFullAccess is a preset whose meaning" in found[0].message


def test_member_access_identities_are_judged_by_what_each_identity_grants(dev_pack: PolicyPackProcess) -> None:
    admins = identity("admins", {"policyType": 2, "policyId": 1})
    support = identity("support", {"policyType": 2, "policyName": "QcloudIMReadOnlyAccess"})

    def access(name: str, ids: list[object], *sources: AnalyzerResource) -> AnalyzerResource:
        return AnalyzerResource(
            ORG_MEMBER_IDENTITIES,
            name,
            {"memberUin": 100020000123, "identityIds": ids},
            property_dependencies={"identityIds": [s.urn for s in sources]},
        )

    through_stack = access("through-stack", [12, UNKNOWN], support, admins)
    listed = access("listed", [11, "7"])
    look_alike = access("look-alike", [12, 13], support)
    found = dev_pack.analyze_stack([admins, support, through_stack, listed, look_alike])
    assert blocked_urns(found) == {admins.urn, through_stack.urn, listed.urn}
    assert notes(found) == []


# Values computed from other resources are judged as they resolve, not by where they come from.
def test_a_listed_group_computed_from_another_resource_is_blocked(dev_pack: PolicyPackProcess) -> None:
    seed = AnalyzerResource(RANDOM, "seed", {"min": 1, "max": 9, "result": 4})
    group = AnalyzerResource(GROUP, "decoy", {"name": "decoy"})
    resources = [
        seed,
        group,
        AnalyzerResource(
            MEMBERSHIP,
            "via-seed",
            {"groupId": "90002", "userNames": ["mallory"]},
            property_dependencies={"groupId": [seed.urn]},
        ),
        AnalyzerResource(
            MEMBERSHIP,
            "via-group",
            {"groupId": " 90002", "userNames": ["trudy"]},
            property_dependencies={"groupId": [group.urn]},
        ),
    ]
    assert blocked_urns(dev_pack.analyze_stack(resources)) == {resources[2].urn, resources[3].urn}


@pytest.mark.parametrize("pack", ["dev_pack", "dev_pack_at_up"])
def test_a_key_computed_from_a_stack_user_is_judged_by_the_uin_it_resolves_to(
    pack: str, request: pytest.FixtureRequest
) -> None:
    analyzer: PolicyPackProcess = request.getfixturevalue(pack)
    bot = AnalyzerResource(USER, "bot", {"name": "bot", "uin": 100020000055})
    from_user = {"targetUin": [bot.urn]}
    listed = AnalyzerResource(ACCESS_KEY, "listed-key", {"targetUin": 100020000077}, property_dependencies=from_user)
    own = AnalyzerResource(ACCESS_KEY, "deploy-key", {"status": "Active"}, property_dependencies=from_user)
    bots = AnalyzerResource(ACCESS_KEY, "bot-key", {"targetUin": 100020000055}, property_dependencies=from_user)
    found = analyzer.analyze_stack([bot, listed, own, bots])
    assert blocked_urns(found) == {listed.urn, own.urn}
    assert notes(found) == []


def test_group_and_key_look_alikes_pass(dev_pack: PolicyPackProcess) -> None:
    seed = AnalyzerResource(RANDOM, "seed", {"min": 1, "max": 9, "result": 4})
    resources = [
        seed,
        AnalyzerResource(IM_ACCESS_GRANT, "declares-90003", {"groupId": 90003, "access": "readonly"}),
        AnalyzerResource(
            MEMBERSHIP, "join", {"groupId": "90003", "userNames": ["qa"]}, property_dependencies={"groupId": [seed.urn]}
        ),
    ]
    assert dev_pack.analyze_stack(resources) == []
    # A key is judged by whose it is: a principal outside the stack cannot be shown safe, whatever it depends on.
    key = AnalyzerResource(
        ACCESS_KEY, "their-key", {"targetUin": 100020000099}, property_dependencies={"targetUin": [seed.urn]}
    )
    assert blocked_urns(dev_pack.analyze_stack([seed, key])) == {key.urn}


# Unknown in preview: said for each resource, judged at up, and never hiding the other verdicts.
def test_each_unknown_value_is_noted_for_its_resource_and_the_rest_is_still_judged(dev_pack: PolicyPackProcess) -> None:
    bot = AnalyzerResource(USER, "bot", {"name": "bot", "uin": UNKNOWN})
    new_group = AnalyzerResource(GROUP, "team", {"name": "team"})
    pending_policy = AnalyzerResource(USER_ATTACHMENT, "pending-att", {"userName": "bot", "policyId": UNKNOWN})
    pending_key = AnalyzerResource(
        ACCESS_KEY, "pending-key", {"targetUin": UNKNOWN}, property_dependencies={"targetUin": [bot.urn]}
    )
    pending_join = AnalyzerResource(
        MEMBERSHIP,
        "pending-join",
        {"groupId": UNKNOWN, "userNames": ["bot"]},
        property_dependencies={"groupId": [new_group.urn]},
    )
    listed_join = AnalyzerResource(MEMBERSHIP, "listed-join", {"groupId": "90002", "userNames": ["mallory"]})
    org = member_policy("ReadOnlyAccess", 7)
    support = identity("support", {"policyType": 2, "policyName": "QcloudIMReadOnlyAccess"})
    pending_org = member_policy("support", UNKNOWN, support)  # its id could resolve to a listed identity
    found = dev_pack.analyze_stack(
        [pending_policy, bot, new_group, pending_key, pending_join, listed_join, org, support, pending_org]
    )

    assert blocked_urns(found) == {listed_join.urn, org.urn}
    (note,) = notes(found)
    assert "can't be known during preview" in note.message and "pulumi up" in note.message
    for pending in (pending_policy, pending_key, pending_join, pending_org):
        assert f"{pending.type.rsplit(':', 1)[-1]} {pending.name!r}" in note.message, pending.name
    assert "listed-join" not in note.message and "members-ReadOnlyAccess" not in note.message


def test_an_unknown_document_of_an_identity_is_noted_and_judged_at_up(dev_pack: PolicyPackProcess) -> None:
    later = identity("later", {"policyType": 1, "policyDocument": UNKNOWN})
    found = dev_pack.analyze_stack([later, member_policy("ops", UNKNOWN, later)])
    assert mandatory(found) == []
    (note,) = notes(found)
    assert "organization identity 'later'" in note.message and "OrgMemberPolicyAttachment 'members-ops'" in note.message


POLICY = "tencentcloud:Cam/policy:Policy"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
ROLE_ATTACHMENT = "tencentcloud:Cam/rolePolicyAttachment:RolePolicyAttachment"


@pytest.mark.parametrize(
    "action", ["name/cam:*", "cam:AttachUserPolicy", "name/CAM:attach*", "name/cam:CreatePolicyVersion", "cam:Add*"]
)
def test_cam_write_held_by_a_user_or_group_is_im_full_access_one_step_away(
    dev_pack: PolicyPackProcess, action: str
) -> None:
    """Its holder could attach QcloudAVCFullAccess to itself: blocked like the grant itself, and so are
    the members of a group holding it. A role's own CAM write counts only through who may become it (the
    deploy role holds it); one known only by an id is not declared by the stack, so refused anyway."""
    policy = AnalyzerResource(POLICY, "cam-admin", {"name": "cam-admin", "document": _document(action)})
    on_user = AnalyzerResource(
        USER_ATTACHMENT,
        "to-user",
        {"userName": "mallory", "policyId": 7},
        property_dependencies={"policyId": [policy.urn]},
    )
    group = AnalyzerResource(GROUP, "ops", {"name": "ops"})
    on_group = AnalyzerResource(
        GROUP_ATTACHMENT,
        "to-group",
        {"groupId": 9001, "policyId": 7},
        property_dependencies={"policyId": [policy.urn], "groupId": [group.urn]},
    )
    member = AnalyzerResource(
        MEMBERSHIP, "join", {"groupId": 9001, "userNames": ["eve"]}, property_dependencies={"groupId": [group.urn]}
    )
    on_role = AnalyzerResource(
        ROLE_ATTACHMENT, "to-role", {"roleId": "4611", "policyId": 7}, property_dependencies={"policyId": [policy.urn]}
    )
    found = [
        d
        for d in mandatory(dev_pack.analyze_stack([policy, on_user, group, on_group, member, on_role]))
        if d.policy == ROUTES
    ]
    assert blocked_urns(found) == {on_user.urn, on_group.urn, member.urn, on_role.urn}
    assert any(
        "user:eve -> group:ops (member) -> custom policy 'cam-admin' allows" in d.message and "covers cam:" in d.message
        for d in found
    )
    assert not any("for role:4611 on stack" in d.message for d in found)


def _user_holding(action: str) -> list[AnalyzerResource]:
    user = AnalyzerResource(USER, "x", {"name": "x"})
    policy = AnalyzerResource(POLICY, "p", {"name": "p", "document": _document(action)})
    on_user = AnalyzerResource(
        USER_ATTACHMENT, "u", {"userName": "x", "policyId": 7}, property_dependencies={"policyId": [policy.urn]}
    )
    return [user, policy, on_user]


def test_cam_reads_and_other_services_writes_are_not_escalation(dev_pack: PolicyPackProcess) -> None:
    for action in ("name/cam:Get*", "name/cam:List*", "name/cvm:*", "name/cam:DescribeSubAccounts"):
        assert [d for d in mandatory(dev_pack.analyze_stack(_user_holding(action))) if d.policy == ROUTES] == [], action


# Deny by default: every CAM action the official SDK names that is not a read is write, and so is any
# name CAM might add. These are the ones a list of "escalation APIs" missed.
@pytest.mark.parametrize(
    "action",
    [
        "CreateOIDCConfig",
        "UpdateOIDCConfig",
        "CreateUserOIDCConfig",
        "UpdateUserOIDCConfig",
        "CreateUserSAMLConfig",
        "UpdateUserSAMLConfig",
        "CreateSAMLProvider",
        "UpdateSAMLProvider",
        "AddUser",
        "CreateRole",
        "SetMfaFlag",
        "UpdateAccessKey",
        "DetachUserPolicy",
        "SomeActionCamAddsLater",
    ],
)
def test_every_cam_action_not_marked_read_is_write(dev_pack: PolicyPackProcess, action: str) -> None:
    found = [d for d in mandatory(dev_pack.analyze_stack(_user_holding(f"name/cam:{action}"))) if d.policy == ROUTES]
    assert [d.urn for d in found] == [_user_holding(action)[2].urn], action
    assert f"covers cam:{action}" in found[0].message, found[0].message
