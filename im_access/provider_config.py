"""Where the Tencent Cloud provider and the audit send their requests: never steered by a stack file,
nor by the environment of a run.

`tencentcloud:domain` (or `cosDomain`, a profile, a role to assume, ...) would send the audit's
signed requests, and the deploy's responses that carry passwords and keys, to another host;
`tencentcloud:protocol: HTTP` would send them in plain text. Provider settings are therefore an
allow-list: a stack may set its region and its account pin (im_access/account_pin.py), the plugin
is the installed version, and only localcloud's route may speak HTTP (the local stack, or a run
whose proxies are localcloud on this machine, `localcloud_route`). The provider's own steering
variables (`TENCENTCLOUD_DOMAIN`, ...) and a moved date off that route are refused the same way.
The config check, the policy pack, the stack command and the audit all judge by this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from im_access.account_pin import ALLOWED_ACCOUNTS, ASSUME_ROLE, pin_problems
from im_access.contract import UIN

PROVIDER = "tencentcloud"
PROVIDER_RESOURCE = f"pulumi:providers:{PROVIDER}"
LOCAL_STACK = "local"  # the stack that runs against localcloud
# What a stack file may set in the provider's namespace (the pin's values are judged by account_pin).
STACK_FILE_KEYS = frozenset({"region", ALLOWED_ACCOUNTS, ASSUME_ROLE})
# The provider plugin the engine is installed with (engine/versions.env; a test keeps them equal):
# a provider asking for another version would run another binary.
PLUGIN_VERSION = "0.2.3"
# What else a provider resource may carry: none of it says where requests go.
PROVIDER_INPUT_KEYS = STACK_FILE_KEYS | {
    "version",
    "secretId",
    "secretKey",
    "securityToken",
}
# The provider's own environment variables (v0.2.3 reads these, see tests/test_provider_env.py) that
# say where its requests go or whose identity signs them: a stack file may not say so, and neither
# may the environment of a run. Credentials, the region and timeouts remain the run's own.
STEERING_ENV = frozenset(
    {
        "TENCENTCLOUD_DOMAIN",
        "TENCENTCLOUD_PROTOCOL",
        "TENCENTCLOUD_COS_DOMAIN",
        "TENCENTCLOUD_PROFILE",
        "TENCENTCLOUD_SHARED_CREDENTIALS_DIR",
        "TENCENTCLOUD_CAM_ROLE_NAME",
        "TENCENTCLOUD_ASSUME_ROLE_ARN",
        "TENCENTCLOUD_ASSUME_ROLE_SESSION_NAME",
        "TENCENTCLOUD_ASSUME_ROLE_SESSION_DURATION",
        "TENCENTCLOUD_ASSUME_ROLE_EXTERNAL_ID",
        "TENCENTCLOUD_ASSUME_ROLE_SOURCE_IDENTITY",
        "TENCENTCLOUD_ASSUME_ROLE_SERIAL_NUMBER",
        "TENCENTCLOUD_ASSUME_ROLE_TOKEN_CODE",
        "TENCENTCLOUD_ASSUME_ROLE_WEB_IDENTITY_TOKEN",
        "TENCENTCLOUD_ASSUME_ROLE_PROVIDER_ID",
        "TENCENTCLOUD_ASSUME_ROLE_SAML_ASSERTION",
        "TENCENTCLOUD_ASSUME_ROLE_PRINCIPAL_ARN",
        "TENCENTCLOUD_MFA_CERTIFICATION_SERIAL_NUMBER",
        "TENCENTCLOUD_MFA_CERTIFICATION_TOKEN_CODE",
        "TENCENTCLOUD_MFA_CERTIFICATION_DURATION_SECONDS",
    }
)
# The date the guardrails judge by (break-glass expiries, access expiry, key rotation), for rehearsals
# and tests through localcloud; anywhere else it would move them.
TODAY_VARIABLE = "IM_ACCESS_TODAY"
PROTOCOL = "protocol"
OWNER_UIN_KEY = "im-access:ownerUin"
SAFE_PROTOCOL, LOCALCLOUD_PROTOCOL = "HTTPS", "HTTP"
# What NO_PROXY may exempt on localcloud's route: loopback only (scripts/with_localcloud.sh's list).
LOOPBACK_EXEMPTIONS = frozenset({"", "127.0.0.1", "localhost", "::1", "[::1]"})
# A plain-HTTP proxy on a loopback address, written the one way scripts/with_localcloud.sh writes it:
# Go reads a value it cannot parse (an escape, a control character, a bad port) as no proxy at all,
# and would then send the request to the cloud directly.
LOOPBACK_PROXY = re.compile(
    r"http://(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|localhost|\[::1\]):[0-9]{1,5}/?", re.ASCII
)


def _loopback_proxy(value: str) -> bool:
    return LOOPBACK_PROXY.fullmatch(value) is not None


def localcloud_route(env: Mapping[str, str]) -> bool:
    """Whether every request goes to localcloud, as scripts/with_localcloud.sh routes them: HTTP_PROXY
    and HTTPS_PROXY both a plain-HTTP proxy on a loopback address, NO_PROXY exempting loopback
    addresses at most, and no REQUEST_METHOD (with which Go ignores HTTP_PROXY). Read as Go's
    net/http reads them: the upper-case name first, an empty value as unset."""

    def variable(name: str) -> str:
        return env.get(name) or env.get(name.lower()) or ""

    exemptions = {entry.strip().lower() for entry in variable("NO_PROXY").split(",")}
    return (
        _loopback_proxy(variable("HTTP_PROXY"))
        and _loopback_proxy(variable("HTTPS_PROXY"))
        and exemptions <= LOOPBACK_EXEMPTIONS
        and not env.get("REQUEST_METHOD")
    )


def env_problems(env: Mapping[str, str]) -> list[str]:
    """The provider's steering variables that `env` sets (an empty one counts as unset), and a date of
    its own outside localcloud's route."""
    problems = [
        f"environment variable {name}: it would change where the provider's requests go or whose identity"
        " signs them, outside the reviewed stack file; unset it (the stack file's tencentcloud:assumeRole"
        " names a role)"
        for name in sorted(STEERING_ENV)
        if env.get(name)
    ]
    if env.get(TODAY_VARIABLE) and not localcloud_route(env):
        problems.append(
            f"environment variable {TODAY_VARIABLE}: it would move the date that break-glass exceptions, access"
            " expiry and key rotation are judged by; it is for runs through localcloud only; unset it"
        )
    return problems


