"""Adopting what an account already holds: the entries `make adopt` proposes, and the ids the
program imports them by.

A console-made holding of an IM preset becomes a stack entry that carries the ids Pulumi needs to
import what exists (`pulumi.ResourceOptions(import_=...)`), so the next `up` takes it under code
without creating, replacing or changing anything. Only the presets of an im-access level can be
adopted: a custom policy's document is not one this project would write, and a role is not an
operator or a grant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from im_access.access import PRESET_FOR_LEVEL

if TYPE_CHECKING:  # the audit reads stack configs, which name Adoption: no import at run time
    from im_access.audit import Holding

AdoptAs = Literal["operator", "grant"]
ADOPT_AS: tuple[AdoptAs, ...] = ("operator", "grant")
LEVEL_FOR_PRESET = {policy: level for level, policy in PRESET_FOR_LEVEL.items()}


@dataclass(frozen=True)
class Adoption:
    """What an entry imports: the attachment of `policy_id`, and for an operator the user (by its
    name) and its MFA flags (by its `uin`)."""

    policy_id: int
    uin: str | None = None


def user_import_id(user_name: str) -> str:
    """The provider's id of a `cam.User`: its name."""
    return user_name


def user_attachment_id(user_name: str, policy_id: int) -> str:
    """The provider's id of a `cam.UserPolicyAttachment`."""
    return f"{user_name}#{policy_id}"


def group_attachment_id(group_id: int | str, policy_id: int) -> str:
    """The provider's id of a `cam.GroupPolicyAttachment`."""
    return f"{group_id}#{policy_id}"


def mfa_flag_import_id(uin: str) -> str:
    """The provider's id of a `cam.MfaFlag`: the user's uin."""
    return uin


@dataclass(frozen=True)
class AccountUser:
    """A sub-user as CAM describes it: what an operator entry must declare for its import to match."""

    name: str
    uin: int
    console: bool
    has_keys: bool
    email: str = ""
    phone: str = ""
    country_code: str = ""
    remark: str = ""


@dataclass(frozen=True)
class Proposal:
    """One entry to append to `im-access:<list_key>`; `refused` says why the guardrails will refuse it."""

    list_key: Literal["operators", "grants"]
    entry: dict[str, Any]
    holding: Holding
    refused: str | None = None


@dataclass(frozen=True)
class Skipped:
    holding: Holding
    reason: str


def _refused(holding: Holding, stack: str, approved: bool) -> str | None:
    if approved or not holding.full_access:
        return None
    return (
        f"IM full access off an approved stack: the guardrails refuse it on {stack};"
        " adopted as found, for the reviewers to decide"
    )


def _operator_entry(user: AccountUser, level: str, holding: Holding) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": user.name, "access": level, "console": user.console}
    if user.has_keys:
        entry["apiKey"] = True
    details = {"email": user.email, "phone": user.phone, "countryCode": user.country_code, "remark": user.remark}
    entry.update({key: value for key, value in details.items() if value})
    entry["adopted"] = {"uin": str(user.uin), "policyId": holding.policy_id}
    return entry


def _grant_entry(holding: Holding, level: str) -> dict[str, Any]:
    kind, _, name = holding.principal.partition(":")
    principal: dict[str, Any] = {"user": name} if kind == "user" else {"group": int(name)}
    return {**principal, "access": level, "adopted": {"policyId": holding.policy_id}}


def propose(
    unmanaged: Iterable[Holding],
    adopt_as: AdoptAs,
    users: Mapping[str, AccountUser],
    declared_here: Iterable[str],
    *,
    stack: str,
    approved: bool,
) -> tuple[list[Proposal], list[Skipped]]:
    """An entry for each unmanaged holding that can be adopted, and why each other one cannot.

    `users`: the account's sub-users by casefolded name (needed to adopt as operators);
    `declared_here`: the principals the stack declares already (one entry per principal)."""
    taken = {principal.casefold() for principal in declared_here}
    proposals: list[Proposal] = []
    skipped: list[Skipped] = []
    for holding in unmanaged:
        kind, _, name = holding.principal.partition(":")
        level = LEVEL_FOR_PRESET.get(holding.policy) if holding.preset else None
        if kind not in ("user", "group"):
            skipped.append(Skipped(holding, f"a {kind} is neither an operator nor a grant; revoke it or keep it"))
            continue
        if level is None:
            skipped.append(Skipped(holding, "not the preset of an im-access level (readonly, full); revoke it"))
            continue
        if holding.principal.casefold() in taken:
            skipped.append(
                Skipped(holding, f"Pulumi.{stack}.yaml has an entry for {holding.principal} already: one per principal")
            )
            continue
        refused = _refused(holding, stack, approved)
        user = users.get(name.casefold()) if kind == "user" else None
        if adopt_as == "operator" and kind == "user":
            if user is None:
                skipped.append(Skipped(holding, "CAM no longer lists the user"))
                continue
            if not user.console and not user.has_keys:
                skipped.append(
                    Skipped(holding, "the user has neither console access nor an API key: adopt it as a grant")
                )
                continue
            proposals.append(Proposal("operators", _operator_entry(user, level, holding), holding, refused))
        else:
            proposals.append(Proposal("grants", _grant_entry(holding, level), holding, refused))
        taken.add(holding.principal.casefold())
    return proposals, skipped
