"""The audit's comparison: holdings in the account against what the stacks declare."""

from __future__ import annotations

import datetime as dt

from im_access.audit import Declared, Holding, KeyUse, Member, Usage, audit, expand, unused
from im_access.break_glass import parse_exceptions
from tests.test_break_glass import VALID as VALID_EXCEPTION

TODAY = dt.date(2026, 11, 26)
FULL = Holding("user:im-stg-oncall", "QcloudAVCFullAccess", 524252, full_access=True, preset=True, uin=100020000009)
DECLARED = {"staging": [Declared("staging", "user:im-stg-oncall", "QcloudAVCFullAccess", None)]}


def kinds(**options: object) -> list[str]:
    found = audit("staging", [FULL], DECLARED, today=options.pop("today", TODAY), **options)  # type: ignore[arg-type]
    return [finding.kind for finding in found]


def test_full_access_off_an_approved_stack_is_a_finding_unless_the_stack_is_approved() -> None:
    assert kinds(approved=False) == ["full-access-off-approved"]
    assert kinds(approved=True) == []


def test_a_break_glass_exception_in_force_allows_it_and_a_lapsed_one_is_named() -> None:
    exceptions = parse_exceptions({"exceptions": [VALID_EXCEPTION]}, ["staging"])
    assert kinds(approved=False, exceptions=exceptions) == []
    (lapsed,) = audit("staging", [FULL], DECLARED, approved=False, today=dt.date(2026, 11, 28), exceptions=exceptions)
    assert lapsed.kind == "full-access-off-approved"
    assert "held under break-glass exception #1" in lapsed.fix and "which has lapsed" in lapsed.fix
    assert "tccli cam DetachUserPolicy --DetachUin 100020000009 --PolicyId 524252" in lapsed.fix


def test_declared_access_is_matched_ignoring_letter_case() -> None:
    holding = Holding("user:IM-STG-ONCALL", "qcloudavcfullaccess", 524252, full_access=True, preset=True)
    assert audit("staging", [holding], DECLARED, approved=True, today=TODAY) == []


def test_a_break_glass_exception_does_not_cover_a_preset_that_merely_includes_im_full_access() -> None:
    exceptions = parse_exceptions({"exceptions": [VALID_EXCEPTION]}, ["staging"])
    admin = Holding("user:im-stg-oncall", "AdministratorAccess", 1, full_access=True, preset=True, uin=100020000009)
    found = audit("staging", [FULL, admin], DECLARED, approved=False, today=TODAY, exceptions=exceptions)
    (off_approved,) = [finding for finding in found if finding.kind == "full-access-off-approved"]
    assert off_approved.policy == "AdministratorAccess"
    assert "allows IM full access alone (QcloudAVCFullAccess), not AdministratorAccess" in off_approved.fix
    assert "--PolicyId 1" in off_approved.fix


def test_a_custom_policy_named_like_the_im_preset_is_not_covered_by_an_exception() -> None:
    exceptions = parse_exceptions({"exceptions": [VALID_EXCEPTION]}, ["staging"])
    named_alike = Holding("user:im-stg-oncall", "QcloudAVCFullAccess", 900001, full_access=True, preset=False)
    found = audit("staging", [named_alike], DECLARED, approved=False, today=TODAY, exceptions=exceptions)
    assert [finding.kind for finding in found] == ["full-access-off-approved"]
    assert kinds(approved=False, exceptions=exceptions) == []  # the preset itself stays allowed


# ---- unused access --------------------------------------------------------------------------

READ_ONLY = Holding("group:90001", "QcloudIMReadOnlyAccess", 900001, False, True, since=dt.date(2026, 6, 1))
MEMBERS = {"group:90001": [Member("user:qa-lead", 100020000001, dt.date(2026, 5, 1)), Member("user:new", 2, TODAY)]}
GROUP_DECLARED = {"staging": [Declared("staging", "group:90001", "QcloudIMReadOnlyAccess", None)]}


def unused_findings(usage: dict[str, Usage], days: int = 90, holdings: list[Holding] | None = None) -> dict[str, str]:
    held = expand(holdings or [READ_ONLY], MEMBERS)
    found = unused(held, usage, GROUP_DECLARED, today=TODAY, days=days)
    assert all(finding.kind == "unused" for finding in found)
    return {finding.principal: finding.fix for finding in found}


def test_a_group_holding_is_expanded_to_its_members_each_since_it_both_joined_and_the_group_held_it() -> None:
    held = expand([READ_ONLY, FULL], MEMBERS)
    assert [(h.principal, h.via, h.since) for h in held] == [
        ("user:qa-lead", "group:90001", dt.date(2026, 6, 1)),
        ("user:new", "group:90001", TODAY),
        ("user:im-stg-oncall", None, None),
    ]
    assert expand([READ_ONLY], {})[0].principal == "group:90001", "a group without members still shows"


def test_access_not_used_for_the_days_given_is_unused_counted_from_the_last_use_or_the_grant() -> None:
    # Held since 2026-06-01 (178 days), never used: unused; the member who joined today is not.
    found = unused_findings({})
    assert set(found) == {"user:qa-lead"}
    assert "not used for 178 days" in found["user:qa-lead"] and "remove it from group:90001" in found["user:qa-lead"]
    # A console login 89 days ago is recent enough; an API key used 90 days ago is not.
    assert unused_findings({"user:qa-lead": Usage(TODAY - dt.timedelta(days=89))}) == {}
    key = KeyUse("AKIDqa", "Active", TODAY - dt.timedelta(days=90))
    assert set(unused_findings({"user:qa-lead": Usage(None, (key,))})) == {"user:qa-lead"}
    assert unused_findings({"user:qa-lead": Usage(None, (key,))}, days=91) == {}


def test_unused_access_belongs_to_the_declaring_stack_or_else_the_account() -> None:
    carol = Holding("user:console-carol", "QcloudIMReadOnlyAccess", 900001, False, True, uin=7, since=None)
    held = expand([READ_ONLY, carol], MEMBERS)
    found = {f.principal: f for f in unused(held, {}, GROUP_DECLARED, today=TODAY)}
    assert found["user:qa-lead"].stack == "staging"
    assert found["user:console-carol"].stack is None
    assert "no use recorded" in found["user:console-carol"].fix
    assert "tccli cam DetachUserPolicy --DetachUin 7" in found["user:console-carol"].fix


def test_a_user_holding_it_directly_and_through_a_group_gets_one_finding_naming_both_removals() -> None:
    direct = Holding("user:qa-lead", "QcloudIMReadOnlyAccess", 900001, False, True, uin=1, since=dt.date(2026, 7, 1))
    own = Declared("staging", "user:qa-lead", "QcloudIMReadOnlyAccess", None)
    declared = {"staging": [*GROUP_DECLARED["staging"], own]}
    found = unused(expand([READ_ONLY, direct], MEMBERS), {}, declared, today=TODAY)
    (finding,) = [f for f in found if "qa-lead" in f.principal]
    assert finding.stack == "staging" and "not used for 148 days" in finding.fix
    assert "remove it from group:90001; and remove the entry from Pulumi.staging.yaml" in finding.fix
