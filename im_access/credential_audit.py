"""What the audit finds in the credentials of users holding IM access and of managed operators.

Keys are named masked (`AKID…abcd`), as every report shows them.

- `stale-key`: an API key older than its operator's rotateDays + overlapDays, or than 90 days where
  no rotation is declared (CIS, and Tencent Cloud Config's `cam-user-ak-rotated`).
- `unmanaged-key`: a key on a managed operator that its stack did not create: any key where the
  stack declares none, a key other than the user's own where it declares `apiKey: true`, and a key
  older than the oldest generation alive where it rotates (or more keys than generations), the
  user's own key included once its `ownKeyLastDay` has passed.
- `no-mfa`: a console user holding IM access without login protection (unless its operator opted
  out, with a reviewed reason), or a user holding IM full access without operation protection.

The account side (users, keys, flags) is read by commands/cam_account.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from im_access.audit import Finding, masked_secret_id
from im_access.config import StackConfig
from im_access.contract import user_principal
from im_access.key_rotation import MAX_AGE_WITHOUT_ROTATION, Rotation, generations

# A user's own key (AddUser with UseApi) is created with the user, in the same second or the next;
# a cam.AccessKey comes at least 10 s later (the provider waits that long after AddUser).
OWN_KEY_MARGIN = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class AccessKey:
    key_id: str
    status: str
    created: dt.datetime


@dataclass(frozen=True)
class UserCredentials:
    """A CAM user's console access, API keys and MFA flags, as the account holds them."""

    name: str
    uin: int
    console: bool
    created: dt.datetime | None
    keys: tuple[AccessKey, ...]
    login_mfa: bool
    action_mfa: bool


@dataclass(frozen=True)
class ManagedOperator:
    """An operator as its stack declares its credentials."""

    stack: str
    name: str
    api_key: bool
    rotation: Rotation | None
    login_opt_out: bool
    own_key_last_day: dt.date | None = None  # moving from `apiKey: true`: the user's own key is kept to this day


def managed_operators(stack: str, config: StackConfig) -> list[ManagedOperator]:
    return [
        ManagedOperator(
            stack, entry.name, entry.api_key is not False, entry.rotation, not entry.mfa.login, entry.own_key_last_day
        )
        for entry in config.operators
    ]


def _delete_key(user: UserCredentials, key: AccessKey) -> str:
    """The command, without the whole SecretId: reports (and the daily issue) show it masked."""
    return (
        f"`tccli cam DeleteAccessKey --TargetUin {user.uin} --AccessKeyId <{masked_secret_id(key.key_id)}>`"
        f" (its full id from `tccli cam ListAccessKeys --TargetUin {user.uin}`)"
    )


def _own_key(user: UserCredentials, key: AccessKey) -> bool:
    """The user's own key, made with the user (AddUser with UseApi)."""
    return user.created is not None and abs(key.created - user.created) <= OWN_KEY_MARGIN


def _kept_until(
    user: UserCredentials, operator: ManagedOperator | None, key: AccessKey, today: dt.date
) -> dt.date | None:
    """The ownKeyLastDay to which a rotating stack keeps the user's own key (moving from `apiKey: true`),
    if `key` is that key and the day has not passed."""
    last_day = operator.own_key_last_day if operator is not None and operator.rotation is not None else None
    return last_day if last_day is not None and today <= last_day and _own_key(user, key) else None


def _foreign_keys(user: UserCredentials, operator: ManagedOperator, today: dt.date) -> list[tuple[AccessKey, str]]:
    """The keys of a managed operator that its stack did not create, each with why."""
    keys = sorted(user.keys, key=lambda k: k.created)
    if not operator.api_key:
        return [(key, "the stack declares no API key for it") for key in keys]
    if operator.rotation is None:
        return [(k, "the stack declares only the user's own key (apiKey: true)") for k in keys if not _own_key(user, k)]
    alive = generations(operator.name, operator.rotation, today)
    found: list[tuple[AccessKey, str]] = []
    rest: list[AccessKey] = []
    for key in keys:
        if _kept_until(user, operator, key, today):
            continue
        if key.created.date() < alive[0].starts:
            found.append((key, f"created before its oldest key generation ({alive[0].starts})"))
        elif _own_key(user, key):
            found.append((key, "the user's own key, from before its keys rotated"))
        else:
            rest.append(key)
    # Each generation alive is the first key made on or after the day it starts; any other is extra.
    for generation in alive:
        ours = next((key for key in rest if key.created.date() >= generation.starts), None)
        if ours is not None:
            rest.remove(ours)
    found += [(key, f"more keys than the {len(alive)} its rotation has today") for key in rest]
    return found


def credential_findings(
    users: Mapping[str, UserCredentials],
    operators: Iterable[ManagedOperator],
    im_users: Mapping[str, bool],
    today: dt.date,
) -> list[Finding]:
    """Findings for managed operators (reported on their stack) and for other users holding IM access
    (`im_users`: casefolded name to whether the access is full; reported on the account)."""
    managed = {operator.name.casefold(): operator for operator in operators}
    findings: list[Finding] = []
    for key in sorted(set(managed) | set(im_users)):
        user = users.get(key)
        if user is None:
            continue  # a managed operator not created yet: `missing` says so
        operator = managed.get(key)
        stack = operator.stack if operator else None
        principal = user_principal(user.name)
        rotation = operator.rotation if operator else None
        limit = rotation.max_age_days if rotation else MAX_AGE_WITHOUT_ROTATION
        for access_key in user.keys:
            shown = masked_secret_id(access_key.key_id)
            age = (today - access_key.created.date()).days
            if age > limit:
                rule = f"rotateDays + overlapDays = {limit}" if rotation else f"{limit} days without rotation"
                if last_day := _kept_until(user, operator, access_key, today):
                    remedy = f"the first `make up` after its ownKeyLastDay ({last_day}) deletes it"
                else:
                    remedy = "rotate it: declare apiKey: {rotateDays: 90} and run `make up`"
                delete = _delete_key(user, access_key)
                fix = f"key {shown} is {age} days old ({rule}); {remedy}, or delete it with {delete}"
                findings.append(Finding("stale-key", principal, shown, None, fix, stack))
        if operator is not None:
            for access_key, why in _foreign_keys(user, operator, today):
                fix = (
                    f"key {masked_secret_id(access_key.key_id)} was not created by stack {stack!r} ({why});"
                    f" once its holder no longer uses it, delete it with {_delete_key(user, access_key)}"
                )
                findings.append(
                    Finding("unmanaged-key", principal, masked_secret_id(access_key.key_id), None, fix, stack)
                )
        holds_im = key in im_users or operator is not None
        if holds_im and user.console and not user.login_mfa and not (operator and operator.login_opt_out):
            fix = (
                "console user holding IM access without login protection: set it on the user in the CAM console"
                " (Security > MFA), or for an operator let `make up` set it (mfa on by default)"
            )
            findings.append(Finding("no-mfa", principal, "login protection", None, fix, stack))
        if im_users.get(key) and not user.action_mfa:
            fix = (
                "holds IM full access without operation protection: turn it on"
                " (CAM console, or `cam.MfaFlag` actionFlag)"
            )
            findings.append(Finding("no-mfa", principal, "operation protection", None, fix, stack))
    return findings
