"""A CAM policy document as CreatePolicy and UpdatePolicy check it, each fault with the code the
official lists give those actions: version, statements, effect, actions (a known service), resources
(six-part `qcs:` names of a known service) and conditions (a known operator over keys and values)."""

from __future__ import annotations

import json
import re
from typing import Any

from localcloud.catalogue import SERVICES
from localcloud.errors import ApiError

MAX_POLICY_DOCUMENT = 6144
ACTION = re.compile(r"(?:name/)?([a-z0-9*_-]+):([A-Za-z0-9*_-]+)")
OPERATORS = frozenset(
    {
        *(
            f"string_{op}"
            for op in ("equal", "not_equal", "like", "not_like", "equal_ignore_case", "not_equal_ignore_case")
        ),
        *(
            f"{kind}_{op}"
            for kind in ("numeric", "date")
            for op in ("equal", "not_equal", "less_than", "less_than_equal", "greater_than", "greater_than_equal")
        ),
        "bool_equal",
        "ip_equal",
        "ip_not_equal",
        "null_equal",
    }
)
SET_PREFIXES = ("for_all_value:", "for_any_value:")
IF_EXISTS = "_if_exist"


def _bad(code: str, message: str) -> ApiError:
    return ApiError(f"InvalidParameter.{code}", message)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check_action(action: Any) -> None:
    if action == "*":
        return
    match = ACTION.fullmatch(action) if isinstance(action, str) else None
    if match is None:
        raise _bad("ActionError", f"The action `{str(action)[:80]}` is not `name/<service>:<action>`.")
    if match.group(1) not in SERVICES:
        raise _bad("ActionServiceNotExist", f"The action `{action[:80]}` names a service CAM does not know.")


def check_resource(resource: Any) -> None:
    if resource == "*":
        return
    if not isinstance(resource, str) or not resource:
        raise _bad("ResourceError", "Every resource is `*` or a `qcs:` six-part name.")
    if not resource.startswith("qcs:"):
        raise _bad("ResourceQcsError", f"The resource `{resource[:80]}` does not start with `qcs:`.")
    parts = resource.split(":", 5)
    if len(parts) != 6 or not parts[5]:
        raise _bad(
            "ResourceContentError",
            f"The resource `{resource[:80]}` is not qcs:<project>:<service>:<region>:<account>:<resource>.",
        )
    if parts[2] not in ("", "*") and parts[2] not in SERVICES:
        raise _bad("ResourceServiceNotExist", f"The resource `{resource[:80]}` names a service CAM does not know.")


def check_condition(condition: Any) -> None:
    if not isinstance(condition, dict) or not condition:
        raise _bad("ConditionError", "A condition is an object of operators.")
    for operator, keys in condition.items():
        base = operator
        for prefix in SET_PREFIXES:
            base = base.removeprefix(prefix)
        if base.removesuffix(IF_EXISTS) not in OPERATORS:
            raise _bad("ConditionTypeError", f"The condition operator `{str(operator)[:60]}` does not exist.")
        if not isinstance(keys, dict) or not all(
            isinstance(value, (str, int, float)) or (isinstance(value, list) and value) for value in keys.values()
        ):
            raise _bad("ConditionContentError", f"The condition `{operator}` maps keys to values.")


def document_statements(document: str, noun: str, not_json: str) -> list[Any]:
    """The statements of a CAM document, a policy or a trust policy: JSON, an object, version 2.0 and
    at least one statement. `not_json` is the code for a document that is no JSON object: each
    action's official list names its own."""
    try:
        parsed = json.loads(document)
    except json.JSONDecodeError as error:
        raise _bad(not_json, f"The {noun} is not JSON: {error}.") from None
    if not isinstance(parsed, dict):
        raise _bad(not_json, f"The {noun} must be a JSON object.")
    if parsed.get("version") != "2.0":
        raise _bad("VersionError", f'The {noun} needs "version": "2.0".')
    statements = parsed.get("statement")
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements:
        raise _bad("StatementError", f"The {noun} needs at least one statement.")
    return statements


def check_policy_document(document: str) -> None:
    if len(document) > MAX_POLICY_DOCUMENT:
        raise _bad(
            "PolicyDocumentLengthOverLimit",
            f"The policy document has {len(document)} characters; at most {MAX_POLICY_DOCUMENT} are allowed.",
        )
    for statement in document_statements(document, "policy document", "PolicyDocumentError"):
        if not isinstance(statement, dict):
            raise _bad("StatementError", "Every statement is an object.")
        if str(statement.get("effect", "")).lower() not in ("allow", "deny"):
            raise _bad("EffectError", 'Every statement needs "effect": "allow" or "deny".')
        if not statement.get("action"):
            raise _bad("ActionError", 'Every statement needs an "action".')
        for action in _listed(statement["action"]):
            check_action(action)
        if not statement.get("resource"):
            raise _bad("ResourceError", 'Every statement needs a "resource".')
        for resource in _listed(statement["resource"]):
            check_resource(resource)
        if "condition" in statement:
            check_condition(statement["condition"])
