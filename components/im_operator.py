"""ImOperator: a CAM sub-user created to operate IM, with the IM policy for its access level."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from tencentcloud_iac_pulumi import cam

from components.im_policy import ImAccess, policy_for
from components.preset_policies import PresetPolicies
from im_access.contract import IM_OPERATOR, Props


@dataclass(frozen=True)
class ImOperatorArgs:
    """Inputs of an ImOperator."""

    user_name: str
    """The CAM sub-user name to create."""
    access: ImAccess
    """The IM access level (and scope, for `custom`)."""
    owner_uin: str
    """The root account UIN, used in custom policy resources and the login link."""
    login_url: str
    """The console login link handed over to the operator (kept as a secret output)."""
    presets: PresetPolicies
    """Where preset policy ids come from (shared by all components of a run)."""
    console: bool = True
    """Console access with a generated password that must be reset at first login."""
    api_key: bool = False
    """Programmatic access: a SecretId/SecretKey pair. Off unless asked for."""
    email: str | None = None
    phone: str | None = None
    country_code: str | None = None
    remark: str | None = None
    custom_policy_name: str | None = None
    """Name of the custom policy (`custom` only); defaults to `im-access-<user name>`."""


class ImOperator(pulumi.ComponentResource):
    """A CAM sub-user with IM access. Its password and keys are Pulumi secrets."""

    user_name: pulumi.Output[str]
    uin: pulumi.Output[int]
    login_url: pulumi.Output[str | None]
    password: pulumi.Output[str | None]
    secret_id: pulumi.Output[str | None]
    secret_key: pulumi.Output[str | None]
    policy_id: pulumi.Output[str]
    policy_name: pulumi.Output[str]

    TYPE = IM_OPERATOR

    def __init__(self, name: str, args: ImOperatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            self.TYPE,
            name,
            {
                Props.USER_NAME: args.user_name,
                Props.CONSOLE: args.console,
                Props.API_KEY: args.api_key,
                **args.access.engine_props(),
            },
            opts,
        )
        child = pulumi.ResourceOptions(parent=self)
        user = cam.User(
            f"{name}-user",
            name=args.user_name,
            console_login=args.console,
            # CAM generates the password when none is given; it is never read from config.
            need_reset_password=True if args.console else None,
            use_api=args.api_key,
            email=args.email,
            phone_num=args.phone,
            country_code=args.country_code,
            remark=args.remark or "IM operator managed by im-access",
            # The user and its keys belong to this stack, so removing the operator removes them too.
            force_delete=True,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["password", "secretId", "secretKey"]),
        )
        policy = policy_for(
            args.access,
            name=name,
            custom_policy_name=args.custom_policy_name or f"im-access-{args.user_name}",
            owner_uin=args.owner_uin,
            presets=args.presets,
            parent=self,
        )
        cam.UserPolicyAttachment(f"{name}-im-access", user_name=user.name, policy_id=policy.policy_id, opts=child)

        self.user_name = user.name
        self.uin = user.uin
        # The link names the owner account and the user: handed over like the password, and only
        # to an operator who may log in to the console.
        self.login_url = pulumi.Output.secret(args.login_url) if args.console else pulumi.Output.from_input(None)
        # Secrets stay secret however the provider marks them.
        self.password = pulumi.Output.secret(user.password) if args.console else pulumi.Output.from_input(None)
        self.secret_id = pulumi.Output.secret(user.secret_id) if args.api_key else pulumi.Output.from_input(None)
        self.secret_key = pulumi.Output.secret(user.secret_key) if args.api_key else pulumi.Output.from_input(None)
        self.policy_id = policy.policy_id
        self.policy_name = policy.policy_name
        self.register_outputs(
            {
                "userName": self.user_name,
                "uin": self.uin,
                "loginUrl": self.login_url,
                "password": self.password,
                "secretId": self.secret_id,
                "secretKey": self.secret_key,
                "policyId": self.policy_id,
                "policyName": self.policy_name,
            }
        )
