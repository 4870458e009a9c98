"""Which Tencent Cloud account a stack acts on, pinned in the provider's own settings.

Every stack file names its account twice, on purpose: `im-access:ownerUin` for the program, and
`tencentcloud:allowedAccountIds: ["<ownerUin>"]` for the provider, which asks STS who the
credentials belong to (after assuming any role) and refuses to configure for another account, so
a wrong key fails before anything changes, with or without this project's commands around it.

A stack in a member account acts through a role of that account: `tencentcloud:assumeRole` with a
`roleArn` of the pinned account. The config check (against `ownerUin`), the policy pack (on each
provider resource) and the audit judge both settings here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

ALLOWED_ACCOUNTS = "allowedAccountIds"
ASSUME_ROLE = "assumeRole"
# What an assumeRole may say: the role and the session. A `policy` or MFA fields are left out: they
# would make the role's reach differ from what its reviewed policies say.
ASSUME_ROLE_KEYS = ("roleArn", "sessionName", "sessionDuration")
# Matched whole (fullmatch), ASCII only: a trailing newline or a look-alike letter is not a role.
ROLE_ARN = re.compile(r"qcs::cam::uin/([0-9]{5,20}):roleName/[A-Za-z0-9+=,.@_-]{1,128}", re.ASCII)
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,128}", re.ASCII)
MAX_SESSION_SECONDS = 43200


def decoded(value: Any) -> Any:
    """Structured config reaches a program (and a provider's inputs) as JSON text."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def pinned_account(settings: Mapping[str, Any]) -> str | None:
    """The one account `allowedAccountIds` allows, or None when it does not name exactly one."""
    accounts = decoded(settings.get(ALLOWED_ACCOUNTS))
    if isinstance(accounts, list) and len(accounts) == 1 and isinstance(accounts[0], str | int):
        account = str(accounts[0])
        return account if account.isascii() and account.isdigit() else None
    return None


def role_account(role_arn: Any) -> str | None:
    """The account a role's ARN belongs to, or None for anything that is not a role's ARN."""
    match = ROLE_ARN.fullmatch(role_arn) if isinstance(role_arn, str) else None
    return match.group(1) if match else None


def _assume_role_problems(where: str, value: Any, account: str | None) -> list[str]:
    role = decoded(value)
    if not isinstance(role, Mapping):
        return [f"{where}: a mapping of {', '.join(ASSUME_ROLE_KEYS)}"]
    problems = [
        f"{where}.{str(key)[:40]}: unknown key; allowed: {', '.join(ASSUME_ROLE_KEYS)}"
        for key in role
        if key not in ASSUME_ROLE_KEYS
    ]
    arn_account = role_account(role.get("roleArn"))
    if arn_account is None:
        problems.append(f"{where}.roleArn: required, qcs::cam::uin/<account>:roleName/<role name>")
    elif account is not None and arn_account != account:
        problems.append(
            f"{where}.roleArn: a role of account {arn_account}, but the stack is pinned to account {account};"
            " assume a role of the stack's own account"
        )
    if not (isinstance(role.get("sessionName"), str) and SESSION_NAME.fullmatch(role["sessionName"])):
        problems.append(f"{where}.sessionName: required, 2-128 letters, digits or +=,.@_-")
    duration = role.get("sessionDuration")
    if duration is not None and not (
        isinstance(duration, int) and not isinstance(duration, bool) and 0 < duration <= MAX_SESSION_SECONDS
    ):
        problems.append(f"{where}.sessionDuration: whole seconds from 1 to {MAX_SESSION_SECONDS}")
    return problems


def pin_problems(
    settings: Mapping[str, Any], account: str | None, *, where: str, named_by: str = "im-access:ownerUin"
) -> list[str]:
    """What is wrong with the account pin of provider `settings` (keys without `tencentcloud:`).
    With `account` (a stack file's ownerUin, or the account the approvals name for the stack), the pin
    must name exactly that account, and `named_by` says where it was named; without, it must name one
    account, the assumed role's."""
    pinned = pinned_account(settings)
    wanted = f'["{account}"]' if account else '["<the account uin>"]'
    problems: list[str] = []
    if pinned is None:
        problems.append(
            f"{where}{ALLOWED_ACCOUNTS}: required, exactly one account: {wanted}, so that credentials of any"
            " other account stop before anything changes"
        )
    elif account is not None and pinned != account:
        problems.append(
            f"{where}{ALLOWED_ACCOUNTS}: names account {pinned}, but {named_by} is {account}; write {wanted}"
        )
    if settings.get(ASSUME_ROLE) is not None:
        problems += _assume_role_problems(f"{where}{ASSUME_ROLE}", settings[ASSUME_ROLE], pinned or account)
    return problems
