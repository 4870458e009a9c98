"""CAM's per-action request rate limits, enforced the way the API does: a request over the limit of
its action in the current second is answered RequestLimitExceeded and changes nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

# Requests per second per action, from CAM's API documentation. Actions it gives no figure for
# get DEFAULT_LIMIT, the figure most CAM actions document.
CAM_LIMITS: Mapping[str, int] = {
    "AddUser": 20,
    "AttachUserPolicy": 10,
    "DetachUserPolicy": 10,
    "AttachGroupPolicy": 10,
    "DetachGroupPolicy": 10,
    "ListPolicies": 20,
    "CreateAccessKey": 5,
}
DEFAULT_LIMIT = 20


class RateLimits:
    """Counts each action's requests in fixed one-second windows."""

    def __init__(
        self,
        limits: Mapping[str, int] = CAM_LIMITS,
        default: int = DEFAULT_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._default = default
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # action -> (second, requests in it)

    def allow(self, action: str) -> bool:
        """Whether one more request for `action` fits this second's limit (and counts it if so)."""
        second = int(self._clock())
        with self._lock:
            window, count = self._windows.get(action, (second, 0))
            if window != second:
                count = 0
            if count >= self._limits.get(action, self._default):
                return False
            self._windows[action] = (second, count + 1)
            return True
