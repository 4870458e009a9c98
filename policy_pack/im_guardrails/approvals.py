"""The reviewed approvals (policy_pack/approvals.yaml), read once from this pack's own folder, and an
error of its own when the file has problems: then nothing is approved."""

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

from im_access.approvals import APPROVALS_FILE, Approvals, StackApprovals, load_approvals

# In a pull request's preview this is the base branch's file, as the pack is the base's.
APPROVALS = load_approvals(Path(__file__).resolve().parent.parent)
STACK_RESOURCE = "pulumi:pulumi:Stack"
WHERE = f"policy_pack/{APPROVALS_FILE}"


def approvals() -> Approvals:
    return APPROVALS


def stack_is_approved() -> bool:
    """Whether the running stack is approved for IM full access."""
    return approvals().is_approved(pulumi.get_stack())


def stack_approvals() -> StackApprovals:
    return approvals().of(pulumi.get_stack())


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Judged once per run, on the stack's own resource.
    if args.resource_type != STACK_RESOURCE:
        return
    for problem in approvals().problems:
        report_violation(f"Fix {WHERE}, which approves nothing while it has a problem: {problem}.", None)


approvals_valid = ResourceValidationPolicy(
    name="im-approvals-valid",
    description=(
        f"Checks that {WHERE} (which stacks may hold IM full access, and the principals and policies known "
        "outside them) is well formed; while it is not, nothing is approved."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=PolicyConfigSchema(properties={}),
)
