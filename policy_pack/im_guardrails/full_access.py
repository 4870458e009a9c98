"""No IM full access outside approved stacks, resource by resource.

Routes: an im-access component with access `full`; an attachment of a preset that includes full
IM access (to a user, group, role or Identity Center role configuration); a policy document that
allows every IM action. The routes through other resources are in stack_routes.py, which uses
the helpers here; break-glass exceptions in force are noted here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from im_access.access import (
    DEFAULT_FULL_ACCESS_POLICY_IDS,
    DEFAULT_FULL_ACCESS_POLICY_NAMES,
    DocumentVerdict,
    inspect_policy_document,
    normalise_policy_id,
    normalise_policy_name,
)
from im_access.break_glass import ALLOWS, allows_policy, today
from im_access.contract import IM_COMPONENTS, Props
from im_guardrails.approvals import report_approval_problems, resource_account, stack_is_approved
from im_guardrails.exceptions import EXCEPTIONS
from im_guardrails.resources import (
    ATTACHMENTS,
    attachment_key,
    attachment_principal,
    component_key,
    component_principal,
    policy_documents,
)
from im_guardrails.settings import setting

FULL_ACCESS_SCHEMA = PolicyConfigSchema(
    properties={
        "fullAccessPolicyIds": {
            "type": "array",
            "items": {"type": ["integer", "string"]},
            "default": list(DEFAULT_FULL_ACCESS_POLICY_IDS),
            "description": "Preset policy ids that include IM full access.",
        },
        "fullAccessPolicyNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(DEFAULT_FULL_ACCESS_POLICY_NAMES),
            "description": "Preset policy names that include IM full access (exact, case-insensitive).",
        },
    }
)

FIX = (
    "approve the stack in policy_pack/approvals.yaml (fullAccessApproved), or use access 'readonly' or 'custom' instead"
)


def _message(principal: str, source: str) -> str:
    return f"Remove IM full access for {principal} ({source}) on stack {pulumi.get_stack()!r}: {FIX}."


def all_of_im_verdict(resource_type: str, props: Mapping[str, Any]) -> DocumentVerdict | None:
    """For a resource holding a policy document that allows every IM action, why; otherwise None."""
    for document in policy_documents(resource_type, props):
        verdict = inspect_policy_document(document)
        if verdict.grants_all_of_im:
            return verdict
    return None


def full_access_grant_of(
    resource_type: str, props: Mapping[str, Any], name: str, full_names: Set[str], full_ids: Set[int]
) -> tuple[str | None, str, str] | None:
    """For an IM component or attachment that grants IM full access: its principal as exceptions name
    it (`user:<name>`, `group:<id>`, or None for a role or role configuration), its principal as messages
    name it, and the
    route. None for anything else. Names and ids are compared normalised."""
    if resource_type in IM_COMPONENTS:
        if props.get(Props.ACCESS) != "full":
            return None
        component = resource_type.rsplit(":", 1)[-1]
        return component_key(props), component_principal(resource_type, props, name), f"{component} with access 'full'"
    if resource_type not in ATTACHMENTS:
        return None
    route = ATTACHMENTS[resource_type]
    principal = attachment_principal(resource_type, props, name)
    key = attachment_key(resource_type, props)
    # By name first: a name is known in preview even when an id is not.
    policy_name = props.get(route.name_key) if route.name_key else None
    if policy_name is not None and normalise_policy_name(policy_name) in full_names:
        return key, principal, f"policy {str(policy_name).strip()}"
    if route.id_key is None:
        return None
    try:
        policy_id = normalise_policy_id(props.get(route.id_key))
    except UnknownValueError:
        # An id made in this update (a custom policy of this stack): the stack policy below follows
        # the attachment to that policy in preview, and this check runs on the known id at up.
        return None
    if policy_id in full_ids:
        return key, principal, f"policy id {policy_id}"
    return None


def full_access_grant(args: ResourceValidationArgs) -> tuple[str | None, str, str] | None:
    """full_access_grant_of for a resource, with the full-access preset ids and names of the policy config."""
    names = {normalise_policy_name(n) for n in setting(args, FULL_ACCESS_SCHEMA, "fullAccessPolicyNames")}
    ids = {
        i for i in map(normalise_policy_id, setting(args, FULL_ACCESS_SCHEMA, "fullAccessPolicyIds")) if i is not None
    }
    return full_access_grant_of(args.resource_type, args.props, args.name, names, ids)


def _im_full_access_alone(args: ResourceValidationArgs) -> bool:
    """Whether a full-access grant is IM full access alone (the IM preset), all a break-glass exception allows."""
    if args.resource_type in IM_COMPONENTS:
        return (args.props.get(Props.REQUESTED_ACCESS) or args.props.get(Props.ACCESS)) == "full"
    route = ATTACHMENTS[args.resource_type]
    name = args.props.get(route.name_key) if route.name_key else None
    return allows_policy(name, None if name is not None or route.id_key is None else args.props.get(route.id_key))


def _validate_full_access(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    report_approval_problems(args, report_violation)
    if stack_is_approved(resource_account(args)):
        return
    grant = full_access_grant(args)
    if grant is not None:
        key, principal, source = grant
        stack = pulumi.get_stack()
        exception = EXCEPTIONS.in_force(stack, key, today()) if key is not None else None
        if exception is not None and _im_full_access_alone(args):
            return  # allowed; im-full-access-break-glass says so
        lapsed = EXCEPTIONS.lapsed(stack, key, today()) if key is not None else None
        note = f" It was allowed by {lapsed.describe()}, which has lapsed." if lapsed else ""
        if exception is not None:
            note = f" Not allowed by {exception.describe()}: an exception {ALLOWS}, not {source}."
        report_violation(_message(principal, source) + note, None)
    elif verdict := all_of_im_verdict(args.resource_type, args.props):
        policy = args.props.get("name") or args.name
        report_violation(
            f"Remove IM full access from custom policy {policy!r} on stack {pulumi.get_stack()!r} "
            f"({verdict.reason}): {FIX}; list only the IM actions needed.",
            None,
        )


def _note_allowed_full_access(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    grant = full_access_grant(args)
    if grant is None or grant[0] is None:
        return
    key, principal, source = grant
    exception = EXCEPTIONS.in_force(pulumi.get_stack(), key, today())
    if exception is not None and _im_full_access_alone(args):
        report_violation(f"IM full access for {principal} ({source}) is allowed by {exception.describe()}.", None)


im_full_access_break_glass = ResourceValidationPolicy(
    name="im-full-access-break-glass",
    description=(
        "Notes IM full access on a stack that is not approved, allowed for one principal by a valid, unexpired "
        "break-glass exception (policy_pack/break_glass.yaml): the preset QcloudAVCFullAccess, nothing broader."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_note_allowed_full_access,
    # Judges full access as the blocking policy does, by the same preset ids and names.
    config_schema=PolicyConfigSchema(
        properties={key: FULL_ACCESS_SCHEMA.properties[key] for key in ("fullAccessPolicyIds", "fullAccessPolicyNames")}
    ),
)


im_full_access_approved_stacks_only = ResourceValidationPolicy(
    name="im-full-access-approved-stacks-only",
    description=(
        "Checks that IM full access (an im-access component with access 'full'; an attachment of a full-access "
        "preset to a user, group, role or Identity Center role configuration, by id or name however spelled; or a "
        "policy document, CAM or Identity Center, that allows every IM action, in one pattern or in patterns that "
        "together cover IM's catalogue of actions, or cannot be read one way only) exists only on stacks approved "
        "in policy_pack/approvals.yaml, and that file is well formed (while it is not, nothing is approved)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_full_access,
    config_schema=FULL_ACCESS_SCHEMA,
)
