"""A service (CAM, tag, STS) as a table of actions, each with its parameter schema."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from localcloud.params import Param


@dataclass(frozen=True)
class Caller:
    """Who signed a request: the account its key belongs to, and the key's owner in that account
    (the account's own uin for a root key)."""

    account_uin: int
    uin: int
    role: str | None = None  # the role whose temporary credentials signed it
    secret_id: str = ""  # the key that signed it

    @property
    def principal(self) -> str:
        """The caller as a trust policy names it."""
        if self.role is not None:
            return f"qcs::cam::uin/{self.account_uin}:roleName/{self.role}"
        if self.uin == self.account_uin:
            return f"qcs::cam::uin/{self.account_uin}:root"
        return f"qcs::cam::uin/{self.account_uin}:uin/{self.uin}"


@dataclass(frozen=True)
class Context:
    """What an action sees: its transaction, the account it runs in and who signed the request."""

    db: sqlite3.Connection
    owner_uin: int
    now: dt.datetime
    caller: Caller | None = None  # None for work localcloud does itself (a seed)

    @property
    def timestamp(self) -> str:
        return self.now.strftime("%Y-%m-%d %H:%M:%S")


Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]
# The account a request names in its parameters (None when it names none), for an action that acts
# in another account than its caller's (AssumeRole into a role of that account).
AccountOf = Callable[[dict[str, Any]], int | None]


@dataclass(frozen=True)
class Action:
    handler: Handler
    schema: Mapping[str, Param]
    writes: bool
    # Any valid key may call it, whatever its policy or account (who am I, not what may I do).
    any_caller: bool = False
    account_of: AccountOf | None = None


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

    def acts_in(self, name: str, account_of: AccountOf) -> None:
        """Action `name` runs in the account its parameters name, when localcloud holds that account."""
        self.actions[name] = replace(self.actions[name], account_of=account_of)

    def any_caller_action(self, name: str, **schema: Param) -> Callable[[Handler], Handler]:
        """A read-only action every valid key may call, whatever its policy or account."""

        def register(handler: Handler) -> Handler:
            self.actions[name] = Action(handler, schema, writes=False, any_caller=True)
            return handler

        return register
