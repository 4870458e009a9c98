"""The reviewed approvals (policy_pack/approvals.yaml), read once from this pack's own folder. While
the file has a problem nothing is approved, and im-full-access-approved-stacks-only says why."""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi_policy import ReportViolation, ResourceValidationArgs

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


def report_approval_problems(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Each problem of the approvals file, once per run, on the stack's own resource (a policy of its
    own would cost the analyzer one more pass over every resource's properties)."""
    if args.resource_type != STACK_RESOURCE:
        return
    for problem in approvals().problems:
        report_violation(f"Fix {WHERE}, which approves nothing while it has a problem: {problem}.", None)
