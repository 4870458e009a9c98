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

from im_access.access import (
    DEFAULT_FULL_ACCESS_POLICY_IDS,
    DEFAULT_FULL_ACCESS_POLICY_NAMES,
    normalise_policy_id,
    normalise_policy_name,
)
from im_access.approvals import StackApprovals
from im_access.contract import IM_COMPONENTS, Props, group_principal, user_principal
from im_access.reach import Grant, Hop, Path, ReachGraph, judge_document, judge_preset
from im_access.trust import trust_admits
from im_guardrails.approvals import approvals, stack_account, stack_approvals, stack_is_approved
from im_guardrails.full_access import FIX
from im_guardrails.mfa import report_operation_protection
from im_guardrails.resources import ATTACHMENTS, CAM_USER, CUSTOM_POLICIES, AttachmentRoute, policy_documents
from im_guardrails.role_trust import ROLES, TRUST
from im_guardrails.version_switches import report_version_switches

GROUP = "tencentcloud:Cam/group:Group"
ROLE = "tencentcloud:Cam/role:Role"  # its id is the RoleId; a RoleByName's is its name
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
KNOWN_PRESET_IDS: Mapping[int, str] = dict(
    zip(DEFAULT_FULL_ACCESS_POLICY_IDS, DEFAULT_FULL_ACCESS_POLICY_NAMES, strict=True)
)
MAY_HOLD_ANYTHING = "may hold anything: the stack cannot see what it holds"
POLICY_VERSION = "tencentcloud:Cam/policyVersion:PolicyVersion"
IDENTITY_CENTER_CUSTOM = [t for t in CUSTOM_POLICIES if t.startswith("tencentcloud:Identity/")]
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


