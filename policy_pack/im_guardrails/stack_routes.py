"""IM full access reached through another resource of the stack: one stack policy, as every stack
policy costs a full deserialization of the stack in the analyzer.

- An attachment of a custom policy of this stack that allows every IM action, or, to a user or a
  group, one that allows CAM write (attach a policy, rewrite one, join a group, make a key or a
  password for another user: im_access.access.CAM_ESCALATION_APIS), with which its holder can give
  itself IM full access. A role holding CAM write (the deploy role does) is refused only where a
  pull request can assume it (role_trust.py).
- A user added to a group that holds full IM access (`cam.GroupMembership`): the group's
  attachments in this stack are followed; a group outside the stack counts when the reviewed
  approvals (policy_pack/approvals.yaml) list it in `fullAccessPrincipals`.
- API keys (`cam.AccessKey`): keys of the deploy identity itself (no `targetUin`) are everything,
  so full IM access. Keys for a principal listed as holding full access (list the root account's
  uin there too) count.
- Organization member policies (`organization.OrgMemberPolicyAttachment`): the permissions are
  those of the organization identity (`OrgIdentity` `identityPolicies`), judged when the identity
  is in this stack or listed; the member policy's own `policyName` is only a label. The same for
  member access identities (`OrgMemberAuthIdentityAttachment` `identityIds`). An identity of this
  stack that grants full access is reported too, like a custom policy that does.
- Switches of a custom policy's default version (`cam.SetPolicyVersionConfig`), see
  version_switches.py.
- On every stack, approved ones included: a role that a pull request's workflow can assume holding
  IM full access or an admin preset, see role_trust.py.
- On every stack, approved ones included: operation protection (MFA) for each CAM user of the
  stack holding IM full access, see mfa.py.

Principals are judged by the value they resolve to, wherever it is computed from: a group id or
`targetUin` that depends on another resource is no reason to pass. A value unknown in preview is
named, resource by resource, in one note (judged at `pulumi up`), after every other resource has
been judged. What the stack cannot see (a principal outside it that is not listed) is assumed not
to hold full access; the audit shows the account as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from im_access.access import (
    DEFAULT_FULL_ACCESS_POLICY_IDS,
    FULL_ACCESS_NAME_KEYS,
    inspect_policy_document,
    normalise_policy_id,
    normalise_policy_name,
)
from im_access.approvals import StackApprovals
from im_access.contract import IM_ACCESS_GRANT, Props
from im_guardrails.approvals import stack_account, stack_approvals, stack_is_approved
from im_guardrails.full_access import FIX, all_of_im_verdict, escalation_reason
from im_guardrails.mfa import report_operation_protection
from im_guardrails.resources import ATTACHMENTS, CUSTOM_POLICIES, attachment_principal
from im_guardrails.role_trust import report_pull_request_admin_roles
from im_guardrails.version_switches import report_version_switches

GROUP = "tencentcloud:Cam/group:Group"
GROUP_MEMBERSHIP = "tencentcloud:Cam/groupMembership:GroupMembership"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
ORG_IDENTITY = "tencentcloud:Organization/orgIdentity:OrgIdentity"
ORG_MEMBER_POLICY = "tencentcloud:Organization/orgMemberPolicyAttachment:OrgMemberPolicyAttachment"
ORG_MEMBER_IDENTITIES = "tencentcloud:Organization/orgMemberAuthIdentityAttachment:OrgMemberAuthIdentityAttachment"
# What gives member accounts an organization identity: the property naming it, and the members.
IDENTITY_ROUTES: Mapping[str, tuple[str, str, str]] = {
    ORG_MEMBER_POLICY: ("organization member policy", "identityId", "memberUins"),
    ORG_MEMBER_IDENTITIES: ("member access identities", "identityIds", "memberUin"),
}


# Approvals and the principals known to hold full access live in policy_pack/approvals.yaml.
SCHEMA = PolicyConfigSchema(properties={})


class UnknownInPreviewError(UnknownValueError):
    """What a check cannot judge in preview. Raised once for the stack, naming every resource, the
    engine shows it as one advisory note; the check runs on the known values at `pulumi up`."""

    def __init__(self, what: str) -> None:
        Exception.__init__(self, what)
        self.message = what


def _unknown(error: UnknownValueError) -> str:
    return error.message if isinstance(error, UnknownInPreviewError) else "." + ".".join(error.props)


def _kind(resource: PolicyResource) -> str:
    return f"{resource.resource_type.rsplit(':', 1)[-1]} {resource.name!r}"


def _principal(kind: str, value: object) -> str:
    """A principal as fullAccessPrincipals lists it, compared casefolded and ids as integers."""
    number = normalise_policy_id(value)
    return f"{kind.strip()}:{number if number is not None else str(value).strip()}".casefold()


def _refs(resource: PolicyResource, key: str, source_type: str, kind: str) -> tuple[set[str], bool]:
    """What a property names: the stack resources of `source_type` it is computed from, and the
    principal its value resolves to; and whether that value is unknown (in preview)."""
    refs = {source.urn for source in resource.property_dependencies.get(key, []) if source.resource_type == source_type}
    try:
        value = resource.props.get(key)
        values = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    except UnknownValueError:
        return refs, True
    refs.update(_principal(kind, item) for item in values if item is not None)
    return refs, False


def _identity_grant(identity: PolicyResource) -> str | None:
    """Why an organization identity grants IM full access, or None; raises while any of its policies
    is unknown and none is known to grant it."""
    unknown: UnknownValueError | None = None
    for index, item in enumerate(identity.props.get("identityPolicies") or []):
        if not isinstance(item, Mapping):
            continue
        try:
            name, policy_id = item.get("policyName"), normalise_policy_id(item.get("policyId"))
            if name is not None and normalise_policy_name(name) in FULL_ACCESS_NAME_KEYS:
                return f"identityPolicies[{index}] is the preset {str(name).strip()}"
            if policy_id in DEFAULT_FULL_ACCESS_POLICY_IDS:
                return f"identityPolicies[{index}] is the preset with id {policy_id}"
            document = item.get("policyDocument")
            if document is not None and (verdict := inspect_policy_document(document)).grants_all_of_im:
                return f"identityPolicies[{index}]: {verdict.reason}"
        except UnknownValueError as error:
            unknown = error
    if unknown is not None:
        raise unknown
    return None


class _Routes:
    """One pass over the stack: who holds full access here, then each route judged on its own."""

    def __init__(self, resources: Sequence[PolicyResource], listed: set[str], report: ReportViolation) -> None:
        self.resources = resources
        self.listed = listed
        self.report = report
        self.stack = pulumi.get_stack()
        self.pending: list[str] = []
        self.unknown_holders: set[str] = set()  # resources whose own grant is unknown in preview
        custom = [r for r in resources if r.resource_type in CUSTOM_POLICIES]
        self.custom_policies = {r.urn for r in custom}
        self.wide_policies = self._holding(custom, _wide_policy)
        # Held by a user or group, CAM write is IM full access one step away; roles are judged by role_trust.
        self.escalating_policies = self._holding(custom, _escalating_policy)
        self.identities = self._holding(
            [r for r in resources if r.resource_type == ORG_IDENTITY], _identity_grant, note=True
        )
        self.groups = self._full_groups()

    def judge(self, resource: PolicyResource, check: Callable[[_Routes, PolicyResource], None]) -> None:
        """Runs one resource's check; a value unknown in preview is noted for it, and the pass goes on."""
        try:
            check(self, resource)
        except UnknownValueError as error:
            self.pending.append(f"{_kind(resource)} ({_unknown(error)})")

    def _holding(
        self, holders: Sequence[PolicyResource], grant: Callable[[PolicyResource], str | None], note: bool = False
    ) -> dict[str, str]:
        found: dict[str, str] = {}
        for holder in holders:
            try:
                reason = grant(holder)
            except UnknownValueError as error:
                self.unknown_holders.add(holder.urn)
                if note:
                    self.pending.append(f"{_kind(holder)} ({_unknown(error)})")
                continue
            if reason is not None:
                found[holder.urn] = reason
        return found

    def _full_groups(self) -> dict[str, str]:
        """Groups that get full IM access in this stack, by every name the stack knows them by, each with how."""
        groups: dict[str, str] = {}
        for resource in self.resources:
            how: str | None = None
            try:
                if resource.resource_type == IM_ACCESS_GRANT and resource.props.get(Props.ACCESS) == "full":
                    how = "ImAccessGrant with access 'full'"
                elif resource.resource_type == GROUP_ATTACHMENT:
                    linked = [s.urn for s in resource.property_dependencies.get("policyId", [])]
                    wide = [self.wide_policies[urn] for urn in linked if urn in self.wide_policies]
                    wide += [self.escalating_policies[urn] for urn in linked if urn in self.escalating_policies]
                    if wide:
                        how = wide[0]
                    elif not any(urn in self.custom_policies for urn in linked):
                        policy_id = normalise_policy_id(resource.props.get("policyId"))
                        how = f"policy id {policy_id}" if policy_id in DEFAULT_FULL_ACCESS_POLICY_IDS else None
            except UnknownValueError:
                continue  # the attachment itself is noted when its policy is judged
            if how is not None:
                for ref in _refs(resource, "groupId", GROUP, "group")[0]:
                    groups[ref] = how
        return groups

    def linked_custom_policy(self, attachment: PolicyResource) -> None:
        """An attachment of a custom policy of this stack, followed through its property dependencies
        so it is judged in preview while the policy id is unknown."""
        route = ATTACHMENTS[attachment.resource_type]
        sources = [s.urn for key in route.policy_keys for s in attachment.property_dependencies.get(key, [])]
        if not any(urn in self.custom_policies for urn in sources):
            # Not a custom policy of this stack: an id unknown here is noted; the resource policy judges it at up.
            for key in route.policy_keys:
                attachment.props.get(key)
            return
        for urn in sources:
            how = self.wide_policies.get(urn)
            if how is None and route.kind in ("user", "group"):
                how = self.escalating_policies.get(urn)
            if how is not None:
                principal = attachment_principal(attachment.resource_type, attachment.props, attachment.name)
                self.report(
                    f"Remove IM full access for {principal} ({how}) on stack {self.stack!r}: {FIX}.", attachment.urn
                )
            elif urn in self.unknown_holders:
                raise UnknownInPreviewError(f"the document of the custom policy {urn.rsplit('::', 1)[-1]!r}")

    def _holder(self, refs: set[str], holders: Mapping[str, str], kind: str) -> tuple[str, str] | None:
        """The first of `refs` known to hold full IM access, as messages name it, and why."""
        for ref in sorted(refs):
            if ref in holders:
                name = f"{kind} {ref.rsplit('::', 1)[-1]!r} of this stack" if ref.startswith("urn:") else ref
                return name, holders[ref]
        listed = sorted(refs & self.listed)
        return (listed[0], "listed in fullAccessPrincipals") if listed else None

    def membership(self, resource: PolicyResource) -> None:
        refs, unknown = _refs(resource, "groupId", GROUP, "group")
        holder = self._holder(refs, self.groups, "group")
        if holder is None:
            if unknown:
                raise UnknownInPreviewError(".groupId")
            return
        try:
            users = ", ".join(sorted(map(str, resource.props.get("userNames") or resource.props.get("userIds") or [])))
        except UnknownValueError:
            users = ""
        group, how = holder
        self.report(
            f"Remove {users or 'the users'} from {group} on stack {self.stack!r}: the group holds IM full"
            f" access ({how}), so its members do too; {FIX}.",
            resource.urn,
        )

    def access_key(self, resource: PolicyResource) -> None:
        target = resource.props.get("targetUin")  # raises while unknown: noted, judged at up
        if target is None:
            self.report(
                f"Remove API key {resource.name!r} on stack {self.stack!r}: without targetUin it is a key of the"
                f" deploy identity itself, which holds every permission, IM full access included; {FIX}.",
                resource.urn,
            )
        elif (uin := _principal("uin", target)) in self.listed:
            self.report(
                f"Remove API key {resource.name!r} on stack {self.stack!r}: {uin} is listed in fullAccessPrincipals"
                f" as holding IM full access, and this key would hand it out; {FIX}.",
                resource.urn,
            )

    def identity(self, resource: PolicyResource) -> None:
        if resource.urn in self.identities:
            self.report(
                f"Remove IM full access from organization identity {resource.name!r} on stack {self.stack!r}"
                f" ({self.identities[resource.urn]}): it grants IM full access to every member it is given to; {FIX}.",
                resource.urn,
            )

    def member_identity(self, resource: PolicyResource) -> None:
        what, key, members_key = IDENTITY_ROUTES[resource.resource_type]
        refs, unknown = _refs(resource, key, ORG_IDENTITY, "orgIdentity")
        holder = self._holder(refs, self.identities, "organization identity")
        if holder is None:
            if unknown:
                raise UnknownInPreviewError(f".{key}")
            if refs & self.unknown_holders:
                raise UnknownInPreviewError("the permissions of its organization identity")
            return
        try:
            uins = resource.props.get(members_key)
            uins = uins if isinstance(uins, Sequence) and not isinstance(uins, str) else [uins]
            members = (
                ", ".join(str(normalise_policy_id(uin) or uin) for uin in uins if uin is not None) or "its members"
            )
        except UnknownValueError:
            members = "its members"
        identity, how = holder
        self.report(
            f"Remove the {what} {resource.name!r} on stack {self.stack!r}: it gives member account {members}"
            f" {identity}, which grants IM full access ({how}), whatever a policyName says; {FIX}.",
            resource.urn,
        )


