"""Request parameter schemas: each action declares its parameters, and requests are checked
against them before the action runs, the way the real API refuses unknown or mistyped input."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localcloud.errors import ApiError


@dataclass(frozen=True)
class Param:
    required: bool = False

    def check(self, path: str, value: Any) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Str(Param):
    max_len: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] | None = None

    def check(self, path: str, value: Any) -> Any:
        if not isinstance(value, str):
            raise ApiError("InvalidParameter", f"The parameter `{path}` must be a string.")
        if self.max_len is not None and len(value) > self.max_len:
            raise ApiError("InvalidParameterValue", f"The parameter `{path}` is longer than {self.max_len} characters.")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ApiError("InvalidParameterValue", f"The value of `{path}` does not match {self.pattern}.")
        if self.choices is not None and value not in self.choices:
            raise ApiError("InvalidParameterValue", f"The parameter `{path}` must be one of {', '.join(self.choices)}.")
        return value


@dataclass(frozen=True)
class Int(Param):
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[int, ...] | None = None

    def check(self, path: str, value: Any) -> Any:
        # The API documents integers but its own examples send them as digit strings; take both.
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError("InvalidParameter", f"The parameter `{path}` must be an integer.")
        if self.minimum is not None and value < self.minimum:
            raise ApiError("InvalidParameterValue", f"The parameter `{path}` must be at least {self.minimum}.")
        if self.maximum is not None and value > self.maximum:
            raise ApiError("InvalidParameterValue", f"The parameter `{path}` must be at most {self.maximum}.")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(str(choice) for choice in self.choices)
            raise ApiError("InvalidParameterValue", f"The parameter `{path}` must be one of {allowed}.")
        return value


@dataclass(frozen=True)
class ListOf(Param):
    item: Param = Str()
    max_items: int | None = None

    def check(self, path: str, value: Any) -> Any:
        if not isinstance(value, list):
            raise ApiError("InvalidParameter", f"The parameter `{path}` must be an array.")
        if self.max_items is not None and len(value) > self.max_items:
            raise ApiError("InvalidParameterValue", f"The parameter `{path}` has more than {self.max_items} items.")
        return [self.item.check(f"{path}.{index}", entry) for index, entry in enumerate(value)]


@dataclass(frozen=True)
class Obj(Param):
    fields: Mapping[str, Param] | None = None

    def check(self, path: str, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ApiError("InvalidParameter", f"The parameter `{path}` must be an object.")
        return check_fields(self.fields or {}, value, prefix=f"{path}.")


def check_fields(schema: Mapping[str, Param], values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return the checked values; refuse unknown, missing or mistyped parameters."""
    for name in values:
        if name not in schema:
            raise ApiError("UnknownParameter", f"The parameter `{prefix}{name}` is not recognized.")
    checked: dict[str, Any] = {}
    for name, param in schema.items():
        value = values.get(name)
        if value is None:
            if param.required:
                raise ApiError("MissingParameter", f"The request is missing a required parameter `{prefix}{name}`.")
            continue
        checked[name] = param.check(prefix + name, value)
    return checked


def page_of(rows: Sequence[Any], page: int, per_page: int) -> list[Any]:
    """One page of rows, pages counted from 1 as CAM's Page/Rp do."""
    start = (page - 1) * per_page
    return list(rows[start : start + per_page])
