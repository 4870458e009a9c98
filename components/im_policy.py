"""Turning an IM access level into a CAM policy attached to one principal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from tencentcloud_iac_pulumi import cam

from components.preset_policies import PresetPolicies
from im_access.access import PRESET_FOR_LEVEL, AccessLevel, custom_actions_grant_all_of_im, custom_policy_document
from im_access.contract import Props


@dataclass(frozen=True)
class ImAccess:
    """An IM access level and, for `custom`, what it is scoped to."""

    level: AccessLevel
    """`readonly`, `full` or `custom`."""
    sdk_app_ids: Sequence[int] = field(default_factory=tuple)
    """`custom` only: the IM applications (SDKAppIDs) the policy covers."""
    actions: Sequence[str] = field(default_factory=tuple)
    """`custom` only: the IM actions allowed, written `name/im:<Api>`."""
    expires: dt.date | None = None
    """The date after which the access must be gone; enforced by the policy pack."""

    @property
    def effective_level(self) -> AccessLevel:
        """`custom` that allows every IM action is `full` access in all but name."""
        if self.level == "custom" and custom_actions_grant_all_of_im(self.actions):
            return "full"
        return self.level

    @property
    def policy_name(self) -> str | None:
        """The preset this level attaches, or None for `custom`."""
        return PRESET_FOR_LEVEL.get(self.level)

    def engine_props(self) -> dict[str, object]:
        """Input properties a component registers, so the policy pack can see the access granted."""
        return {
            Props.ACCESS: self.effective_level,
            Props.REQUESTED_ACCESS: self.level,
            Props.EXPIRES: self.expires.isoformat() if self.expires else None,
            Props.SDK_APP_IDS: list(self.sdk_app_ids),
            Props.ACTIONS: list(self.actions),
        }


@dataclass(frozen=True)
class ImPolicy:
    """The CAM policy behind an access level: its id, its name and, for `custom`, the policy resource."""

    policy_id: pulumi.Output[str]
    policy_name: pulumi.Output[str]
    custom_policy: cam.Policy | None


def policy_for(
    access: ImAccess,
    *,
    name: str,
    custom_policy_name: str,
    owner_uin: str,
    presets: PresetPolicies,
    parent: pulumi.Resource,
) -> ImPolicy:
    """The preset for `readonly`/`full`, or a new custom policy scoped to the listed apps and actions."""
    if access.policy_name is not None:
        return ImPolicy(presets.id_of(access.policy_name), pulumi.Output.from_input(access.policy_name), None)
    policy = cam.Policy(
        f"{name}-policy",
        name=custom_policy_name,
        document=custom_policy_document(owner_uin, access.sdk_app_ids, access.actions),
        description=f"IM access managed by im-access: {', '.join(access.actions)}",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return ImPolicy(policy.id, policy.name, policy)
