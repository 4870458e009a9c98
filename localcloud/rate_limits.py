"""CAM's per-action request rate limits, enforced the way the API does: a request over the limit of
its action in the current second is answered with the action's throttle code and changes nothing."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Hashable, Mapping

from localcloud import reference

# Requests per second per action, as documented (localcloud/reference/api.json). Actions with no
# figure of their own get DEFAULT_LIMIT, the figure most CAM actions document.
CAM_LIMITS: Mapping[str, int] = reference.rate_limits("cam")
DEFAULT_LIMIT = reference.default_rate_limit()
THROTTLED = "RequestLimitExceeded"


@functools.cache  # asked on every throttled request; the official lists do not change
def throttle_code(service: str, action: str) -> str:
    """The code an over-limit request is answered with: the action's own `RequestLimitExceeded.*`
    code where the official list names exactly one (AddUser: `.CreateUser`), else the common one."""
    own = sorted(code for code in reference.documented_errors(service, action) if code.startswith(f"{THROTTLED}."))
    return own[0] if len(own) == 1 else THROTTLED


class RateLimits:
    """Counts each action's requests in fixed one-second windows, per account."""

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
        self._windows: dict[tuple[Hashable, str], tuple[int, int]] = {}  # (account, action) -> (second, requests)

    def allow(self, action: str, account: Hashable = None) -> bool:
        """Whether one more request for `action` fits this second's limit (and counts it if so)."""
        second = int(self._clock())
        key = (account, action)
        with self._lock:
            window, count = self._windows.get(key, (second, 0))
            if window != second:
                count = 0
            if count >= self._limits.get(action, self._default):
                return False
            self._windows[key] = (second, count + 1)
            return True
