"""Every CAM and STS action, classified deny by default: what an allowed action pattern lets its holder do.

The data is `im_access/data/cam-sts-actions.csv`, written from the official SDK's clients by
scripts/cam_actions_from_sdk.py (its first line names the SDK versions). An action is `read` only
where the file says so; every other CAM action, and any name the file does not list, is `write`:
with any CAM write its holder can give itself (or anyone) IM full access, directly (attach or
rewrite a policy, join a group, make a key, a password, an SSO or OIDC configuration) or by making
or changing a principal that can. A wildcard covering one write action is write.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Mapping
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

ACTIONS_FILE = Path(__file__).resolve().parent / "data" / "cam-sts-actions.csv"
FORMS: Mapping[str, tuple[str, ...]] = {"cam": ("name/cam:", "cam:"), "sts": ("name/sts:", "sts:")}
ASSUME_ROLE = "AssumeRole"


@cache
def action_kinds() -> Mapping[tuple[str, str], tuple[str, str]]:
    """(service, action in lower case) to the action as written and its kind: read, write, assume or own-session."""
    with ACTIONS_FILE.open(newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {(row["service"], row["action"].lower()): (row["action"], row["kind"]) for row in rows}


def normalise_action(pattern: str) -> str:
    """An action pattern as it is matched: NFKC, trimmed, lower case (CAM ignores the letter case)."""
    return unicodedata.normalize("NFKC", pattern).strip().lower()


def _covers(pattern: str, service: str, action: str) -> bool:
    return any(fnmatchcase(form + action, pattern) for form in FORMS[service])


def _names_unknown_action(pattern: str, service: str) -> str | None:
    """A pattern without wildcards naming an action of `service` the data does not list: deny by default."""
    text = unicodedata.normalize("NFKC", pattern).strip()
    if any(char in text for char in "*?["):
        return None
    for form in FORMS[service]:
        if text.lower().startswith(form) and (service, text[len(form) :].lower()) not in action_kinds():
            return f"{text[len(form) :]}, which the official SDK does not list (an action not marked read is write)"
    return None


def cam_write_in(pattern: str) -> str | None:
    """The first CAM write action an allowed action pattern covers (or the unlisted action it names), else None."""
    if (unknown := _names_unknown_action(pattern, "cam")) is not None:
        return unknown
    text = normalise_action(pattern)
    for (service, action), (written, kind) in action_kinds().items():
        if service == "cam" and kind == "write" and _covers(text, service, action):
            return written
    return None


def allows_assume_role(pattern: str) -> bool:
    """Whether an allowed action pattern covers sts:AssumeRole."""
    return _covers(normalise_action(pattern), "sts", ASSUME_ROLE.lower())
