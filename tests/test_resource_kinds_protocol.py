"""Over the analyzer protocol: a stack declares the kinds of resource the guardrails judge and nothing
else. A command, a dynamic provider, another package's provider or component, another Tencent Cloud
service's resource, and CAM, organization or identity center resources no guardrail reads (user SSO,
an identity provider, an assignment, a SCIM token) are each refused on every stack, the approved one
included; the project's own kinds pass."""

from __future__ import annotations

import pytest

from tests.analyzer_client import DEFAULT_PROVIDER, AnalyzerResource, PolicyPackProcess, mandatory

POLICY = "im-resource-kinds-known"
COMMAND_PROVIDER = AnalyzerResource("pulumi:providers:command", "default_1_0_0", {})
FOREIGN = [
    AnalyzerResource(
        "command:local:Command",
        "grant",
        {"create": "tccli cam AttachUserPolicy --PolicyId 524252 --AttachUin 100020000001"},
        provider=COMMAND_PROVIDER,
    ),
    COMMAND_PROVIDER,
    AnalyzerResource("pulumi-python:dynamic:Resource", "grant-by-sdk", {"__provider": "gASV..."}),
    AnalyzerResource("tencentcloud:Scf/function:Function", "runner", {"role": "admin", "functionName": "x"}),
    AnalyzerResource("tencentcloud:cam/user:User", "lower-case-module", {"name": "x"}),  # not CAM's token
    AnalyzerResource("evil:index:Wrapper", "wrapper", {}),
    # Within CAM, organization and identity center: sign-in as anyone, or grants no guardrail reads.
    AnalyzerResource("tencentcloud:Cam/userSamlConfig:UserSamlConfig", "saml", {"samlMetadataDocument": "x"}),
    AnalyzerResource("tencentcloud:Cam/oidcSso:OidcSso", "oidc", {"identityUrl": "https://idp.example"}),
    AnalyzerResource("tencentcloud:Cam/samlProvider:SamlProvider", "idp", {"name": "idp", "metaData": "x"}),
    AnalyzerResource(
        "tencentcloud:Organization/policySubAccountAttachment:PolicySubAccountAttachment",
        "member-admin",
        {"policyId": 1, "orgSubAccountUin": 100020000001, "memberUin": 200098765432},
    ),
    AnalyzerResource("tencentcloud:Identity/centerRoleAssignment:CenterRoleAssignment", "assign", {"zoneId": "z"}),
    AnalyzerResource("tencentcloud:Identity/centerScimCredential:CenterScimCredential", "scim", {"zoneId": "z"}),
]
OWN = [
    AnalyzerResource("pulumi:pulumi:Stack", "im-access-dev", {}),
    DEFAULT_PROVIDER,
    AnalyzerResource("tencentcloud:Cam/group:Group", "support", {"name": "support"}),
    AnalyzerResource("im-access:index:ImOperator", "reader", {"access": "readonly", "userName": "reader"}),
    AnalyzerResource("tencentcloud:Organization/orgIdentity:OrgIdentity", "identity", {"identityAliasName": "ops"}),
]


@pytest.mark.parametrize("resource", FOREIGN, ids=[r.type for r in FOREIGN])
@pytest.mark.parametrize("stack_pack", ["dev_pack", "prod_pack"])
def test_a_kind_the_guardrails_do_not_judge_is_refused(
    resource: AnalyzerResource, stack_pack: str, request: pytest.FixtureRequest
) -> None:
    pack: PolicyPackProcess = request.getfixturevalue(stack_pack)
    found = [d for d in mandatory(pack.analyze(resource)) if d.policy == POLICY]
    assert len(found) == 1, found
    assert f"Remove {resource.name!r}: a resource of kind {resource.type!r}" in found[0].message


@pytest.mark.parametrize("resource", OWN, ids=[r.type for r in OWN])
def test_the_projects_own_kinds_pass(resource: AnalyzerResource, dev_pack: PolicyPackProcess) -> None:
    assert [d for d in dev_pack.analyze(resource) if d.policy == POLICY] == []
