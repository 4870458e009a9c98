"""The im-access guardrail policies, one module per concern."""

from im_guardrails.console_password import console_password_generated_and_reset
from im_guardrails.custom_actions import custom_actions_in_catalogue
from im_guardrails.exceptions import break_glass_exceptions_valid
from im_guardrails.expiry import im_access_not_expired
from im_guardrails.full_access import im_full_access_approved_stacks_only, im_full_access_break_glass
from im_guardrails.mfa import im_console_login_protection
from im_guardrails.provider_endpoint import provider_endpoint_fixed
from im_guardrails.resource_kinds import im_resource_kinds_known
from im_guardrails.role_trust import im_role_trust_pinned
from im_guardrails.stack_routes import im_full_access_across_the_stack

ALL_POLICIES = [
    im_full_access_approved_stacks_only,
    im_full_access_across_the_stack,
    im_full_access_break_glass,
    im_role_trust_pinned,
    break_glass_exceptions_valid,
    custom_actions_in_catalogue,
    im_access_not_expired,
    console_password_generated_and_reset,
    im_console_login_protection,
    provider_endpoint_fixed,
    im_resource_kinds_known,
]

__all__ = [
    "ALL_POLICIES",
    "break_glass_exceptions_valid",
    "console_password_generated_and_reset",
    "custom_actions_in_catalogue",
    "im_access_not_expired",
    "im_console_login_protection",
    "im_full_access_across_the_stack",
    "im_full_access_approved_stacks_only",
    "im_full_access_break_glass",
    "im_resource_kinds_known",
    "im_role_trust_pinned",
    "provider_endpoint_fixed",
]
