"""IM full access by reach, across the stack: the stack's resources translated into the reach graph
(im_access/reach.py) that the audit builds from the live account, and one question asked of it.

- Off approved stacks: no principal of the stack may reach IM full access: hold it, hold CAM write
  (with which it can give itself anything), or get either through a group, a role it may assume,
  an organization identity, or an API key. A role's own CAM write counts only through who may
  become it (the deploy role holds `name/cam:*`). A direct full-access preset is judged resource by
  resource (im-full-access-approved-stacks-only, with break-glass exceptions); every longer route
  here, on the resource that opens it, naming the path.
- Off approved stacks, nothing unidentified passes: an attachment of a policy that is neither
  linked to a policy of the stack nor a known preset (by name, or by an id the pack knows or
  approvals.yaml lists in presetPolicies), or of anything to a principal the stack does not declare
  (its users, groups and roles, those its IM components name, and what approvals.yaml and trust.yaml
  name), cannot be shown safe.
- On every stack, approved ones included: no role a pull request's workflow can assume (named in
  trust.yaml pullRequestRoles, or a role of the stack whose trust lets a pull request in) may reach
  CAM write, admin or IM full access; operation protection (mfa.py); switches of a custom policy's
  default version off approved stacks (version_switches.py).

Principals and policies are linked by the resources a value is computed from, else by the value it
resolves to. A value unknown in preview is named, resource by resource, in one note (judged at
`pulumi up`), after every other resource has been judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

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

from im_access.access import FULL_PRESET, FULL_PRESET_ID, normalise_policy_id, normalise_policy_name
from im_access.approvals import StackApprovals
from im_access.contract import IM_COMPONENTS, Props, group_principal, user_principal
from im_access.reach import Grant, Hop, Path, ReachGraph, arn_of_role, judge_document, judge_preset
from im_access.trust import trust_admits
from im_guardrails.approvals import approvals, stack_account, stack_approvals, stack_is_approved
from im_guardrails.full_access import FIX
from im_guardrails.mfa import report_operation_protection
from im_guardrails.resources import ATTACHMENTS, CAM_USER, CUSTOM_POLICIES, policy_documents
from im_guardrails.role_trust import ROLES, TRUST
from im_guardrails.version_switches import report_version_switches

GROUP = "tencentcloud:Cam/group:Group"
GROUP_MEMBERSHIP = "tencentcloud:Cam/groupMembership:GroupMembership"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
ORG_IDENTITY = "tencentcloud:Organization/orgIdentity:OrgIdentity"
ORG_MEMBER_POLICY = "tencentcloud:Organization/orgMemberPolicyAttachment:OrgMemberPolicyAttachment"
ORG_MEMBER_IDENTITIES = "tencentcloud:Organization/orgMemberAuthIdentityAttachment:OrgMemberAuthIdentityAttachment"
# What gives member accounts an organization identity: the property naming it, and the members.
IDENTITY_ROUTES: Mapping[str, tuple[str, str]] = {
    ORG_MEMBER_POLICY: ("identityId", "memberUins"),
    ORG_MEMBER_IDENTITIES: ("identityIds", "memberUin"),
}
PRINCIPALS: Mapping[str, str] = {CAM_USER: "user", GROUP: "group"}  # the principals of the stack, as paths name them
# The presets whose ids are published; approvals.yaml presetPolicies adds the ones a team looked up.
KNOWN_PRESET_IDS: Mapping[int, str] = {
    FULL_PRESET_ID: FULL_PRESET,
    1: "AdministratorAccess",
    2: "QCloudResourceFullAccess",
}
DEPLOY_IDENTITY = "the deploy identity"
SCHEMA = PolicyConfigSchema(properties={})  # approvals and trust settings live in their reviewed files


class UnknownInPreviewError(UnknownValueError):
    """What a check cannot judge in preview. Raised once for the stack, naming every resource, the
    engine shows it as one advisory note; the check runs on the known values at `pulumi up`."""

    def __init__(self, what: str) -> None:
        Exception.__init__(self, what)
        self.message = what


def _kind(resource: PolicyResource) -> str:
    return f"{resource.resource_type.rsplit(':', 1)[-1]} {resource.name!r}"


def _get(resource: PolicyResource, key: str) -> tuple[Any, bool]:
    """A property's value and whether it is unknown (in preview)."""
    try:
        return resource.props.get(key), False
    except UnknownValueError:
        return None, True


