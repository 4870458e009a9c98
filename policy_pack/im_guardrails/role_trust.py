"""Who may assume the stack's CAM roles.

- `im-role-trust-pinned` (each role): a trust policy that a subject outside the reviewed settings
  (policy_pack/trust.yaml) could satisfy: principal `*` or anyone, an account outside the
  organization, an OIDC token without an exact `oidc:sub` and `oidc:aud`, or of another repository.
- In the stack policy (stack_routes.py), on every stack, approved ones included: a role that a pull
  request's workflow can assume (named in trust.yaml pullRequestRoles, or whose trust lets one in)
  reaching CAM write, admin or IM full access, by the reach graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from im_access.trust import TRUST_FILE, judge_oidc_provider, judge_trust_document, load_trust_settings
from im_guardrails.approvals import STACK_RESOURCE

# In a pull request's preview this is the base branch's file, as the pack is the base's.
TRUST = load_trust_settings(Path(__file__).resolve().parent.parent)
WHERE = f"policy_pack/{TRUST_FILE}"

# Every resource type that sets a role's trust policy, and the property holding it.
ROLES: Mapping[str, str] = {
    "tencentcloud:Cam/role:Role": "document",
    "tencentcloud:Cam/roleByName:RoleByName": "document",
}
# The role OIDC provider: who vouches for the subjects a role trusts.
ROLE_SSO = "tencentcloud:Cam/roleSso:RoleSso"
FIX = (
    f"trust only {TRUST.repository or 'this repository'}'s tokens with an exact oidc:sub and oidc:aud "
    f"(string_equal, no wildcard), or accounts of the organization ({WHERE})"
)


def _role_name(props: Mapping[str, object], name: str) -> str:
    try:
        return str(props.get("name") or name)
    except UnknownValueError:
        return name


def _validate_trust(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == STACK_RESOURCE:
        for problem in TRUST.problems:
            report_violation(
                f"Fix {WHERE}, which lets no role trust policy pass while it has a problem: {problem}.", None
            )
        return
    if args.resource_type == ROLE_SSO:
        props = args.props
        found = judge_oidc_provider(props.get("identityUrl"), props.get("clientIds"), props.get("identityKey"), TRUST)
        for problem in found:
            report_violation(
                f"Fix role OIDC provider {_role_name(props, args.name)!r} on stack {pulumi.get_stack()!r}: "
                f"{problem}; name the issuer, audiences and keys reviewed in {WHERE}.",
                None,
            )
        return
    key = ROLES.get(args.resource_type)
    if key is None:
        return
    verdict = judge_trust_document(args.props.get(key), TRUST)  # unknown in preview: judged at up
    role = _role_name(args.props, args.name)
    for problem in verdict.problems:
        report_violation(f"Pin who may assume role {role!r} on stack {pulumi.get_stack()!r}: {problem}; {FIX}.", None)


im_role_trust_pinned = ResourceValidationPolicy(
    name="im-role-trust-pinned",
    description=(
        "Checks that no CAM role's trust policy (cam.Role, cam.RoleByName) lets in a subject outside "
        "policy_pack/trust.yaml: principal '*' or anyone, an account outside the organization, or an OIDC token "
        "without an exact oidc:sub of this repository and an exact oidc:aud (string_equal, no wildcard, no other "
        "spelling of an operator or key); and that a role OIDC provider (cam.RoleSso) names the reviewed issuer, "
        "audiences and signing keys only."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_trust,
    config_schema=PolicyConfigSchema(properties={}),
)
