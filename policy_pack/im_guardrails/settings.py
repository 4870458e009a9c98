"""Policy configuration: each policy's schema holds its defaults, read back from one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pulumi_policy import PolicyConfigSchema


class _HasConfig(Protocol):
    def get_config(self) -> Mapping[str, Any]: ...


def setting(args: _HasConfig, schema: PolicyConfigSchema, key: str) -> Any:
    """A policy config value, or the schema's default when the pack was configured without it."""
    config = args.get_config() or {}
    if key in config:
        return config[key]
    return schema.properties[key].get("default")
