"""After an interrupted `up`: the creates the engine started and never saw finish.

A killed engine leaves each create it had started in the state's `pending_operations`: CAM may or
may not have made the resource. The preflight (commands/preflight.py) looks each one up in CAM and
imports what exists or clears what does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

USER = "tencentcloud:Cam/user:User"
POLICY = "tencentcloud:Cam/policy:Policy"
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
MFA_FLAG = "tencentcloud:Cam/mfaFlag:MfaFlag"
ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"


@dataclass(frozen=True)
class PendingCreate:
    """A create the engine started and never saw finish."""

    urn: str
    type: str
    inputs: Mapping[str, Any]
    parent: str = ""
    provider: str = ""  # `<provider urn>::<provider id>`

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def operator(self) -> str | None:
        """The operator whose user this is (`<operator>-user` under an ImOperator), if it is one."""
        if self.type != USER or "im-access:index:ImOperator$" not in self.urn:
            return None
        return self.name.removesuffix("-user")


def pending_creates(deployment: Mapping[str, Any]) -> list[PendingCreate]:
    """The pending creates of a `pulumi stack export` deployment."""
    found = []
    for operation in deployment.get("pending_operations") or []:
        resource = operation.get("resource") or {}
        if operation.get("type") == "creating" and resource.get("urn"):
            found.append(
                PendingCreate(
                    str(resource["urn"]),
                    str(resource.get("type")),
                    resource.get("inputs") or {},
                    str(resource.get("parent") or ""),
                    str(resource.get("provider") or ""),
                )
            )
    return found
