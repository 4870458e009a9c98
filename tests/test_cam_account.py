"""The audit's CAM reader: paced under CAM's rate limits, throttled requests retried with backoff,
and never a partial read taken for a complete one."""

from __future__ import annotations

from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from commands.cam_account import MAX_ATTEMPTS, AccountReadError, PacedReader


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
