"""The stack configuration contract (namespace `im-access`) and its validation.

Every problem in a stack's configuration is collected and reported at once, each naming the
stack, the key path (`im-access:operators[2].access`) and what is allowed, before the program
registers a single resource.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from string import Formatter
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import pulumi
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from im_access import safe_yaml
from im_access.access import ACCESS_LEVELS, IM_ACTION_PREFIX, AccessLevel
from im_access.adoption import Adoption
from im_access.break_glass import today, utc_today
from im_access.contract import UIN_PATTERN, group_principal, principal_slug, user_principal
from im_access.key_rotation import DEFAULT_OVERLAP_DAYS, DEFAULT_ROTATE_DAYS, Rotation, generations
from im_access.provider_config import stack_config_problems

NAMESPACE = "im-access"
# Where operators log in; a template pointing elsewhere could send their credentials to another site.
LOGIN_HOSTS = ("intl.cloud.tencent.com", "cloud.tencent.com")
LOGIN_FIELDS = ("ownerUin", "userName")
DEFAULT_LOGIN_URL_TEMPLATE = (
    "https://intl.cloud.tencent.com/login/subAccount/{ownerUin}?type=subAccount&username={userName}"
)

# CAM sub-user names: letters, digits and +=,.@_- ; at most 64 characters.
CAM_USER_NAME = r"^[A-Za-z0-9+=,.@_-]{1,64}$"
IM_ACTION = r"^name/im:[A-Za-z0-9*]+$"

CamUserName = Annotated[str, StringConstraints(pattern=CAM_USER_NAME)]
ImAction = Annotated[str, StringConstraints(pattern=IM_ACTION)]
SdkAppId = Annotated[StrictInt, Field(gt=0)]

_ALLOWED_HINTS = {
    "name": "1-64 characters from letters, digits and +=,.@_-",
    "user": "an existing CAM sub-user name: 1-64 characters from letters, digits and +=,.@_-",
    "group": "an existing CAM user group id (a positive integer)",
    "access": "one of " + ", ".join(ACCESS_LEVELS),
    "actions": f"a list of IM actions written {IM_ACTION_PREFIX}<Api> (wildcards allowed: {IM_ACTION_PREFIX}Describe*)",
    "sdkAppIds": "a list of IM application ids (SDKAppID, positive integers)",
    "expires": "a date YYYY-MM-DD that is today or later",
    "console": "true or false",
    "apiKey": "true, false, or {rotateDays, overlapDays, pgpKey, ownKeyLastDay} to rotate",
    "rotateDays": "whole days from 2 to 365",
    "overlapDays": "whole days, at least 1 and fewer than rotateDays",
    "ownKeyLastDay": "a date YYYY-MM-DD, the last day the user's own key (from apiKey: true) works beside the new",
    "pgpKey": "the base64 of a raw (not armored) OpenPGP public key: `gpg --export <id> | base64 -w0`",
    "mfa": "{login: false, reason: <why, 10-255 characters>} to opt out of login protection; default on",
    "login": "true or false",
    "reason": "why this operator logs in without MFA: 10-255 characters",
    "ageRecipient": "an age public key, age1... (`age-keygen -y`)",
    "email": "an e-mail address",
    "phone": "digits only, 5-20 of them",
    "countryCode": "1-4 digits, e.g. 86",
    "remark": "text of at most 255 characters",
    "ownerUin": "the root account UIN as a string of digits",
    "adopted": "{policyId: <id>} for a grant, {uin: <user's uin>, policyId: <id>} for an operator"
    " (written by `make adopt`): the attachment, user and MFA flags that exist already, imported",
    "uin": "the sub-user's uin as a string of digits",
    "policyId": "the id of the preset the principal holds (a positive integer)",
    "loginUrlTemplate": "an https:// link on intl.cloud.tencent.com or cloud.tencent.com with {ownerUin} and"
    " optionally {userName}",
    "operators": "a list of operator objects",
    "grants": "a list of grant objects",
}
ALLOW_PAST_EXPIRY = "allow_past_expiry"  # validation context key
SHOWN_CHARS = 60  # of a bad value quoted back in an error message
TOP_LEVEL_KEYS = ("ownerUin", "operators", "grants", "loginUrlTemplate")
# Keys a stack config may no longer set, and why.
RETIRED_KEYS = {
    "presetPolicyIds": (
        "preset policy ids are not read from stack config, so a config change can never attach another policy"
        " under a preset's name; they are looked up by exact name; allowed: remove the key"
    ),
}


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError(f"{safe_yaml.shown(value)} is not a date written YYYY-MM-DD")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class _ScopedAccess(_Strict):
    """Fields shared by operators and grants: the access level and, for `custom`, its scope."""

    access: AccessLevel
    sdk_app_ids: list[SdkAppId] | None = Field(default=None, alias="sdkAppIds")
    actions: list[ImAction] | None = None
    expires: dt.date | None = None

    @field_validator("expires", mode="before")
    @classmethod
    def _iso_date_only(cls, value: Any) -> Any:
        return _iso_date(value)

    @field_validator("expires")
    @classmethod
    def _not_in_the_past(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        # An audit reads stacks as they are, past dates included, to report access left to expire.
        if info.context and info.context.get(ALLOW_PAST_EXPIRY):
            return value
        if value is not None and value < utc_today():
            raise ValueError(f"{value.isoformat()} is in the past; the access must already be gone")
        return value


def _pgp_public_key(value: str) -> str:
    """The base64 of a raw OpenPGP public key, as the provider's `pgp_key` takes it. A `keybase:` name
    is refused: the provider would fetch the key from keybase.io at deploy time."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64; an armored key (-----BEGIN PGP...) is not taken either") from None
    # The first packet must be a public key (tag 6), in the old or the new packet format.
    tag = (raw[0] & 0x3F) if raw and raw[0] & 0x40 else ((raw[0] >> 2) & 0x0F) if raw else -1
    if not raw or not raw[0] & 0x80 or tag != 6:
        raise ValueError("is not an OpenPGP public key")
    return value