def _same(own: Any, value: Any) -> bool:
    """Two spellings of one id or name: ids compared as integers, names trimmed and ignoring case."""
    own_id, value_id = normalise_policy_id(own), normalise_policy_id(value)
    if own_id is not None or value_id is not None:
        return own_id == value_id
    return normalise_policy_name(own) == normalise_policy_name(value)


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
        self.roles_by_id: list[tuple[PolicyResource, str]] = []  # attachments to a role known only by an id
        self.untrusted_roles: list[PolicyResource] = []  # roles whose trust is unknown in preview
        self.pull_request_roles: dict[str, str] = {
            self.graph.node(f"role:{name}"): "policy_pack/trust.yaml names it in pullRequestRoles"
            for name in TRUST.pull_request_roles
        }
        self.undeclared: list[tuple[PolicyResource, str, Grant]] = []
        self.declared: set[str] = set()
        self.kinds: dict[str, str] = {}  # the principals of the stack, by URN: user, group, role, orgIdentity
        self.preset_ids = {**approvals().preset_ids, **KNOWN_PRESET_IDS}
        self.policies: dict[str, Grant] = {}  # custom policies and versions of the stack, by URN
        self.versions: dict[str, list[Grant]] = {}  # what versions of the stack add to a policy of it, by URN
        self.outside_versions: list[tuple[PolicyResource, Grant]] = []  # versions of policies outside it
        self.policy_names: dict[str, str] = {}  # ... by their normalised name
        for principal in [*TRUST.pull_request_roles, *(str(p) for p in approved.full_access_principals)]:
            self.declared.add(self.graph.node(principal if ":" in principal else f"role:{principal}"))
        listed = Grant("policy_pack/approvals.yaml fullAccessPrincipals", full_im="lists it as holding IM full access")
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
        for resource in resources:  # what versions add to a policy, before anything attaches it
            if resource.resource_type == POLICY_VERSION:
                self.version(resource)
        for resource in resources:
            route = _TRANSLATE.get(resource.resource_type)
            if route is not None:
                route(self, resource)

    def _principal(self, resource: PolicyResource) -> None:
        node = self.graph.node(resource.urn)
        self.declared.add(node)
        self.kinds[resource.urn] = "role" if resource.resource_type in ROLES else PRINCIPALS[resource.resource_type]
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
            # In the engine's outputs once CAM made the role.
            role_id, _ = _get(resource, "id") if resource.resource_type == ROLE else (None, False)
            known = str(role_id) if str(role_id or "").isdigit() else None
            self.graph.role(resource.urn, str(name or resource.name), admits, resource.urn, known)
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
        self.kinds[resource.urn] = "orgIdentity"
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

    @staticmethod
    def _consistent(source: PolicyResource, ident: str, values: list[Any]) -> bool:
        """Whether a resource a property is computed from is the one its value names: a dependency on a
        harmless resource with a value naming another is no link. Unknown (in preview) is consistent."""
        own, unknown = _get(source, ident)
        if unknown or own is None or not values:
            return True
        return all(_same(own, value) for value in values)

    def _linked(self, resource: PolicyResource, key: str, ident: str) -> str | None:
        """The policy of the stack a property is computed from and its value names, if any."""
        values = _values(resource, key)[0]
        sources = resource.property_dependencies.get(key, [])
        return next(
            (s.urn for s in sources if s.urn in self.policies and self._consistent(s, ident, values)),
            None,
        )

    def _refs(
        self, resource: PolicyResource, key: str, kind: str, ident: str = "name"
    ) -> tuple[list[str], list[str], bool]:
        """Whom a property names: the principals of the stack of `kind` it is computed from (when its value
        names them by `ident`), and the principal its value resolves to (judged both ways: a dependency is
        no reason to pass); and whether the value is unknown (in preview)."""
        items, unknown = _values(resource, key)
        wanted = "user" if kind == "uin" else kind
        linked = [
            s.urn
            for s in resource.property_dependencies.get(key, [])
            if self.kinds.get(s.urn) == wanted and self._consistent(s, ident, items)
        ]
        numbered = kind in ("group", "uin", "orgIdentity")
        return linked, [f"{kind}:{_number(item) if numbered else str(item).strip()}" for item in items], unknown

    def outside(self, principal: str) -> bool:
        """A principal the stack does not declare: what it holds cannot be seen."""
        return self.graph.node(principal) not in self.declared

    def open_to_outside(self, role: str) -> bool:
        """Whether principals the stack cannot see may become a role: its trust names the account's root, or
        principals the stack does not declare."""
        trusted = self.graph.roles.get(role)
        if trusted is None:
            return False
        admits = trusted.admits
        root = self.owner_uin.lstrip("0") in {account.lstrip("0") for account in admits.accounts}
        return root or any(self.outside(principal) for principal in admits.principals)

    def attachment(self, resource: PolicyResource) -> None:
        route = ATTACHMENTS[resource.resource_type]
        kind = route.kind if route.kind in ("user", "group", "role") else "roleConfiguration"
        ident = "id" if route.principal_key in ("roleId", "groupId") else "name"
        self._hold(resource, route.principal_key, kind, ident, self._attached_grants(resource, route))

    def custom_attachment(self, resource: PolicyResource) -> None:
        """An Identity Center custom policy attachment: a document and the role configuration holding it."""
        self._hold(resource, "roleConfigurationId", "roleConfiguration", "id", [self.policies[resource.urn]])

    def _hold(self, resource: PolicyResource, key: str, kind: str, ident: str, grants: list[Grant]) -> None:
        linked, values, unknown = self._refs(resource, key, kind, ident)
        if not values and not unknown and kind == "user":
            linked, values, unknown = self._refs(resource, "userId", "uin", "uin")
        if not linked and not values:
            self.pending.append((resource.urn, f"{_kind(resource)} (.{key})"))
            return
        for principal in linked + values:
            for grant in grants:
                self.graph.hold(principal, grant, resource.urn)
        if linked:
            return
        for principal in values:
            if key == "roleId":
                self.roles_by_id.append((resource, principal))
            if self.outside(principal):
                self.undeclared.extend((resource, principal, grant) for grant in grants)

    def _attached_grants(self, resource: PolicyResource, route: AttachmentRoute) -> list[Grant]:
        """What an attachment gives: the policy of the stack it is computed from and its value names, with
        what the versions of the stack set for it, and what its values name: every name and id is judged."""
        id_key, name_key = route.id_key, route.name_key
        linked = [
            urn
            for key, ident in ((id_key, "id"), (name_key, "name"))
            if key and (urn := self._linked(resource, key, ident))
        ]
        name, unknown_name = _get(resource, name_key) if name_key else (None, False)
        policy_id, unknown_id = _get(resource, id_key) if id_key else (None, False)
        if name is not None and (urn := self.policy_names.get(normalise_policy_name(name))):
            linked.append(urn)
        named = [judge_preset(str(name).strip(), None, self.preset_ids)] if name is not None else []
        if policy_id is not None:
            named.append(judge_preset(None, normalise_policy_id(policy_id), self.preset_ids))
        if unknown_id or unknown_name:
            named.append(
                Grant(f"the policy of {_kind(resource)}", pending=f".{id_key or name_key} of {_kind(resource)}")
            )
        if not named and not linked:
            named.append(judge_preset(None, None, self.preset_ids))
        grants = [grant for urn in dict.fromkeys(linked) for grant in (self.policies[urn], *self.versions.get(urn, ()))]
        if linked:  # a value naming the linked policy is its id or name: only a known preset adds to it
            named = [grant for grant in named if grant.unidentified is None and grant.pending is None]
        return grants + named

    def membership(self, resource: PolicyResource) -> None:
        linked, groups, unknown = self._refs(resource, "groupId", "group", "id")
        if unknown:
            self.pending.append((resource.urn, f"{_kind(resource)} (.groupId)"))
        if not linked:
            for group in groups:
                if self.outside(group):
                    self.graph.hold(group, Grant("a group the stack does not declare", unidentified=MAY_HOLD_ANYTHING))
        users = []
        for key, kind, ident in (("userNames", "user", "name"), ("userIds", "uin", "uin")):
            linked_users, values, unknown_users = self._refs(resource, key, kind, ident)
            users += linked_users + values
            if unknown_users:
                self.pending.append((resource.urn, f"{_kind(resource)} (.{key})"))
        for user in users:
            for group in linked + groups:
                self.graph.join(user, group, resource.urn)

    def access_key(self, resource: PolicyResource) -> None:
        linked, values, unknown = self._refs(resource, "targetUin", "uin", "uin")
        if unknown:
            self.pending.append((resource.urn, f"{_kind(resource)} (.targetUin)"))
        elif not values:
            self.keys.append((resource, None))  # the deploy identity's own key, whatever it depends on
        self.keys.extend((resource, target) for target in linked + values)

    def member_identity(self, resource: PolicyResource) -> None:
        key, members_key = IDENTITY_ROUTES[resource.resource_type]
        linked, identities, unknown = self._refs(resource, key, "orgIdentity", "id")
        if unknown:
            self.pending.append((resource.urn, f"{_kind(resource)} (.{key})"))
        uins = ", ".join(_number(m) for m in _values(resource, members_key)[0]) or "its members"
        member = f"member account {uins} of {_kind(resource)}"
        self.declared.add(self.graph.node(member))
        for identity in linked + identities:
            if not linked and self.outside(identity):
                outside = Grant("an organization identity the stack does not declare", unidentified=MAY_HOLD_ANYTHING)
                self.graph.hold(identity, outside)
            self.graph.join(member, identity, resource.urn, how="given the identity")

    def version(self, resource: PolicyResource) -> None:
        """A version of a policy: what the policy's holders get once it is the default (set here, or by a
        switch later). A version of a policy of the stack adds to what that policy gives; one of a policy
        outside it gives its holders, whom the stack cannot see, what it allows."""
        grant = self.policies[resource.urn]
        linked = self._linked(resource, "policyId", "id")
        if linked is not None:
            self.versions.setdefault(linked, []).append(grant)
        elif grant.reaches(cam_write=True) is not None or grant.pending:
            self.outside_versions.append((resource, grant))


