"""The program's credential resources under mocks: rotating keys as cam.AccessKey generations for
the operator (never the deploy identity), and every operator's MFA flags."""

from __future__ import annotations

import datetime as dt

import pytest

from im_access.key_rotation import Rotation, generations
from tests.harness import USER, run_program

OWNER = "100012345678"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
MFA_FLAG = "tencentcloud:Cam/mfaFlag:MfaFlag"


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