class ApiKeyConfig(_Strict):
    """API keys that rotate: a new key every rotateDays, the previous one kept overlapDays more."""

    rotate_days: Annotated[StrictInt, Field(ge=2, le=365)] = Field(default=DEFAULT_ROTATE_DAYS, alias="rotateDays")
    overlap_days: Annotated[StrictInt, Field(ge=1)] = Field(default=DEFAULT_OVERLAP_DAYS, alias="overlapDays")
    pgp_key: Annotated[str, StringConstraints(max_length=20000)] | None = Field(default=None, alias="pgpKey")
    # Moving from `apiKey: true`: the user's own key is adopted and kept to this day, then deleted.
    own_key_last_day: dt.date | None = Field(default=None, alias="ownKeyLastDay")

    @field_validator("own_key_last_day", mode="before")
    @classmethod
    def _iso_date_only(cls, value: Any) -> Any:
        return _iso_date(value)

    @field_validator("pgp_key")
    @classmethod
    def _raw_public_key(cls, value: str | None) -> str | None:
        return None if value is None else _pgp_public_key(value)

    @model_validator(mode="after")
    def _overlap_within_the_period(self) -> ApiKeyConfig:
        if self.overlap_days >= self.rotate_days:
            raise ValueError(
                f"overlapDays ({self.overlap_days}) must be fewer than rotateDays ({self.rotate_days}),"
                " or two keys would be due at once beside a third"
            )
        return self

    @property
    def rotation(self) -> Rotation:
        return Rotation(self.rotate_days, self.overlap_days)


AGE_RECIPIENT = r"^age1[02-9ac-hj-np-z]{58}$"


class MfaConfig(_Strict):
    """CAM's login protection for a console operator; on unless opted out, with the reason reviewed."""

    login: StrictBool = True
    reason: Annotated[str, StringConstraints(min_length=10, max_length=255)] | None = None

    @model_validator(mode="after")
    def _opt_out_says_why(self) -> MfaConfig:
        if not self.login and not self.reason:
            raise ValueError("an operator without login protection needs a reason")
        return self