def _wide_policy(policy: PolicyResource) -> str | None:
    if all_of_im_verdict(policy.resource_type, policy.props) is None:
        return None
    return f"custom policy {policy.props.get('name') or policy.name!r} allows all of IM"


def _escalating_policy(policy: PolicyResource) -> str | None:
    if (reason := escalation_reason(policy.resource_type, policy.props)) is None:
        return None
    return f"custom policy {policy.props.get('name') or policy.name!r}: {reason}"


CHECKS: Mapping[str, Callable[[_Routes, PolicyResource], None]] = {
    **{attachment: _Routes.linked_custom_policy for attachment in ATTACHMENTS},
    GROUP_MEMBERSHIP: _Routes.membership,
    ACCESS_KEY: _Routes.access_key,
    ORG_IDENTITY: _Routes.identity,
    **{route: _Routes.member_identity for route in IDENTITY_ROUTES},
}


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    # Operation protection and roles a pull request can assume: every stack, approved ones included.
    report_operation_protection(args.resources, report_violation)
    pending = report_pull_request_admin_roles(args.resources, report_violation)
    account = stack_account(args.resources)
    if not stack_is_approved(account):
        pending += _routes_off_approved(args, stack_approvals(account), report_violation)
    if pending:
        raise UnknownInPreviewError(
            "these values can't be known during preview, so they are judged at `pulumi up`: " + "; ".join(pending)
        )


