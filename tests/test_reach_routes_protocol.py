"""The routes to IM full access a route-by-route pack missed, each refused over the analyzer protocol
now that the pack asks the reach graph (im_access/reach.py), and what still passes."""

from __future__ import annotations

import json

from im_access.contract import IM_OPERATOR
from tests.analyzer_client import AnalyzerResource, Diagnostic, PolicyPackProcess, mandatory

ROUTES = "im-full-access-across-the-stack"
USER = "tencentcloud:Cam/user:User"
ROLE = "tencentcloud:Cam/role:Role"
POLICY = "tencentcloud:Cam/policy:Policy"
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
ROLE_ATTACHMENT = "tencentcloud:Cam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_BY_NAME = "tencentcloud:Cam/rolePolicyAttachmentByName:RolePolicyAttachmentByName"
ROLE_BY_NAME_TYPE = "tencentcloud:Cam/roleByName:RoleByName"
OWNER = "100012345678"


def document(action: str, resource: str = "*", **statement: object) -> str:
    return json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": action, "resource": resource, **statement}]}
    )


def refused(found: list[Diagnostic]) -> dict[str, str]:
    return {d.urn.rsplit("::", 1)[-1]: d.message for d in mandatory(found) if d.policy == ROUTES}


ROOT_TRUST = document("name/sts:AssumeRole", principal={"qcs": [f"qcs::cam::uin/{OWNER}:root"]})
CAM_ALL = AnalyzerResource(POLICY, "cam-all", {"name": "cam-all", "document": document("name/cam:*")})


def assume_hop(resource: str = "*") -> list[AnalyzerResource]:
    """The first hop: a policy allowing sts:AssumeRole on `resource`, attached to alice."""
    assume = AnalyzerResource(POLICY, "assume", {"name": "assume", "document": document("sts:AssumeRole", resource)})
    hop = AnalyzerResource(
        USER_ATTACHMENT,
        "alice-assume",
        {"userName": "alice", "policyId": 200000007},
        property_dependencies={"policyId": [assume.urn]},
    )
    return [assume, hop]


def operator() -> list[AnalyzerResource]:
    return [
        AnalyzerResource(IM_OPERATOR, "alice", {"access": "readonly", "userName": "alice"}),
        AnalyzerResource(USER, "alice-user", {"name": "alice"}),
    ]


def test_an_attachment_not_linked_to_its_policy_is_refused_off_approved_stacks(
    dev_pack: PolicyPackProcess, prod_pack: PolicyPackProcess
) -> None:
    """Route 1: a custom policy allowing CAM write, attached with an id that carries no dependency on it
    (`Output(set(), policy.id.future(), ...)`, or a literal id left by an earlier up)."""
    cam_write = AnalyzerResource(
        POLICY, "helper", {"name": "helper", "document": document("name/cam:AttachUserPolicy")}
    )
    unlinked = AnalyzerResource(USER_ATTACHMENT, "unlinked", {"userName": "alice", "policyId": 200000042})
    found = refused(dev_pack.analyze_stack([*operator(), cam_write, unlinked]))
    assert set(found) == {"unlinked"}
    assert "policy id 200000042 is neither a policy of the stack nor a preset listed" in found["unlinked"]
    assert refused(prod_pack.analyze_stack([*operator(), cam_write, unlinked])) == {}


def test_an_unlinked_attachment_unknown_in_preview_is_noted_and_refused_at_up(
    dev_pack: PolicyPackProcess,
) -> None:
    from tests.policy_args import UNKNOWN

    unlinked = AnalyzerResource(USER_ATTACHMENT, "unlinked", {"userName": "alice", "policyId": UNKNOWN})
    found = dev_pack.analyze_stack([*operator(), unlinked])
    assert mandatory(found) == []
    (note,) = [d for d in found if d.policy == ROUTES]
    assert "UserPolicyAttachment 'unlinked'" in note.message and "pulumi up" in note.message


