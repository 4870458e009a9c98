"""A stack of this project declares the kinds of resource its guardrails judge, and nothing else.

Every other kind acts with the deploy identity where no guardrail looks: a `command:local:Command`
running `tccli cam AttachUserPolicy`, a dynamic provider (`pulumi-python:dynamic:Resource`) calling
CAM from Python, a Tencent Cloud function or instance given a role, another package's provider, and
within CAM itself user SSO or a SAML provider (whoever runs the identity provider signs in as any
sub-user), an identity center assignment or SCIM token, a service control policy. The pack cannot
judge what they do, so a pull request that adds one is refused, whatever it grants. The list is the
types the other guardrails read (im_guardrails.resources, role_trust, stack_routes, mfa,
version_switches): a type is added here with the guardrail that judges it. Components group
resources and do nothing themselves: the project's own are allowed, each child judged on its own.
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
from im_guardrails.mfa import MFA_FLAG
from im_guardrails.resources import ATTACHMENTS, CAM_USER, CUSTOM_POLICIES
from im_guardrails.role_trust import ROLE_SSO, ROLES
from im_guardrails.stack_routes import (
    ACCESS_KEY,
    GROUP,
    GROUP_MEMBERSHIP,
    ORG_IDENTITY,
    ORG_MEMBER_IDENTITIES,
    ORG_MEMBER_POLICY,
)
from im_guardrails.version_switches import SET_POLICY_VERSION

JUDGED_TYPES = frozenset(
    {
        STACK_RESOURCE,
        PROVIDER_RESOURCE,
        *ATTACHMENTS,
        *CUSTOM_POLICIES,
        *ROLES,
        ROLE_SSO,
        CAM_USER,
        GROUP,
        GROUP_MEMBERSHIP,
        ACCESS_KEY,
        MFA_FLAG,
        SET_POLICY_VERSION,
        ORG_IDENTITY,
        ORG_MEMBER_POLICY,
        ORG_MEMBER_IDENTITIES,
    }
)
COMPONENTS = "im-access:index:"  # a custom resource of this package would need its provider, refused here


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = args.resource_type
    if kind in JUDGED_TYPES or kind.startswith(COMPONENTS):
        return
    report_violation(
        f"Remove {args.name!r}: a resource of kind {kind!r} would act with the deploy identity where no guardrail"
        " looks; this project declares the CAM, organization and identity center resources its guardrails"
        " judge (policy_pack/im_guardrails/resource_kinds.py), their provider and its components only.",
        None,
    )


im_resource_kinds_known = ResourceValidationPolicy(
    name="im-resource-kinds-known",
    description=(
        "Checks that the stack declares only the Tencent Cloud resources the guardrails judge (CAM users, groups,"
        " roles, policies, attachments, keys and MFA flags; organization and identity center policy attachments),"
        " their provider and this project's components: a command, a dynamic provider, user SSO or another"
        " service's resource would act with the deploy identity where no guardrail looks."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    # What the guardrails can judge is reviewed code, not a per-stack setting.
    config_schema=PolicyConfigSchema(properties={}),
)
