"""The reviewed approvals (policy_pack/approvals.yaml), read once from this pack's own folder. While
the file has a problem nothing is approved, and im-full-access-approved-stacks-only says why.

An approval holds for one account x stack. The account a resource acts on is the one its provider
is pinned to (`allowedAccountIds`, which the provider itself enforces); an IM component, which has
no provider, declares its `ownerUin`, and its children are judged by their provider anyway."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

from im_access.account_pin import pinned_account
from im_access.approvals import APPROVALS_FILE, Approvals, StackApprovals, load_approvals
from im_access.contract import IM_COMPONENTS, Props
from im_access.provider_config import PROVIDER_RESOURCE

# In a pull request's preview this is the base branch's file, as the pack is the base's.
APPROVALS = load_approvals(Path(__file__).resolve().parent.parent)
STACK_RESOURCE = "pulumi:pulumi:Stack"
WHERE = f"policy_pack/{APPROVALS_FILE}"


def approvals() -> Approvals:
    return APPROVALS


def stack_is_approved(account: str | None) -> bool:
    """Whether the running stack is approved for IM full access in `account`."""
    return approvals().is_approved(pulumi.get_stack(), account)


def stack_approvals(account: str | None) -> StackApprovals:
    return approvals().of(pulumi.get_stack(), account)


def _pinned(props: Mapping[str, Any]) -> str | None:
    try:
        return pinned_account(props)
    except UnknownValueError:  # a pin known only at `up` pins nothing in preview
        return None


def resource_account(args: ResourceValidationArgs) -> str | None:
    """The account a resource acts on: its provider's pin, or an IM component's declared ownerUin."""
    if args.resource_type == PROVIDER_RESOURCE:
        return _pinned(args.props)
    if args.provider is not None and args.provider.resource_type == PROVIDER_RESOURCE:
        return _pinned(args.provider.props)
    if args.resource_type in IM_COMPONENTS:
        owner = args.props.get(Props.OWNER_UIN)
        return str(owner) if isinstance(owner, str) else None
    return None


def stack_account(resources: Sequence[PolicyResource]) -> str | None:
    """The one account every provider of the stack is pinned to; None when they disagree or none is."""
    accounts = {_pinned(r.props) for r in resources if r.resource_type == PROVIDER_RESOURCE}
    return accounts.pop() if len(accounts) == 1 else None


def report_approval_problems(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Each problem of the approvals file, once per run, on the stack's own resource (a policy of its
    own would cost the analyzer one more pass over every resource's properties)."""
    if args.resource_type != STACK_RESOURCE:
        return
    for problem in approvals().problems:
        report_violation(f"Fix {WHERE}, which approves nothing while it has a problem: {problem}.", None)
