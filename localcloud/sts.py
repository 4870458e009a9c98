"""Security Token Service (`sts`, version 2018-08-13): who signed a request.

GetCallerIdentity answers per key, as STS does: the account the key belongs to (`AccountId`) and
who holds it. Every valid key may ask, whatever its policy or account; temporary credentials
answer for their role's account. More STS actions (AssumeRole, ...) register here on `sts` the same
way.
"""

from __future__ import annotations

from typing import Any

from localcloud.errors import ApiError
from localcloud.service import Context, Service

sts = Service("sts", "2018-08-13")

# `Type` for a long-term key: the documented example for a sub-user's key. What STS answers for a
# root account's own key is not documented; localcloud answers the same.
LONG_TERM_KEY_TYPE = "CAMUser"
ROLE_SESSION_TYPE = "CAMRole"


def caller_arn(account_uin: int, uin: int) -> str:
    """The caller's ARN in the form of STS's documented example, `qcs::cam:<account>:uin/<uin>`."""
    return f"qcs::cam:{account_uin}:uin/{uin}"


@sts.any_caller_action("GetCallerIdentity")
def get_caller_identity(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if ctx.caller is None:
        raise ApiError("AuthFailure.SignatureFailure", "The request is not signed.")
    account, uin = ctx.caller.account_uin, ctx.caller.uin
    # A role's session answers as an assumed role (STS's form names the role id and the session;
    # localcloud names the role).
    role = ctx.caller.role
    return {
        "Arn": f"qcs::sts:{account}:assumed-role/{role}" if role else caller_arn(account, uin),
        "AccountId": str(account),
        "UserId": str(uin),
        "PrincipalId": str(uin),
        "Type": ROLE_SESSION_TYPE if role else LONG_TERM_KEY_TYPE,
    }