def test_a_pull_request_role_made_outside_every_stack_is_refused_on_every_stack(
    dev_pack: PolicyPackProcess, prod_pack: PolicyPackProcess
) -> None:
    """Route 2: the CI roles are made once, outside every stack; trust.yaml names the one pull requests assume."""
    admin = AnalyzerResource(
        ROLE_BY_NAME, "arm", {"roleName": "im-access-preview", "policyName": "AdministratorAccess"}
    )
    found = refused(prod_pack.analyze_stack([admin]))
    assert set(found) == {"arm"} and "pullRequestRoles" in found["arm"] and "No approval allows this" in found["arm"]
    by_policy = AnalyzerResource(ROLE_BY_NAME, "helper", {"roleName": " IM-ACCESS-PREVIEW", "policyName": "cam-all"})
    found = refused(dev_pack.analyze_stack([CAM_ALL, by_policy]))
    assert "helper" in found and "custom policy 'cam-all' allows 'name/cam:*'" in found["helper"]


def test_two_hops_through_a_role_trusting_the_account_root_are_refused(
    dev_pack: PolicyPackProcess, prod_pack: PolicyPackProcess
) -> None:
    """Route 3: a role trusting the account's root holds CAM write; a user allowed sts:AssumeRole becomes it."""
    helper = AnalyzerResource(ROLE, "helper-role", {"name": "helper", "document": ROOT_TRUST})
    on_role = AnalyzerResource(
        ROLE_ATTACHMENT,
        "role-cam",
        {"roleId": "4611", "policyId": 200000008},
        property_dependencies={"roleId": [helper.urn], "policyId": [CAM_ALL.urn]},
    )
    stack = [*operator(), helper, CAM_ALL, on_role, *assume_hop()]
    found = refused(dev_pack.analyze_stack(stack))
    # The role itself too: any principal of the account allowed sts:AssumeRole may become it.
    assert set(found) == {"alice-assume", "role-cam"}, found
    assert (
        "user:alice -> role:helper (trusts the account root; custom policy 'assume' allows sts:AssumeRole)"
        " -> custom policy 'cam-all' allows 'name/cam:*'" in found["alice-assume"]
    )
    # Scoped to another role, the same permission is no hop to this one.
    scoped = assume_hop(f"qcs::cam::uin/{OWNER}:roleName/other")
    assert set(refused(dev_pack.analyze_stack([*operator(), helper, CAM_ALL, on_role, *scoped]))) == {"role-cam"}
    assert refused(prod_pack.analyze_stack(stack)) == {}


def test_an_assume_permission_scoped_to_the_roles_id_is_the_same_hop(dev_pack: PolicyPackProcess) -> None:
    """STS takes a role by its id too (`qcs::cam::uin/<owner>:role/<roleId>`): known from the engine's
    outputs once CAM made the role; before, any id may be its."""

    def reaches(resource: str, role_props: dict[str, str]) -> bool:
        helper = AnalyzerResource(ROLE, "helper-role", {"name": "helper", "document": ROOT_TRUST, **role_props})
        on_role = AnalyzerResource(
            ROLE_ATTACHMENT,
            "role-cam",
            {"roleId": "4611686018427397919", "policyId": 200000008},
            property_dependencies={"roleId": [helper.urn], "policyId": [CAM_ALL.urn]},
        )
        stack = [*operator(), helper, CAM_ALL, on_role, *assume_hop(resource)]
        return "alice-assume" in refused(dev_pack.analyze_stack(stack))

    made = {"id": "4611686018427397919"}
    assert reaches(f"qcs::cam::uin/{OWNER}:role/4611686018427397919", made)
    assert not reaches(f"qcs::cam::uin/{OWNER}:role/4611686018427390000", made)
    assert reaches(f"qcs::cam::uin/{OWNER}:role/4611*", {})
    assert reaches(f"qcs::cam::uin/{OWNER}:role/4611686018427397919", {})  # it may be the role's, once made


def test_a_role_by_name_is_no_id_known_by_its_resource_id(dev_pack: PolicyPackProcess) -> None:
    """The provider gives a RoleByName its name as id: the role's RoleId stays unknown to the stack, so
    an assume permission by an id may be its."""
    helper = AnalyzerResource(
        ROLE_BY_NAME_TYPE, "helper-role", {"name": "helper", "document": ROOT_TRUST, "id": "helper"}
    )
    on_role = AnalyzerResource(
        ROLE_BY_NAME,
        "role-cam",
        {"roleName": "helper", "policyName": "cam-all"},
        property_dependencies={"roleName": [helper.urn], "policyName": [CAM_ALL.urn]},
    )
    hop = assume_hop(f"qcs::cam::uin/{OWNER}:role/4611686018427397919")
    assert "alice-assume" in refused(dev_pack.analyze_stack([*operator(), helper, CAM_ALL, on_role, *hop]))