def provider_problems(
    stack: str,
    settings: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    where: str,
    allowed: frozenset[str] = STACK_FILE_KEYS,
) -> list[str]:
    """Why the provider settings (keys without the `tencentcloud:` prefix) of `stack` may not be used;
    `where` names them in each problem (`tencentcloud:`, or a provider resource)."""
    http_allowed = stack == LOCAL_STACK or localcloud_route(env)
    problems: list[str] = []
    for key in sorted(settings, key=str):
        value = settings[key]
        if key == "version" and value is not None and str(value) != PLUGIN_VERSION:
            problems.append(
                f"{where}version: {str(value)[:40]!r} would run another provider plugin than the one installed"
                f" and reviewed; allowed: {PLUGIN_VERSION} (engine/versions.env)"
            )
            continue
        if key in allowed or value is None:
            continue
        # ASCII only: "http" + U+017F (long s) upper-cases to "HTTPS".
        protocol = str(value).upper() if key == PROTOCOL and str(value).isascii() else None
        if protocol == SAFE_PROTOCOL:
            continue
        if protocol == LOCALCLOUD_PROTOCOL and http_allowed:
            continue
        if protocol == LOCALCLOUD_PROTOCOL:
            reason = "plain HTTP is only for localcloud (the local stack, or a run through localcloud)"
        else:
            reason = "it would steer where the provider's requests (signed, carrying passwords and keys) go"
        problems.append(
            f"{where}{key}: {reason}; allowed: {', '.join(sorted(allowed))}"
            + (f", {PROTOCOL}: {SAFE_PROTOCOL}" if key == PROTOCOL else "")
        )
    return problems


def stack_config_problems(stack: str, values: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """The provider keys of a flat stack config (`tencentcloud:domain`, ...) that may not be used, and
    a missing or wrong account pin, and the provider's steering variables `env` sets. With an empty
    `env`, the stack file is judged alone: only the local stack's may ask for HTTP."""
    prefix = f"{PROVIDER}:"
    settings = {key[len(prefix) :]: value for key, value in values.items() if str(key).startswith(prefix)}
    owner = values.get(OWNER_UIN_KEY)
    # A malformed ownerUin is the config check's to report; the pin is then judged on its own.
    known_owner = owner if isinstance(owner, str) and UIN.match(owner) else None
    return [
        *provider_problems(stack, settings, env, where=prefix),
        *pin_problems(settings, known_owner, where=prefix),
        *env_problems(env),
    ]
