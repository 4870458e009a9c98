"""Identities whose requests a CAM policy document restricts, as CAM restricts a sub-user's keys.

Only the document's `action` lists are read (resources are not scoped here): a request is
allowed when an `allow` statement names its action and no `deny` statement does. Actions are
written `name/<service>:<Action>`, wildcards and letter case as CAM reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from localcloud.errors import ApiError


@dataclass(frozen=True)
class RestrictedIdentity:
    secret_key: str
    allowed: tuple[str, ...]
    denied: tuple[str, ...]
    uin: int = 0  # the sub-user the key stands for (localcloud does not list it as a user)

    def permits(self, service: str, action: str) -> bool:
        name = f"name/{service}:{action}".lower()
        return _matches(name, self.allowed) and not _matches(name, self.denied)


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def load_identity(secret_key: str, policy_file: Path, uin: int = 0) -> RestrictedIdentity:
    """An identity limited to the actions a CAM policy document (JSON file) allows."""
    document: Mapping[str, Any] = json.loads(policy_file.read_text())
    allowed: list[str] = []
    denied: list[str] = []
    for statement in _as_list(document["statement"]):
        actions = [str(action).lower() for action in _as_list(statement["action"])]
        (allowed if statement["effect"] == "allow" else denied).extend(actions)
    return RestrictedIdentity(secret_key, tuple(allowed), tuple(denied), uin)


def authorize(identity: RestrictedIdentity | None, service: str, action: str) -> None:
    """Refuses a restricted identity's request for an action its policy does not allow."""
    if identity is not None and not identity.permits(service, action):
        raise ApiError(
            "UnauthorizedOperation",
            f"The caller is not authorized to perform name/{service}:{action}; its policy does not allow it.",
        )
