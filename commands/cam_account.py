"""Reads who holds IM access in a live CAM account, with the official Tencent Cloud SDK client.

Read-only, and per policy rather than per user: one ListPolicies scan, GetPolicy for each custom
policy (to judge its document), then ListEntitiesForPolicy for each IM-relevant policy, and
ListUsersForGroup for each group that holds full IM access. The cost
grows with the number of policies, not of users. How IM holders use their access (for `unused`
findings and the access review) costs a little per holder: DescribeSubAccounts for 50 users at a
time, ListAccessKeys for each, GetSecurityLastUsed for 10 keys at a time. Credentials (keys and MFA
flags, for the credential findings) are read for the users holding IM access and the operators the
stacks manage: ListUsers once, then ListAccessKeys and DescribeSafeAuthFlagColl for each. Requests
are paced under CAM's per-action rate
limits and `RequestLimitExceeded` is retried with backoff; any other failure stops the read, so a
partial account is never reported as complete.

CAM's reads trail its writes: a change made just before a command may not show yet. A reader
therefore reads nothing until the lag (IM_ACCESS_CAM_LAG_MS) has passed since it was made, so it
sees every change made before the command began.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from commands.escape import one_line
from im_access.access import document_grants_some_im, inspect_policy_document, normalise_policy_name, preset_im_level
from im_access.audit import Holding, KeyUse, Member, Usage
from im_access.contract import group_principal, role_principal, user_principal
from im_access.credential_audit import AccessKey, UserCredentials
from im_access.reach import PRESETS, ReachGraph, judge_document, judge_preset
from im_access.trust import TrustSettings, trust_admits

# Requests per second CAM allows per action; most CAM actions document 20.
READ_LIMITS: Mapping[str, int] = {
    "ListPolicies": 20,
    "GetPolicy": 20,
    "ListEntitiesForPolicy": 20,
    "ListUsersForGroup": 20,
    "DescribeSubAccounts": 20,
    "ListAccessKeys": 20,
    "GetSecurityLastUsed": 20,
    "ListUsers": 20,
    "DescribeSafeAuthFlagColl": 20,
}
DEFAULT_LIMIT = 20
# Read-only answers one audit asks for twice: the holdings read and the reach read share them.
REMEMBERED = frozenset({"ListAccessKeys", "ListPolicies", "GetPolicy", "ListEntitiesForPolicy", "ListUsersForGroup"})
CAM_ENDPOINT = "cam.tencentcloudapi.com"
PAGE_SIZE = 200  # the largest Rp CAM accepts
SUB_ACCOUNTS_PER_REQUEST = 50  # DescribeSubAccounts' FilterSubAccountUin
KEYS_PER_REQUEST = 10  # GetSecurityLastUsed's SecretIdList
MAX_ATTEMPTS = 6
MAX_SHOWN = 300  # characters of CAM's message in an error
# How long CAM's reads may trail its writes: the provider waits 10 s after AddUser, CreatePolicy and
# each attachment for the same reason. localcloud lags only when told to, and says how much here.
LAG_ENV = "IM_ACCESS_CAM_LAG_MS"
CLOUD_LAG_MS = 10_000
MAX_LAG_MS = 60_000
PRESET_TYPE = 2
RELATED_USER, RELATED_GROUP, RELATED_ROLE = 1, 2, 3  # ListEntitiesForPolicy's RelatedType


class AccountReadError(RuntimeError):
    """The account could not be read completely; `code` is CAM's error code when CAM answered one."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def endpoint_for(stack_config: Mapping[str, Any], *, via_localcloud: bool = False) -> tuple[str, str]:
    """Where the provider of a stack reaches CAM: CAM's own host (a stack file never names another,
    see im_access/provider_config.py) and the stack's protocol; plain HTTP on localcloud's route,
    whose proxy only sees requests it can read."""
    plain = via_localcloud or str(stack_config.get("tencentcloud:protocol", "")).upper() == "HTTP"
    return CAM_ENDPOINT, "http" if plain else "https"


