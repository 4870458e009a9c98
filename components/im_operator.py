"""ImOperator: a CAM sub-user created to operate IM, with the IM policy for its access level."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pulumi
from tencentcloud_iac_pulumi import cam

from components.im_policy import ImAccess, policy_for
from components.preset_policies import PresetPolicies
from im_access.adoption import Adoption, mfa_flag_import_id, user_attachment_id, user_import_id
from im_access.break_glass import utc_today
from im_access.contract import IM_OPERATOR, MFA_FACTOR, MFA_FACTORS, Props
from im_access.key_rotation import KeyGeneration, Rotation, generations


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
    rotation: Rotation | None = None
    """With an API key: rotate it through `cam.AccessKey` generations instead of the user's own key."""
    pgp_key: str | None = None
    """With rotation: the recipient's OpenPGP public key (base64, raw); state then holds only the
    encrypted SecretKey."""
    own_key_last_day: dt.date | None = None
    """With rotation, after `apiKey: true`: the user's own key is adopted as a `cam.AccessKey` and
    kept to this day beside the new key, then deleted by the first `pulumi up` after it."""
    today: dt.date | None = None
    """The day that decides which key generations exist (IM_ACCESS_TODAY in rehearsals and tests)."""
    login_mfa: bool = True
    """CAM login protection (a virtual MFA device) for a console operator."""
    mfa_opt_out_reason: str | None = None
    """Why a console operator logs in without MFA: shown to reviewers and the guardrails."""
    email: str | None = None
    phone: str | None = None
    country_code: str | None = None
    remark: str | None = None
    custom_policy_name: str | None = None
    """Name of the custom policy (`custom` only); defaults to `im-access-<user name>`."""
    adoption: Adoption | None = None
    """A user made elsewhere (`make adopt`): the user, its MFA flags and its attachment are imported
    as they are, never created; it keeps its password and keys."""


def _flag(on: bool) -> dict[str, int]:
    return {factor: int(on and factor == MFA_FACTOR) for factor in MFA_FACTORS}


