"""A switch of a custom policy's default version (`cam.SetPolicyVersionConfig`), judged by the version
it switches to. A version this stack creates (`cam.PolicyVersion`, followed through the switch's
dependencies, of the policy the switch names) is judged by its document: IM full access, or CAM write,
with which its holders can give themselves IM full access. Any other version cannot be shown safe, so
it is assumed to be IM full access, unless the reviewed approvals list the policy in
`reviewedCustomPolicies`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

import pulumi
from pulumi_policy import PolicyResource, ReportViolation
from pulumi_policy.proxy import UnknownValueError

from im_access.access import normalise_policy_id
from im_access.reach import judge_document
from im_guardrails.full_access import FIX
from im_guardrails.resources import policy_documents

SET_POLICY_VERSION = "tencentcloud:Cam/setPolicyVersionConfig:SetPolicyVersionConfig"
POLICY_VERSION = "tencentcloud:Cam/policyVersion:PolicyVersion"


def _known(props: Mapping[str, Any], key: str) -> Any:
    """A property's value, or None while it is unknown (a preview), without aborting the stack policy."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def _same_policy(switch: PolicyResource, version: PolicyResource) -> bool:
    """Whether a version is of the policy the switch names: a dependency on a version of another policy
    is no reason to judge the switch by that version."""
    switched, of_version = _known(switch.props, "policyId"), _known(version.props, "policyId")
    if switched is None or of_version is None:
        return True  # unknown in preview: followed by the dependency, judged again at up
    return normalise_policy_id(switched) == normalise_policy_id(of_version)


def report_version_switches(
    resources: Sequence[PolicyResource], reviewed: Set[int], report_violation: ReportViolation
) -> None:
    stack = pulumi.get_stack()
    for switch in resources:
        if switch.resource_type != SET_POLICY_VERSION:
            continue
        versions = [
            v
            for v in switch.property_dependencies.get("versionId", [])
            if v.resource_type == POLICY_VERSION and _same_policy(switch, v)
        ]
        if versions:  # a version of this stack: its own document decides
            for version in versions:
                grant = judge_document(
                    f"version {version.name!r}", *policy_documents(version.resource_type, version.props)
                )
                if found := grant.reaches(cam_write=True):
                    report_violation(
                        f"Remove the switch {switch.name!r} to version {version.name!r} on stack {stack!r}: that"
                        f" version {'allows IM full access' if found[0] == 'full' else 'allows CAM write'}"
                        f" ({found[1]}); {FIX}.",
                        switch.urn,
                    )
            continue
        policies = switch.property_dependencies.get("policyId", [])
        policy_id = None if policies else normalise_policy_id(_known(switch.props, "policyId"))
        if policy_id is not None and policy_id in reviewed:
            continue  # reviewed elsewhere: assumed not to be full access, as the approvals say
        named = f"custom policy {policies[0].name!r} of this stack" if policies else f"custom policy {policy_id}"
        version_id = normalise_policy_id(_known(switch.props, "versionId"))
        target = "an unknown version" if version_id is None else f"version {version_id}"
        report_violation(
            f"Remove the switch {switch.name!r} of {named} to {target} on stack {stack!r}: this stack does not"
            " create that version, so it cannot be shown safe and is assumed to be IM full access. Create the"
            " version here (cam.PolicyVersion) so its document is judged, list the policy in"
            f" policy_pack/approvals.yaml reviewedCustomPolicies once reviewed, or {FIX}.",
            switch.urn,
        )