class AdoptedGrantConfig(_Strict):
    """What a grant imports instead of creating: the attachment of this policy (`make adopt`)."""

    policy_id: Annotated[StrictInt, Field(gt=0)] = Field(alias="policyId")

    def adoption(self) -> Adoption:
        return Adoption(self.policy_id)


class AdoptedOperatorConfig(AdoptedGrantConfig):
    """What an operator imports: its user, its MFA flags (by uin) and the attachment of this policy."""

    uin: Annotated[str, StringConstraints(pattern=UIN_PATTERN)]

    def adoption(self) -> Adoption:
        return Adoption(self.policy_id, self.uin)


class OperatorConfig(_ScopedAccess):
    """A CAM sub-user that this stack creates and gives IM access."""

    name: CamUserName
    console: StrictBool = True
    api_key: Annotated[
        Annotated[StrictBool, Tag("bool")] | Annotated[ApiKeyConfig, Tag("rotating")],
        Discriminator(lambda value: "bool" if isinstance(value, bool) else "rotating"),
    ] = Field(default=False, alias="apiKey")
    mfa: MfaConfig = Field(default_factory=MfaConfig)
    age_recipient: Annotated[str, StringConstraints(pattern=AGE_RECIPIENT)] | None = Field(
        default=None, alias="ageRecipient"
    )
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9]{5,20}$")] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,4}$")] | None = Field(
        default=None, alias="countryCode"
    )
    remark: Annotated[str, StringConstraints(max_length=255)] | None = None
    adopted: AdoptedOperatorConfig | None = None

    @property
    def rotation(self) -> Rotation | None:
        """How this operator's API keys rotate; None for no key, or the user's own key (`apiKey: true`)."""
        return self.api_key.rotation if isinstance(self.api_key, ApiKeyConfig) else None

    @property
    def pgp_key(self) -> str | None:
        return self.api_key.pgp_key if isinstance(self.api_key, ApiKeyConfig) else None

    @property
    def own_key_last_day(self) -> dt.date | None:
        return self.api_key.own_key_last_day if isinstance(self.api_key, ApiKeyConfig) else None


class GrantConfig(_ScopedAccess):
    """IM access for a sub-user or group that exists already and is not managed here."""

    user: CamUserName | None = None
    group: Annotated[StrictInt, Field(gt=0)] | None = None
    adopted: AdoptedGrantConfig | None = None

    @property
    def principal(self) -> str:
        return user_principal(self.user) if self.user is not None else group_principal(str(self.group))


class StackConfig(_Strict):
    """The whole `im-access` namespace of one stack."""

    owner_uin: Annotated[str, StringConstraints(pattern=UIN_PATTERN)] = Field(alias="ownerUin")
    operators: list[OperatorConfig] = Field(default_factory=list)
    grants: list[GrantConfig] = Field(default_factory=list)
    login_url_template: str = Field(default=DEFAULT_LOGIN_URL_TEMPLATE, alias="loginUrlTemplate")

    @field_validator("login_url_template")
    @classmethod
    def _usable_template(cls, value: str) -> str:
        problems = login_template_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    def login_url(self, user_name: str) -> str:
        return self.login_url_template.format(
            ownerUin=quote(self.owner_uin, safe=""), userName=quote(user_name, safe="")
        )


def login_template_problems(template: str) -> list[str]:
    """Why a login link template is unsafe: another host, or a placeholder other than the two known."""
    problems: list[str] = []
    parts = urlsplit(template)
    if parts.scheme != "https" or parts.hostname not in LOGIN_HOSTS or parts.port is not None or "@" in parts.netloc:
        problems.append(f"must be an https:// link on {' or '.join(LOGIN_HOSTS)}")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in Formatter().parse(template) if name is not None]
    except ValueError as error:
        return [*problems, f"is not a valid template: {error}"]
    if any(name not in LOGIN_FIELDS or spec or conv for name, spec, conv in fields):
        problems.append("may use only the placeholders {ownerUin} and {userName}, without format specs")
    elif "ownerUin" not in {name for name, _, _ in fields}:
        problems.append("must contain {ownerUin}")
    return problems


