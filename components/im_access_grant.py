"""ImAccessGrant: IM access for a sub-user or group that already exists and is managed elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from tencentcloud_iac_pulumi import cam

from components.im_policy import ImAccess, policy_for
from components.preset_policies import PresetPolicies
from im_access.adoption import Adoption, group_attachment_id, user_attachment_id
from im_access.contract import IM_ACCESS_GRANT, Props, group_principal, principal_slug, user_principal


@dataclass(frozen=True)
class ImAccessGrantArgs:
    """Inputs of an ImAccessGrant. Exactly one of `user_name` and `group_id` is set."""

    access: ImAccess
    """The IM access level (and scope, for `custom`)."""
    owner_uin: str
    """The root account UIN, used in custom policy resources."""
    presets: PresetPolicies
    """Where preset policy ids come from (shared by all components of a run)."""
    user_name: str | None = None
    """An existing CAM sub-user, by name."""
    group_id: int | None = None
    """An existing CAM user group, by id."""
    custom_policy_name: str | None = None
    """Name of the custom policy (`custom` only); defaults to `im-access-<principal>`."""
    adoption: Adoption | None = None
    """An attachment made elsewhere (`make adopt`): imported as it is, never created."""

    def __post_init__(self) -> None:
        if (self.user_name is None) == (self.group_id is None):
            raise ValueError("an ImAccessGrant needs exactly one of user_name or group_id")

    @property
    def principal(self) -> str:
        return user_principal(self.user_name) if self.user_name is not None else group_principal(str(self.group_id))


class ImAccessGrant(pulumi.ComponentResource):
    """Attaches the IM policy for an access level to an existing principal.

    Only the attachment (and, for `custom`, the policy) belongs to this component: the user or
    group is never created, changed or deleted. Removing the grant detaches exactly that policy.
    """

    principal: pulumi.Output[str]
    policy_id: pulumi.Output[str]
    policy_name: pulumi.Output[str]

    TYPE = IM_ACCESS_GRANT

    def __init__(self, name: str, args: ImAccessGrantArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            self.TYPE,
            name,
            {
                Props.USER_NAME: args.user_name,
                Props.GROUP_ID: args.group_id,
                Props.OWNER_UIN: args.owner_uin,
                **args.access.engine_props(),
            },
            opts,
        )
        slug = principal_slug(args.principal)
        policy = policy_for(
            args.access,
            name=name,
            custom_policy_name=args.custom_policy_name or f"im-access-{slug}",
            owner_uin=args.owner_uin,
            presets=args.presets,
            parent=self,
        )
        adopted = args.adoption
        if args.user_name is not None:
            import_id = user_attachment_id(args.user_name, adopted.policy_id) if adopted else None
            cam.UserPolicyAttachment(
                f"{name}-im-access",
                user_name=args.user_name,
                policy_id=policy.policy_id,
                opts=pulumi.ResourceOptions(parent=self, import_=import_id),
            )
        else:
            import_id = group_attachment_id(str(args.group_id), adopted.policy_id) if adopted else None
            cam.GroupPolicyAttachment(
                f"{name}-im-access",
                group_id=str(args.group_id),
                policy_id=policy.policy_id,
                opts=pulumi.ResourceOptions(parent=self, import_=import_id),
            )

        self.principal = pulumi.Output.from_input(args.principal)
        self.policy_id = policy.policy_id
        self.policy_name = policy.policy_name
        self.register_outputs({"principal": self.principal, "policyId": self.policy_id, "policyName": self.policy_name})
