"""Who really holds IM access, compared with what the stacks declare.

The account side is a list of `Holding`s (a principal holding one IM-relevant policy), read by
commands/cam_account.py; the code side is what each stack's configuration declares. An account's
`unmanaged` holdings (no stack declares them) are found once per account; `audit_stack` finds what
concerns one stack (missing, expired, full access off an approved stack, also held through a group);
`unused` finds access nobody has used for a number of days, from what CAM records of its users'
console logins and API key use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from im_access.access import PRESET_FOR_LEVEL
from im_access.break_glass import ALLOWS, Exceptions, allows_policy
from im_access.config import GrantConfig, OperatorConfig, StackConfig, custom_policy_name
from im_access.contract import user_principal
from im_access.reach import ReachGraph

FindingKind = Literal[
    "unmanaged",
    "missing",
    "expired",
    "full-access-off-approved",
    "reach",
    "unused",
    "stale-key",
    "unmanaged-key",
    "no-mfa",
]
FINDING_KINDS: tuple[FindingKind, ...] = get_args(FindingKind)
DEFAULT_UNUSED_DAYS = 90


@dataclass(frozen=True)
class Holding:
    """A principal (`user:<name>`, `group:<id>`, `role:<name>`) that holds an IM-relevant policy."""

    principal: str
    policy: str
    policy_id: int
    full_access: bool
    preset: bool
    uin: int | None = None  # a user's UIN, for the revoke command
    since: dt.date | None = None  # the day the policy was attached, when CAM says

    @property
    def key(self) -> tuple[str, str]:
        return self.principal.casefold(), self.policy.casefold()


@dataclass(frozen=True)
class Member:
    """A user of a group, as CAM lists it."""

    principal: str
    uin: int | None
    joined: dt.date | None = None


@dataclass(frozen=True)
class Held:
    """Who holds a holding: the principal itself, or each member of a group holding it (`via` the group).
    A group without members holds it as itself, so that it still shows."""

    principal: str
    holding: Holding
    via: str | None
    uin: int | None
    since: dt.date | None

    @property
    def is_user(self) -> bool:
        return self.principal.startswith("user:")


def expand(holdings: Iterable[Holding], memberships: Mapping[str, Sequence[Member]]) -> list[Held]:
    """Every holding, a group's expanded to its members; a member holds it since it both joined and
    the group held it, whichever came later."""
    held: list[Held] = []
    for holding in holdings:
        members = memberships.get(holding.principal, ()) if holding.principal.startswith("group:") else ()
        if not members:
            held.append(Held(holding.principal, holding, None, holding.uin, holding.since))
            continue
        for member in members:
            known = [day for day in (holding.since, member.joined) if day is not None]
            held.append(Held(member.principal, holding, holding.principal, member.uin, max(known, default=None)))
    return held


@dataclass(frozen=True)
class KeyUse:
    """One API key of a user and the day CAM last saw it used (None: never, as far as CAM says)."""

    secret_id: str
    status: str
    last_used: dt.date | None


def masked_secret_id(secret_id: str) -> str:
    """A SecretId as reports show it: enough to tell a user's keys apart, not the whole identifier."""
    return secret_id if len(secret_id) <= 8 else f"{secret_id[:4]}…{secret_id[-4:]}"


@dataclass(frozen=True)
class Usage:
    """What CAM records of a user's use: its last console login and each API key's last use."""

    last_login: dt.date | None = None
    keys: tuple[KeyUse, ...] = ()

    @property
    def last_used(self) -> dt.date | None:
        days = [self.last_login, *(key.last_used for key in self.keys)]
        return max((day for day in days if day is not None), default=None)

    def describe(self) -> str:
        login = f"last console login {self.last_login.isoformat()}" if self.last_login else "no console login"
        keys = [
            f"key {masked_secret_id(k.secret_id)} {k.last_used.isoformat() if k.last_used else 'never used'}"
            for k in self.keys
        ]
        return ", ".join([login, *keys]) if keys else f"{login}, no API key"


