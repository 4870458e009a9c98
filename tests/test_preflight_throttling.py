"""The preflight's one STS call rides out throttling, as the deploy's own calls do, and gives up on
anything else at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from commands import preflight


def answers(*codes: str) -> tuple[list[str], Callable[[], str]]:
    """A request that fails with each code in turn, then answers "identity"."""
    seen: list[str] = []

    def request() -> str:
        if len(seen) < len(codes):
            seen.append(codes[len(seen)])
            raise TencentCloudSDKException(seen[-1], "refused")
        seen.append("answered")
        return "identity"

    return seen, request


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight.time, "sleep", lambda seconds: None)


def test_throttled_answers_are_retried_until_one_gets_through() -> None:
    seen, request = answers("RequestLimitExceeded", "RequestLimitExceeded")
    assert preflight._unthrottled(request) == "identity"
    assert seen == ["RequestLimitExceeded", "RequestLimitExceeded", "answered"]


def test_any_other_refusal_is_not_retried() -> None:
    seen, request = answers("AuthFailure.SecretIdNotFound")
    with pytest.raises(TencentCloudSDKException):
        preflight._unthrottled(request)
    assert seen == ["AuthFailure.SecretIdNotFound"]


def test_throttling_that_never_ends_is_reported_after_the_last_try() -> None:
    tries = len(preflight.THROTTLE_BACKOFF_SECONDS) + 1
    seen, request = answers(*["RequestLimitExceeded"] * tries)
    with pytest.raises(TencentCloudSDKException):
        preflight._unthrottled(request)
    assert len(seen) == tries