def _values(resource: PolicyResource, key: str) -> tuple[list[Any], bool]:
    """The known items of a property (one value, or a list), and whether any of them is unknown."""
    value, unknown = _get(resource, key)
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ([] if value is None else [value]), unknown
    items = []
    for index in range(len(value)):
        try:
            item = value[index]
        except UnknownValueError:
            unknown = True
            continue
        if item is not None:
            items.append(item)
    return items, unknown


def _number(value: Any) -> str:
    number = normalise_policy_id(value)
    return str(number) if number is not None else str(value).strip()


class _StackGraph:
    """The stack's resources as a reach graph, with what the translation could not identify."""

    def __init__(self, resources: Sequence[PolicyResource], approved: StackApprovals, owner_uin: str) -> None:
        self.graph = ReachGraph(owner_uin)
        self.owner_uin = owner_uin
        self.pending: list[tuple[str, str]] = []  # (resource, what is unknown in preview)
        self.keys: list[tuple[PolicyResource, str | None]] = []  # each API key and whose it is (None: the deploy's)
        self.roles_by_id: list[tuple[PolicyResource, Grant]] = []  # attachments to a role known only by an id
        self.untrusted_roles: list[PolicyResource] = []  # roles whose trust is unknown in preview
        self.pull_request_roles: dict[str, str] = {
            self.graph.node(f"role:{name}"): "policy_pack/trust.yaml names it in pullRequestRoles"
            for name in TRUST.pull_request_roles
        }
        self.undeclared: list[tuple[PolicyResource, str, Grant]] = []
        self.declared: set[str] = set()
        self.urns: set[str] = set()  # the principals of the stack, by URN
        self.preset_ids = {**approvals().preset_ids, **KNOWN_PRESET_IDS}
        self.policies: dict[str, Grant] = {}  # custom policies of the stack, by URN
        self.policy_names: dict[str, str] = {}  # ... by their normalised name
        for principal in [*TRUST.pull_request_roles, *(str(p) for p in approved.full_access_principals)]:
            self.declared.add(self.graph.node(principal if ":" in principal else f"role:{principal}"))
        listed = Grant("fullAccessPrincipals", full_im="is listed as holding IM full access")
        for principal in approved.full_access_principals:
            self.graph.hold(str(principal), listed)
        for resource in resources:
            if resource.resource_type in PRINCIPALS or resource.resource_type in ROLES:
                self._principal(resource)
            elif resource.resource_type in IM_COMPONENTS:
                self._component(resource)
            elif resource.resource_type == ORG_IDENTITY:
                self._identity(resource)
            if resource.resource_type in CUSTOM_POLICIES:
                self._policy(resource)
        for resource in resources:
            route = _TRANSLATE.get(resource.resource_type)
            if route is not None:
                route(self, resource)

    def _principal(self, resource: PolicyResource) -> None:
        node = self.graph.node(resource.urn)
        self.declared.add(node)
        self.urns.add(resource.urn)
        if resource.resource_type in ROLES:
            name, _ = _get(resource, "name")
            self.graph.labels[node] = f"role:{name or resource.name}"
            if name is not None:
                self.graph.alias(f"role:{name}", resource.urn)
            document, unknown = _get(resource, ROLES[resource.resource_type])
            if unknown:
                self.untrusted_roles.append(resource)
                return
            admits = trust_admits(document, TRUST, self.owner_uin)
            self.graph.role(resource.urn, arn_of_role(self.owner_uin, str(name or resource.name)), admits, resource.urn)
            if admits.outside is not None:
                self.pull_request_roles[node] = admits.outside
            return
        name, _ = _get(resource, "name")
        self.graph.labels[node] = f"{PRINCIPALS[resource.resource_type]}:{name or resource.name}"
        if resource.resource_type != CAM_USER:
            return  # a group is named by its id, which its inputs do not hold: followed by dependencies
        uin, _ = _get(resource, "uin")
        for alias in (f"user:{name}" if name is not None else None, f"uin:{_number(uin)}" if uin else None):
            if alias is not None:
                self.graph.alias(alias, resource.urn)

    def _component(self, resource: PolicyResource) -> None:
        """An IM component declares its principal; with access 'full' it holds full access, whatever its
        child attachment's policy id resolves to."""
        user, _ = _get(resource, Props.USER_NAME)
        group, _ = _get(resource, Props.GROUP_ID)
        output, _ = _get(resource, "principal")  # across the stack the engine sends a component's outputs
        principal = user_principal(str(user)) if user is not None else None
        if principal is None and group is not None and normalise_policy_id(group) is not None:
            principal = group_principal(_number(group))
        if principal is None and isinstance(output, str) and output.startswith(("user:", "group:")):
            principal = output
        if principal is None:
            return
        self.declared.add(self.graph.node(principal))
        if _get(resource, Props.ACCESS)[0] == "full":
            component = resource.resource_type.rsplit(":", 1)[-1]
            full = Grant(f"{component} {resource.name!r}", full_im="with access 'full'", preset_full=True)
            self.graph.hold(principal, full, resource.urn)

    def _policy(self, resource: PolicyResource) -> None:
        name, _ = _get(resource, "name")
        label = f"custom policy {str(name or resource.name)!r}"
        try:
            grant = judge_document(label, *policy_documents(resource.resource_type, resource.props))
        except UnknownValueError:
            grant = Grant(label, pending=f"the document of {label}")
        self.policies[resource.urn] = grant
        if name is not None:
            self.policy_names[normalise_policy_name(name)] = resource.urn

    def _identity(self, resource: PolicyResource) -> None:
        node = self.graph.node(resource.urn)
        self.declared.add(node)
        self.urns.add(resource.urn)
        self.graph.labels[node] = f"organization identity {resource.name!r}"
        identity_id, _ = _get(resource, "identityId")
        if identity_id is not None:
            self.graph.alias(f"orgIdentity:{_number(identity_id)}", resource.urn)
        policies, unknown = _values(resource, "identityPolicies")
        if unknown:
            self.graph.hold(resource.urn, Grant("its identityPolicies", pending="its identityPolicies"), resource.urn)
        for index, item in enumerate(policies):
            if isinstance(item, Mapping):
                self.graph.hold(resource.urn, self._identity_grant(f"identityPolicies[{index}], ", item), resource.urn)

    def _identity_grant(self, where: str, item: Mapping[str, Any]) -> Grant:
        try:
            if item.get("policyDocument") is not None:
                return judge_document(where.rstrip(", "), item.get("policyDocument"))
            policy_id = normalise_policy_id(item.get("policyId"))
            grant = judge_preset(item.get("policyName"), policy_id, self.preset_ids, where)
        except UnknownValueError:
            return Grant(where.rstrip(", "), pending=where.rstrip(", "))
        return replace(grant, preset_full=False)  # no resource policy judges an identity's list

    def _linked(self, resource: PolicyResource, key: str) -> str | None:
        """The policy of the stack a property is computed from, if any."""
        urns = [source.urn for source in resource.property_dependencies.get(key, [])]
        return next((urn for urn in urns if urn in self.policies), None)

    def _refs(self, resource: PolicyResource, key: str, kind: str) -> tuple[list[str], list[str], bool]:
        """Whom a property names: the principals of the stack it is computed from, and the principal its
        value resolves to (judged both ways: a dependency is no reason to pass); and whether the value is
        unknown (in preview)."""
        linked = [s.urn for s in resource.property_dependencies.get(key, []) if s.urn in self.urns]
        items, unknown = _values(resource, key)
        numbered = kind in ("group", "uin", "orgIdentity")
        return linked, [f"{kind}:{_number(item) if numbered else str(item).strip()}" for item in items], unknown

    def attachment(self, resource: PolicyResource) -> None:
        route = ATTACHMENTS[resource.resource_type]
        grants = self._attached_grants(resource, route.id_key, route.name_key)
        kind = route.kind if route.kind in ("user", "group", "role") else "roleConfiguration"
        linked, values, unknown = self._refs(resource, route.principal_key, kind)
        if not values and not unknown and kind == "user":
            _, values, unknown = self._refs(resource, "userId", "uin")
        if not linked and not values:
            self.pending.append((resource.urn, f"{_kind(resource)} (.{route.principal_key})"))
            return
        for principal in linked + values:
            for grant in grants:
                self.graph.hold(principal, grant, resource.urn)
        if linked:
            return
        for principal in values:
            if route.principal_key == "roleId":
                self.roles_by_id.extend((resource, grant) for grant in grants)
            if self.graph.node(principal) not in self.declared:
                self.undeclared.extend((resource, principal, grant) for grant in grants)

    def _attached_grants(self, resource: PolicyResource, id_key: str | None, name_key: str | None) -> list[Grant]:
        """What an attachment gives: the policy of the stack it is computed from, else what its value names;
        a known preset its value names counts beside a linked policy."""
        linked = [self.policies[urn] for key in (id_key, name_key) if key and (urn := self._linked(resource, key))]
        name, unknown_name = _get(resource, name_key) if name_key else (None, False)
        policy_id, unknown_id = _get(resource, id_key) if id_key else (None, False)
        if name is not None and (urn := self.policy_names.get(normalise_policy_name(name))):
            linked.append(self.policies[urn])
        if name is not None:
            named = judge_preset(str(name).strip(), None, self.preset_ids)
        elif policy_id is not None:
            named = judge_preset(None, normalise_policy_id(policy_id), self.preset_ids)
        elif unknown_id or unknown_name:
            named = Grant(f"the policy of {_kind(resource)}", pending=f".{id_key or name_key} of {_kind(resource)}")
        else:
            named = judge_preset(None, None, self.preset_ids)
        if linked:
            return linked + ([named] if named.unidentified is None and named.pending is None else [])
        return [named]

    def membership(self, resource: PolicyResource) -> None:
        linked, values, unknown = self._refs(resource, "groupId", "group")
        if unknown:
            self.pending.append((resource.urn, f"{_kind(resource)} (.groupId)"))
        if not linked:
            for group in values:
                if self.graph.node(group) not in self.declared:
                    outside = Grant("a group the stack does not declare", unidentified="may hold anything")
                    self.graph.hold(group, outside, None)
        users = [s.urn for key in ("userNames", "userIds") for s in resource.property_dependencies.get(key, [])]
        users = [urn for urn in users if urn in self.urns]
        names, unknown_names = _values(resource, "userNames")
        users += [user_principal(str(n)) for n in names]
        if unknown_names:
            self.pending.append((resource.urn, f"{_kind(resource)} (.userNames)"))
        for user in users:
            for group in linked + values:
                self.graph.join(user, group, resource.urn)

    def access_key(self, resource: PolicyResource) -> None:
        linked, values, unknown = self._refs(resource, "targetUin", "uin")
        if unknown:
            self.pending.append((resource.urn, f"{_kind(resource)} (.targetUin)"))
        elif not values:
            self.keys.append((resource, None))  # the deploy identity's own key, whatever it depends on
        self.keys.extend((resource, target) for target in linked + values)

    def member_identity(self, resource: PolicyResource) -> None:
        key, members_key = IDENTITY_ROUTES[resource.resource_type]
        linked, values, unknown = self._refs(resource, key, "orgIdentity")
        if unknown:
            self.pending.append((resource.urn, f"{_kind(resource)} (.{key})"))
        uins = ", ".join(_number(m) for m in _values(resource, members_key)[0]) or "its members"
        member = f"member account {uins} of {_kind(resource)}"
        self.declared.add(self.graph.node(member))
        for identity in linked + values:
            self.graph.join(member, identity, resource.urn, how="given the identity")


