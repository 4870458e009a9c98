"""im-access: who may operate Tencent Cloud IM, as code. One stack per environment.

Reads the stack's `im-access` configuration and wires the components; nothing else.
"""

import pulumi

from components import ImAccess, ImAccessGrant, ImAccessGrantArgs, ImOperator, ImOperatorArgs, PresetPolicies
from im_access.break_glass import today
from im_access.config import GrantConfig, OperatorConfig, component_name, custom_policy_name, load_stack_config
from im_access.contract import user_principal

config = load_stack_config()  # raises, listing every problem, before any resource is registered
presets = PresetPolicies()


def _access(entry: OperatorConfig | GrantConfig) -> ImAccess:
    return ImAccess(entry.access, tuple(entry.sdk_app_ids or ()), tuple(entry.actions or ()), entry.expires)


operators = {
    entry.name: ImOperator(
        component_name(entry),
        ImOperatorArgs(
            user_name=entry.name,
            access=_access(entry),
            owner_uin=config.owner_uin,
            login_url=config.login_url(entry.name),
            presets=presets,
            console=entry.console,
            api_key=entry.api_key is not False,
            rotation=entry.rotation,
            pgp_key=entry.pgp_key,
            own_key_last_day=entry.own_key_last_day,
            today=today(),
            login_mfa=entry.mfa.login,
            mfa_opt_out_reason=entry.mfa.reason,
            email=entry.email,
            phone=entry.phone,
            country_code=entry.country_code,
            remark=entry.remark,
            custom_policy_name=custom_policy_name(pulumi.get_stack(), entry),
            adoption=entry.adopted.adoption() if entry.adopted else None,
        ),
    )
    for entry in config.operators
}

grants = {
    entry.principal: ImAccessGrant(
        component_name(entry),
        ImAccessGrantArgs(
            access=_access(entry),
            owner_uin=config.owner_uin,
            presets=presets,
            user_name=entry.user,
            group_id=entry.group,
            custom_policy_name=custom_policy_name(pulumi.get_stack(), entry),
            adoption=entry.adopted.adoption() if entry.adopted else None,
        ),
    )
    for entry in config.grants
}


def _summary(principal: str, entry: OperatorConfig | GrantConfig, granted: ImOperator | ImAccessGrant) -> dict:
    return {
        "principal": principal,
        "managedUser": isinstance(entry, OperatorConfig),
        "access": _access(entry).effective_level,
        # Exactly what is attached: the policy's name and its id.
        "policy": granted.policy_name,
        "policyId": granted.policy_id.apply(int),
        "expires": entry.expires.isoformat() if entry.expires else None,
    }


# For reviewers: who has which IM access in this stack.
pulumi.export(
    "access",
    [_summary(user_principal(entry.name), entry, operators[entry.name]) for entry in config.operators]
    + [_summary(entry.principal, entry, grants[entry.principal]) for entry in config.grants],
)
recipients = {entry.name: entry.age_recipient for entry in config.operators}
# Hand-over: password, SecretId and SecretKey are secrets; `python -m commands.handover` writes them out.
pulumi.export(
    "operators",
    {
        name: {
            "userName": operator.user_name,
            "uin": operator.uin,
            "loginUrl": operator.login_url,
            "password": operator.password,
            "secretId": operator.secret_id,
            "secretKey": operator.secret_key,
            # With rotation: the newest key's first day, the next rotation, and the last day the
            # previous key works; with a PGP key, the SecretKey only encrypted for its recipient.
            "keyCreated": operator.key_created,
            "nextKey": operator.next_key,
            "previousKeyLastDay": operator.previous_key_last_day,
            "encryptedSecretKey": operator.encrypted_secret_key,
            # The hand-over seals the operator's file for this age key, when there is one.
            "ageRecipient": recipients[name],
            # Made elsewhere and adopted: it kept its password and keys, so nothing is handed over.
            "adopted": operator.adopted,
        }
        for name, operator in operators.items()
    },
)
