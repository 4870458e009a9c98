"""Who may assume the stack's CAM roles.

- `im-role-trust-pinned` (each role): a trust policy that a subject outside the reviewed settings
  (policy_pack/trust.yaml) could satisfy: principal `*` or anyone, an account outside the
  organization, an OIDC token without an exact `oidc:sub` and `oidc:aud`, or of another repository.
- In the stack policy (stack_routes.py), on every stack, approved ones included: a role that a pull
  request's workflow can assume, holding IM full access or an admin preset. Its attachments are
  followed to the role through their dependencies, or by the role's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from im_access.access import DEFAULT_FULL_ACCESS_POLICY_IDS, normalise_policy_id, normalise_policy_name
from im_access.trust import TRUST_FILE, TrustVerdict, judge_oidc_provider, judge_trust_document, load_trust_settings
from im_guardrails.approvals import STACK_RESOURCE
from im_guardrails.full_access import all_of_im_verdict, escalation_reason
from im_guardrails.resources import ATTACHMENTS, CUSTOM_POLICIES

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
# Presets that make a holder an administrator: everything, or CAM itself (it can grant itself anything).
ADMIN_PRESET_NAMES = frozenset(
    normalise_policy_name(name)
    for name in ("QcloudAVCFullAccess", "AdministratorAccess", "QCloudResourceFullAccess", "QcloudCamFullAccess")
)
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


def _admin_grant(attachment: PolicyResource, wide: Mapping[str, str]) -> str | None:
    """How a role attachment gives IM full access or admin: a preset by name or id, or a custom policy of
    the stack allowing all of IM (followed through its dependencies, known in preview)."""
    route = ATTACHMENTS[attachment.resource_type]
    for key in route.policy_keys:
        for source in attachment.property_dependencies.get(key, []):
            if source.urn in wide:
                return wide[source.urn]
    try:  # a value made in this update is no preset's: it is a custom policy, followed above
        name = attachment.props.get(route.name_key) if route.name_key else None
        if name is not None and normalise_policy_name(name) in ADMIN_PRESET_NAMES:
            return f"policy {str(name).strip()}"
        policy_id = normalise_policy_id(attachment.props.get(route.id_key)) if route.id_key else None
    except UnknownValueError:
        return None
    return f"policy id {policy_id}" if policy_id in DEFAULT_FULL_ACCESS_POLICY_IDS else None


def _linked_roles(attachment: PolicyResource, roles: Sequence[PolicyResource]) -> list[PolicyResource]:
    """The roles of the stack an attachment names: through its dependencies, or by the role's name."""
    key = ATTACHMENTS[attachment.resource_type].principal_key
    urns = {source.urn for source in attachment.property_dependencies.get(key, [])}
    try:
        value = attachment.props.get(key)
    except UnknownValueError:
        value = None
    named = normalise_policy_name(value) if isinstance(value, str) else None
    linked = []
    for role in roles:
        try:
            name = role.props.get("name")
        except UnknownValueError:
            name = None
        if role.urn in urns or (named is not None and isinstance(name, str) and normalise_policy_name(name) == named):
            linked.append(role)
    return linked


def report_pull_request_admin_roles(resources: Sequence[PolicyResource], report: ReportViolation) -> list[str]:
    """Reports every attachment of IM full access or an admin preset to a role of the stack that a pull
    request's workflow can assume; returns what cannot be judged in preview."""
    roles = [r for r in resources if r.resource_type in ROLES]
    if not roles:
        return []
    verdicts: dict[str, TrustVerdict | None] = {}
    for role in roles:
        try:
            verdicts[role.urn] = judge_trust_document(role.props.get(ROLES[role.resource_type]), TRUST)
        except UnknownValueError:
            verdicts[role.urn] = None
    wide: dict[str, str] = {}
    for policy in (r for r in resources if r.resource_type in CUSTOM_POLICIES):
        label = f"custom policy {policy.props.get('name') or policy.name!r}"
        try:
            if all_of_im_verdict(policy.resource_type, policy.props) is not None:
                wide[policy.urn] = f"{label}, which allows all of IM"
            elif escalating := escalation_reason(policy.resource_type, policy.props):
                wide[policy.urn] = f"{label}, which allows CAM write ({escalating})"
        except UnknownValueError:
            continue
    pending: list[str] = []
    stack = pulumi.get_stack()
    for attachment in resources:
        route = ATTACHMENTS.get(attachment.resource_type)
        if route is None or route.kind != "role":
            continue
        linked = _linked_roles(attachment, roles)
        if not linked or (how := _admin_grant(attachment, wide)) is None:
            continue
        for role in linked:
            verdict = verdicts[role.urn]
            name = _role_name(role.props, role.name)
            if verdict is None:
                pending.append(f"the trust policy of role {name!r}, which {attachment.name!r} gives {how}")
            elif verdict.pull_request is not None:
                report(
                    f"Remove {how} from role {name!r} on stack {stack!r}, or stop pull requests assuming it: "
                    f"{verdict.pull_request}, so a pull request's workflow would hold IM full access or admin. "
                    "No approval allows this.",
                    attachment.urn,
                )
    return pending
