"""Policy configuration: each policy's schema holds its defaults, read back from one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pulumi
from pulumi_policy import PolicyConfigSchema


class _HasConfig(Protocol):
    def get_config(self) -> Mapping[str, Any]: ...


def setting(args: _HasConfig, schema: PolicyConfigSchema, key: str) -> Any:
    """A policy config value, or the schema's default when the pack was configured without it."""
    config = args.get_config() or {}
    if key in config:
        return config[key]
    return schema.properties[key].get("default")


def stack_is_approved(approved: list[str]) -> bool:
    """Whether the running stack is listed, by name or as `org/project/stack`."""
    stack, project = pulumi.get_stack(), pulumi.get_project()
    organization = pulumi.get_organization()
    for entry in approved:
        parts = str(entry).split("/")
        if parts == [stack]:
            return True
        if len(parts) == 3 and parts[1:] == [project, stack] and parts[0] == organization:
            return True
    return False
