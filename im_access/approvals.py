"""Which stacks may hold IM full access, and what the reviewers know about the account outside them.

One reviewed file, `policy_pack/approvals.yaml` (behind the security code owners), read here and
nowhere else: the policy pack, the audit, the preview summary and the break-glass checks all ask
`Approvals.is_approved`. A stack is named one way only: its name as in `Pulumi.<stack>.yaml`, which
is what the engine reports as the stack (no organization or project: this project is one project).

A file that cannot be read, or has any problem, approves nothing; its problems are reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from im_access import safe_yaml
from im_access.contract import UIN

APPROVALS_FILE = "approvals.yaml"
# The engine's rule for a stack name: letters, digits, hyphens, underscores and periods.
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
PRINCIPAL = re.compile(r"^(group:[0-9]{1,20}|uin:[0-9]{1,20}|orgIdentity:[0-9]{1,20})$")
PRESET_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
KEYS = ("account", "fullAccessApproved", "fullAccessPrincipals", "reviewedCustomPolicies")
MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class StackApprovals:
    """What the reviewers decided for one stack, in the one account they decided it for."""

    account: str = ""
    full_access: bool = False
    full_access_principals: frozenset[str] = frozenset()  # group:<id>, uin:<uin>, orgIdentity:<id>, outside the stack
    reviewed_custom_policies: frozenset[int] = frozenset()  # policy ids whose versions were reviewed elsewhere


@dataclass(frozen=True)
class Approvals:
    stacks: Mapping[str, StackApprovals] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    # Preset policies the stacks attach by id, id to name, as ListPolicies shows them (a preset's id is
    # the same in every account): with them the guardrails know what an attachment by id gives.
    preset_ids: Mapping[int, str] = field(default_factory=dict)

    def is_approved(self, stack: str, account: str | None) -> bool:
        """Whether IM full access is approved on `stack` acting on `account` (the one place this is decided)."""
        return self.of(stack, account).full_access

    def account_of(self, stack: str) -> str | None:
        """The account the reviewers named for `stack`."""
        entry = self.stacks.get(stack)
        return entry.account if entry is not None and entry.account else None

    def of(self, stack: str, account: str | None) -> StackApprovals:
        """The approvals of a stack in an account; nothing approved when the file has problems, omits the
        stack, or approved it for another account (an approval is for one account x stack)."""
        entry = StackApprovals() if self.problems else self.stacks.get(stack, StackApprovals())
        return entry if account is not None and entry.account == str(account) else StackApprovals()


def _ints(path: str, value: Any, problems: list[str]) -> frozenset[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        problems.append(f"{path}: a list of policy ids (whole numbers)")
        return frozenset()
    return frozenset(value)


def _principals(path: str, value: Any, problems: list[str]) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and PRINCIPAL.match(v) for v in value):
        problems.append(f"{path}: a list of principals written group:<id>, uin:<uin> or orgIdentity:<id>")
        return frozenset()
    return frozenset(value)


def _stack(name: str, entry: Any, problems: list[str]) -> StackApprovals:
    path = f"stacks.{name}"
    if not isinstance(entry, Mapping):
        problems.append(f"{path}: a mapping of {', '.join(KEYS)}")
        return StackApprovals()
    problems += [f"{path}.{key}: unknown key; allowed: {', '.join(KEYS)}" for key in entry if key not in KEYS]
    account = entry.get("account")
    if not (isinstance(account, str) and UIN.match(account)):
        problems.append(
            f"{path}.account: required, the uin of the account the stack acts on, in quotes"
            f" (its Pulumi.{name}.yaml ownerUin; got {str(account)[:40]!r})"
        )
    full = entry.get("fullAccessApproved")
    if not isinstance(full, bool):
        problems.append(f"{path}.fullAccessApproved: required, true or false (got {str(full)[:40]!r})")
    return StackApprovals(
        account if isinstance(account, str) else "",
        full is True,
        _principals(f"{path}.fullAccessPrincipals", entry.get("fullAccessPrincipals", []), problems),
        _ints(f"{path}.reviewedCustomPolicies", entry.get("reviewedCustomPolicies", []), problems),
    )


def _presets(value: Any, problems: list[str]) -> dict[int, str]:
    """presetPolicies: a name to its id, or to ids (localcloud's beside a real account's)."""
    if not isinstance(value, Mapping):
        problems.append("presetPolicies: a mapping of preset policy name to its id or ids")
        return {}
    found: dict[int, str] = {}
    for name, ids in value.items():
        listed = ids if isinstance(ids, list) else [ids]
        if (
            not (isinstance(name, str) and PRESET_NAME.match(name))
            or not listed
            or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in listed)
        ):
            problems.append(
                f"presetPolicies.{str(name)[:80]}: a preset policy name and its id (a whole number) or ids,"
                " e.g. ReadOnlyAccess: 400411"
            )
            continue
        found.update((policy_id, name) for policy_id in listed)
    return found


def parse_approvals(document: Any) -> Approvals:
    """The approvals in a parsed approvals.yaml, every problem listed."""
    if (
        not isinstance(document, Mapping)
        or not set(document) <= {"stacks", "presetPolicies"}
        or not isinstance(document.get("stacks"), Mapping)
    ):
        return Approvals(
            {},
            ("the file must hold `stacks` (a mapping of stack name to approvals) and may hold `presetPolicies`",),
        )
    problems: list[str] = []
    presets = _presets(document.get("presetPolicies", {}), problems)
    stacks: dict[str, StackApprovals] = {}
    for name, entry in document["stacks"].items():
        if not isinstance(name, str) or not STACK_NAME.match(name):
            problems.append(
                f"stacks.{str(name)[:80]}: not a stack name; name a stack as in Pulumi.<stack>.yaml "
                "(letters, digits, '-', '_', '.'; no organization or project)"
            )
            continue
        stacks[name] = _stack(name, entry, problems)
    return Approvals(stacks, tuple(problems), presets)


def load_approvals(guardrails: Path) -> Approvals:
    """The approvals of `<guardrails>/approvals.yaml` (the policy pack's folder)."""
    path = guardrails / APPROVALS_FILE
    try:
        text = path.read_bytes()
        if len(text) > MAX_BYTES:
            return Approvals({}, (f"{path.name} is larger than {MAX_BYTES} bytes",))
        # Aliases are refused before anything is expanded: a few bytes of them can expand without end.
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            return Approvals({}, (f"{path.name} uses a YAML alias (*name); write every value out",))
        document = safe_yaml.load(text.decode("utf-8", "replace"), path.name)
    except (OSError, yaml.YAMLError, safe_yaml.UnsafeYamlError) as error:
        return Approvals({}, (f"{path.name} cannot be read: {str(error)[:200]}",))
    return parse_approvals(document)
