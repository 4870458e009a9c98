"""CAM's MFA flags (`cam.MfaFlag`) on the users a stack creates.

- Operation protection: a CAM user of the stack with IM full access (an ImOperator with access
  'full', or an attachment of a full-access preset or of a custom policy of the stack allowing all
  of IM) needs an MfaFlag on it whose actionFlag turns on a factor. Mandatory, approved stacks
  included: approval says who may hold full access, not that one password is enough for it.
  Reported by the stack policy `im-full-access-across-the-stack`, so the analyzer makes one pass.
- Login protection: a console operator that opts out is reported, with its reason, for review.
- Flags on a user the stack does not create are refused: they could turn MFA off for anyone.

A flag is tied to its user by the user it is computed from (its `opUin` dependency), or by the
UIN it resolves to; an attachment to its user likewise by `userName`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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

from im_access.access import DEFAULT_FULL_ACCESS_POLICY_IDS, inspect_policy_document, normalise_policy_id
from im_access.contract import IM_OPERATOR, MFA_FACTORS, Props
from im_access.reach import ReachGraph
from im_guardrails.resources import CAM_USER, CUSTOM_POLICIES, policy_documents

MFA_FLAG = "tencentcloud:Cam/mfaFlag:MfaFlag"
# Neither policy takes settings: operation protection for full access is not negotiable per stack.
SCHEMA = PolicyConfigSchema(properties={})
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"


def _flag_on(flag: object) -> bool:
    return isinstance(flag, Mapping) and any(normalise_policy_id(flag.get(f)) == 1 for f in MFA_FACTORS)


def _key(prop: str, value: object) -> object:
    """A user's name as CAM compares it (ignoring case), a UIN as the integer it is however sent."""
    return normalise_policy_id(value) if prop == "uin" else str(value).strip().casefold()


class _Users:
    """The CAM users of the stack, found by URN, by name and by UIN (each index built once)."""

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.by_urn = {r.urn: r for r in resources if r.resource_type == CAM_USER}
        self._index: dict[str, dict[object, set[str]]] = {}

    def _by(self, prop: str) -> dict[object, set[str]]:
        if prop not in self._index:
            index: dict[object, set[str]] = {}
            for urn, user in self.by_urn.items():
                try:
                    value = user.props.get(prop)
                except UnknownValueError:
                    continue
                if value is not None:
                    index.setdefault(_key(prop, value), set()).add(urn)
            self._index[prop] = index
        return self._index[prop]

    def named(self, resource: PolicyResource, key: str, prop: str) -> set[str]:
        """The users a property names: those it is computed from, else those whose `prop` it equals."""
        linked = {source.urn for source in resource.property_dependencies.get(key, []) if source.urn in self.by_urn}
        if linked:
            return linked
        value = resource.props.get(key)
        return set(self._by(prop).get(_key(prop, value), ())) if value is not None else set()


def _wide_policies(resources: Sequence[PolicyResource]) -> set[str]:
    wide = set()
    for resource in resources:
        try:
            if any(
                inspect_policy_document(d).grants_all_of_im
                for d in policy_documents(resource.resource_type, resource.props)
            ):
                wide.add(resource.urn)
        except UnknownValueError:
            continue
    return wide