def idle_days(held: Held, usage: Usage | None, today: dt.date) -> int | None:
    """Days since the user last used its access, counted from when it got it if it used it since
    never; None where CAM records no use (a role, or a group without members)."""
    if not held.is_user:
        return None
    usage = usage or Usage()
    reference = max((day for day in (usage.last_used, held.since) if day is not None), default=None)
    return None if reference is None else (today - reference).days


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
    stack: str | None = None  # None for a finding about the account (unmanaged), not one stack

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "stack": self.stack,
            "principal": self.principal,
            "policy": self.policy,
            "policyId": self.policy_id,
        }


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


def unmanaged(holdings: Iterable[Holding], declared_by_stack: Mapping[str, Sequence[Declared]]) -> list[Finding]:
    """Every holding of the account that no stack of the account declares, once."""
    declared_anywhere = {entry.key for entries in declared_by_stack.values() for entry in entries}
    return [
        Finding(
            "unmanaged",
            holding.principal,
            holding.policy,
            holding.policy_id,
            f"no stack declares it; {_adopt(holding)}; or {_revoke(holding)}",
        )
        for holding in holdings
        if holding.key not in declared_anywhere
    ]


def _through_groups(
    holdings: Sequence[Holding], members: Mapping[str, Sequence[str]], principals: set[str]
) -> list[tuple[str, Holding]]:
    """(user, the group's holding) for each of `principals` in a group holding full access."""
    found = []
    for holding in holdings:
        if holding.full_access and holding.principal.startswith("group:"):
            found += [(user, holding) for user in members.get(holding.principal, ()) if user.casefold() in principals]
    return found


def audit_stack(
    stack: str,
    holdings: Iterable[Holding],
    declared_by_stack: Mapping[str, Sequence[Declared]],
    *,
    approved: bool,
    today: dt.date,
    exceptions: Exceptions | None = None,
    members: Mapping[str, Sequence[str]] | None = None,
) -> list[Finding]:
    """What concerns one stack: its missing and expired access, and full access its principals hold,
    directly or through a group (`members`: group principal to user principals), on a stack that is
    not approved for it, unless a break-glass exception in force allows it."""
    holdings = list(holdings)
    live = {holding.key: holding for holding in holdings}
    own = list(declared_by_stack.get(stack, ()))
    own_principals = {entry.principal.casefold() for entry in own}
    findings: list[Finding] = []
    for entry in own:
        attached = live.get(entry.key)
        if attached is None:
            fix = f"run `make up STACK={stack}` to attach it again, or remove the entry from Pulumi.{stack}.yaml"
            findings.append(Finding("missing", entry.principal, entry.policy, None, fix, stack))
        elif entry.expires is not None and entry.expires < today:
            fix = f"expired {entry.expires.isoformat()}: remove the entry from Pulumi.{stack}.yaml and run `make up`"
            findings.append(Finding("expired", entry.principal, entry.policy, attached.policy_id, fix, stack))
    if approved:
        return findings
    exceptions = exceptions or Exceptions((), ())
    held = [(h.principal, h, "") for h in holdings if h.full_access and h.principal.casefold() in own_principals]
    held += [
        (user, h, f"held through {h.principal}, of which it is a member: remove it from the group, or ")
        for user, h in _through_groups(holdings, members or {}, own_principals)
    ]
    for principal, holding, route in held:
        exception = exceptions.in_force(stack, principal, today)
        if exception is not None and holding.preset and allows_policy(holding.policy):
            continue
        lapsed = exceptions.lapsed(stack, principal, today)
        under = f"held under {lapsed.describe()}, which has lapsed; " if lapsed else ""
        if exception is not None:
            under = f"not allowed by {exception.describe()}: an exception {ALLOWS}, not {holding.policy}; "
        fix = f"{route}{under}stack {stack!r} is not approved for IM full access; {_revoke(holding)}"
        findings.append(Finding("full-access-off-approved", principal, holding.policy, holding.policy_id, fix, stack))
    return findings