_TRANSLATE = {
    **{attachment: _StackGraph.attachment for attachment in ATTACHMENTS},
    GROUP_MEMBERSHIP: _StackGraph.membership,
    ACCESS_KEY: _StackGraph.access_key,
    **{route: _StackGraph.member_identity for route in IDENTITY_ROUTES},
}


def _report_pull_request_roles(translated: _StackGraph, report: ReportViolation) -> list[str]:
    """Every stack: roles a pull request can assume reach nothing; returns what preview cannot judge."""
    graph, stack = translated.graph, pulumi.get_stack()
    for role, why in translated.pull_request_roles.items():
        # Each policy the role holds, and the shortest longer route (a role it may assume in turn).
        paths = [
            Path((Hop(graph.label(role), source=source),), grant, *found)
            for grant, source in graph.holds.get(role, ())
            if (found := grant.reaches(cam_write=True))
        ]
        if not paths and (path := graph.reach(role)) is not None and path.kind != "pending":
            paths.append(path)
        for path in paths:
            report(
                f"Remove {path.grant.label} from {graph.label(role)} on stack {stack!r}, or stop pull requests"
                f" assuming it ({why}): a pull request's workflow would reach IM full access or admin:"
                f" {path.describe()}. No approval allows this.",
                path.source,
            )
    for attachment, grant in translated.roles_by_id:
        if grant.reaches(cam_write=True) is not None:
            report(
                f"Attach {grant.label} to this role by its name (cam.RolePolicyAttachmentByName) or declare the role"
                f" in the stack, on stack {stack!r}: a role known only by an id cannot be shown not to be one a pull"
                " request assumes (policy_pack/trust.yaml pullRequestRoles), and the policy reaches IM full access"
                f" or admin ({grant.reaches(cam_write=True)[1]}).",  # type: ignore[index]
                attachment.urn,
            )
    pending = []
    for untrusted in translated.untrusted_roles:
        if (path := graph.reach(untrusted.urn)) is not None and path.kind != "pending":
            pending.append(f"the trust policy of role {untrusted.name!r}, which reaches {path.grant.label}")
    return pending


