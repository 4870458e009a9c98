"""Reusable Pulumi components for IM access on Tencent Cloud CAM."""

from components.ci_federation import CiFederation, CiFederationArgs
from components.im_access_grant import ImAccessGrant, ImAccessGrantArgs
from components.im_operator import ImOperator, ImOperatorArgs
from components.im_policy import ImAccess
from components.preset_policies import PresetPolicies

__all__ = [
    "CiFederation",
    "CiFederationArgs",
    "ImAccess",
    "ImAccessGrant",
    "ImAccessGrantArgs",
    "ImOperator",
    "ImOperatorArgs",
    "PresetPolicies",
]
