"""localcloud's per-action rate limits: CAM's documented figures, on unless `--no-rate-limits`."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from localcloud.rate_limits import CAM_LIMITS, DEFAULT_LIMIT, RateLimits, throttle_code
from localcloud.reference import documented_errors
from tests.localcloud_process import NO_RATE_LIMITS, LocalCloudProcess, add_users_counting_throttles, call


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_action_gets_its_documented_requests_per_second() -> None:
    clock = Clock()
    limits = RateLimits(clock=clock)
    documented = {"AddUser": 20, "AttachUserPolicy": 10, "CreateRole": 2, "DeleteRole": 3, "AttachRolePolicy": 3}
    documented |= {"DetachRolePolicy": 3, "CreatePolicy": 10, "UpdatePolicy": 10, "DeletePolicy": 10}
    documented |= {"DescribeRoleList": 10, "UpdateAccessKey": 5, "DeleteAccessKey": 5}
    assert {action: CAM_LIMITS[action] for action in documented} == documented
    for action, limit in documented.items():
        assert sum(limits.allow(action) for _ in range(25)) == limit, action
    assert sum(limits.allow("GetUser") for _ in range(25)) == DEFAULT_LIMIT == 20
    clock.now += 1  # a new second starts afresh
    assert sum(limits.allow("CreateRole") for _ in range(25)) == 2


def test_each_account_has_its_own_limits() -> None:
    limits = RateLimits(clock=Clock())
    assert sum(limits.allow("CreateRole", 1) for _ in range(5)) == 2
    assert sum(limits.allow("CreateRole", 2) for _ in range(5)) == 2


def test_add_user_is_throttled_with_its_own_code_and_others_with_the_common_one() -> None:
    assert throttle_code("cam", "AddUser") == "RequestLimitExceeded.CreateUser"
    assert "RequestLimitExceeded.CreateUser" in documented_errors("cam", "AddUser")
    assert throttle_code("cam", "CreateRole") == "RequestLimitExceeded"


def test_limits_are_on_by_default_and_over_the_limit_changes_nothing(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db") as cloud:
        cam = cloud.cam(retry_throttled=False)
        started = time.monotonic()
        created, throttled = add_users_counting_throttles(cam, [f"burst-{index}" for index in range(60)])
        seconds_touched = math.ceil(time.monotonic() - started) + 1
        assert len(created) <= CAM_LIMITS["AddUser"] * seconds_touched
        assert throttled > 0 or seconds_touched >= 3
        users = {user["Name"] for user in call(cam, "ListUsers")["Data"]}
    assert users == created


def test_no_rate_limits_turns_them_off(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db", NO_RATE_LIMITS) as cloud:
        created, throttled = add_users_counting_throttles(
            cloud.cam(retry_throttled=False), [f"burst-{index}" for index in range(60)]
        )
    assert (len(created), throttled) == (60, 0)


def test_the_test_clients_retry_a_throttled_request_as_the_provider_does(tmp_path: Path) -> None:
    statement = {"effect": "allow", "action": "name/sts:AssumeRole", "principal": {"qcs": ["*"]}}
    trust = json.dumps({"version": "2.0", "statement": [statement]})
    with LocalCloudProcess(tmp_path / "state.db") as cloud:
        cam = cloud.cam()
        started = time.monotonic()
        for index in range(5):  # CreateRole: 2 per second
            call(cam, "CreateRole", RoleName=f"paced-{index}", PolicyDocument=trust)
        assert time.monotonic() - started >= 1.0
        assert call(cam, "DescribeRoleList", Rp=20)["TotalNum"] == 5