def _report_off_approved(translated: _StackGraph, report: ReportViolation) -> list[str]:
    """Off approved stacks: every route to IM full access, and what cannot be identified."""
    graph, stack = translated.graph, pulumi.get_stack()
    pending: list[str] = []
    reported: set[tuple[str | None, str]] = set()
    for principal in graph.principals():
        path = graph.reach(principal, cam_write=not graph.is_role(principal))
        if path is None or path.direct_preset or path.source is None:
            continue
        if path.kind == "pending":
            pending.append(f"{graph.label(principal)} ({path.reason})")
        elif (path.source, principal) not in reported:
            reported.add((path.source, principal))
            report(_reach_message(graph.label(principal), path, stack), path.source)
    for key, target in translated.keys:
        if key.urn in {urn for urn, _ in reported}:
            continue  # one finding a key
        if target is None:
            reported.add((key.urn, ""))
            report(
                f"Remove API key {key.name!r} on stack {stack!r}: without targetUin it is a key of the deploy"
                f" identity itself, which holds every permission, IM full access included; {FIX}.",
                key.urn,
            )
        elif (path := graph.reach(target)) is not None and path.kind != "pending":
            reported.add((key.urn, target))
            report(f"Remove API key {key.name!r} on stack {stack!r}: it hands out {path.describe()}; {FIX}.", key.urn)
    for attachment, principal, grant in translated.undeclared:
        reported.add((attachment.urn, principal))
        report(
            f"Declare {principal} in this stack, or name it in policy_pack/approvals.yaml, before {_kind(attachment)}"
            f" attaches {grant.label} to it on stack {stack!r}: what a principal outside the stack already holds"
            " cannot be shown, so nothing attached to it can be shown safe.",
            attachment.urn,
        )
    # A resource already refused needs no note; the others are judged at up.
    refused = {urn for urn, _ in reported}
    return pending + [what for urn, what in translated.pending if urn not in refused]


