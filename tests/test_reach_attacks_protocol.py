"""An attack review's bypasses of the reach guardrails, each refused over the analyzer protocol now.

Each case is what a pull request's program could declare on a stack that is not approved ("dev"), and
the reason the pack had let it through: a principal that holds nothing itself, a dependency on a
harmless resource whose value names another, an Identity Center name that disagrees with its id, a key,
member or identity of a principal outside the stack, a version of a policy giving its holders CAM write.
At `up` a resource of the stack carries its id among its outputs, as these do where they say `id`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.analyzer_client import AnalyzerResource, Diagnostic, PolicyPackProcess, mandatory

OWNER = "100012345678"
OUTSIDE_USER = 100099990001
USER = "tencentcloud:Cam/user:User"
GROUP = "tencentcloud:Cam/group:Group"
ROLE = "tencentcloud:Cam/role:Role"
POLICY = "tencentcloud:Cam/policy:Policy"
POLICY_VERSION = "tencentcloud:Cam/policyVersion:PolicyVersion"
SET_VERSION = "tencentcloud:Cam/setPolicyVersionConfig:SetPolicyVersionConfig"
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
ROLE_ATTACHMENT = "tencentcloud:Cam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_BY_NAME = "tencentcloud:Cam/rolePolicyAttachmentByName:RolePolicyAttachmentByName"
MEMBERSHIP = "tencentcloud:Cam/groupMembership:GroupMembership"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
ORG_MEMBER_IDENTITIES = "tencentcloud:Organization/orgMemberAuthIdentityAttachment:OrgMemberAuthIdentityAttachment"
IDENTITY_CENTER = "tencentcloud:Identity/centerRoleConfiguration"
CENTER_PRESET = f"{IDENTITY_CENTER}PermissionPolicyAttachment:CenterRoleConfigurationPermissionPolicyAttachment"
CENTER_CUSTOM = (
    f"{IDENTITY_CENTER}PermissionCustomPolicyAttachment:CenterRoleConfigurationPermissionCustomPolicyAttachment"
)


def document(action: str, **statement: object) -> str:
    body = {"effect": "allow", "action": [action], "resource": ["*"], **statement}
    return json.dumps({"version": "2.0", "statement": [body]})


ALICE = AnalyzerResource(USER, "alice", {"name": "alice", "id": "alice"})
BENIGN = AnalyzerResource(POLICY, "benign", {"name": "benign", "id": "200000007", "document": document("name/im:Get*")})


@pytest.fixture(scope="module")
def dev_at_up() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess("dev", dry_run=False) as pack:
        pack.configure({})
        yield pack


def refused(found: list[Diagnostic]) -> dict[str, str]:
    return {d.urn.rsplit("::", 1)[-1]: d.message for d in mandatory(found)}


CASES: dict[str, tuple[list[AnalyzerResource], str, str]] = {
    "a role whose trust names a sub-user outside the stack, holding CAM write": (
        [
            role := AnalyzerResource(
                ROLE,
                "helper",
                {
                    "name": "helper",
                    "document": document(
                        "sts:AssumeRole", principal={"qcs": [f"qcs::cam::uin/{OWNER}:uin/{OUTSIDE_USER}"]}
                    ),
                },
            ),
            AnalyzerResource(
                ROLE_BY_NAME,
                "cam",
                {"roleName": "helper", "policyName": "QcloudCamFullAccess"},
                property_dependencies={"roleName": [role.urn]},
            ),
        ],
        "cam",
        "role:helper -> preset QcloudCamFullAccess includes CAM write",
    ),
    "an attachment linked to a harmless policy whose id names another": (
        [
            ALICE,
            BENIGN,
            AnalyzerResource(
                USER_ATTACHMENT,
                "attach",
                {"userName": "alice", "policyId": 200000042},
                property_dependencies={"policyId": [BENIGN.urn], "userName": [ALICE.urn]},
            ),
        ],
        "attach",
        "policy id 200000042 is neither a policy of the stack nor a preset listed",
    ),
    "a membership linked to a group of the stack whose id names another": (
        [
            ALICE,
            group := AnalyzerResource(GROUP, "ops", {"name": "ops", "id": "9001"}),
            AnalyzerResource(
                MEMBERSHIP,
                "join",
                {"groupId": "77777", "userNames": ["alice"]},
                property_dependencies={"groupId": [group.urn], "userNames": [ALICE.urn]},
            ),
        ],
        "join",
        "user:alice -> group:77777 (member) -> a group the stack does not declare",
    ),
    "an Identity Center preset named read-only with another id": (
        [
            AnalyzerResource(
                CENTER_PRESET,
                "center",
                {"roleConfigurationId": "rc-123", "rolePolicyName": "ReadOnlyAccess", "rolePolicyId": 200000042},
                property_dependencies={"roleConfigurationId": [ALICE.urn]},
            ),
            ALICE,
        ],
        "center",
        "policy id 200000042",
    ),
    "an Identity Center custom policy allowing CAM write": (
        [
            AnalyzerResource(
                CENTER_CUSTOM, "custom", {"roleConfigurationId": "rc-123", "rolePolicyDocument": document("name/cam:*")}
            )
        ],
        "custom",
        "roleConfiguration:rc-123",
    ),
    "a key of a sub-user outside the stack": (
        [AnalyzerResource(ACCESS_KEY, "key", {"targetUin": OUTSIDE_USER})],
        "key",
        f"a key of uin:{OUTSIDE_USER}, which the stack does not declare",
    ),
    "a key of the root account": (
        [AnalyzerResource(ACCESS_KEY, "root-key", {"targetUin": int(OWNER)})],
        "root-key",
        "the root account's is every permission",
    ),
    "a membership of an outside group by user id": (
        [AnalyzerResource(MEMBERSHIP, "by-id", {"groupId": "77777", "userIds": [OUTSIDE_USER]})],
        "by-id",
        f"uin:{OUTSIDE_USER} -> group:77777 (member) -> a group the stack does not declare",
    ),
    "a member account given an organization identity outside the stack": (
        [AnalyzerResource(ORG_MEMBER_IDENTITIES, "given", {"memberUin": 100099990002, "identityIds": [1]})],
        "given",
        "orgIdentity:1 (given the identity) -> an organization identity the stack does not declare",
    ),
    "a version of a policy outside the stack allowing CAM write": (
        [
            AnalyzerResource(
                POLICY_VERSION,
                "v",
                {"policyId": 200000042, "policyDocument": document("name/cam:*"), "setAsDefault": True},
            )
        ],
        "v",
        "a version of a policy outside the stack",
    ),
    "a version of a policy of the stack, held by a user, allowing CAM write": (
        [
            ALICE,
            BENIGN,
            AnalyzerResource(
                USER_ATTACHMENT,
                "attach",
                {"userName": "alice", "policyId": 200000007},
                property_dependencies={"policyId": [BENIGN.urn], "userName": [ALICE.urn]},
            ),
            AnalyzerResource(
                POLICY_VERSION,
                "v",
                {"policyId": 200000007, "policyDocument": document("name/cam:*"), "setAsDefault": True},
                property_dependencies={"policyId": [BENIGN.urn]},
            ),
        ],
        "attach",
        "user:alice -> custom policy 'v' allows 'name/cam:*'",
    ),
    "a switch to a version of the stack allowing CAM write": (
        [
            version := AnalyzerResource(
                POLICY_VERSION, "v", {"policyId": 200000042, "policyDocument": document("name/cam:*")}
            ),
            AnalyzerResource(
                SET_VERSION,
                "switch",
                {"policyId": 200000042, "versionId": 3},
                property_dependencies={"versionId": [version.urn]},
            ),
        ],
        "switch",
        "allows CAM write",
    ),
    "a switch of another policy, linked to a harmless version of the stack": (
        [
            version := AnalyzerResource(
                POLICY_VERSION, "v", {"policyId": 200000001, "policyDocument": document("name/im:Get*")}
            ),
            AnalyzerResource(
                SET_VERSION,
                "switch",
                {"policyId": 200000042, "versionId": 7},
                property_dependencies={"versionId": [version.urn]},
            ),
        ],
        "switch",
        "custom policy 200000042 to version 7",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_bypass_is_refused_at_up_naming_its_route(case: str, dev_at_up: PolicyPackProcess) -> None:
    resources, resource, said = CASES[case]
    found = refused(dev_at_up.analyze_all(resources))
    assert resource in found, (case, found)
    assert said in found[resource].replace("\\", ""), (case, found[resource])


def test_a_role_known_only_by_an_id_is_judged_by_what_it_reaches_on_approved_stacks_too() -> None:
    """On prod a role attached by a literal id may be the pull requests' role: a hop it is given counts."""
    root = document("sts:AssumeRole", principal={"qcs": [f"qcs::cam::uin/{OWNER}:root"]})
    helper = AnalyzerResource(ROLE, "helper", {"name": "helper", "document": root})
    armed = AnalyzerResource(ROLE_BY_NAME, "armed", {"roleName": "helper", "policyName": "QcloudCamFullAccess"})
    assume = AnalyzerResource(POLICY, "assume", {"name": "assume", "document": document("sts:AssumeRole")})
    by_id = AnalyzerResource(
        ROLE_ATTACHMENT,
        "by-id",
        {"roleId": "4611686018427397919", "policyId": 200000009},
        property_dependencies={"policyId": [assume.urn]},
    )
    with PolicyPackProcess("prod", dry_run=False) as prod:
        prod.configure({})
        found = refused(prod.analyze_stack([helper, armed, assume, by_id]))
    assert set(found) == {"by-id"}
    assert "role:4611686018427397919 -> role:helper (trusts the account root" in found["by-id"]
