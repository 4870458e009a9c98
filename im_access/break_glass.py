"""Break-glass exceptions: IM full access (the preset QcloudAVCFullAccess, nothing broader) for one
principal on one stack that is not approved for it, reviewed, with an approver and a reason, for at most MAX_DAYS days.

They live in one reviewed file, `policy_pack/break_glass.yaml`, beside the approvals. The
guardrails, the audit and the preview summary all read them through this module. A malformed
exception allows nothing: it is reported as an error of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from im_access import safe_yaml
from im_access.access import FULL_PRESET, FULL_PRESET_ID, normalise_policy_id, normalise_policy_name
from im_access.approvals import Approvals, load_approvals
from im_access.provider_config import TODAY_VARIABLE, localcloud_route

MAX_DAYS = 7
FIELDS = ("stack", "principal", "access", "approver", "reason", "added", "expires")
PRINCIPAL = re.compile(r"^(user:[A-Za-z0-9+=,.@_-]{1,64}|group:[0-9]{1,20})$")
# What an exception allows, as messages say it.
ALLOWS = f"allows IM full access alone ({FULL_PRESET})"


def allows_policy(name: object = None, policy_id: object = None) -> bool:
    """Whether an exception can allow holding this policy: the IM full-access preset, by name (or by id
    where no name is known). Never a preset that merely includes IM (AdministratorAccess,
    QCloudResourceFullAccess) nor a custom policy, whatever it allows."""
    if name is not None:
        return normalise_policy_name(name) == normalise_policy_name(FULL_PRESET)
    return normalise_policy_id(policy_id) == FULL_PRESET_ID


def utc_today() -> dt.date:
    """Today in UTC, as the dates in the approvals, exceptions and config are: the host's TZ moves nothing."""
    return dt.datetime.now(dt.UTC).date()


def today(env: Mapping[str, str] | None = None) -> dt.date:
    """The date the guardrails judge by: IM_ACCESS_TODAY on localcloud's route (rehearsals and tests),
    the real date (utc_today) anywhere else, where the config check, the stack command and the pack
    refuse it."""
    env = os.environ if env is None else env
    value = env.get(TODAY_VARIABLE)
    return dt.date.fromisoformat(value) if value and localcloud_route(env) else utc_today()


@dataclass(frozen=True)
class BreakGlass:
    index: int
    stack: str
    principal: str
    approver: str
    reason: str
    added: dt.date
    expires: dt.date

    def covers(self, stack: str, principal: str) -> bool:
        return self.stack == stack and self.principal.casefold() == principal.casefold()

    def in_force(self, on: dt.date) -> bool:
        return self.added <= on <= self.expires

    def describe(self) -> str:
        return (
            f"break-glass exception #{self.index} for {self.principal} on stack {self.stack!r}"
            f" (approved by {self.approver}: {self.reason}), expires {self.expires.isoformat()}"
        )


@dataclass(frozen=True)
class Malformed:
    index: int
    stack: str | None
    problems: tuple[str, ...]

    def describe(self) -> str:
        return f"break-glass exception #{self.index} is malformed and allows nothing: {'; '.join(self.problems)}"


ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TEXT_FIELDS = ("stack", "principal", "approver", "reason")


def _date(entry: Mapping[str, Any], key: str, problems: list[str]) -> dt.date | None:
    """A date written YYYY-MM-DD; a time of day (YAML reads `2026-11-25 10:00` as a datetime) is refused,
    as exceptions run from day to day."""
    value = entry.get(key)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    if value not in (None, ""):
        problems.append(f"{key} must be a date YYYY-MM-DD, without a time (got {safe_yaml.shown(str(value))})")
    return None


