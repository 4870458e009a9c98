"""IM access with an `expires` date in the past must be gone."""

from __future__ import annotations

import datetime as dt

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from im_access.break_glass import today
from im_access.contract import IM_COMPONENTS, Props
from im_guardrails.resources import component_principal
from im_guardrails.settings import setting

SCHEMA = PolicyConfigSchema(
    properties={
        "graceDays": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "Days after `expires` during which the access is still tolerated.",
        },
    }
)


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in IM_COMPONENTS:
        return
    expires = args.props.get(Props.EXPIRES)
    if not expires:
        return
    principal = component_principal(args.resource_type, args.props, args.name)
    try:
        expiry = dt.date.fromisoformat(str(expires))
    except ValueError:
        report_violation(f"Fix the expires date {expires!r} of IM access for {principal}: write it YYYY-MM-DD.", None)
        return
    grace = int(setting(args, SCHEMA, "graceDays"))
    if today() > expiry + dt.timedelta(days=grace):
        report_violation(
            f"Remove the IM access of {principal} on stack {pulumi.get_stack()!r}: it expired on {expiry.isoformat()}; "
            "delete the entry (or agree a new expires date in review).",
            None,
        )


im_access_not_expired = ResourceValidationPolicy(
    name="im-access-not-expired",
    description="Checks that no IM operator or grant is kept after its expires date.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=SCHEMA,
)