class ImOperator(pulumi.ComponentResource):
    """A CAM sub-user with IM access. Its password and keys are Pulumi secrets."""

    user_name: pulumi.Output[str]
    uin: pulumi.Output[int]
    login_url: pulumi.Output[str | None]
    password: pulumi.Output[str | None]
    secret_id: pulumi.Output[str | None]
    secret_key: pulumi.Output[str | None]
    encrypted_secret_key: pulumi.Output[str | None]
    key_created: pulumi.Output[str | None]
    next_key: pulumi.Output[str | None]
    previous_key_last_day: pulumi.Output[str | None]
    policy_id: pulumi.Output[str]
    policy_name: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    TYPE = IM_OPERATOR

    def __init__(self, name: str, args: ImOperatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            self.TYPE,
            name,
            {
                Props.USER_NAME: args.user_name,
                Props.CONSOLE: args.console,
                Props.API_KEY: args.api_key,
                Props.LOGIN_MFA: args.login_mfa,
                Props.MFA_OPT_OUT_REASON: args.mfa_opt_out_reason,
                Props.OWNER_UIN: args.owner_uin,
                **args.access.engine_props(),
            },
            opts,
        )
        child = pulumi.ResourceOptions(parent=self)
        adoption = args.adoption
        if adoption is None:
            user = cam.User(
                f"{name}-user",
                name=args.user_name,
                console_login=args.console,
                # CAM generates the password when none is given; it is never read from config.
                need_reset_password=True if args.console else None,
                # A rotating key is a resource of its own; the user's own key cannot be rotated.
                use_api=args.api_key and args.rotation is None,
                email=args.email,
                phone_num=args.phone,
                country_code=args.country_code,
                remark=args.remark or "IM operator managed by im-access",
                # The user and its keys belong to this stack, so removing the operator removes them too.
                force_delete=True,
                opts=pulumi.ResourceOptions(
                    parent=self, additional_secret_outputs=["password", "secretId", "secretKey"]
                ),
            )
        else:
            user = self._adopted_user(name, args)
        policy = policy_for(
            args.access,
            name=name,
            custom_policy_name=args.custom_policy_name or f"im-access-{args.user_name}",
            owner_uin=args.owner_uin,
            presets=args.presets,
            parent=self,
        )
        cam.UserPolicyAttachment(
            f"{name}-im-access",
            user_name=user.name,
            policy_id=policy.policy_id,
            opts=child
            if adoption is None
            else pulumi.ResourceOptions(parent=self, import_=user_attachment_id(args.user_name, adoption.policy_id)),
        )
        # Every operator has its flags, set to what it should have: CAM keeps flags when the
        # resource is deleted, so turning one off is an update to 0, never a removal. An adopted
        # operator's are imported and kept as they are: adopting changes nothing in the account.
        cam.MfaFlag(
            f"{name}-mfa",
            op_uin=user.uin if adoption is None or adoption.uin is None else int(adoption.uin),
            login_flag=_flag(args.console and args.login_mfa),
            # Operation protection: full access needs a second factor for sensitive actions too.
            action_flag=_flag(args.access.effective_level == "full"),
            opts=child
            if adoption is None or adoption.uin is None
            else pulumi.ResourceOptions(
                parent=self,
                import_=mfa_flag_import_id(adoption.uin),
                ignore_changes=["loginFlag", "actionFlag"],
            ),
        )

        self.user_name = user.name
        self.uin = user.uin
        # The link names the owner account and the user: handed over like the password, and only
        # to an operator who may log in to the console.
        self.login_url = pulumi.Output.secret(args.login_url) if args.console else pulumi.Output.from_input(None)
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        # Secrets stay secret however the provider marks them. An adopted user keeps the password
        # and keys it had: nothing of them is in the state, nothing to hand over.
        handed_over = adoption is None
        self.password = pulumi.Output.secret(user.password) if args.console and handed_over else none
        self.secret_id = pulumi.Output.secret(user.secret_id) if args.api_key and handed_over else none
        self.secret_key = pulumi.Output.secret(user.secret_key) if args.api_key and handed_over else none
        self.adopted = pulumi.Output.from_input(adoption is not None)
        self.encrypted_secret_key = self.key_created = self.next_key = self.previous_key_last_day = none
        if args.api_key and args.rotation is not None:
            today = args.today or utc_today()
            keys = generations(args.user_name, args.rotation, today)
            self._rotating_keys(name, keys, args, user)
            kept_until = args.own_key_last_day if args.own_key_last_day and today <= args.own_key_last_day else None
            if kept_until:
                pulumi.Output.all(user.uin, user.secret_id).apply(lambda ids: self._adopt_own_key(name, *ids))
            newest = keys[-1]
            self.key_created = pulumi.Output.from_input(newest.starts.isoformat())
            self.next_key = pulumi.Output.from_input(
                (newest.starts + dt.timedelta(days=args.rotation.rotate_days)).isoformat()
            )
            if len(keys) > 1:
                self.previous_key_last_day = pulumi.Output.from_input(keys[0].last_day.isoformat())
            elif kept_until:
                last_day = kept_until.isoformat()
                self.previous_key_last_day = user.secret_id.apply(lambda key_id: last_day if key_id else None)
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
                "encryptedSecretKey": self.encrypted_secret_key,
                "keyCreated": self.key_created,
                "nextKey": self.next_key,
                "previousKeyLastDay": self.previous_key_last_day,
                "policyId": self.policy_id,
                "policyName": self.policy_name,
                "adopted": self.adopted,
            }
        )

    def _adopted_user(self, name: str, args: ImOperatorArgs) -> cam.User:
        """The user as it exists, imported: its inputs are what the provider's import reads back
        (its defaults for what CAM does not report: use_api and need_reset_password on,
        force_delete off), so the import matches and nothing is sent to CAM."""
        return cam.User(
            f"{name}-user",
            name=args.user_name,
            console_login=args.console,
            need_reset_password=True,
            use_api=True,
            email=args.email,
            phone_num=args.phone,
            country_code=args.country_code,
            remark=args.remark or "",
            # Its keys were not made here: deleting the operator never deletes them with the user.
            force_delete=False,
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=user_import_id(args.user_name),
                additional_secret_outputs=["password", "secretId", "secretKey"],
            ),
        )

    def _adopt_own_key(self, name: str, uin: int | None, key_id: str | None) -> None:
        """The user's own key (made with the user, `apiKey: true`) as a resource of this stack, so the
        engine deletes it once it is no longer declared. Its id is known only from the user's state, so
        it is registered when that is read: a new user, which has no own key, registers nothing."""
        if uin is None or not key_id:
            return
        cam.AccessKey(
            f"{name}-own-key",
            target_uin=uin,
            opts=pulumi.ResourceOptions(parent=self, import_=f"{uin}#{key_id}"),
        )

    def _rotating_keys(self, name: str, keys: list[KeyGeneration], args: ImOperatorArgs, user: cam.User) -> None:
        """One `cam.AccessKey` per generation alive today, named by the day it starts; the newest is
        handed over. A generation no longer alive is deleted by the engine after the new one exists."""
        newest = None
        for generation in keys:
            newest = cam.AccessKey(
                f"{name}-{generation.resource_suffix}",
                # Always the operator: without a target the key would be the deploy identity's own.
                target_uin=user.uin,
                pgp_key=args.pgp_key,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secretAccessKey"]),
            )
        assert newest is not None
        self.secret_id = pulumi.Output.secret(newest.access_key)
        if args.pgp_key is None:
            self.secret_key = pulumi.Output.secret(newest.secret_access_key)
        else:
            self.secret_key = pulumi.Output.from_input(None)
            # Only the recipient's private key opens it; a secret all the same, so that a pgpKey
            # slipped into config does not get the key printed in a deploy's log for its holder.
            self.encrypted_secret_key = pulumi.Output.secret(newest.encrypted_secret_access_key)