def _parse(index: int, entry: Any, known_stacks: Iterable[str], approvals: Approvals) -> BreakGlass | Malformed:
    if not isinstance(entry, Mapping):
        return Malformed(index, None, ("an exception is a mapping of " + ", ".join(FIELDS),))
    problems = [f"{key} is required" for key in FIELDS if entry.get(key) in (None, "")]
    problems += [f"unknown key {safe_yaml.shown(key)}" for key in entry if key not in FIELDS]
    problems += [
        f"{key} must be text (got {safe_yaml.shown(entry[key])})"
        for key in TEXT_FIELDS
        if entry.get(key) not in (None, "") and not isinstance(entry[key], str)
    ]
    text = {key: entry[key] if isinstance(entry.get(key), str) else "" for key in TEXT_FIELDS}
    stack = text["stack"]
    known = stack in set(known_stacks)
    if stack and not known:
        problems.append(f"stack {safe_yaml.shown(stack)} is unknown: policy_pack/approvals.yaml does not list it")
    if known and approvals.is_approved(stack, approvals.account_of(stack)):
        problems.append(f"stack {stack!r} is approved for IM full access already; an exception is not needed")
    if entry.get("access") not in (None, "", "full"):
        problems.append("access must be 'full', the only access an exception can allow")
    principal = text["principal"]
    if principal and not PRINCIPAL.match(principal):
        problems.append(f"principal must be user:<name> or group:<id> (got {safe_yaml.shown(principal, 80)})")
    added, expires = _date(entry, "added", problems), _date(entry, "expires", problems)
    if added and expires:
        if expires < added:
            problems.append(f"expires {expires.isoformat()} is in the past of added {added.isoformat()}")
        elif expires > added + dt.timedelta(days=MAX_DAYS):
            problems.append(
                f"expires {expires.isoformat()} is more than {MAX_DAYS} days after added {added.isoformat()}"
            )
    if problems or added is None or expires is None:
        # An exception for an unknown stack is reported on every stack.
        return Malformed(index, stack if known else None, tuple(problems))
    return BreakGlass(index, stack, principal, text["approver"], text["reason"], added, expires)


@dataclass(frozen=True)
class Exceptions:
    valid: tuple[BreakGlass, ...]
    malformed: tuple[Malformed, ...]

    def matching(self, stack: str, principal: str) -> list[BreakGlass]:
        return [exception for exception in self.valid if exception.covers(stack, principal)]

    def in_force(self, stack: str, principal: str, on: dt.date) -> BreakGlass | None:
        return next((e for e in self.matching(stack, principal) if e.in_force(on)), None)

    def lapsed(self, stack: str, principal: str, on: dt.date) -> BreakGlass | None:
        return next((e for e in self.matching(stack, principal) if e.expires < on), None)

    def for_stack(self, stack: str, on: dt.date) -> list[BreakGlass]:
        return [e for e in self.valid if e.stack == stack and e.in_force(on)]

    def errors_for(self, stack: str) -> list[Malformed]:
        """Malformed exceptions that concern a stack: its own, and those whose stack is unknown."""
        return [m for m in self.malformed if m.stack in (stack, None)]


def parse_exceptions(document: Any, known_stacks: Iterable[str], approvals: Approvals | None = None) -> Exceptions:
    entries = document.get("exceptions") if isinstance(document, Mapping) else None
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        return Exceptions((), (Malformed(0, None, ("`exceptions` must be a list",)),))
    known = list(known_stacks)
    approvals = approvals or Approvals()
    parsed = [_parse(index, entry, known, approvals) for index, entry in enumerate(entries, start=1)]
    return Exceptions(
        tuple(p for p in parsed if isinstance(p, BreakGlass)), tuple(p for p in parsed if isinstance(p, Malformed))
    )


def load_exceptions(guardrails: Path) -> Exceptions:
    """The exceptions of `<guardrails>/break_glass.yaml`, judged against the stacks the approvals list."""
    approvals = load_approvals(guardrails)
    known_stacks = list(approvals.stacks)
    path = guardrails / "break_glass.yaml"
    try:
        document = safe_yaml.load(path.read_text(), path.name) if path.exists() else {}
    except safe_yaml.UnsafeYamlError as error:
        return Exceptions((), (Malformed(0, None, (f"{error}; allowed: plain YAML within those limits",)),))
    except yaml.YAMLError as error:
        return Exceptions((), (Malformed(0, None, (f"{path.name} is not valid YAML: {error}",)),))
    return parse_exceptions(document, known_stacks, approvals)