def _full_access_users(resources: Sequence[PolicyResource], users: _Users, graph: ReachGraph) -> dict[str, str]:
    """The users of the stack that get IM full access, each with how: by their operator, their own
    attachments, or any path of the stack's reach graph (a group, a role they may become)."""
    full: dict[str, str] = {}
    for urn, user in users.by_urn.items():
        parent = user.parent
        if parent is not None and parent.resource_type == IM_OPERATOR and parent.props.get(Props.ACCESS) == "full":
            full[urn] = "ImOperator with access 'full'"
    wide = _wide_policies([r for r in resources if r.resource_type in CUSTOM_POLICIES])
    for attachment in resources:
        if attachment.resource_type != USER_ATTACHMENT:
            continue
        linked = {s.urn for s in attachment.property_dependencies.get("policyId", [])}
        try:
            how = "a custom policy allowing all of IM" if linked & wide else None
            policy_id = normalise_policy_id(attachment.props.get("policyId"))
            if how is None and policy_id in DEFAULT_FULL_ACCESS_POLICY_IDS:
                how = f"the full-access preset {policy_id}"
            holders = users.named(attachment, "userName", "name") if how is not None else set()
        except UnknownValueError:
            continue  # a policy id unknown in preview: im-full-access-approved-stacks-only notes it
        full.update({urn: how for urn in holders if urn not in full and how is not None})
    for urn in users.by_urn.keys() - full.keys():
        # Only a path to IM full access itself, past any other the search meets first.
        path = graph.reach(urn, cam_write=False, kinds=("full",))
        if path is not None and path.kind == "full":  # not a path whose end comes at `pulumi up`
            full[urn] = path.describe()
    return full


def _protected_users(resources: Sequence[PolicyResource], users: _Users) -> set[str]:
    protected: set[str] = set()
    for flag in resources:
        if flag.resource_type != MFA_FLAG or not _flag_on(flag.props.get("actionFlag")):
            continue
        try:
            protected |= users.named(flag, "opUin", "uin")
        except UnknownValueError:
            continue
    return protected


def _report_flags_of_other_users(
    resources: Sequence[PolicyResource], users: _Users, report_violation: ReportViolation
) -> None:
    """A flag on a user the stack does not create could turn MFA off for anyone (an administrator
    included): the stack sets the flags of its own operators only."""
    for flag in resources:
        if flag.resource_type != MFA_FLAG:
            continue
        try:
            if users.named(flag, "opUin", "uin") or flag.props.get("opUin") is None:
                continue
            target = normalise_policy_id(flag.props.get("opUin")) or flag.props.get("opUin")
        except UnknownValueError:
            continue  # computed from a resource of the stack, whose value comes at `up`
        report_violation(
            f"Remove the MFA flags {flag.name!r} on stack {pulumi.get_stack()!r}: uin {str(target)[:40]!r} is no"
            " user this stack creates, and a stack sets the MFA of its own operators only.",
            flag.urn,
        )


def report_operation_protection(
    resources: Sequence[PolicyResource], graph: ReachGraph, report_violation: ReportViolation
) -> None:
    """Part of the stack policy `im-full-access-across-the-stack` (every stack policy costs the
    analyzer a pass over the stack), run on approved stacks too: and flags on users outside the stack.
    `graph` is the stack's reach graph, its users keyed by URN."""
    users = _Users(resources)
    _report_flags_of_other_users(resources, users, report_violation)
    full = _full_access_users(resources, users, graph)
    if not full:
        return
    protected = _protected_users(resources, users)
    for urn in sorted(set(full) - protected):
        name = users.by_urn[urn].props.get("name") or users.by_urn[urn].name
        report_violation(
            f"Turn on operation protection for CAM user {name!r} on stack {pulumi.get_stack()!r}: it holds IM full"
            f" access ({full[urn]}), so add a cam.MfaFlag on it whose actionFlag sets a factor (the ImOperator"
            " component does this for access 'full').",
            urn,
        )


def _validate_login_protection(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != IM_OPERATOR or not args.props.get(Props.CONSOLE, True):
        return
    if args.props.get(Props.LOGIN_MFA, True) is False:
        reason = args.props.get(Props.MFA_OPT_OUT_REASON) or "no reason given"
        report_violation(
            f"Review console operator {args.props.get(Props.USER_NAME)!r}: it logs in without MFA (reason: {reason});"
            " remove `mfa: {login: false}` from its entry to turn login protection back on.",
            None,
        )


im_console_login_protection = ResourceValidationPolicy(
    name="im-console-login-protection",
    description=(
        "Notes a console operator that opts out of CAM login protection (MFA at login, on by default), with its "
        "reason, for review."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate_login_protection,
    config_schema=SCHEMA,
)
