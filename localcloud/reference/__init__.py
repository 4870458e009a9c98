"""What the real API documents, kept as data with its source (`api.json`, written by `generate.py`):
each action's error codes and requests per second, and the codes common to every action."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

API = Path(__file__).with_name("api.json")


@cache
def _api() -> dict[str, Any]:
    return dict(json.loads(API.read_text()))


def common_codes() -> frozenset[str]:
    return frozenset(_api()["common_codes"])


def documented_errors(service: str, action: str) -> frozenset[str]:
    """The codes the official SDK lists for `action` (empty when it does not know the action)."""
    entry = _api()["services"].get(service, {}).get("actions", {}).get(action)
    return frozenset(entry["errors"]) if entry else frozenset()


def rate_limits(service: str) -> dict[str, int]:
    """Requests per second of each action of `service` that documents its own figure."""
    actions = _api()["services"].get(service, {}).get("actions", {})
    return {name: entry["rate_limit"] for name, entry in actions.items() if entry["rate_limit"] is not None}


def default_rate_limit() -> int:
    return int(_api()["default_rate_limit"])
