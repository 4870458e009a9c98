"""The program's credential resources under mocks: rotating keys as cam.AccessKey generations for
the operator (never the deploy identity), and every operator's MFA flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from im_access.config import ConfigurationError
from im_access.key_rotation import Rotation, generations
from tests.harness import LOCALCLOUD_ROUTE, USER, run_program

OWNER = "100012345678"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
MFA_FLAG = "tencentcloud:Cam/mfaFlag:MfaFlag"


@pytest.fixture(autouse=True)
def through_localcloud(monkeypatch: pytest.MonkeyPatch) -> None:
    """IM_ACCESS_TODAY sets the date on localcloud's route only."""
    for name, value in LOCALCLOUD_ROUTE.items():
        monkeypatch.setenv(name, value)


def config(*operators: dict[str, object]) -> dict[str, object]:
    pin = {"tencentcloud:allowedAccountIds": [OWNER]}
    return {"im-access:ownerUin": OWNER, **pin, "im-access:operators": list(operators)}


def test_a_rotating_key_is_an_access_key_per_generation_for_the_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    rotation = Rotation(30, 5)
    day = generations("im-bot", rotation, dt.date(2026, 12, 2))[-1].starts
    monkeypatch.setenv("IM_ACCESS_TODAY", day.isoformat())  # the first day of a generation: an overlap
    bot = {"name": "im-bot", "access": "readonly", "console": False, "apiKey": {"rotateDays": 30, "overlapDays": 5}}
    run = run_program("dev", config(bot))

    keys = run.of_type(ACCESS_KEY)
    assert sorted(k.name for k in keys) == sorted(
        f"im-bot-{g.resource_suffix}" for g in generations("im-bot", rotation, day)
    )
    assert len(keys) == 2
    (user,) = run.of_type(USER)
    assert user.inputs["useApi"] is False  # no key of the user's own beside the rotating ones
    assert all(k.inputs["targetUin"] == user.state["uin"] for k in keys)
    assert all("pgpKey" not in k.inputs for k in keys)


def test_every_operator_gets_mfa_flags_login_for_console_operation_for_full(monkeypatch: pytest.MonkeyPatch) -> None:
    operators: list[dict[str, object]] = [
        {"name": "im-ui", "access": "readonly"},
        {"name": "im-kiosk", "access": "readonly", "mfa": {"login": False, "reason": "kiosk in the NOC, INC-42"}},
        {"name": "im-bot", "access": "readonly", "console": False, "apiKey": True},
        {"name": "im-oncall", "access": "full"},
    ]
    run = run_program("prod", config(*operators))
    users = {u.state["uin"]: u.inputs["name"] for u in run.of_type(USER)}
    flags = {
        users[f.inputs["opUin"]]: (f.inputs["loginFlag"]["stoken"], f.inputs["actionFlag"]["stoken"])
        for f in run.of_type(MFA_FLAG)
    }
    assert flags == {"im-ui": (1, 0), "im-kiosk": (0, 0), "im-bot": (0, 0), "im-oncall": (1, 1)}


def test_an_own_key_kept_into_a_rotations_overlap_is_refused_before_any_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beside two rotating keys, the user's own would be a third, which CAM refuses: the first day
    that would happen is named, for each operator."""
    rotation = Rotation(30, 5)
    bot = {"name": "im-bot", "access": "readonly", "console": False}
    overlap_starts = generations("im-bot", rotation, dt.date(2026, 12, 2))[-1].starts
    monkeypatch.setenv("IM_ACCESS_TODAY", (overlap_starts - dt.timedelta(days=3)).isoformat())
    rotating = {"rotateDays": 30, "overlapDays": 5}
    too_late = {**bot, "apiKey": {**rotating, "ownKeyLastDay": overlap_starts.isoformat()}}
    registered: list[Any] = []
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", config(too_late), observe=registered.append)
    assert raised.value.problems == [
        f"im-access:operators[0].apiKey.ownKeyLastDay: {overlap_starts} is in a rotation's overlap (on"
        f" {overlap_starts} two rotating keys exist), where the user's own key would be a third, which CAM"
        f" refuses; allowed: a day before {overlap_starts}",
    ]
    assert registered[0].mocks.resources == []
    # The day before is taken; the key is adopted from the user's state once that is read.
    fine = {**bot, "apiKey": {**rotating, "ownKeyLastDay": (overlap_starts - dt.timedelta(days=1)).isoformat()}}
    assert run_program("dev", config(fine)).of_type(USER)
    # Moving on an overlap day would make three keys whatever the last day: the day it ends is named.
    overlap_ends = generations("im-bot", rotation, overlap_starts)[0].last_day
    monkeypatch.setenv("IM_ACCESS_TODAY", overlap_starts.isoformat())
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", config(too_late))
    assert raised.value.problems == [
        f"im-access:operators[0].apiKey.ownKeyLastDay: today ({overlap_starts}) is in a rotation's overlap: its"
        " two keys beside the user's own would be three, which CAM refuses; allowed: move to rotation on or after"
        f" {overlap_ends + dt.timedelta(days=1)}"
    ]
    # A last day already past is history: nothing to keep, nothing refused.
    monkeypatch.setenv("IM_ACCESS_TODAY", (overlap_starts + dt.timedelta(days=1)).isoformat())
    assert run_program("dev", config(too_late)).of_type(USER)


def test_an_own_key_last_day_that_is_not_a_date_is_refused_with_the_allowed_form() -> None:
    bot = {"name": "im-bot", "access": "readonly", "console": False}
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", config({**bot, "apiKey": {"ownKeyLastDay": "next week"}}))
    (problem,) = raised.value.problems
    assert problem.startswith("im-access:operators[0].apiKey.ownKeyLastDay: 'next week' is not a date written")
    assert "allowed: a date YYYY-MM-DD" in problem
