"""The Tencent Cloud provider talks to Tencent Cloud over HTTPS, to one pinned account: no stack file
and no code steers it.

A provider whose `domain`, `protocol` or other endpoint-like setting is set would send requests
signed with the deploy identity, and responses carrying passwords and keys, to another host or
in plain text; one without `allowedAccountIds` naming the stack's account (the one
policy_pack/approvals.yaml names for it), and any role it assumes in that account, could act on
whichever account its credentials reach, a member account the stack does not govern included.
Judged on the provider resource itself and on the provider of every resource, so an explicit
provider in code is caught as well as `tencentcloud:domain` in a stack file, and so is a
`TENCENTCLOUD_DOMAIN` or `TENCENTCLOUD_ASSUME_ROLE_ARN` in the engine's environment, which the
provider would read. The allow-list is im_access/provider_config.py, shared with the config check
and the audit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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

from im_access.account_pin import pin_problems
from im_access.provider_config import PROVIDER_INPUT_KEYS, PROVIDER_RESOURCE, env_problems, provider_problems
from im_guardrails.approvals import WHERE, approvals

UNKNOWN = "(unknown until the update)"
# The engine's environment, which the provider inherits, is fixed for the analyzer's life: judged once.
ENGINE_ENV_PROBLEMS = tuple(env_problems(os.environ))


def _problems(name: str, props: Mapping[str, Any]) -> list[str]:
    settings: dict[str, Any] = {}
    for key in props:
        try:
            settings[key] = props[key]
        except UnknownValueError:
            settings[key] = UNKNOWN  # a computed endpoint is judged as one that is set
    stack = pulumi.get_stack()
    where = f"provider {name!r}: "
    account = approvals().account_of(stack)
    unlisted = [] if account else [f"{where}stack {stack!r} has no account in {WHERE}; list it with its account"]
    return [
        *provider_problems(stack, settings, os.environ, where=where, allowed=PROVIDER_INPUT_KEYS),
        *pin_problems(settings, account, where=where, named_by=f"the account {WHERE} names for stack {stack!r}"),
        *unlisted,
        *ENGINE_ENV_PROBLEMS,
    ]


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == PROVIDER_RESOURCE:
        problems = _problems(args.name, args.props)
    elif args.provider is not None and args.provider.resource_type == PROVIDER_RESOURCE:
        problems = _problems(args.provider.name, args.provider.props)
    else:
        return
    for problem in problems:
        report_violation(f"Fix the Tencent Cloud provider's settings: {problem}.", None)


provider_endpoint_fixed = ResourceValidationPolicy(
    name="im-provider-endpoint-fixed",
    description=(
        "Checks that the Tencent Cloud provider sets no domain, protocol or other endpoint-like key, so requests "
        "and the passwords and keys in their responses go to Tencent Cloud over HTTPS (plain HTTP only to localcloud),"
        " and that it is pinned to the stack's account (allowedAccountIds, as policy_pack/approvals.yaml names it),"
        " assuming roles of that account only."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    # Where requests go is not a per-stack setting: the allow-list is reviewed code.
    config_schema=PolicyConfigSchema(properties={}),
)
