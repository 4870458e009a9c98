"""Break-glass exceptions: allowed before expiry with a note, blocked after, and every malformed kind
an error of its own that allows nothing, over the analyzer protocol with the date driven."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from im_access.break_glass import MAX_DAYS, parse_exceptions
from im_access.contract import IM_OPERATOR
from tests.analyzer_client import DEFAULT_PROVIDER, POLICY_PACK, AnalyzerResource, PolicyPackProcess, mandatory
from tests.harness import LOCALCLOUD_ROUTE

STACKS = ("dev", "staging", "prod")
VALID = {
    "stack": "staging",
    "principal": "user:im-stg-oncall",
    "access": "full",
    "approver": "security-lead@example.com",
    "reason": "INC-1234 staging outage",
    "added": "2026-11-25",
    "expires": "2026-11-27",
}
FULL_ACCESS = "im-full-access-approved-stacks-only"
NOTE = "im-full-access-break-glass"
VALIDITY = "im-break-glass-exceptions-valid"
STACK = AnalyzerResource("pulumi:pulumi:Stack", "im-access-staging", {})  # every program registers it


def operator(name: str) -> AnalyzerResource:
    return AnalyzerResource(IM_OPERATOR, name, {"userName": name, "access": "full"})


def preset_attachment(user: str) -> AnalyzerResource:
    return AnalyzerResource(
        "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
        f"{user}-att",
        {"userName": user, "policyId": "524252"},
    )


MALFORMED = [
    ({"approver": ""}, "approver is required"),
    ({"reason": None}, "reason is required"),
    ({"expires": "2026-11-24"}, "is in the past of added"),
    ({"expires": "2026-12-03"}, f"more than {MAX_DAYS} days after added"),
    ({"stack": "qa"}, "stack 'qa' is unknown"),
    ({"access": "readonly"}, "access must be 'full'"),
    ({"principal": "alice"}, "principal must be user:<name> or group:<id>"),
    ({"added": "25/11/2026"}, "added must be a date YYYY-MM-DD"),
    ({"ticket": "INC-1"}, "unknown key 'ticket'"),
]


@pytest.mark.parametrize(("change", "problem"), MALFORMED)
def test_each_malformed_kind_is_an_error_that_allows_nothing(change: dict[str, Any], problem: str) -> None:
    exceptions = parse_exceptions({"exceptions": [{**VALID, **change}]}, STACKS)
    assert exceptions.valid == ()
    (malformed,) = exceptions.malformed
    assert problem in malformed.describe() and "allows nothing" in malformed.describe()
    on_every_stack = change.get("stack") == "qa"
    assert bool(exceptions.errors_for("prod")) is on_every_stack
    assert exceptions.errors_for("staging")


def test_an_exception_is_in_force_from_added_to_expires_and_lapses_the_day_after() -> None:
    exceptions = parse_exceptions({"exceptions": [VALID]}, STACKS)
    days = {day: dt.date(2026, 11, day) for day in (24, 25, 27, 28)}
    assert exceptions.in_force("staging", "USER:im-stg-oncall", days[25]) is not None
    assert exceptions.in_force("staging", "user:im-stg-oncall", days[27]) is not None
    assert exceptions.in_force("staging", "user:im-stg-oncall", days[24]) is None
    assert exceptions.in_force("staging", "user:im-stg-oncall", days[28]) is None
    assert exceptions.lapsed("staging", "user:im-stg-oncall", days[28]) is not None
    assert exceptions.in_force("dev", "user:im-stg-oncall", days[25]) is None
    assert exceptions.in_force("staging", "user:someone-else", days[25]) is None


@pytest.fixture
def pack_with(tmp_path: Path) -> Iterator[Any]:
    """Starts the real pack from a copy whose break_glass.yaml holds the given exceptions."""
    started: list[PolicyPackProcess] = []

    def start(
        exceptions: list[dict[str, Any]], today: str, stack: str = "staging", via_localcloud: bool = True
    ) -> PolicyPackProcess:
        pack_dir = tmp_path / f"pack-{len(started)}"
        shutil.copytree(POLICY_PACK, pack_dir, ignore=shutil.ignore_patterns("__pycache__"))
        (pack_dir / "break_glass.yaml").write_text(yaml.safe_dump({"exceptions": exceptions}))
        # IM_ACCESS_TODAY sets the date on localcloud's route only (a loopback proxy).
        route = LOCALCLOUD_ROUTE if via_localcloud else {name: "" for name in LOCALCLOUD_ROUTE}
        pack = PolicyPackProcess(stack, pack_dir=pack_dir, extra_env={"IM_ACCESS_TODAY": today, **route})
        pack.configure({})
        started.append(pack)
        return pack

    yield start
    for pack in started:
        pack.close()


def test_a_valid_exception_allows_full_access_with_a_note_until_it_expires(pack_with: Any) -> None:
    pack = pack_with([VALID], today="2026-11-26")
    for resource in (operator("im-stg-oncall"), preset_attachment("im-stg-oncall")):
        found = pack.analyze(resource)
        assert mandatory(found) == []
        (note,) = found
        assert note.policy == NOTE and note.enforcement == "advisory"
        assert "allowed by break-glass exception #1" in note.message and "expires 2026-11-27" in note.message
    assert [d.policy for d in mandatory(pack.analyze(operator("im-stg-mallory")))] == [FULL_ACCESS]
    assert pack.analyze(STACK) == []


def test_the_day_after_expiry_the_same_access_is_blocked(pack_with: Any) -> None:
    pack = pack_with([VALID], today="2026-11-28")
    (blocked,) = pack.analyze(operator("im-stg-oncall"))
    assert blocked.policy == FULL_ACCESS and blocked.enforcement == "mandatory"
    assert "which has lapsed" in blocked.message


def test_a_date_set_outside_localcloud_does_not_bring_an_expired_exception_back(pack_with: Any) -> None:
    """IM_ACCESS_TODAY in a run against the cloud is not the date the pack judges by (the real date is),
    and the pack refuses it on every provider."""
    pack = pack_with([VALID], today="2026-11-26", via_localcloud=False)
    (blocked,) = pack.analyze(operator("im-stg-oncall"))
    assert blocked.policy == FULL_ACCESS and "which has lapsed" in blocked.message
    on_provider = [d for d in mandatory(pack.analyze(DEFAULT_PROVIDER)) if "IM_ACCESS_TODAY" in d.message]
    assert len(on_provider) == 1 and "for runs through localcloud only" in on_provider[0].message


@pytest.mark.parametrize(("change", "problem"), MALFORMED)
def test_each_malformed_exception_fails_the_stack_and_allows_nothing_over_the_protocol(
    pack_with: Any, change: dict[str, Any], problem: str
) -> None:
    pack = pack_with([{**VALID, **change}], today="2026-11-26")
    assert [d.policy for d in mandatory(pack.analyze(operator("im-stg-oncall")))] == [FULL_ACCESS]
    (error,) = mandatory(pack.analyze(STACK))
    assert error.policy == VALIDITY and problem in error.message


def test_an_exception_for_another_stack_does_not_reach_this_one(pack_with: Any) -> None:
    pack = pack_with([VALID], today="2026-11-26", stack="dev")
    assert [d.policy for d in mandatory(pack.analyze(operator("im-stg-oncall")))] == [FULL_ACCESS]


def attachment(principal: str, policy_id: str) -> AnalyzerResource:
    kind, _, name = principal.partition(":")
    if kind == "group":
        return AnalyzerResource(
            "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment",
            f"{name}-att-{policy_id.strip()}",
            {"groupId": name, "policyId": policy_id},
        )
    return AnalyzerResource(
        "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
        f"{name}-att-{policy_id.strip()}",
        {"userName": name, "policyId": policy_id},
    )


# A break-glass exception allows IM full access, the preset QcloudAVCFullAccess, and nothing broader.
BROADER = {
    "AdministratorAccess to the user": attachment("user:im-stg-oncall", "1"),
    "QCloudResourceFullAccess to the user, spelled otherwise": attachment("user:im-stg-oncall", " 0002"),
    "AdministratorAccess to the group": attachment("group:90001", "1"),
    "a custom policy covering everything, through the component": AnalyzerResource(
        IM_OPERATOR,
        "im-stg-oncall",
        {"userName": "im-stg-oncall", "access": "full", "requestedAccess": "custom", "actions": ["*"]},
    ),
}
GROUP_EXCEPTION = {**VALID, "principal": "group:90001"}


@pytest.mark.parametrize("case", BROADER)
def test_an_exception_does_not_allow_a_policy_that_merely_includes_im_full_access(pack_with: Any, case: str) -> None:
    pack = pack_with([VALID, GROUP_EXCEPTION], today="2026-11-26")
    found = pack.analyze(BROADER[case])
    (blocked,) = found  # and no note saying it is allowed
    assert blocked.policy == FULL_ACCESS and blocked.enforcement == "mandatory", case
    assert "allows IM full access alone (QcloudAVCFullAccess)" in blocked.message, case


def test_the_im_full_access_preset_stays_allowed_however_its_id_is_spelled(pack_with: Any) -> None:
    pack = pack_with([VALID, GROUP_EXCEPTION], today="2026-11-26")
    for resource in (
        attachment("user:im-stg-oncall", "0524252"),
        attachment("group:90001", " 524252 "),
        AnalyzerResource(
            IM_OPERATOR, "im-stg-oncall", {"userName": "im-stg-oncall", "access": "full", "requestedAccess": "full"}
        ),
    ):
        (note,) = pack.analyze(resource)
        assert note.policy == NOTE and "allowed by break-glass exception" in note.message, resource.name