class ConfigurationError(pulumi.RunError):
    """Every problem found in a stack's `im-access` configuration."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.stack = stack
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = [f"stack {stack!r}: the {NAMESPACE} configuration has {count}; nothing was changed:"]
        lines += [f"  - {problem}" for problem in problems]
        super().__init__("\n".join(lines))


def _key_path(location: tuple[int | str, ...]) -> str:
    path = NAMESPACE + ":"
    first = True
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("" if first else ".") + part
        first = False
    return path


_BRANCH_LABELS = ("bool", "rotating")  # the tags of apiKey's two forms


def _describe(error: Mapping[str, Any]) -> tuple[str, str]:
    """A key path and a message for one pydantic error, with what is allowed."""
    # Drop the branch labels pydantic adds for unions and dict keys; they are not key paths.
    location = tuple(
        part
        for part in error["loc"]
        if isinstance(part, int)
        or not (part.startswith(("function-", "constrained")) or "[" in part or part in _BRANCH_LABELS)
    )
    path = _key_path(location)
    kind = error["type"]
    field = location[-1] if location and isinstance(location[-1], str) else ""
    if kind == "extra_forbidden":
        if field == "password":
            return path, (
                "passwords are never read from config; remove it "
                "(the console password is generated and must be reset at first login)"
            )
        return path, f"unknown key; allowed keys: {', '.join(_allowed_keys(location[:-1]))}"
    hint = _ALLOWED_HINTS.get(field) or _ALLOWED_HINTS.get(
        next((part for part in reversed(location) if isinstance(part, str)), ""), "a valid value"
    )
    if kind == "missing":
        return path, f"is required; allowed: {hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return path, f"{message}; allowed: {hint}"
    return path, f"{message} (got {_shown(error.get('input'))}); allowed: {hint}"


def _shortened(text: str) -> str:
    """Text as an error message quotes it: never more than SHOWN_CHARS characters of it."""
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"


def _shown(value: Any) -> str:
    if isinstance(value, str | int | float | bool | None):
        return _shortened(repr(value))
    # Bounded before it is built: a self-repeating (aliased) value would never finish printing.
    return safe_yaml.shown(value, SHOWN_CHARS)


def _entries(raw: Mapping[str, Any], list_key: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The (key path, mapping) of each well-formed entry of `operators` or `grants`."""
    items = raw.get(list_key)
    if not isinstance(items, list):
        return []
    return [(f"{NAMESPACE}:{list_key}[{i}]", item) for i, item in enumerate(items) if isinstance(item, Mapping)]


def _cross_field_problems(raw: Mapping[str, Any]) -> list[str]:
    """Rules that tie several keys of one entry together, checked on the raw values so that they
    are reported even when other keys of the entry are malformed."""
    problems: list[str] = []
    for list_key in ("operators", "grants"):
        for path, item in _entries(raw, list_key):
            access = item.get("access")
            scope = {key: item.get(key) for key in ("sdkAppIds", "actions")}
            if access == "custom":
                missing = [key for key, value in scope.items() if not value]
                if missing:
                    problems.append(
                        f"{path}: access 'custom' needs non-empty {' and '.join(missing)}; "
                        f"allowed: {_ALLOWED_HINTS['sdkAppIds']}, and {_ALLOWED_HINTS['actions']}"
                    )
            elif access in ACCESS_LEVELS and any(value is not None for value in scope.values()):
                problems.append(
                    f"{path}: sdkAppIds and actions apply only to access 'custom', not {access!r}; "
                    "allowed: remove them, or use access: custom"
                )
            if list_key == "operators" and item.get("console", True) is False and item.get("apiKey", False) is False:
                problems.append(
                    f"{path}: the operator has neither console nor API access; "
                    "allowed: console: true, apiKey: true, or both"
                )
            if list_key == "grants" and (item.get("user") is None) == (item.get("group") is None):
                problems.append(f"{path}: a grant names exactly one principal; allowed: either user or group")
            problems += _adoption_problems(path, list_key, item)
    return problems


