"""What each IM access level means, and how to tell whether a CAM policy grants full IM access.

This module is the single source of truth used by the components (to build policies) and by
the policy pack (to recognise full access however it is granted).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from im_access.catalogue import IM_ACTION_FORMS, covers_catalogue
from im_access.catalogue import IM_ACTION_PREFIX as IM_ACTION_PREFIX  # the form config and components write

AccessLevel = Literal["readonly", "full", "custom"]
ACCESS_LEVELS: tuple[AccessLevel, ...] = ("readonly", "full", "custom")

READONLY_PRESET = "QcloudIMReadOnlyAccess"
FULL_PRESET = "QcloudAVCFullAccess"  # AVC is IM's legacy name; there is no QcloudIMFullAccess.
FULL_PRESET_ID = 524252

# The preset each non-custom level attaches.
PRESET_FOR_LEVEL: Mapping[AccessLevel, str] = {"readonly": READONLY_PRESET, "full": FULL_PRESET}
IM_PRESETS: tuple[str, ...] = (READONLY_PRESET, FULL_PRESET)

# Presets that include full IM access, by name and by their well-known ids.
DEFAULT_FULL_ACCESS_POLICY_NAMES: tuple[str, ...] = (
    FULL_PRESET,
    "AdministratorAccess",
    "QCloudResourceFullAccess",
)
DEFAULT_FULL_ACCESS_POLICY_IDS: tuple[int, ...] = (FULL_PRESET_ID, 1, 2)  # the ids of those names, in their order

# Suffixes probed to decide whether a wildcard pattern covers *every* action of a service.
_PROBE_APIS = ("", "x", "RemoveUser", "DescribeAppStatList", "Z9_:/*")

POLICY_DOCUMENT_MAX_CHARS = 6144


def normalise_policy_id(value: object) -> int | None:
    """A policy id as the integer the provider sends, however it is spelled (`"0524252"`,
    `" 524252 "`, `524252.0`, fullwidth digits); None when it is no whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e40 else None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = re.fullmatch(r"([+-]?[0-9]{1,40})(\.0*)?", text)  # no CAM id is longer; Python stops at 4,300
    return int(match.group(1)) if match else None


def normalise_policy_name(name: object) -> str:
    """A policy name as names are compared: NFKC, trimmed, case-insensitive."""
    return unicodedata.normalize("NFKC", str(name)).strip().casefold()


def im_app_resource(owner_uin: str, sdk_app_id: int | str) -> str:
    """The CAM resource string of one IM application (SDKAppID)."""
    return f"qcs::im::uin/{owner_uin}:sdkappid/{sdk_app_id}"


def custom_policy_document(owner_uin: str, sdk_app_ids: Sequence[int], actions: Sequence[str]) -> str:
    """A CAM policy document that allows `actions` on the listed IM applications only."""
    document = {
        "version": "2.0",
        "statement": [
            {
                "effect": "allow",
                "action": list(actions),
                "resource": [im_app_resource(owner_uin, app) for app in sdk_app_ids],
            }
        ],
    }
    return json.dumps(document, separators=(",", ":"))


def action_covers_all_of_im(action: str) -> bool:
    """True when one action pattern matches every IM API (e.g. `*`, `im:*`, `name/im:*`, `name/*`).

    Matching is case-insensitive, as CAM treats service and action names.
    """
    pattern = action.strip().lower()
    return any(all(fnmatchcase(form + api.lower(), pattern) for api in _PROBE_APIS) for form in IM_ACTION_FORMS)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Mapping):  # one statement or action given on its own
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


@dataclass(frozen=True)
class DocumentVerdict:
    """What a policy document grants on IM."""

    grants_all_of_im: bool
    reason: str


# The elements CAM reads, all lower case; anything else cannot be shown to mean what it seems to.
DOCUMENT_ELEMENTS = frozenset({"version", "statement"})
STATEMENT_ELEMENTS = frozenset({"effect", "action", "resource", "condition", "principal"})
EFFECTS = frozenset({"allow", "deny"})


class AmbiguousDocumentError(ValueError):
    """A document that a strict reader cannot read one way only."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are distinct, even ignoring letter case (for json.loads)."""
    seen: dict[str, str] = {}
    for key, _ in pairs:
        if key.casefold() in seen:
            first = seen[key.casefold()]
            if first == key:
                raise AmbiguousDocumentError(f"the key {key!r} appears twice in one object")
            raise AmbiguousDocumentError(f"the keys {first!r} and {key!r} differ only in letter case")
        seen[key.casefold()] = key
    return dict(pairs)


def _check_elements(where: str, mapping: Mapping[Any, Any], allowed: frozenset[str]) -> None:
    _unique_keys([(str(key), value) for key, value in mapping.items()])
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise AmbiguousDocumentError(
            f"{where} has element {unknown[0]!r}, which CAM does not read (elements are {', '.join(sorted(allowed))})"
        )


