"""Who really holds IM access, compared with what the stacks declare.

The account side is a list of `Holding`s (a principal holding one IM-relevant policy), read by
commands/cam_account.py; the code side is what each stack's configuration declares. `audit`
compares them for one stack and returns its findings, each with what to do about it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from im_access.access import PRESET_FOR_LEVEL
from im_access.break_glass import ALLOWS, Exceptions, allows_policy
from im_access.config import GrantConfig, OperatorConfig, StackConfig, custom_policy_name
from im_access.contract import user_principal

FindingKind = Literal["unmanaged", "missing", "expired", "full-access-off-approved"]
FINDING_KINDS: tuple[FindingKind, ...] = ("unmanaged", "missing", "expired", "full-access-off-approved")


@dataclass(frozen=True)
class Holding:
    """A principal (`user:<name>`, `group:<id>`, `role:<name>`) that holds an IM-relevant policy."""

    principal: str
    policy: str
    policy_id: int
    full_access: bool
    preset: bool
    uin: int | None = None  # a user's UIN, for the revoke command

    @property
    def key(self) -> tuple[str, str]:
        return self.principal.casefold(), self.policy.casefold()


@dataclass(frozen=True)
class Declared:
    """One principal given one policy by one stack's configuration."""

    stack: str
    principal: str
    policy: str
    expires: dt.date | None

    @property
    def key(self) -> tuple[str, str]:
        return self.principal.casefold(), self.policy.casefold()


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    principal: str
    policy: str
    policy_id: int | None
    fix: str

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "principal": self.principal, "policy": self.policy, "policyId": self.policy_id}


def declared_access(stack: str, config: StackConfig) -> list[Declared]:
    """What one stack's configuration gives, principal by principal."""
    entries: list[tuple[str, OperatorConfig | GrantConfig]] = [
        *((user_principal(entry.name), entry) for entry in config.operators),
        *((entry.principal, entry) for entry in config.grants),
    ]
    return [
        Declared(
            stack, principal, PRESET_FOR_LEVEL.get(entry.access) or custom_policy_name(stack, entry), entry.expires
        )
        for principal, entry in entries
    ]


def _revoke(holding: Holding) -> str:
    kind, _, name = holding.principal.partition(":")
    if kind == "group":
        command = f"tccli cam DetachGroupPolicy --DetachGroupId {name} --PolicyId {holding.policy_id}"
    elif kind == "role":
        command = f"tccli cam DetachRolePolicy --DetachRoleName {name} --PolicyId {holding.policy_id}"
    else:
        uin = holding.uin if holding.uin is not None else f"<uin of {name}>"
        command = f"tccli cam DetachUserPolicy --DetachUin {uin} --PolicyId {holding.policy_id}"
    return f"revoke: CAM console > {kind} {name} > Permissions > disassociate {holding.policy}, or `{command}`"


def _adopt(holding: Holding) -> str:
    level = {policy: level for level, policy in PRESET_FOR_LEVEL.items()}.get(holding.policy)
    kind, _, name = holding.principal.partition(":")
    if kind not in ("user", "group") or level is None:
        return "it matches no im-access level, so it cannot be adopted"
    return f"adopt: add to im-access:grants `- {{{kind}: {name}, access: {level}}}`"


def audit(
    stack: str,
    holdings: Iterable[Holding],
    declared_by_stack: Mapping[str, Sequence[Declared]],
    *,
    approved: bool,
    today: dt.date,
    exceptions: Exceptions | None = None,
) -> list[Finding]:
    """The findings for one stack: its missing, expired and off-approval full access (unless a
    break-glass exception in force allows it: the IM full-access preset only), and every holding that
    no stack declares."""
    holdings = list(holdings)
    live = {holding.key: holding for holding in holdings}
    declared_anywhere = {entry.key for entries in declared_by_stack.values() for entry in entries}
    own = list(declared_by_stack.get(stack, ()))
    own_principals = {entry.principal.casefold() for entry in own}
    findings: list[Finding] = []
    for holding in holdings:
        if holding.key not in declared_anywhere:
            fix = f"no stack declares it; {_adopt(holding)}; or {_revoke(holding)}"
            findings.append(Finding("unmanaged", holding.principal, holding.policy, holding.policy_id, fix))
    for entry in own:
        attached = live.get(entry.key)
        if attached is None:
            fix = f"run `make up STACK={stack}` to attach it again, or remove the entry from Pulumi.{stack}.yaml"
            findings.append(Finding("missing", entry.principal, entry.policy, None, fix))
        elif entry.expires is not None and entry.expires < today:
            fix = f"expired {entry.expires.isoformat()}: remove the entry from Pulumi.{stack}.yaml and run `make up`"
            findings.append(Finding("expired", entry.principal, entry.policy, attached.policy_id, fix))
    exceptions = exceptions or Exceptions((), ())
    if not approved:
        for holding in holdings:
            if not holding.full_access or holding.principal.casefold() not in own_principals:
                continue
            exception = exceptions.in_force(stack, holding.principal, today)
            if exception is not None and holding.preset and allows_policy(holding.policy):
                continue
            lapsed = exceptions.lapsed(stack, holding.principal, today)
            held = f"held under {lapsed.describe()}, which has lapsed; " if lapsed else ""
            if exception is not None:
                held = f"not allowed by {exception.describe()}: an exception {ALLOWS}, not {holding.policy}; "
            fix = f"{held}stack {stack!r} is not approved for IM full access; {_revoke(holding)}"
            findings.append(
                Finding("full-access-off-approved", holding.principal, holding.policy, holding.policy_id, fix)
            )
    return findings