def client_for(
    stack_config: Mapping[str, Any], env: Mapping[str, str], *, via_localcloud: bool = False
) -> cam_client.CamClient:
    """A CAM client as the provider of this stack would reach CAM, with the credentials in `env`: a
    member account's are a session of the role the stack assumes."""
    secret_id, secret_key = env.get("TENCENTCLOUD_SECRET_ID"), env.get("TENCENTCLOUD_SECRET_KEY")
    if not secret_id or not secret_key:
        raise AccountReadError(
            "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (the read-only preview identity)"
        )
    endpoint, protocol = endpoint_for(stack_config, via_localcloud=via_localcloud)
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol=protocol, keepAlive=True))
    # Temporary credentials (a CI role's, a member account's session) carry their token, as the provider reads it.
    token = env.get("TENCENTCLOUD_SECURITY_TOKEN") or None
    return cam_client.CamClient(credential.Credential(secret_id, secret_key, token), "", profile)


def cam_lag_seconds(env: Mapping[str, str], *, via_localcloud: bool) -> float:
    """How long CAM's reads may trail its writes: IM_ACCESS_CAM_LAG_MS, else 10 s against Tencent
    Cloud and none against localcloud (scripts/with_localcloud.sh sets it from localcloud's flag)."""
    value = env.get(LAG_ENV, "").strip()
    if not value:
        return 0.0 if via_localcloud else CLOUD_LAG_MS / 1000
    if not value.isascii() or not value.isdigit() or int(value) > MAX_LAG_MS:
        raise AccountReadError(
            f"{LAG_ENV}={value[:20]!r}: allowed: a whole number of milliseconds from 0 to {MAX_LAG_MS}"
        )
    return int(value) / 1000


