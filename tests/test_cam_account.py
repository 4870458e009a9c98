"""The audit's CAM reader: paced under CAM's rate limits, throttled requests retried with backoff,
never a partial read taken for a complete one, and no read before CAM's lag has passed."""

from __future__ import annotations

from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from commands.cam_account import CLOUD_LAG_MS, LAG_ENV, MAX_ATTEMPTS, AccountReadError, PacedReader, cam_lag_seconds


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedClient:
    """Answers each call with the next scripted answer: a dict, or an error code to raise."""

    def __init__(self, *answers: dict[str, Any] | str) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call_json(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((action, params))
        answer = self.answers.pop(0)
        if isinstance(answer, str):
            raise TencentCloudSDKException(answer, "scripted")
        return {"Response": answer}


def test_requests_for_one_action_are_spaced_by_its_rate_limit() -> None:
    time = FakeTime()
    reader = PacedReader(ScriptedClient(*({} for _ in range(5))), {"GetPolicy": 10}, time.sleep, time.clock)
    for policy_id in range(5):
        reader.call("GetPolicy", PolicyId=policy_id)
    assert time.now == pytest.approx(0.4)  # 5 requests at 10/s: the last one 0.4 s after the first
    assert reader.requests["GetPolicy"] == 5
    reader.call("GetPolicy", PolicyId=1)  # the reach read asks again: answered from the first read
    assert reader.requests["GetPolicy"] == 5


def test_throttled_requests_are_retried_with_growing_backoff() -> None:
    time = FakeTime()
    client = ScriptedClient("RequestLimitExceeded", "RequestLimitExceeded", {"PolicyDocument": "{}"})
    reader = PacedReader(client, {}, time.sleep, time.clock)
    assert reader.call("GetPolicy", PolicyId=7) == {"PolicyDocument": "{}"}
    assert [s for s in time.sleeps if s >= 0.5] == [0.5, 1.0]
    assert reader.requests["GetPolicy"] == 3


def test_any_throttle_code_is_retried_and_an_error_shows_one_bounded_line() -> None:
    time = FakeTime()
    reader = PacedReader(ScriptedClient("RequestLimitExceeded.CreateUser", {"Uin": 1}), {}, time.sleep, time.clock)
    assert reader.call("GetUser", Name="a") == {"Uin": 1}

    class Hostile(ScriptedClient):
        def call_json(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
            raise TencentCloudSDKException("InternalError", "line one\nline two" + "x" * 5000)

    with pytest.raises(AccountReadError) as raised:
        PacedReader(Hostile(), {}, time.sleep, time.clock).call("GetUser", Name="a")
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 400


def test_the_first_request_waits_for_the_lag_and_none_after_it_does() -> None:
    time = FakeTime()
    time.now = 100.0
    client = ScriptedClient({}, {}, {})
    reader = PacedReader(client, {}, time.sleep, time.clock, lag=1.5)
    time.now += 0.5  # the command did something else first: only the rest of the lag is waited
    reader.call("ListUsers")
    assert time.now == pytest.approx(101.5) and time.sleeps == [pytest.approx(1.0)]
    reader.call("ListGroups")
    reader.call("GetUser", Name="a")
    assert time.now == pytest.approx(101.5)  # other actions: no further wait
    assert len(client.calls) == 3


def test_the_lag_is_ten_seconds_against_tencent_cloud_none_against_localcloud_unless_set() -> None:
    assert cam_lag_seconds({}, via_localcloud=False) == CLOUD_LAG_MS / 1000 == 10
    assert cam_lag_seconds({}, via_localcloud=True) == 0
    assert cam_lag_seconds({LAG_ENV: "1000"}, via_localcloud=True) == 1.0
    assert cam_lag_seconds({LAG_ENV: "0"}, via_localcloud=False) == 0
    assert cam_lag_seconds({LAG_ENV: " "}, via_localcloud=False) == 10


@pytest.mark.parametrize("value", ["-1", "1.5", "1e3", "60001", "ten", "\u0661\u0662", "9" * 400])
def test_a_lag_that_is_no_whole_number_of_milliseconds_up_to_a_minute_is_refused(value: str) -> None:
    with pytest.raises(AccountReadError) as raised:
        cam_lag_seconds({LAG_ENV: value}, via_localcloud=True)
    message = str(raised.value)
    assert message.startswith(f"{LAG_ENV}=") and "allowed: a whole number of milliseconds from 0 to 60000" in message
    assert len(message) < 200


def test_it_gives_up_after_the_last_attempt_and_on_any_other_error() -> None:
    time = FakeTime()
    throttled = PacedReader(ScriptedClient(*["RequestLimitExceeded"] * MAX_ATTEMPTS), {}, time.sleep, time.clock)
    with pytest.raises(AccountReadError, match="RequestLimitExceeded"):
        throttled.call("ListPolicies")
    denied = PacedReader(ScriptedClient("AuthFailure.UnauthorizedOperation"), {}, time.sleep, time.clock)
    with pytest.raises(AccountReadError, match="UnauthorizedOperation"):
        denied.call("ListPolicies")


def test_pages_are_read_until_the_total_and_a_short_read_is_an_error() -> None:
    time = FakeTime()
    pages = ScriptedClient({"TotalNum": 3, "List": [1, 2]}, {"TotalNum": 3, "List": [3]})
    reader = PacedReader(pages, {}, time.sleep, time.clock)
    assert list(reader.pages("ListPolicies", "List")) == [1, 2, 3]
    assert [params["Page"] for _, params in pages.calls] == [1, 2]

    cut_short = PacedReader(ScriptedClient({"TotalNum": 3, "List": [1]}, {"TotalNum": 3, "List": []}))
    with pytest.raises(AccountReadError, match="stopped at 1 of 3"):
        list(cut_short.pages("ListPolicies", "List"))
