"""IM full access reached through another resource of the stack: one stack policy, as every stack
policy costs a full deserialization of the stack in the analyzer.

- An attachment of a custom policy of this stack that allows every IM action.
- A user added to a group that holds full IM access (`cam.GroupMembership`): the group's
  attachments in this stack are followed; a group outside the stack counts when the reviewed
  approvals (policy_pack/approvals.yaml) list it in `fullAccessPrincipals`. Mandatory.
- API keys (`cam.AccessKey`): keys of the deploy identity itself (no `targetUin`) are everything,
  so full IM access. Keys for a user of this stack are that user's business. Keys for a principal
  outside the stack count when the approvals list it as holding full access (list the root
  account's uin there too).
- Organization member policies (`organization.OrgMemberPolicyAttachment`) by a full-access
  preset's name.

What the stack cannot see (a principal outside it that is not listed) is assumed not to hold full
access; the audit shows the account as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from im_access.access import (
    DEFAULT_FULL_ACCESS_POLICY_IDS,
    FULL_ACCESS_NAME_KEYS,
    normalise_policy_id,
    normalise_policy_name,
)
from im_access.contract import IM_ACCESS_GRANT, Props, group_principal
from im_guardrails.approvals import stack_approvals, stack_is_approved
from im_guardrails.full_access import FIX, all_of_im_verdict, report_linked_custom_policies
from im_guardrails.resources import CAM_USER, CUSTOM_POLICIES
from im_guardrails.version_switches import report_version_switches

GROUP_MEMBERSHIP = "tencentcloud:Cam/groupMembership:GroupMembership"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
ORG_MEMBER_POLICY = "tencentcloud:Organization/orgMemberPolicyAttachment:OrgMemberPolicyAttachment"


# Approvals and the principals known to hold full access live in policy_pack/approvals.yaml.
SCHEMA = PolicyConfigSchema(properties={})


def _deps(resource: PolicyResource, key: str) -> list[PolicyResource]:
    return list(resource.property_dependencies.get(key, []))


def _group_ref(resource: PolicyResource) -> str | None:
    """A group as this stack refers to it: the group resource it depends on, or its id."""
    sources = _deps(resource, "groupId")
    if sources:
        return sources[0].urn
    value = resource.props.get("groupId")  # unknown in preview: the engine notes it, checked at up
    return None if value is None else group_principal(value)


def _full_groups(resources: Sequence[PolicyResource]) -> dict[str, str]:
    """Groups that get full IM access in this stack, each with how."""
    documents = {r.urn: r for r in resources if r.resource_type in CUSTOM_POLICIES}
    groups: dict[str, str] = {}
    for resource in resources:
        if resource.resource_type == IM_ACCESS_GRANT and resource.props.get(Props.ACCESS) == "full":
            groups[group_principal(resource.props[Props.GROUP_ID])] = "ImAccessGrant with access 'full'"
        elif resource.resource_type == GROUP_ATTACHMENT:
            linked = [documents[s.urn] for s in _deps(resource, "policyId") if s.urn in documents]
            if linked:
                # A custom policy of this stack: judged by its document, even while its id is unknown.
                wide = [p for p in linked if all_of_im_verdict(p.resource_type, p.props) is not None]
                if wide:
                    groups[_group_ref(resource) or ""] = f"custom policy {wide[0].name!r} allows all of IM"
            elif (policy_id := normalise_policy_id(resource.props.get("policyId"))) in DEFAULT_FULL_ACCESS_POLICY_IDS:
                groups[_group_ref(resource) or ""] = f"policy id {policy_id}"
    return groups


def _validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if stack_is_approved():
        return
    report_linked_custom_policies(args.resources, report_violation)
    report_version_switches(args.resources, stack_approvals().reviewed_custom_policies, report_violation)
    listed = {p.casefold() for p in stack_approvals().full_access_principals}
    stack = pulumi.get_stack()
    full_groups = _full_groups(args.resources)
    for resource in args.resources:
        if resource.resource_type == GROUP_MEMBERSHIP:
            group = _group_ref(resource) or ""
            how = full_groups.get(group) or ("listed in fullAccessPrincipals" if group.casefold() in listed else None)
            if group.startswith("urn:"):
                group = f"group {group.rsplit('::', 1)[-1]!r} of this stack"
            if how is not None:
                users = sorted(map(str, resource.props.get("userNames") or resource.props.get("userIds") or []))
                report_violation(
                    f"Remove {', '.join(users) or 'the users'} from {group} on stack {stack!r}: the group holds IM full"
                    f" access ({how}), so its members do too; {FIX}.",
                    resource.urn,
                )
        elif resource.resource_type == ACCESS_KEY:
            _check_access_key(resource, listed, stack, report_violation)
        elif resource.resource_type == ORG_MEMBER_POLICY:
            name = resource.props.get("policyName")
            if name is not None and normalise_policy_name(name) in FULL_ACCESS_NAME_KEYS:
                report_violation(
                    f"Remove the organization member policy {str(name).strip()!r} of identity"
                    f" {resource.props.get('identityId')} on stack {stack!r}: it includes IM full access; {FIX}.",
                    resource.urn,
                )


def _check_access_key(
    resource: PolicyResource, listed: set[str], stack: str, report_violation: ReportViolation
) -> None:
    if any(source.resource_type == CAM_USER for source in _deps(resource, "targetUin")):
        return  # keys for a user this stack creates, whose access the other checks judge
    target = resource.props.get("targetUin")
    if target is None:
        report_violation(
            f"Remove API key {resource.name!r} on stack {stack!r}: without targetUin it is a key of the deploy"
            f" identity itself, which holds every permission, IM full access included; {FIX}.",
            resource.urn,
        )
    elif f"uin:{normalise_policy_id(target)}" in listed:
        report_violation(
            f"Remove API key {resource.name!r} on stack {stack!r}: uin {normalise_policy_id(target)} is listed in"
            f" fullAccessPrincipals as holding IM full access, and this key would hand it out; {FIX}.",
            resource.urn,
        )


im_full_access_across_the_stack = StackValidationPolicy(
    name="im-full-access-across-the-stack",
    description=(
        "Checks across the stack that IM full access is not reached through another resource: attachments of a "
        "custom policy of the stack that allows every IM action, users added to a group that holds it (in the "
        "stack, or listed in fullAccessPrincipals), API keys of the deploy identity or of a principal listed as "
        "holding it, organization member policies of a full-access preset, and switches of a custom policy's "
        "default version to a version the stack does not create (unless listed in reviewedCustomPolicies)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=SCHEMA,
)
