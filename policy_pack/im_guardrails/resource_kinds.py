"""A stack of this project declares the kinds of resource its guardrails judge, and nothing else.

Every other kind acts with the deploy identity where no guardrail looks: a `command:local:Command`
running `tccli cam AttachUserPolicy`, a dynamic provider (`pulumi-python:dynamic:Resource`) calling
CAM from Python, a Tencent Cloud function or instance given a role, another package's provider. The
pack cannot judge what they do, so a pull request that adds one is refused, whatever it grants.
Components group resources and do nothing themselves: the project's own are allowed, each child
judged on its own.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from im_access.provider_config import PROVIDER_RESOURCE
from im_guardrails.approvals import STACK_RESOURCE

# Tencent Cloud's CAM, organization and identity center resources, which the guardrails judge.
ALLOWED_PREFIXES = ("tencentcloud:Cam/", "tencentcloud:Organization/", "tencentcloud:Identity/", "im-access:index:")
ALLOWED_TYPES = frozenset({STACK_RESOURCE, PROVIDER_RESOURCE})


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = args.resource_type
    if kind in ALLOWED_TYPES or kind.startswith(ALLOWED_PREFIXES):
        return
    report_violation(
        f"Remove {args.name!r}: a resource of kind {kind!r} would act with the deploy identity where no guardrail"
        " looks; this project declares CAM, organization and identity center resources of Tencent Cloud"
        " (tencentcloud:Cam/..., tencentcloud:Organization/..., tencentcloud:Identity/...), its provider and"
        " its components (im-access:index:...) only.",
        None,
    )


im_resource_kinds_known = ResourceValidationPolicy(
    name="im-resource-kinds-known",
    description=(
        "Checks that the stack declares only CAM, organization and identity center resources of Tencent Cloud,"
        " their provider and this project's components: a command, a dynamic provider or another service's"
        " resource would act with the deploy identity where no guardrail looks."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    # What the guardrails can judge is reviewed code, not a per-stack setting.
    config_schema=PolicyConfigSchema(properties={}),
)
