"""Builds real pulumi_policy validation arguments the way the analyzer server does.

Props go through a protobuf Struct and back, then `deserialize_properties` and
`unknown_checking_proxy`, so numbers, unknowns and read-only mappings behave as under the engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

UNKNOWN = UNKNOWN_STRING_VALUE
ACCOUNT = "100012345678"  # the account every stack file of the project is pinned to
PROVIDER_TYPE = "pulumi:providers:tencentcloud"
COMPONENT_PREFIX = "im-access:index:"
# The engine's default provider, as every stack configures it: pinned to the stack's account.
PROVIDER_PROPS = {"region": "ap-guangzhou", "version": "0.2.3", "allowedAccountIds": f'["{ACCOUNT}"]'}
PROVIDER_URN = f"urn:pulumi:test::im-access::{PROVIDER_TYPE}::default_0_2_3"


def as_registered(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    """A resource's props as the engine sends them: an IM component declares its account, as the
    components register themselves, unless the test names one."""
    if resource_type.startswith(COMPONENT_PREFIX) and "ownerUin" not in props:
        return {**props, "ownerUin": ACCOUNT}
    return props


def wire_props(props: Mapping[str, Any]) -> Mapping[str, Any]:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


@contextmanager
def on_stack(stack: str, project: str = "im-access", organization: str = "acme") -> Iterator[None]:
    """Make `pulumi.get_stack()` answer as it does inside the analyzer for `stack`."""
    previous = pulumi.runtime.settings.SETTINGS
    pulumi.runtime.settings.configure(
        pulumi.runtime.Settings(project=project, stack=stack, organization=organization, dry_run=True)
    )
    try:
        yield
    finally:
        pulumi.runtime.settings.configure(previous)


@contextmanager
def approvals(stacks: Mapping[str, Mapping[str, Any]]) -> Iterator[None]:
    """The pack's approvals as if policy_pack/approvals.yaml held `stacks` (parsed by the real reader),
    each for the project's account unless an entry names its own `account`."""
    from im_guardrails import approvals as pack_approvals

    from im_access.approvals import parse_approvals

    previous = pack_approvals.APPROVALS
    in_account = {
        name: {"account": ACCOUNT, **entry} if isinstance(entry, Mapping) else entry for name, entry in stacks.items()
    }
    checked_in = Path(__file__).resolve().parent.parent / "policy_pack" / "approvals.yaml"
    presets = yaml.safe_load(checked_in.read_text())["presetPolicies"]
    pack_approvals.APPROVALS = parse_approvals({"stacks": in_account, "presetPolicies": presets})
    try:
        yield
    finally:
        pack_approvals.APPROVALS = previous


@dataclass
class Resource:
    type: str
    props: Mapping[str, Any]
    name: str = "r"
    property_dependencies: Mapping[str, Sequence[str]] | None = None

    @property
    def urn(self) -> str:
        return f"urn:pulumi:test::im-access::{self.type}::{self.name}"


def violations(
    policy: ResourceValidationPolicy,
    resource_type: str,
    props: Mapping[str, Any],
    *,
    name: str = "r",
    config: Mapping[str, Any] | None = None,
    provider_props: Mapping[str, Any] = PROVIDER_PROPS,
) -> list[str]:
    """What `policy` reports on one resource; a Tencent Cloud resource comes with its provider as
    the engine sends it (`provider_props`, by default the project's pinned default provider)."""
    found: list[str] = []
    props = as_registered(resource_type, props)
    provider = (
        PolicyProviderResource(PROVIDER_TYPE, wire_props(provider_props), PROVIDER_URN, "default_0_2_3")
        if resource_type.startswith("tencentcloud:")
        else None
    )
    args = ResourceValidationArgs(
        resource_type,
        wire_props(props),
        f"urn:pulumi:test::im-access::{resource_type}::{name}",
        name,
        _options(),
        provider,
        config or {},
    )
    policy.validate(args, lambda message, urn=None: found.append(message))  # type: ignore[misc]
    return found


def stack_violations(
    policy: StackValidationPolicy, resources: Sequence[Resource], *, config: Mapping[str, Any] | None = None
) -> list[tuple[str, str | None]]:
    """What `policy` reports on a stack; the engine's pinned default provider is among the resources
    whenever a Tencent Cloud resource is and no provider is given."""
    built: dict[str, PolicyResource] = {}
    if any(r.type.startswith("tencentcloud:") for r in resources) and not any(
        r.type == PROVIDER_TYPE for r in resources
    ):
        resources = [*resources, Resource(PROVIDER_TYPE, PROVIDER_PROPS, "default_0_2_3")]
    for resource in resources:
        props = wire_props(as_registered(resource.type, resource.props))
        built[resource.urn] = PolicyResource(
            resource.type, props, resource.urn, resource.name, _options(), None, None, [], {}
        )
    for resource in resources:
        built[resource.urn].property_dependencies = {
            key: [built[urn] for urn in urns] for key, urns in (resource.property_dependencies or {}).items()
        }
    found: list[tuple[str, str | None]] = []
    args = StackValidationArgs(list(built.values()), config or {})
    policy.validate(args, lambda message, urn=None: found.append((message, urn)))  # type: ignore[misc]
    return found