def _reach_message(principal: str, path: Path, stack: str) -> str:
    why = {
        "full": "",
        "cam-write": " (with CAM write its holder can give itself IM full access)",
        "unidentified": " (so it counts as IM full access)",
    }[path.kind]
    return f"Remove IM full access for {principal} on stack {stack!r}: {path.describe()}{why}; {FIX}."


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    # Operation protection and roles a pull request can assume: every stack, approved ones included.
    report_operation_protection(args.resources, report_violation)
    account = stack_account(args.resources)
    approved = stack_is_approved(account)
    translated = _StackGraph(args.resources, stack_approvals(account), account or "")
    pending = _report_pull_request_roles(translated, report_violation)
    if not approved:
        report_version_switches(args.resources, stack_approvals(account).reviewed_custom_policies, report_violation)
        pending += _report_off_approved(translated, report_violation)
    if pending:
        raise UnknownInPreviewError(
            "these values can't be known during preview, so they are judged at `pulumi up`: " + "; ".join(pending)
        )


im_full_access_across_the_stack = StackValidationPolicy(
    name="im-full-access-across-the-stack",
    description=(
        "Checks across the stack, by reach (one graph of principals, policies, group memberships, role trust and "
        "sts:AssumeRole, organization identities and API keys, shared with the audit), that off approved stacks no "
        "principal reaches IM full access or CAM write through another resource, that nothing is attached to a "
        "principal the stack does not declare or from a policy it cannot identify, and that no custom policy's "
        "default version is switched to one the stack does not create (unless listed in reviewedCustomPolicies); "
        "and, on every stack, approved ones included, that no role a pull request's workflow can assume "
        "(policy_pack/trust.yaml) reaches CAM write, admin or IM full access, and that each CAM user of the stack "
        "holding IM full access has operation protection (a cam.MfaFlag whose actionFlag sets a factor). Values "
        "unknown in preview are named in one note."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=SCHEMA,
)
