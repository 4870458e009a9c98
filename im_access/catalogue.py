"""IM's CAM-authorised actions as Tencent Cloud publishes them: a partial catalogue, used soundly.

The data is `im_access/data/im-cam-actions.csv` (sources, dates and gaps in the README beside it).
It is a subset of IM's actions, so two questions can be answered from it and no others:

- "Do these allowed patterns together cover every catalogue action?" Anything that covers all of
  IM covers the subset too, so yes means full access; it can only err towards calling a nearly-full
  policy full, the safe side for a guardrail.
- "Does this action match no catalogue name?" Not proof of a typo (the action may be missing from
  the catalogue): a warning with the closest names, never an error.

The program, the policy pack and the audit all judge through this module.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable
from fnmatch import translate
from functools import lru_cache
from pathlib import Path

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "im-cam-actions.csv"
# The prefixes under which an IM API is named in a policy; "avc" is IM's legacy service name.
IM_ACTION_FORMS = ("name/im:", "im:", "name/avc:", "avc:")
IM_ACTION_PREFIX = "name/im:"
MAX_SUGGESTIONS = 3


def _load() -> tuple[str, ...]:
    with CATALOGUE_FILE.open(newline="") as handle:
        return tuple(row["action"].strip() for row in csv.DictReader(handle) if row["action"].strip())


CATALOGUE_ACTIONS: tuple[str, ...] = _load()
_FOLDED = tuple(action.casefold() for action in CATALOGUE_ACTIONS)
_ALL = (1 << len(CATALOGUE_ACTIONS)) - 1


@lru_cache(maxsize=4096)
def _covered(pattern: str) -> int:
    """The catalogue actions one pattern matches, under any IM form, as a bit set (case-insensitive)."""
    pattern = pattern.strip().casefold()
    if not pattern:
        return 0
    if "*" not in pattern and "?" not in pattern and "[" not in pattern:
        for form in IM_ACTION_FORMS:  # a plain name: one lookup, no regular expression
            if pattern.startswith(form) and pattern[len(form) :] in _FOLDED:
                return 1 << _FOLDED.index(pattern[len(form) :])
        return 0
    regex = re.compile(translate(pattern))
    bits = 0
    for index, action in enumerate(_FOLDED):
        if any(regex.match(form + action) for form in IM_ACTION_FORMS):
            bits |= 1 << index
    return bits


def covers_catalogue(patterns: Iterable[str]) -> bool:
    """Whether the patterns together match every catalogue action (then they are IM full access)."""
    bits = 0
    for pattern in patterns:
        bits |= _covered(pattern)
        if bits == _ALL:
            return True
    return False


def matches_catalogue(pattern: str) -> bool:
    """Whether an action pattern matches at least one catalogue action."""
    return _covered(pattern) != 0


def closest_actions(action: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to `limit` catalogue actions closest to `action`, written `name/im:<Api>`."""
    api = action.strip()
    lowered = api.casefold()
    for form in IM_ACTION_FORMS:
        if lowered.startswith(form):
            api = api[len(form) :]
            break
    by_folded = dict(zip(_FOLDED, CATALOGUE_ACTIONS, strict=True))
    close = difflib.get_close_matches(api.casefold().replace("*", ""), _FOLDED, n=limit, cutoff=0.6)
    return [IM_ACTION_PREFIX + by_folded[name] for name in close]


def unknown_action_warning(action: str) -> str | None:
    """For an action matching no catalogue name, what to tell the author; None when it matches one."""
    if matches_catalogue(action):
        return None
    suggestions = closest_actions(action)
    if not suggestions:
        hint = "no catalogue name is close"
    elif len(suggestions) == 1:
        hint = f"did you mean {suggestions[0]}?"
    else:
        hint = f"did you mean {', '.join(suggestions[:-1])} or {suggestions[-1]}?"
    return (
        f"{action!r} matches no action in IM's catalogue of CAM actions ({len(CATALOGUE_ACTIONS)} names, partial): "
        f"{hint}"
    )