def read_policy_document(document: str | Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The statements of a policy document, read strictly; AmbiguousDocumentError (or ValueError for
    text that is not JSON) when it cannot be read one way only."""
    try:
        parsed: Any = json.loads(document, object_pairs_hook=_unique_keys) if isinstance(document, str) else document
    except RecursionError:  # nested deeper than the parser goes: no policy CAM reads looks like that
        raise AmbiguousDocumentError("the policy document is nested too deeply to be read") from None
    if not isinstance(parsed, Mapping):
        raise AmbiguousDocumentError("the policy document is not a JSON object")
    _check_elements("the document", parsed, DOCUMENT_ELEMENTS)
    statements = _as_list(parsed.get("statement"))
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            raise AmbiguousDocumentError(f"statement[{index}] is not an object")
        _check_elements(f"statement[{index}]", statement, STATEMENT_ELEMENTS)
        effect = statement.get("effect")
        if not isinstance(effect, str) or effect.strip().lower() not in EFFECTS:
            raise AmbiguousDocumentError(f"statement[{index}] has effect {effect!r}, neither allow nor deny")
        if not all(isinstance(action, str) for action in _as_list(statement.get("action"))):
            raise AmbiguousDocumentError(f"statement[{index}] has an action that is not a string")
    return statements


def allowed_actions(statement: Mapping[str, Any]) -> list[str]:
    if str(statement.get("effect", "")).strip().lower() != "allow":
        return []
    return [str(action) for action in _as_list(statement.get("action"))]


def inspect_policy_document(document: str | Mapping[str, Any]) -> DocumentVerdict:
    """Decide whether a CAM policy document allows every IM action.

    A statement counts when its effect is `allow` and one of its actions covers all of IM.
    The resource scope is deliberately ignored: every IM action on some applications is full
    access to those applications (user removal, message deletion, configuration changes), which
    is what the guardrail exists to prevent. `deny` statements never grant anything.
    A document that cannot be read one way only (not JSON, keys repeated or differing only in
    case, elements CAM does not read) is reported as granting full access: it cannot be shown safe.
    """
    try:
        statements = read_policy_document(document)
    except AmbiguousDocumentError as error:
        return DocumentVerdict(True, f"{error}, so the document cannot be shown safe")
    except ValueError:
        return DocumentVerdict(True, "the policy document is not valid JSON, so it cannot be shown safe")
    for index, statement in enumerate(statements):
        for action in allowed_actions(statement):
            if action_covers_all_of_im(action):
                return DocumentVerdict(True, f"statement[{index}] allows action {action!r}, which covers all of IM")
    if covers_catalogue(action for statement in statements for action in allowed_actions(statement)):
        return DocumentVerdict(True, "its allowed actions together cover every action of IM's catalogue of CAM actions")
    return DocumentVerdict(False, "no allow statement covers every IM action")


def action_covers_some_im(action: str) -> bool:
    """True when one action pattern matches at least one IM API (`name/im:Describe*`, `*`, `name/*`)."""
    pattern = action.strip().lower()
    if pattern.startswith(IM_ACTION_FORMS):
        return True
    return any(fnmatchcase(form + api.lower(), pattern) for form in IM_ACTION_FORMS for api in _PROBE_APIS)


def document_grants_some_im(document: str | Mapping[str, Any]) -> bool:
    """Whether a policy document allows any IM action; an unreadable one cannot be shown not to."""
    try:
        statements = read_policy_document(document)
    except ValueError:  # not JSON, or ambiguous
        return True
    return any(action_covers_some_im(action) for s in statements for action in allowed_actions(s))


# The full-access preset names as normalise_policy_name leaves them.
FULL_ACCESS_NAME_KEYS = frozenset(normalise_policy_name(name) for name in DEFAULT_FULL_ACCESS_POLICY_NAMES)


def preset_im_level(name: str, policy_id: int) -> Literal["full", "readonly"] | None:
    """The IM access a preset policy gives: full (including presets for everything), read-only, or none."""
    key = normalise_policy_name(name)
    if policy_id in DEFAULT_FULL_ACCESS_POLICY_IDS or key in FULL_ACCESS_NAME_KEYS:
        return "full"
    if key == normalise_policy_name(READONLY_PRESET):
        return "readonly"
    return None


def custom_actions_grant_all_of_im(actions: Iterable[str]) -> bool:
    """True when a `custom` level's action list amounts to full IM access: one pattern covers all of
    IM, or the patterns together cover every catalogue action."""
    actions = list(actions)
    return any(action_covers_all_of_im(action) for action in actions) or covers_catalogue(actions)
