"""The im-access guardrail policies, one module per concern."""

from im_guardrails.console_password import console_password_generated_and_reset
from im_guardrails.exceptions import break_glass_exceptions_valid
from im_guardrails.expiry import im_access_not_expired
from im_guardrails.full_access import (
    im_full_access_approved_stacks_only,
    im_full_access_break_glass,
    im_full_access_via_custom_policy,
)
from im_guardrails.indirect_routes import im_full_access_unverifiable, im_full_access_via_other_principals

ALL_POLICIES = [
    im_full_access_approved_stacks_only,
    im_full_access_via_custom_policy,
    im_full_access_via_other_principals,
    im_full_access_unverifiable,
    im_full_access_break_glass,
    break_glass_exceptions_valid,
    im_access_not_expired,
    console_password_generated_and_reset,
]

__all__ = [
    "ALL_POLICIES",
    "break_glass_exceptions_valid",
    "console_password_generated_and_reset",
    "im_access_not_expired",
    "im_full_access_approved_stacks_only",
    "im_full_access_break_glass",
    "im_full_access_unverifiable",
    "im_full_access_via_custom_policy",
    "im_full_access_via_other_principals",
]