_TRANSLATE = {
    **{attachment: _StackGraph.attachment for attachment in ATTACHMENTS},
    **{custom: _StackGraph.custom_attachment for custom in IDENTITY_CENTER_CUSTOM},
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
    for attachment, role in translated.roles_by_id:
        if (path := graph.reach(role)) is not None and path.kind != "pending":
            report(
                f"Attach policies to {graph.label(role)} by its name (cam.RolePolicyAttachmentByName) or declare the"
                f" role in the stack, on stack {stack!r}: a role known only by an id cannot be shown not to be one a"
                " pull request assumes (policy_pack/trust.yaml pullRequestRoles), and it reaches IM full access or"
                f" admin: {path.describe()}.",
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
        # A role's CAM write counts through who may become it; one that principals outside the stack may
        # become (its trust names them, or the account's root) counts itself.
        path = graph.reach(principal, cam_write=not graph.is_role(principal) or translated.open_to_outside(principal))
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
        elif translated.outside(target):
            reported.add((key.urn, target))
            report(
                f"Remove API key {key.name!r} on stack {stack!r}: it is a key of {target}, which the stack does not"
                " declare, so what it hands out cannot be shown (the root account's is every permission).",
                key.urn,
            )
    for version, grant in translated.outside_versions:
        reported.add((version.urn, ""))
        found = grant.reaches(cam_write=True)
        report(
            f"Remove {_kind(version)} on stack {stack!r}: it is a version of a policy outside the stack that"
            f" {found[1] if found else grant.pending}, and the"
            " holders of that policy, whom the stack cannot see, get it once it is the default; with CAM write"
            f" they can give themselves IM full access. Create the policy here so its holders are judged; {FIX}.",
            version.urn,
        )
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
    account = stack_account(args.resources)
    approved = stack_is_approved(account)
    reviewed = stack_approvals(account)  # what approvals.yaml says of this stack
    translated = _StackGraph(args.resources, reviewed, account or "")
    # Operation protection and roles a pull request can assume: every stack, approved ones included.
    report_operation_protection(args.resources, translated.graph, report_violation)
    pending = _report_pull_request_roles(translated, report_violation)
    if not approved:
        report_version_switches(args.resources, reviewed.reviewed_custom_policies, report_violation)
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