def _adoption_problems(path: str, list_key: str, item: Mapping[str, Any]) -> list[str]:
    """An adopted entry imports a preset's attachment as it is: no custom policy to import, and no
    key rotation, whose first run would create keys beside the user's own."""
    if item.get("adopted") is None:
        return []
    problems: list[str] = []
    if item.get("access") == "custom":
        problems.append(
            f"{path}.adopted: only a preset's attachment can be adopted, not access 'custom';"
            " allowed: access readonly or full, or remove adopted"
        )
    if list_key == "operators" and isinstance(item.get("apiKey"), Mapping):
        problems.append(
            f"{path}.adopted: an adopted operator keeps its own keys; allowed: apiKey true or false,"
            " then rotation in a later change"
        )
    return problems


def _allowed_keys(parent: tuple[int | str, ...]) -> list[str]:
    if not parent:
        return list(TOP_LEVEL_KEYS)
    model: type[BaseModel] = OperatorConfig if parent[0] == "operators" else GrantConfig
    if parent[-1] in ("apiKey", "mfa"):
        model = ApiKeyConfig if parent[-1] == "apiKey" else MfaConfig
    elif parent[-1] == "adopted":
        model = AdoptedOperatorConfig if parent[0] == "operators" else AdoptedGrantConfig
    return [info.alias or name for name, info in model.model_fields.items()]


def _duplicates(raw: Mapping[str, Any]) -> list[str]:
    """Operators with the same name, and principals that are granted access more than once."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for list_key in ("operators", "grants"):
        for path, item in _entries(raw, list_key):
            user = item.get("name") if list_key == "operators" else item.get("user")
            group = item.get("group") if list_key == "grants" else None
            if user is None and group is None:
                continue
            if not isinstance(user, str | None) or not isinstance(group, int | str | None):
                continue  # a wrong type is reported by validation
            principal = user_principal(user) if user is not None else f"group:{group}"
            # CAM user names are case-insensitive: `Alice` and `alice` are one user.
            key = principal.casefold()
            if key in seen:
                problems.append(
                    f"{path}: {_shortened(principal)} is already given IM access at {seen[key]}"
                    " (names are compared ignoring letter case); allowed: one entry per user or group"
                )
            else:
                seen[key] = path
    return problems


def component_name(entry: OperatorConfig | GrantConfig) -> str:
    """The Pulumi name of the component an entry becomes; its children's names start with it."""
    return entry.name if isinstance(entry, OperatorConfig) else f"grant-{principal_slug(entry.principal)}"


def custom_policy_name(stack: str, entry: OperatorConfig | GrantConfig) -> str:
    """The name of the custom policy a `custom` entry creates: one rule for program and checks."""
    suffix = entry.name if isinstance(entry, OperatorConfig) else principal_slug(entry.principal)
    return f"im-access-{stack}-{suffix}"


def _policy_name_collisions(stack: str, config: StackConfig) -> list[str]:
    """Two custom entries whose generated policy names are the same name to CAM (ignoring case)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    entries: list[tuple[str, OperatorConfig | GrantConfig]] = [
        *((f"{NAMESPACE}:operators[{index}]", entry) for index, entry in enumerate(config.operators)),
        *((f"{NAMESPACE}:grants[{index}]", entry) for index, entry in enumerate(config.grants)),
    ]
    for path, entry in entries:
        if entry.access == "custom":
            name = custom_policy_name(stack, entry)
            if name.casefold() in seen:
                problems.append(
                    f"{path}: its custom policy would be named {name!r}, as the one of {seen[name.casefold()]};"
                    " allowed: names whose policies differ (rename the operator)"
                )
            else:
                seen[name.casefold()] = path
    return problems


def _own_key_problems(config: StackConfig, day: dt.date) -> list[str]:
    """The user's own key beside two rotating keys (an overlap) would be a third, which CAM refuses."""
    problems: list[str] = []
    for index, entry in enumerate(config.operators):
        last_day, rotation = entry.own_key_last_day, entry.rotation
        if last_day is None or rotation is None or last_day < day:
            continue

        def in_overlap(offset: int, name: str = entry.name, rotation: Rotation = rotation) -> bool:
            return len(generations(name, rotation, day + dt.timedelta(days=offset))) > 1

        clash = next((offset for offset in range((last_day - day).days + 1) if in_overlap(offset)), None)
        where = f"{NAMESPACE}:operators[{index}].apiKey.ownKeyLastDay: "
        if clash == 0:
            after = next(offset for offset in range(1, rotation.rotate_days + 1) if not in_overlap(offset))
            problems.append(
                f"{where}today ({day}) is in a rotation's overlap: its two keys beside the user's own would be"
                f" three, which CAM refuses; allowed: move to rotation on or after {day + dt.timedelta(days=after)}"
            )
        elif clash is not None:
            first = day + dt.timedelta(days=clash)
            problems.append(
                f"{where}{last_day} is in a rotation's overlap (on {first} two rotating keys exist), where the"
                f" user's own key would be a third, which CAM refuses; allowed: a day before {first}"
            )
    return problems