def unused(
    held: Iterable[Held],
    usage: Mapping[str, Usage],
    declared_by_stack: Mapping[str, Sequence[Declared]],
    *,
    today: dt.date,
    days: int = DEFAULT_UNUSED_DAYS,
) -> list[Finding]:
    """Access a user has not used for `days` days or more (no console login, no API key used since
    it got the access, or since its last use): candidates for removal. The finding belongs to the
    stack that declares the holding, or to the account when none does; a user CAM knows nothing of
    (never used, with no attachment date) counts as unused."""
    declaring: dict[tuple[str, str], str] = {}
    for name, entries in declared_by_stack.items():
        for declaration in entries:
            declaring.setdefault(declaration.key, name)
    # One finding per user, policy and stack: a user holding it directly and through a group (or two)
    # is told every removal it takes.
    found: dict[tuple[str, str, str | None], tuple[Held, int | None, Usage, list[str]]] = {}
    for entry in held:
        if not entry.is_user:
            continue
        record = usage.get(entry.principal.casefold(), Usage())
        idle = idle_days(entry, record, today)
        if idle is not None and idle < days:
            continue
        holding, stack = entry.holding, declaring.get(entry.holding.key)
        if entry.via:
            remove = f"remove it from {entry.via}"
        elif stack:
            remove = f"remove the entry from Pulumi.{stack}.yaml and run `make up`"
        else:
            remove = _revoke(holding)
        key = (entry.principal.casefold(), holding.policy.casefold(), stack)
        first, known, _, removals = found.setdefault(key, (entry, idle, record, []))
        shortest = min((days for days in (known, idle) if days is not None), default=None)
        found[key] = (first, shortest, record, [*removals, remove])
    findings: list[Finding] = []
    for (_, _, stack), (entry, idle, record, removals) in found.items():
        period = f"not used for {idle} days" if idle is not None else "no use recorded"
        fix = f"{period} ({record.describe()}; {days} days or more is unused): a candidate for removal; "
        holding = entry.holding
        findings.append(
            Finding("unused", entry.principal, holding.policy, holding.policy_id, fix + "; and ".join(removals), stack)
        )
    return findings


def audit(
    stack: str,
    holdings: Iterable[Holding],
    declared_by_stack: Mapping[str, Sequence[Declared]],
    *,
    approved: bool,
    today: dt.date,
    exceptions: Exceptions | None = None,
    members: Mapping[str, Sequence[str]] | None = None,
) -> list[Finding]:
    """The findings of an audit of one stack: its account's unmanaged holdings, then its own."""
    holdings = list(holdings)
    own = audit_stack(
        stack, holdings, declared_by_stack, approved=approved, today=today, exceptions=exceptions, members=members
    )
    return unmanaged(holdings, declared_by_stack) + own


def reach_findings(
    graph: ReachGraph, listed: Iterable[str], declared_by_stack: Mapping[str, Sequence[Declared]]
) -> list[Finding]:
    """Principals that reach IM full access by more than a policy of their own or their group's that
    grants it: by CAM write (they can give themselves anything) or through a role they may become. The
    direct holdings are the other findings' (unmanaged, full-access-off-approved). Principals the reviewed
    approvals list as holding full access are known, not found; roles count CAM write only through who
    may become them, as in the policy pack."""
    known = {graph.node(principal) for principal in listed}
    declaring = {entry.principal.casefold(): stack for stack, entries in declared_by_stack.items() for entry in entries}
    findings = []
    for key in graph.principals():
        if key in known or key.startswith("uin:"):
            continue
        path = graph.reach(key, cam_write=not graph.is_role(key))
        if path is None or path.kind == "pending":
            continue
        if path.kind == "full" and not path.through_role:
            continue
        principal = graph.label(key)
        fix = (
            f"{path.describe()}; with it {principal} can give itself IM full access: remove that policy or that"
            " trust, or list the principal in policy_pack/approvals.yaml fullAccessPrincipals once reviewed"
        )
        stack = declaring.get(principal.casefold())
        findings.append(Finding("reach", principal, path.grant.label, None, fix, stack))
    return findings
