"""A service (CAM, tag) as a table of actions, each with its parameter schema."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.params import Param


@dataclass(frozen=True)
class Context:
    """What an action sees: its transaction and the account it runs in."""

    db: sqlite3.Connection
    owner_uin: int
    now: dt.datetime
    caller: str = ""  # the caller as trust policies name it: qcs::cam::uin/<owner>:root, ...:roleName/<role>

    @property
    def timestamp(self) -> str:
        return self.now.strftime("%Y-%m-%d %H:%M:%S")


Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    handler: Handler
    schema: Mapping[str, Param]
    writes: bool


@dataclass
class Service:
    name: str
    version: str
    actions: dict[str, Action] = field(default_factory=dict)

    def action(self, name: str, *, writes: bool, **schema: Param) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.actions[name] = Action(handler, schema, writes)
            return handler

        return register
