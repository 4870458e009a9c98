"""Break-glass exceptions (policy_pack/break_glass.yaml), read once, and an error of its own for each
malformed one. The note where one allows full access is in full_access.py."""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from im_access.break_glass import load_exceptions

# Read once, from this pack's own folder: in a pull request's preview that is the base branch's.
EXCEPTIONS = load_exceptions(Path(__file__).resolve().parent.parent)


STACK_RESOURCE = "pulumi:pulumi:Stack"


def _validate_exceptions(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Judged once per run, on the stack's own resource: a stack policy would cost a full pass over the stack.
    if args.resource_type != STACK_RESOURCE:
        return
    for malformed in EXCEPTIONS.errors_for(pulumi.get_stack()):
        report_violation(f"Fix or remove {malformed.describe()}.", None)


break_glass_exceptions_valid = ResourceValidationPolicy(
    name="im-break-glass-exceptions-valid",
    description=(
        "Checks that every break-glass exception names a known stack, a user or group, access 'full', an approver, "
        "a reason, and an expiry at most 7 days after it was added; a malformed one allows nothing."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_exceptions,
    # The 7-day bound is part of what an exception is, not a per-stack setting.
    config_schema=PolicyConfigSchema(properties={}),
)