class PacedReader:
    """Calls CAM actions no faster than their rate limits, retrying throttled requests. With a `lag`,
    its first request waits until `lag` seconds after the reader was made."""

    def __init__(
        self,
        client: Any,
        limits: Mapping[str, int] = READ_LIMITS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        *,
        lag: float = 0.0,
    ) -> None:
        self._client = client
        self._limits = limits
        self._sleep = sleep
        self._clock = clock
        self._readable_from = clock() + lag
        self._next_slot: dict[str, float] = {}
        self.requests: Counter[str] = Counter()
        self._answers: dict[tuple[str, tuple[tuple[str, Any], ...]], dict[str, Any]] = {}

    def _wait_for_slot(self, action: str) -> None:
        now = self._clock()
        slot = max(now, self._readable_from, self._next_slot.get(action, now))
        self._next_slot[action] = slot + 1 / self._limits.get(action, DEFAULT_LIMIT)
        if slot > now:
            self._sleep(slot - now)

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        # The usage read and the credential read both list each holder's keys: once per audit.
        cache_key = (action, tuple(sorted(params.items()))) if action in REMEMBERED else None
        if cache_key is not None and cache_key in self._answers:
            return dict(self._answers[cache_key])
        answer = self._call(action, **params)
        if cache_key is not None:
            self._answers[cache_key] = answer
        return dict(answer)

    def _call(self, action: str, **params: Any) -> dict[str, Any]:
        for attempt in range(MAX_ATTEMPTS):
            self._wait_for_slot(action)
            self.requests[action] += 1
            try:
                return dict(self._client.call_json(action, params)["Response"])
            except TencentCloudSDKException as error:
                # Any throttle: AddUser's is RequestLimitExceeded.CreateUser.
                throttled = str(error.get_code() or "").startswith("RequestLimitExceeded")
                if not throttled or attempt == MAX_ATTEMPTS - 1:
                    code, message = (one_line(text)[:MAX_SHOWN] for text in (error.get_code(), error.get_message()))
                    raise AccountReadError(f"{action} failed: {code}: {message}", code) from None
                self._sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def pages(self, action: str, list_key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged list, page after page until TotalNum items are read."""
        read, page = 0, 1
        while True:
            answer = self.call(action, Page=page, Rp=PAGE_SIZE, **params)
            items = answer.get(list_key) or []
            yield from items
            read += len(items)
            total = int(answer.get("TotalNum") or 0)
            if read >= total:
                return
            if not items:
                raise AccountReadError(f"{action} stopped at {read} of {total} items")
            page += 1


def account_reader(
    stack_config: Mapping[str, Any], env: Mapping[str, str], *, via_localcloud: bool, lag: float, command: str
) -> PacedReader:
    """A reader of the stack's account with the credentials in `env`, that sees every change made
    before now (`lag`: cam_lag_seconds); `command` says on stderr how long it waits."""
    if lag:
        note = f"reading the account in {lag:.1f} s, once CAM's reads show changes made until now ({LAG_ENV})"
        print(f"{command}: {note}", file=sys.stderr)
    return PacedReader(client_for(stack_config, env, via_localcloud=via_localcloud), lag=lag)


def day_of(value: object) -> dt.date | None:
    """The day of a time as CAM writes it ("2026-11-25 10:00:00", "2026-11-25", epoch milliseconds);
    None when CAM has none (null, empty, a zero time)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date() if value > 0 else None
    text = str(value or "").strip()
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
    return day if day.year > 1970 else None


def _holder(entity: Mapping[str, Any]) -> tuple[str, int | None]:
    related = int(entity["RelatedType"])
    if related == RELATED_USER:
        return user_principal(entity["Name"]), int(entity["Uin"])
    if related == RELATED_GROUP:
        return group_principal(entity["Id"]), None
    if related == RELATED_ROLE:
        return role_principal(entity["Name"]), None
    raise AccountReadError(f"ListEntitiesForPolicy answered an unknown RelatedType {related}")


def read_holdings(reader: PacedReader) -> list[Holding]:
    """Every principal holding an IM-relevant policy: IM presets, presets that include full IM
    access, and custom policies whose document allows any IM action."""
    holdings: list[Holding] = []
    for policy in reader.pages("ListPolicies", "List", Scope="All"):
        policy_id, name = int(policy["PolicyId"]), str(policy["PolicyName"])
        preset = int(policy["Type"]) == PRESET_TYPE
        if preset:
            level = preset_im_level(name, policy_id)
            if level is None:
                continue
            full = level == "full"
        else:
            document = reader.call("GetPolicy", PolicyId=policy_id)["PolicyDocument"]
            if not document_grants_some_im(document):
                continue
            full = inspect_policy_document(document).grants_all_of_im
        for entity in reader.pages("ListEntitiesForPolicy", "List", PolicyId=policy_id, EntityFilter="All"):
            principal, uin = _holder(entity)
            since = day_of(entity.get("AttachmentTime"))
            holdings.append(Holding(principal, name, policy_id, full, preset, uin, since))
    return holdings


def read_reach(reader: PacedReader, owner_uin: str, trust: TrustSettings) -> ReachGraph:
    """The account as a reach graph (im_access/reach.py), the one the policy pack builds from a stack:
    every holder of a policy that is IM full access, CAM write or sts:AssumeRole (presets judged by the
    names the guardrails know), the members of the groups among them, and every role with its trust."""
    graph = ReachGraph(owner_uin)
    joined: set[str] = set()  # groups whose members are in the graph: once, however many policies they hold
    for policy in reader.pages("ListPolicies", "List", Scope="All"):
        policy_id, name = int(policy["PolicyId"]), str(policy["PolicyName"])
        if int(policy["Type"]) == PRESET_TYPE:
            if normalise_policy_name(name) not in PRESETS:
                continue
            grant = judge_preset(name, policy_id, {})
        else:
            grant = judge_document(f"policy {name}", reader.call("GetPolicy", PolicyId=policy_id)["PolicyDocument"])
        if grant.reaches(cam_write=True) is None and not grant.assume:
            continue
        for entity in reader.pages("ListEntitiesForPolicy", "List", PolicyId=policy_id, EntityFilter="All"):
            principal, uin = _holder(entity)
            graph.hold(principal, grant)
            if uin is not None:
                graph.alias(f"uin:{uin}", principal)
            if principal.startswith("group:") and principal not in joined:
                joined.add(principal)
                for user in reader.pages("ListUsersForGroup", "UserInfo", GroupId=int(principal.partition(":")[2])):
                    graph.join(user_principal(user["Name"]), principal)
                    graph.alias(f"uin:{user['Uin']}", user_principal(user["Name"]))
    for role in reader.pages("DescribeRoleList", "List"):
        name = str(role["RoleName"])
        admits = trust_admits(role.get("PolicyDocument") or "", trust, owner_uin)
        graph.role(role_principal(name), name, admits, role_id=str(role.get("RoleId") or "") or None)
    return graph


def read_memberships(reader: PacedReader, holdings: Iterable[Holding], *, full_only: bool) -> dict[str, list[Member]]:
    """The users of each group holding IM access (only full access with `full_only`)."""
    groups = sorted(
        {h.principal for h in holdings if h.principal.startswith("group:") and (h.full_access or not full_only)}
    )
    return {
        group: [
            Member(user_principal(user["Name"]), int(user["Uin"]), day_of(user.get("CreateTime")))
            for user in reader.pages("ListUsersForGroup", "UserInfo", GroupId=int(group.partition(":")[2]))
        ]
        for group in groups
    }


def read_group_members(reader: PacedReader, holdings: Iterable[Holding]) -> dict[str, list[str]]:
    """The users (`user:<name>`) of each group that holds full IM access."""
    return {
        group: [member.principal for member in members]
        for group, members in read_memberships(reader, holdings, full_only=True).items()
    }


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def read_usage(reader: PacedReader, users: Mapping[str, int]) -> dict[str, Usage]:
    """What CAM records of each user's use (user principal -> UIN): its last console login and each
    API key's last use, keyed by the principal in lower case. A user CAM no longer knows has none."""
    uins = {uin: principal for principal, uin in users.items()}
    logins: dict[int, dt.date | None] = {}
    for batch in _batches(sorted(uins), SUB_ACCOUNTS_PER_REQUEST):
        for account in reader.call("DescribeSubAccounts", FilterSubAccountUin=batch).get("SubAccounts") or []:
            logins[int(account["Uin"])] = day_of(account.get("LastLoginTime"))
    keys: dict[int, list[dict[str, Any]]] = {
        uin: reader.call("ListAccessKeys", TargetUin=uin).get("AccessKeys") or [] for uin in sorted(logins)
    }
    last_used: dict[str, dt.date | None] = {}
    secret_ids = [str(key["AccessKeyId"]) for user_keys in keys.values() for key in user_keys]
    for batch in _batches(secret_ids, KEYS_PER_REQUEST):
        for row in reader.call("GetSecurityLastUsed", SecretIdList=batch).get("SecretIdLastUsedRows") or []:
            last_used[str(row["SecretId"])] = day_of(row.get("LastSecretUsedDate")) or day_of(row.get("LastUsedDate"))
    return {
        uins[uin].casefold(): Usage(
            logins[uin],
            tuple(
                KeyUse(str(k["AccessKeyId"]), str(k.get("Status") or ""), last_used.get(str(k["AccessKeyId"])))
                for k in keys[uin]
            ),
        )
        for uin in sorted(logins)
    }


def _created(value: object) -> dt.datetime:
    """CAM's `YYYY-MM-DD HH:MM:SS` (UTC here)."""
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise AccountReadError(f"CAM answered a CreateTime that is not a date: {str(value)[:40]!r}") from None


def _any_factor(flag: Mapping[str, Any] | None) -> bool:
    return any(int(value or 0) == 1 for value in (flag or {}).values() if isinstance(value, int | str))


def read_credentials(
    reader: PacedReader, names: Iterable[str], flags_for: Iterable[str] = ()
) -> dict[str, UserCredentials]:
    """Console access, API keys (ListAccessKeys) and MFA flags (DescribeSafeAuthFlagColl) of the users
    named (casefolded names as keys): one ListUsers, then the keys of each user that exists, and the
    flags of those that log in to the console or are named in `flags_for` (full access, operators)."""
    wanted = {name.casefold() for name in names}
    always = {name.casefold() for name in flags_for}
    users = {str(u["Name"]).casefold(): u for u in reader.call("ListUsers").get("Data") or []}
    found: dict[str, UserCredentials] = {}
    for key in sorted(wanted & set(users)):
        user = users[key]
        uin = int(user["Uin"])
        keys = reader.call("ListAccessKeys", TargetUin=uin).get("AccessKeys") or []
        console = int(user.get("ConsoleLogin") or 0) == 1
        flags = reader.call("DescribeSafeAuthFlagColl", SubUin=uin) if console or key in always else {}
        found[key] = UserCredentials(
            name=str(user["Name"]),
            uin=uin,
            console=console,
            created=_created(user["CreateTime"]) if user.get("CreateTime") else None,
            keys=tuple(AccessKey(str(k["AccessKeyId"]), str(k["Status"]), _created(k["CreateTime"])) for k in keys),
            login_mfa=_any_factor(flags.get("LoginFlag")),
            action_mfa=_any_factor(flags.get("ActionFlag")),
        )
    return found
