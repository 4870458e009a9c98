"""Preset (system) policy ids, looked up by exact name at most once per run."""

from __future__ import annotations

import pulumi
from tencentcloud_iac_pulumi import cam

PRESET_POLICY_TYPE = 2  # CAM's "preset" policy type (PolicyType QCS)


class PresetPolicies:
    """Resolves preset policy ids by name.

    Each preset is looked up once with `cam.get_policies`, however many operators and grants use
    it. Ids never come from stack config, so a config change cannot attach another policy under a
    preset's name. The provider filters names by substring, so the exact name is picked here
    (`QcloudIMSFullAccess` is Image Moderation, not IM).
    """

    def __init__(self, opts: pulumi.InvokeOptions | None = None) -> None:
        self._ids: dict[str, pulumi.Output[str]] = {}
        self._opts = opts
        self.lookups = 0

    def id_of(self, name: str) -> pulumi.Output[str]:
        if name not in self._ids:
            self.lookups += 1
            result = cam.get_policies_output(name=name, type=PRESET_POLICY_TYPE, opts=self._opts)
            self._ids[name] = result.policy_lists.apply(lambda policies: _exact_match(name, policies))
        return self._ids[name]


def _exact_match(name: str, policies: list[cam.outputs.GetPoliciesPolicyListResult] | None) -> str:
    for policy in policies or []:
        if policy.name == name:
            return str(policy.policy_id)
    raise pulumi.RunError(
        f"preset policy {name!r} was not found in this account's preset policies (ListPolicies, type 2)"
    )