def _routes_off_approved(
    args: StackValidationArgs, approved: StackApprovals, report_violation: ReportViolation
) -> list[str]:
    report_version_switches(args.resources, approved.reviewed_custom_policies, report_violation)
    listed = {_principal(*str(p).partition(":")[::2]) for p in approved.full_access_principals}
    routes = _Routes(args.resources, listed, report_violation)
    for resource in args.resources:
        check = CHECKS.get(resource.resource_type)
        if check is not None:
            routes.judge(resource, check)
    return routes.pending


im_full_access_across_the_stack = StackValidationPolicy(
    name="im-full-access-across-the-stack",
    description=(
        "Checks across the stack that IM full access is not reached through another resource: attachments of a "
        "custom policy of the stack that allows every IM action, users added to a group that holds it (in the "
        "stack, or listed in fullAccessPrincipals), API keys of the deploy identity or of a principal listed as "
        "holding it, and organization member policies or member access identities of an organization identity that "
        "grants it (in the stack, or listed), and switches of a custom policy's default version to a version the "
        "stack does not create (unless listed in reviewedCustomPolicies), judged by the values principals resolve "
        "to; and, on every stack, approved ones included, that no role a pull request's workflow can assume "
        "(policy_pack/trust.yaml) holds IM full access or an admin preset. Values unknown in preview are named in "
        "one note. On every stack too: that each CAM user of the stack holding IM full access has operation "
        "protection (a cam.MfaFlag whose actionFlag sets a factor)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=SCHEMA,
)
