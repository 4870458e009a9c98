"""The audit's comparison: holdings in the account against what the stacks declare."""

from __future__ import annotations

import datetime as dt

from im_access.audit import Declared, Holding, audit
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
