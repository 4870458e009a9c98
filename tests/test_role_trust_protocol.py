"""Who may assume a role, over the analyzer protocol: trust policies any subject could satisfy are
mandatory violations, however they are spelled, and a role holding IM full access or an admin
preset that a pull request's workflow can assume is blocked on every stack, approved ones included.
Look-alikes that pin the subject exactly pass."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from im_access.trust import judge_trust_document, jwk_thumbprint, load_trust_settings
from tests.analyzer_client import POLICY_PACK, AnalyzerResource, Diagnostic, PolicyPackProcess, mandatory, pack_copy
from tests.oidc_issuer import ISSUER, OidcIssuer
from tests.policy_args import UNKNOWN

TRUST = "im-role-trust-pinned"
ROUTES = "im-full-access-across-the-stack"
ROLE = "tencentcloud:Cam/role:Role"
ROLE_BY_NAME = "tencentcloud:Cam/roleByName:RoleByName"
ROLE_ATTACHMENT = "tencentcloud:Cam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_ATTACHMENT_BY_NAME = "tencentcloud:Cam/rolePolicyAttachmentByName:RolePolicyAttachmentByName"
POLICY = "tencentcloud:Cam/policy:Policy"
REPO = "im-access/im-access"
PROVIDER = "qcs::cam::uin/100012345678:oidc-provider/github"
AUD = "sts.tencentcloudapi.com"
PROD_SUB = f"repo:{REPO}:environment:prod"


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[PolicyPackProcess]:
    """prod is approved for IM full access in policy_pack/approvals.yaml."""
    with PolicyPackProcess("prod") as pack:
        pack.configure({})
        yield pack


def statement(condition: Any = None, principal: Any = None, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "effect": "allow",
        "action": "name/sts:AssumeRoleWithWebIdentity",
        "principal": {"federated": [PROVIDER]} if principal is None else principal,
        **extra,
    }
    if condition is not None:
        found["condition"] = condition
    return found


def oidc(sub: Any = PROD_SUB, aud: Any = AUD, operator: str = "string_equal") -> dict[str, Any]:
    return statement({operator: {"oidc:aud": aud, "oidc:sub": sub}})


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"version": "2.0", "statement": list(statements)})


def role(name: str, trust: Any, resource_type: str = ROLE) -> AnalyzerResource:
    return AnalyzerResource(resource_type, name, {"name": name, "document": trust, "consoleLogin": False})


def trust_violations(pack: PolicyPackProcess, resource: AnalyzerResource) -> list[Diagnostic]:
    return [d for d in mandatory(pack.analyze(resource)) if d.policy == TRUST]


LOOK_ALIKES: dict[str, str] = {
    "exact sub for environment:prod": document(oidc()),
    "sub as a list of exact subjects": document(
        oidc([f"repo:{REPO}:environment:dev", f"repo:{REPO}:environment:staging"])
    ),
    "string_like without a wildcard": document(oidc(operator="string_like")),
    "the audit workflow on main": document(oidc(f"repo:{REPO}:ref:refs/heads/main")),
    "the repository in other letter case": document(oidc("repo:IM-Access/IM-Access:environment:prod")),
    "issuer pinned as well": document(
        statement(
            {
                "string_equal": {
                    "oidc:iss": "https://token.actions.githubusercontent.com",
                    "oidc:aud": [AUD],
                    "oidc:sub": [PROD_SUB],
                }
            }
        )
    ),
    "keys written with JSON escapes": document(oidc()).replace("oidc:sub", "oidc:s\\u0075b"),
    "the organization's root account": document(
        statement(principal={"qcs": ["qcs::cam::uin/100012345678:root"]}, action="name/sts:AssumeRole")
    ),
    "a Tencent Cloud service": document(
        statement(principal={"service": "scf.qcloud.com"}, action="name/sts:AssumeRole")
    ),
    "a deny for anyone beside an exact allow": document(
        {"effect": "deny", "action": "name/sts:AssumeRoleWithWebIdentity", "principal": "*"}, oidc()
    ),
    "one statement given on its own": json.dumps({"version": "2.0", "statement": oidc()}),
}


@pytest.mark.parametrize("case", sorted(LOOK_ALIKES))
def test_look_alikes_that_pin_the_subject_pass(dev_pack: PolicyPackProcess, case: str) -> None:
    assert trust_violations(dev_pack, role("deploy", LOOK_ALIKES[case])) == []


ATTACKS: dict[str, tuple[str, str]] = {
    # sub
    "no sub": (document(statement({"string_equal": {"oidc:aud": AUD}})), "no exact oidc:sub"),
    "no condition at all": (document(statement()), "no exact oidc:sub"),
    "sub '*'": (document(oidc("*")), "wildcard"),
    "sub of every repository of the owner": (document(oidc("repo:im-access/*")), "wildcard"),
    "sub of every context": (document(oidc(f"repo:{REPO}:*")), "wildcard"),
    "sub with '?'": (document(oidc(f"repo:{REPO}:environment:pro?")), "wildcard"),
    "sub with a policy variable": (document(oidc("repo:${qcs:uin}/x:pull_request")), "variable"),
    "sub as a list holding a wildcard": (document(oidc([PROD_SUB, "*"])), "wildcard"),
    "sub '*' written as a JSON escape": (document(oidc("\\u002a")).replace("\\\\u002a", "\\u002a"), "wildcard"),
    "another repository": (document(oidc("repo:attacker/im-access:environment:prod")), "another repository"),
    "a repository whose name starts like ours": (
        document(oidc(f"repo:{REPO}-fork:environment:prod")),
        "another repository",
    ),
    "not a repository subject": (document(oidc("environment:prod")), "not a subject of this repository"),
    "sub not a string": (document(oidc(12345)), "not a string"),
    # aud
    "no aud": (document(statement({"string_equal": {"oidc:sub": PROD_SUB}})), "no exact oidc:aud"),
    "aud '*'": (document(oidc(aud="*")), "wildcard"),
    "another audience": (document(oidc(aud="attacker.example")), "not an audience"),
    # operators and keys CAM may read otherwise
    "StringEquals": (document(oidc(operator="StringEquals")), "pins nothing"),
    "STRING_EQUAL": (document(oidc(operator="STRING_EQUAL")), "pins nothing"),
    "String_Equal": (document(oidc(operator="String_Equal")), "pins nothing"),
    "StringLike": (document(oidc(operator="StringLike")), "pins nothing"),
    "string_like with a wildcard": (document(oidc(f"repo:{REPO}:*", operator="string_like")), "wildcard"),
    "ForAnyValue": (document(oidc(operator="for_any_value:string_equal")), "pins nothing"),
    "string_equal_if_exist": (document(oidc(operator="string_equal_if_exist")), "pins nothing"),
    "string_not_equal": (document(oidc("repo:attacker/x:pull_request", operator="string_not_equal")), "pins nothing"),
    "sub key in upper case": (
        document(statement({"string_equal": {"oidc:aud": AUD, "OIDC:SUB": PROD_SUB}})),
        "pins nothing",
    ),
    "sub key in fullwidth letters": (
        document(statement({"string_equal": {"oidc:aud": AUD, "\uff4fidc:sub": PROD_SUB}})),
        "pins nothing",
    ),
    "an exact sub and a loose one": (
        document(statement({"string_equal": {"oidc:aud": AUD, "oidc:sub": PROD_SUB}, "StringLike": {"oidc:sub": "*"}})),
        "pins nothing",
    ),
    # principals
    "principal '*'": (document(statement(oidc()["condition"], principal="*")), "anyone"),
    "qcs '*'": (document(statement(principal={"qcs": "*"}, action="name/sts:AssumeRole")), "anyone"),
    "qcs::cam::anyone": (document(statement(principal={"qcs": ["qcs::cam::anyone"]})), "anyone"),
    "a uin outside the organization": (
        document(statement(principal={"qcs": ["qcs::cam::uin/100099999999:root"]}, action="name/sts:AssumeRole")),
        "outside the organization",
    ),
    "a uin pattern": (
        document(statement(principal={"qcs": ["qcs::cam::uin/1000*:root"]}, action="name/sts:AssumeRole")),
        "anyone",
    ),
    "an identity provider of another account": (
        document(
            statement(oidc()["condition"], principal={"federated": ["qcs::cam::uin/100099999999:oidc-provider/gh"]})
        ),
        "outside the organization",
    ),
    "a principal element CAM does not read": (document(statement(principal={"AWS": "*"})), "not one CAM reads"),
    # documents that cannot be read one way only
    "not JSON": ("{statement: allow everyone}", "cannot be read one way only"),
    "sub given twice": (
        document(oidc()).replace('"oidc:sub": ', '"oidc:sub": "*", "oidc:sub": '),
        "cannot be read one way only",
    ),
    "Principal in title case": (
        document(oidc()).replace('"principal"', '"Principal"'),
        "cannot be read one way only",
    ),
}


@pytest.mark.parametrize("case", sorted(ATTACKS))
def test_trust_any_subject_could_satisfy_is_blocked(dev_pack: PolicyPackProcess, case: str) -> None:
    trust, reason = ATTACKS[case]
    found = trust_violations(dev_pack, role("deploy", trust))
    assert found, case
    assert any(reason in d.message for d in found), [d.message for d in found]
    assert all("Pin who may assume role 'deploy' on stack 'dev'" in d.message for d in found)


def test_every_route_that_sets_a_trust_policy_is_judged_on_approved_stacks_too(prod_pack: PolicyPackProcess) -> None:
    for resource_type in (ROLE, ROLE_BY_NAME):
        found = trust_violations(prod_pack, role("wide", document(oidc("*")), resource_type))
        assert found and "on stack 'prod'" in found[0].message, resource_type
        assert trust_violations(prod_pack, role("exact", document(oidc()), resource_type)) == []


def test_a_trust_policy_unknown_in_preview_is_judged_at_up(dev_pack: PolicyPackProcess) -> None:
    found = dev_pack.analyze(role("later", UNKNOWN))
    assert mandatory(found) == []
    assert any(d.policy == TRUST and "preview" in d.message for d in found), found


# A role holding IM full access or an admin preset that a pull request can assume.
PR_SUB = f"repo:{REPO}:pull_request"


def attached(label: str, target: AnalyzerResource, **props: Any) -> AnalyzerResource:
    return AnalyzerResource(
        ROLE_ATTACHMENT, label, {"roleId": UNKNOWN, **props}, property_dependencies={"roleId": [target.urn]}
    )


def custom_policy(name: str, action: str) -> AnalyzerResource:
    document = {"version": "2.0", "statement": [{"effect": "allow", "action": [action], "resource": ["*"]}]}
    return AnalyzerResource(POLICY, name, {"name": name, "document": json.dumps(document)})


def routes_blocked(found: list[Diagnostic]) -> dict[str, str]:
    return {d.urn.rsplit("::", 1)[-1]: d.message for d in mandatory(found) if d.policy == ROUTES}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_pull_request_assumable_admin_role_is_blocked_approved_stacks_included(
    stack: str, dev_pack: PolicyPackProcess, prod_pack: PolicyPackProcess
) -> None:
    pack = prod_pack if stack == "prod" else dev_pack
    preview = role("preview", document(oidc(PR_SUB)))
    preview_env = role("preview-env", document(oidc(f"repo:{REPO}:environment:preview")))
    pr_ref = role("pr-ref", document(oidc(f"repo:{REPO}:ref:refs/pull/7/merge")))
    wildcard = role("wildcard", document(oidc("*")))
    wide = custom_policy("wide", "name/im:*")
    resources = [
        preview,
        preview_env,
        wildcard,
        wide,
        attached("im-full", preview, policyId=524252),
        attached("admin-id", preview_env, policyId=" 1 "),
        AnalyzerResource(
            ROLE_ATTACHMENT,
            "custom-wide",
            {"roleId": UNKNOWN, "policyId": UNKNOWN},
            property_dependencies={"roleId": [preview.urn], "policyId": [wide.urn]},
        ),
        AnalyzerResource(
            ROLE_ATTACHMENT_BY_NAME, "admin-by-name", {"roleName": "PREVIEW", "policyName": " administratoraccess "}
        ),
        AnalyzerResource(
            ROLE_ATTACHMENT_BY_NAME, "cam-admin", {"roleName": "wildcard", "policyName": "QcloudCamFullAccess"}
        ),
        AnalyzerResource(
            ROLE_ATTACHMENT_BY_NAME, "readonly", {"roleName": "preview", "policyName": "QcloudIMReadOnlyAccess"}
        ),
        pr_ref,
        attached("pr-ref-admin", pr_ref, policyId=2),
        # Anyone who may push a branch or a tag runs their own workflow there: as a pull request's job.
        branch := role("branch", document(oidc(f"repo:{REPO}:ref:refs/heads/feature-x"))),
        attached("branch-admin", branch, policyId=1),
        upper := role("upper", document(oidc(f"repo:{REPO}:ref:refs/heads/MAIN"))),  # another branch than main
        attached("upper-admin", upper, policyId=1),
        tag := role("tag", document(oidc(f"repo:{REPO}:ref:refs/tags/v1.0"))),
        attached("tag-im-full", tag, policyId=524252),
    ]
    blocked = routes_blocked(pack.analyze_stack(resources))
    assert set(blocked) == {
        "im-full",
        "admin-id",
        "custom-wide",
        "admin-by-name",
        "cam-admin",
        "pr-ref-admin",
        "branch-admin",
        "upper-admin",
        "tag-im-full",
    }
    assert "ref:refs/heads/feature-x" in blocked["branch-admin"]
    assert "pull request" in blocked["im-full"] and "No approval allows this" in blocked["im-full"]
    assert "'repo:im-access/im-access:pull_request'" in blocked["im-full"]
    assert "environment:preview" in blocked["admin-id"]
    assert "custom policy 'wide'" in blocked["custom-wide"]


def test_admin_roles_that_no_pull_request_can_assume_pass(prod_pack: PolicyPackProcess) -> None:
    deploy = role("deploy", document(oidc()))
    root = role("break-glass", document(statement(principal={"qcs": ["qcs::cam::uin/100012345678:root"]})))
    on_main = role("release", document(oidc(f"repo:{REPO}:ref:refs/heads/main")))  # protectedBranches
    resources = [
        deploy,
        root,
        on_main,
        attached("release-admin", on_main, policyId=1),
        attached("deploy-admin", deploy, policyId=1),
        attached("root-im", root, policyId=524252),
        AnalyzerResource(
            ROLE_ATTACHMENT_BY_NAME, "other", {"roleName": "not-in-stack", "policyName": "AdministratorAccess"}
        ),
    ]
    found = prod_pack.analyze_stack(resources)
    assert routes_blocked(found) == {}
    assert [d for d in found if d.policy == ROUTES] == []


def test_an_admin_role_whose_trust_is_unknown_in_preview_is_noted(prod_pack: PolicyPackProcess) -> None:
    later = role("later", UNKNOWN)
    found = prod_pack.analyze_stack([later, attached("later-admin", later, policyId=1)])
    assert mandatory(found) == []
    (note,) = [d for d in found if d.policy == ROUTES]
    assert note.enforcement == "advisory" and "role 'later'" in note.message and "pulumi up" in note.message


@pytest.fixture(scope="module")
def broken_trust_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicyPackProcess]:
    folder = pack_copy(
        tmp_path_factory.mktemp("pack") / "policy_pack",
        {"trust.yaml": "repository: '*'\norganizationUins: [abc]\naudiences: []\nextra: 1\nprotectedBranches: ['*']\n"},
    )
    with PolicyPackProcess("dev", pack_dir=Path(folder)) as pack:
        pack.configure({})
        yield pack


def test_a_broken_trust_file_is_reported_with_every_problem_and_passes_no_role(
    broken_trust_pack: PolicyPackProcess,
) -> None:
    on_stack = trust_violations(broken_trust_pack, AnalyzerResource("pulumi:pulumi:Stack", "im-access-dev", {}))
    messages = " ".join(d.message for d in on_stack)
    for key in ("repository", "organizationUins", "audiences", "extra", "protectedBranches"):
        assert key in messages, key
    assert trust_violations(broken_trust_pack, role("deploy", document(oidc())))


# The role OIDC provider vouches for every subject: its issuer, audiences and keys are pinned too.
ROLE_SSO = "tencentcloud:Cam/roleSso:RoleSso"


@pytest.fixture(scope="module")
def keys_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PolicyPackProcess, OidcIssuer]]:
    issuer = OidcIssuer()
    settings = yaml.safe_load((POLICY_PACK / "trust.yaml").read_text())
    settings["issuerKeys"] = [jwk_thumbprint(key) for key in issuer.jwks["keys"]]
    folder = pack_copy(tmp_path_factory.mktemp("pack") / "policy_pack", {"trust.yaml": yaml.safe_dump(settings)})
    with PolicyPackProcess("prod", pack_dir=folder) as pack:
        pack.configure({})
        yield pack, issuer


def provider(identity_key: str, url: str = ISSUER, client_ids: Any = None) -> AnalyzerResource:
    props = {"name": "github", "identityUrl": url, "identityKey": identity_key, "clientIds": client_ids or [AUD]}
    return AnalyzerResource(ROLE_SSO, "github", props)


def test_a_provider_of_the_reviewed_issuer_audience_and_keys_passes(
    keys_pack: tuple[PolicyPackProcess, OidcIssuer],
) -> None:
    pack, issuer = keys_pack
    assert trust_violations(pack, provider(issuer.identity_key)) == []


def test_a_provider_with_another_issuer_audience_or_key_is_blocked(
    keys_pack: tuple[PolicyPackProcess, OidcIssuer],
) -> None:
    pack, issuer = keys_pack
    attacker = OidcIssuer()  # the real issuer's URL, the attacker's own key
    cases = {
        "unlisted key": (provider(attacker.identity_key), "not listed in issuerKeys"),
        "one more key": (provider(_jwks(issuer, attacker)), "key [1]"),
        "another issuer": (provider(issuer.identity_key, url="https://attacker.example"), "is not"),
        "the issuer with a trailing slash": (provider(issuer.identity_key, url=ISSUER + "/"), "is not"),
        "another audience": (provider(issuer.identity_key, client_ids=[AUD, "attacker"]), "client id 'attacker'"),
        "no JWKS": (provider("bm90IGEgandrcw=="), "not the base64 of a JWKS"),
    }
    for case, (resource, reason) in cases.items():
        found = trust_violations(pack, resource)
        assert any(reason in d.message for d in found), (case, [d.message for d in found])
    # With no reviewed keys listed (the default), no provider passes.
    with PolicyPackProcess("dev") as default_pack:
        default_pack.configure({})
        assert trust_violations(default_pack, provider(issuer.identity_key))


def _jwks(*issuers: OidcIssuer) -> str:
    keys = [key for issuer in issuers for key in issuer.jwks["keys"]]
    return base64.b64encode(json.dumps({"keys": keys}).encode()).decode()


def test_cam_write_on_a_pull_request_assumable_role_is_blocked_and_the_deploy_role_keeps_it(
    prod_pack: PolicyPackProcess,
) -> None:
    """A custom policy allowing CAM write (`name/cam:*`, as the deploy role's policy does) lets its holder
    grant itself anything: refused on a role a pull request can assume, allowed on the deploy role."""
    cam_write = custom_policy("cam-write", "name/cam:*")
    preview = role("preview", document(oidc(PR_SUB)))
    deploy = role("deploy", document(oidc()))

    def attach(label: str, target: AnalyzerResource) -> AnalyzerResource:
        return AnalyzerResource(
            ROLE_ATTACHMENT,
            label,
            {"roleId": UNKNOWN, "policyId": UNKNOWN},
            property_dependencies={"roleId": [target.urn], "policyId": [cam_write.urn]},
        )

    blocked = routes_blocked(
        prod_pack.analyze_stack(
            [cam_write, preview, deploy, attach("to-preview", preview), attach("to-deploy", deploy)]
        )
    )
    assert set(blocked) == {"to-preview"}
    assert "custom policy 'cam-write' allows 'name/cam:*', which covers cam:" in blocked["to-preview"]


@pytest.mark.parametrize(
    ("context", "pull_request"),
    [
        ("ref:refs/heads/main", False),
        ("environment:prod", False),
        ("ref:refs/heads/MAIN", True),  # another branch than main: anyone who may push makes it
        ("ref:refs/heads/main/x", True),
        ("ref:refs/tags/v1.0", True),
        # Customised subject templates carry the ref after other fields, or the workflow's ref after `@`.
        ("environment:prod:ref:refs/heads/feature", True),
        ("environment:prod:ref:refs/heads/main", False),
        ("job_workflow_ref:im-access/im-access/.github/workflows/deploy.yml@refs/heads/feature", True),
        ("job_workflow_ref:im-access/im-access/.github/workflows/deploy.yml@refs/heads/main", False),
    ],
)
def test_a_subject_anyone_who_may_push_can_get_counts_as_a_pull_requests(context: str, pull_request: bool) -> None:
    settings = load_trust_settings(POLICY_PACK)
    assert settings.protected_branches == {"main"} and not settings.problems
    verdict = judge_trust_document(document(oidc(f"repo:{REPO}:{context}")), settings)
    assert (verdict.pull_request is not None) is pull_request, verdict.pull_request
