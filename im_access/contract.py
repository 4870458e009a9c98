"""The contract between the components and the policy pack, defined once.

The components register their type tokens and these input properties; the pack reads exactly
these names. Both sides (and the tests) import them from here, so renaming one side cannot
silently switch a guardrail off. Principals are named one way everywhere: `user:<name>`,
`group:<id>`, `role:<name>` (the access output, break-glass exceptions, the audit).
"""

from __future__ import annotations

import re

IM_OPERATOR = "im-access:index:ImOperator"
IM_ACCESS_GRANT = "im-access:index:ImAccessGrant"
IM_COMPONENTS = (IM_OPERATOR, IM_ACCESS_GRANT)
# A CAM uin (an account's or a sub-user's) as configuration writes it: digits.
UIN_PATTERN = r"^[0-9]{5,20}$"
UIN = re.compile(UIN_PATTERN)


class Props:
    """Input properties of the IM components, by their engine (camelCase) names."""

    USER_NAME = "userName"
    GROUP_ID = "groupId"
    ACCESS = "access"  # the effective level: a `custom` covering all of IM is `full`
    REQUESTED_ACCESS = "requestedAccess"
    EXPIRES = "expires"
    SDK_APP_IDS = "sdkAppIds"
    ACTIONS = "actions"
    CONSOLE = "console"
    API_KEY = "apiKey"
    LOGIN_MFA = "loginMfa"  # false: the operator opted out of login protection (with the reason)
    MFA_OPT_OUT_REASON = "mfaOptOutReason"
    OWNER_UIN = "ownerUin"  # the account the component acts on, for approvals (one account x stack)


# CAM's MFA flags (`cam.MfaFlag`): the factor the components turn on, a virtual MFA device.
MFA_FACTOR = "stoken"
MFA_FACTORS = ("phone", "stoken", "wechat")


def user_principal(name: str) -> str:
    return f"user:{name}"


def group_principal(group_id: int | str) -> str:
    """`group:<id>`, the id as the integer it is however spelled; a value that is no id is kept, cut short."""
    from im_access.access import normalise_policy_id  # access builds on this module's names

    number = normalise_policy_id(group_id)
    return f"group:{number}" if number is not None else f"group:{str(group_id).strip()[:40]}"


def role_principal(name: str) -> str:
    return f"role:{name}"


def principal_slug(principal: str) -> str:
    """A principal as resource and policy names carry it: `user-alice`, `group-90001`."""
    return principal.replace(":", "-")
