"""localcloud's switch for CAM's per-action rate limits (`--rate-limits`)."""

from __future__ import annotations

import math
import time
from pathlib import Path

from localcloud.rate_limits import CAM_LIMITS, DEFAULT_LIMIT, RateLimits
from tests.localcloud_process import LocalCloudProcess, add_users_counting_throttles, call


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_action_gets_its_documented_requests_per_second() -> None:
    clock = Clock()
    limits = RateLimits(clock=clock)
    assert sum(limits.allow("AttachUserPolicy") for _ in range(25)) == CAM_LIMITS["AttachUserPolicy"] == 10
    assert sum(limits.allow("CreateAccessKey") for _ in range(25)) == 5
    assert sum(limits.allow("GetUser") for _ in range(25)) == DEFAULT_LIMIT
    clock.now += 1  # a new second starts afresh
    assert sum(limits.allow("AttachUserPolicy") for _ in range(25)) == 10


def test_requests_over_the_limit_are_answered_request_limit_exceeded_and_change_nothing(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db", "--rate-limits") as cloud:
        cam = cloud.cam()
        started = time.monotonic()
        created, throttled = add_users_counting_throttles(cam, [f"burst-{index}" for index in range(60)])
        seconds_touched = math.ceil(time.monotonic() - started) + 1
        assert len(created) <= CAM_LIMITS["AddUser"] * seconds_touched
        assert throttled > 0 or seconds_touched >= 3
        users = {user["Name"] for user in call(cam, "ListUsers")["Data"]}
    assert users == created