def parse_stack_config(stack: str, raw: Mapping[str, Any], *, allow_past_expiry: bool = False) -> StackConfig:
    """Validate the `im-access` namespace of one stack, raising ConfigurationError with every problem."""
    problems: list[str] = []
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    parsed: StackConfig | None = None
    try:
        known = {k: v for k, v in raw.items() if k in TOP_LEVEL_KEYS}
        parsed = StackConfig.model_validate(known, context={ALLOW_PAST_EXPIRY: allow_past_expiry})
    except ValidationError as error:
        for detail in error.errors():
            path, message = _describe(detail)
            problems.append(f"{path}: {message}")
    for key in unknown:
        reason = RETIRED_KEYS.get(key, f"unknown key; allowed keys: {', '.join(TOP_LEVEL_KEYS)}")
        problems.append(f"{NAMESPACE}:{_shortened(key)}: {reason}")
    problems += _cross_field_problems(raw)
    problems += _duplicates(raw)
    if parsed is not None:
        problems += _policy_name_collisions(stack, parsed)
        if not allow_past_expiry:  # the audit reads stacks as they are
            problems += _own_key_problems(parsed, today())
    if problems or parsed is None:
        raise ConfigurationError(stack, problems)
    return parsed


def read_namespace(values: Mapping[str, Any]) -> dict[str, Any]:
    """The `im-access` keys of a flat Pulumi config map, with JSON values decoded.

    Pulumi hands structured config (lists and maps) to the program as JSON text.
    """
    prefix = NAMESPACE + ":"
    result: dict[str, Any] = {}
    for key, value in values.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if name in ("operators", "grants") and isinstance(value, str):
            # Text that is not JSON is kept: validation then reports the wrong type with its key path.
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        result[name] = value
    return result


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` block of a stack file (Pulumi.<stack>.yaml), read within safe_yaml's limits."""
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    try:
        document = safe_yaml.load(path.read_text(), path.name) or {}
    except (yaml.YAMLError, safe_yaml.UnsafeYamlError) as error:
        raise ConfigurationError(stack, [f"{path.name} cannot be read: {safe_yaml.shown(str(error), 300)}"]) from None
    config = document.get("config") if isinstance(document, Mapping) else None
    if not isinstance(config, Mapping | None):
        raise ConfigurationError(stack, [f"{path.name}: `config` must be a mapping of keys to values"])
    return dict(config or {})


def load_stack_config() -> StackConfig:
    """Read and validate the running stack's `im-access` configuration."""
    from pulumi.runtime import config as runtime_config

    # Config set in-process (tests, automation) wins over what the engine passes in PULUMI_CONFIG.
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    stack = pulumi.get_stack()
    # The provider is configured on the first resource: refuse a steered endpoint before that.
    endpoint = stack_config_problems(stack, values, os.environ)
    try:
        config = parse_stack_config(stack, read_namespace(values))
    except ConfigurationError as error:
        raise ConfigurationError(stack, [*endpoint, *error.problems]) from None
    if endpoint:
        raise ConfigurationError(stack, endpoint)
    return config
