"""Before a preview, up, destroy, audit or hand-over: where the command is about to act, checked in order.

0. no variable of the run steers the provider past its stack file (`TENCENTCLOUD_DOMAIN`, a
   profile, a role to assume: im_access/provider_config.py), for the engine's commands;
1. a backend for Pulumi state (`PULUMI_BACKEND_URL`, or a login the project's engine knows);
2. the stack exists in it (`make stack-init STACK=<stack>` creates it; see commands/stack.py);
3. the passphrase that encrypts the stack's secrets;
4. Tencent Cloud credentials, as the provider reads them (`TENCENTCLOUD_SECRET_ID` / `_KEY`);
5. whose they are: STS GetCallerIdentity, with the official SDK, over the route the command's own
   requests take (HTTPS to STS's own host; plain HTTP through localcloud on its route). An account
   other than the stack's `ownerUin` stops the command before the engine starts. A stack in a
   member account (`tencentcloud:assumeRole`) is checked as the role's session, as the provider
   will act.

Before an `up`, the creates an interrupted run left pending in the state are recovered: each is
looked up in CAM by its unique name (user, policy) or composite id (attachments); what exists is
imported (`pulumi refresh --import-pending-creates URN ID`), what does not is cleared
(`--clear-pending-creates`), and the run says what it did.

Each failure is a PreflightError: one line naming what is missing and how to supply it. On success
the caller prints `Identity.line()`: the account and the caller the command acts as.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pulumi import automation as auto
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sts.v20180813 import models, sts_client

from commands.cam_account import CLOUD_LAG_MS, AccountReadError, PacedReader, cam_lag_seconds, endpoint_for
from commands.engine import PULUMI_HOME
from commands.escape import one_line
from im_access.account_pin import ASSUME_ROLE, decoded
from im_access.provider_config import env_problems
from im_access.recovery import (
    ACCESS_KEY,
    GROUP_ATTACHMENT,
    MFA_FLAG,
    POLICY,
    USER,
    USER_ATTACHMENT,
    PendingCreate,
    pending_creates,
)

STS_ENDPOINT = "sts.tencentcloudapi.com"  # never taken from a stack file
DEFAULT_REGION = "ap-guangzhou"  # STS answers in every region; the header must name one
REGION = re.compile(r"^[a-z]{2,4}-[a-z0-9-]{2,30}$")
TIMEOUT_SECONDS = 15
# STS throttles like any API: RequestLimitExceeded is retried, 0.25 s doubling (about 8 s in all).
# Not the SDK's StandardRetryer: it keeps the first error after a retry succeeds, so it never recovers.
THROTTLE_BACKOFF_SECONDS = (0.25, 0.5, 1.0, 2.0, 4.0)
T = TypeVar("T")
MAX_SHOWN = 200  # characters of an answer or error shown back
BACKEND_FIX = (
    "export PULUMI_BACKEND_URL: the team's COS bucket"
    " ('s3://<bucket>?endpoint=cos.<region>.myqcloud.com&region=<region>&s3ForcePathStyle=true',"
    " README: Share state across a team), or file://<folder> for a trial on this machine"
)
PASSPHRASES = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")
CREDENTIALS = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY")
SECURITY_TOKEN = "TENCENTCLOUD_SECURITY_TOKEN"
ASSUMED_SESSION_SECONDS = 900  # long enough for an audit or a review; the provider takes its own


class PreflightError(RuntimeError):
    """A step of the preflight failed; the message says what to do."""


def check_provider_environment(env: Mapping[str, str]) -> None:
    """No variable of the run steers the provider past the stack file (a profile, a role, a domain),
    and CAM's lag, should the recovery read CAM, is a number of milliseconds."""
    problems = env_problems(env)
    try:
        cam_lag_seconds(env, via_localcloud=False)
    except AccountReadError as error:
        problems.append(str(error))
    if problems:
        raise PreflightError("; ".join(problems))


@dataclass(frozen=True)
class Identity:
    """Whose the credentials are, as STS answered: the account (root uin) and the caller's ARN."""

    account: str
    caller: str

    def line(self, stacks: str) -> str:
        return f"preflight: acting on account {self.account} as caller {self.caller} (stack {stacks})"

    def as_json(self) -> dict[str, str]:
        return {"account": self.account, "caller": self.caller}


def _shown(text: object) -> str:
    return one_line(text)[:MAX_SHOWN]


def check_backend(env: Mapping[str, str], work_dir: Path) -> None:
    """A backend is configured: PULUMI_BACKEND_URL, Pulumi.yaml's `backend.url`, a `pulumi login` in
    the project's engine home, or a Pulumi Cloud token (the engine's default backend)."""
    if url := env.get("PULUMI_BACKEND_URL"):
        return _check_backend_url(url)
    if env.get("PULUMI_ACCESS_TOKEN"):
        return
    if re.search(r"(?m)^backend:\s*\n\s+url:\s*\S", _read(work_dir / "Pulumi.yaml")):
        return
    try:
        if json.loads(_read(PULUMI_HOME / "credentials.json") or "{}").get("current"):
            return
    except (ValueError, AttributeError):
        pass
    raise PreflightError(f"no Pulumi backend is configured for the stack's state; {BACKEND_FIX}")


def _check_backend_url(url: str) -> None:
    """A URL the engine reads as meant: a bare path would be taken for Pulumi Cloud (asking for a
    token), and a file:// folder that does not exist is not created by the engine."""
    if "://" not in url:
        raise PreflightError(f"PULUMI_BACKEND_URL={_shown(url)} is not a URL; {BACKEND_FIX}")
    if url.startswith("file://"):
        folder = Path(url.removeprefix("file://").split("?", 1)[0]).expanduser()
        if not folder.is_dir():
            raise PreflightError(
                f"PULUMI_BACKEND_URL={_shown(url)} names a folder that does not exist; create it with"
                f" `mkdir -p {_shown(folder)}`, or export another backend"
            )


def _network_reason(message: str) -> str:
    """What went wrong on the way to STS, in a few words, instead of urllib3's nested exception text."""
    text = message.lower()
    for needle, reason in (
        ("unable to connect to proxy", "the proxy in HTTPS_PROXY refused the connection"),
        ("name or service not known", "its name does not resolve"),
        ("temporary failure in name resolution", "its name does not resolve"),
        ("failed to resolve", "its name does not resolve"),
        ("certificate", "its TLS certificate was not trusted"),
        ("connection refused", "the connection was refused"),
        ("timed out", "the connection timed out"),
        ("network is unreachable", "the network is unreachable"),
    ):
        if needle in text:
            return reason
    return "a network error"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return ""


def stack_missing(stack: str, env: Mapping[str, str]) -> PreflightError:
    backend = env.get("PULUMI_BACKEND_URL") or "the configured backend"
    return PreflightError(
        f"stack {stack!r} does not exist in {_shown(backend)}; create it with `make stack-init STACK={stack}`"
    )


def check_passphrase(env: Mapping[str, str]) -> None:
    if not any(name in env for name in PASSPHRASES):
        raise PreflightError(
            "PULUMI_CONFIG_PASSPHRASE is not set: export the passphrase that encrypts the stack's secrets"
            " (or PULUMI_CONFIG_PASSPHRASE_FILE, a file holding it)"
        )


def check_credentials(env: Mapping[str, str], owner_uin: str) -> None:
    missing = [name for name in CREDENTIALS if not env.get(name)]
    if missing:
        raise PreflightError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: export the API key"
            f" of an identity of account {owner_uin} (for a preview or the audit, the read-only preview identity)"
        )


def _proxy(env: Mapping[str, str], plain_http: bool, host: str = STS_ENDPOINT) -> str | None:
    """The proxy the provider (Go) and the SDK pick for `host` (STS's) from the environment."""
    names = ("HTTP_PROXY", "http_proxy") if plain_http else ("HTTPS_PROXY", "https_proxy")
    proxy = next((env[name] for name in names if env.get(name)), None)
    no_proxy = [entry.strip() for entry in (env.get("NO_PROXY") or env.get("no_proxy") or "").split(",")]
    return None if host in no_proxy else proxy


def _unthrottled(request: Callable[[], T]) -> T:
    for pause in THROTTLE_BACKOFF_SECONDS:
        try:
            return request()
        except TencentCloudSDKException as error:
            if error.get_code() != "RequestLimitExceeded":
                raise
        time.sleep(pause)
    return request()


def _sts(env: Mapping[str, str], *, plain_http: bool, region: str) -> sts_client.StsClient:
    """An STS client with the credentials in `env`. Plain HTTP only through a proxy (localcloud's
    route): a signed request never goes to STS's host in the clear."""
    proxy = _proxy(env, plain_http)
    if plain_http and proxy is None:
        raise PreflightError(
            "plain HTTP is only for localcloud, and HTTP_PROXY is not set; run through scripts/with_localcloud.sh"
        )
    secret_id, secret_key = (env.get(name, "") for name in CREDENTIALS)
    token = env.get(SECURITY_TOKEN) or None  # temporary credentials, as the provider takes them
    http = HttpProfile(
        endpoint=STS_ENDPOINT, protocol="http" if plain_http else "https", reqTimeout=TIMEOUT_SECONDS, proxy=proxy
    )
    return sts_client.StsClient(
        credential.Credential(secret_id, secret_key, token),
        region if REGION.match(region) else DEFAULT_REGION,
        ClientProfile(httpProfile=http),
    )


def _unreachable(error: TencentCloudSDKException) -> bool:
    return error.get_code() == "ClientNetworkError" or not error.get_code()


def caller_identity(env: Mapping[str, str], *, plain_http: bool, region: str = DEFAULT_REGION) -> Identity:
    """Whose the credentials in `env` are, from STS GetCallerIdentity."""
    client = _sts(env, plain_http=plain_http, region=region)
    try:
        answer = _unthrottled(lambda: client.GetCallerIdentity(models.GetCallerIdentityRequest()))
    except TencentCloudSDKException as error:
        code, message = str(error.get_code() or ""), _shown(error.get_message())
        if _unreachable(error):
            reason = _network_reason(str(error.get_message()))
            raise PreflightError(
                f"could not reach {STS_ENDPOINT} to ask whose the credentials are ({reason});"
                " check the network (and HTTPS_PROXY, if this machine needs a proxy)"
            ) from None
        raise PreflightError(
            f"STS refused the credentials in TENCENTCLOUD_SECRET_ID/KEY ({_shown(code)}: {message}); export a valid"
            " API key (an identity whose policy denies sts:GetCallerIdentity needs it allowed)"
        ) from None
    account, caller = str(answer.AccountId or ""), _shown(answer.Arn or answer.UserId or "")
    if not account.isascii() or not account.isdigit():
        raise PreflightError(f"STS answered an account that is not a uin: {_shown(account)!r}")
    return Identity(account, caller or "(unnamed)")


def assumed_env(
    env: Mapping[str, str], role: Mapping[str, Any], *, plain_http: bool, region: str = DEFAULT_REGION
) -> dict[str, str]:
    """`env` with the credentials replaced by a session of `role` (the stack's `tencentcloud:assumeRole`,
    already checked against its pin), as the provider assumes it: STS AssumeRole."""
    request = models.AssumeRoleRequest()
    request.RoleArn, request.RoleSessionName = str(role["roleArn"]), str(role["sessionName"])
    request.DurationSeconds = int(role.get("sessionDuration") or ASSUMED_SESSION_SECONDS)
    client = _sts(env, plain_http=plain_http, region=region)
    try:
        answer = _unthrottled(lambda: client.AssumeRole(request))
    except TencentCloudSDKException as error:
        if _unreachable(error):
            raise PreflightError(
                f"could not reach {STS_ENDPOINT} to assume {request.RoleArn} ({_network_reason(str(error))});"
                " check the network (and HTTPS_PROXY, if this machine needs a proxy)"
            ) from None
        raise PreflightError(
            f"STS refused to let these credentials assume {request.RoleArn} ({_shown(error.get_code())}:"
            f" {_shown(error.get_message())}); the role's trust policy must name the account these credentials"
            " belong to (README: Stacks in member accounts)"
        ) from None
    credentials = answer.Credentials
    return {
        **env,
        CREDENTIALS[0]: str(credentials.TmpSecretId),
        CREDENTIALS[1]: str(credentials.TmpSecretKey),
        SECURITY_TOKEN: str(credentials.Token),
    }


def check_account(stack: str, identity: Identity, owner_uin: str, *, via_localcloud: bool = False) -> None:
    """The credentials belong to the account the stack declares, or nothing runs."""
    if identity.account == owner_uin:
        return
    hint = (
        f"; localcloud's account is set with --owner-uin (LOCALCLOUD_ARGS='--owner-uin {owner_uin}')"
        if via_localcloud
        else f"; export a key of account {owner_uin}, or correct im-access:ownerUin"
    )
    raise PreflightError(
        f"these credentials belong to account {identity.account} (caller {identity.caller});"
        f" stack {stack} declares ownerUin {owner_uin} (Pulumi.{stack}.yaml){hint}"
    )


def owner_uin(stack: str, config: Mapping[str, Any]) -> str:
    """The stack file's `im-access:ownerUin`: the account every command on the stack must act on."""
    value = config.get("im-access:ownerUin")
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isascii() or not text.isdigit():
        raise PreflightError(
            f"Pulumi.{stack}.yaml: im-access:ownerUin must be the account's root uin, a string of digits"
            f" (got {_shown(value)!r}); without it no command can tell which account the stack manages"
        )
    return text


def check_identity(
    stack: str, config: Mapping[str, Any], env: Mapping[str, str], *, plain_http: bool, via_localcloud: bool = False
) -> Identity:
    """Steps 4 and 5 for one stack: credentials present, and they (or the role the stack assumes with
    them) act on the stack's account."""
    return acting_identity(stack, config, env, plain_http=plain_http, via_localcloud=via_localcloud)[0]


def acting_identity(
    stack: str, config: Mapping[str, Any], env: Mapping[str, str], *, plain_http: bool, via_localcloud: bool = False
) -> tuple[Identity, dict[str, str]]:
    """check_identity, with the environment whose credentials act on the stack's account: `env`
    itself, or a session of the role the stack assumes (a member account's)."""
    owner = owner_uin(stack, config)
    check_credentials(env, owner)
    region = str(config.get("tencentcloud:region") or "")
    acting = dict(env)
    role = decoded(config.get(f"tencentcloud:{ASSUME_ROLE}"))
    if isinstance(role, Mapping):
        acting = assumed_env(env, role, plain_http=plain_http, region=region or DEFAULT_REGION)
    identity = caller_identity(acting, plain_http=plain_http, region=region)
    check_account(stack, identity, owner, via_localcloud=via_localcloud)
    return identity, acting


# ---- recovery of an interrupted `up` --------------------------------------------------------


@dataclass
class Recovery:
    """What the preflight did with the pending creates an interrupted `up` left in the state."""

    imported: list[tuple[PendingCreate, str]] = field(default_factory=list)  # with the id it was imported by
    cleared: list[PendingCreate] = field(default_factory=list)  # CAM never made them
    # Operators' users CAM made whose password and key only the killed run saw: deleted, made again.
    remade: list[PendingCreate] = field(default_factory=list)
    # Operators' users CAM made that were used since: imported; their password is unknown to the state.
    imported_without_password: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"preflight: recovered {p.name} ({p.type}): it exists in CAM as {i!r}, imported" for p, i in self.imported
        ]
        lines += [f"preflight: recovered {p.name} ({p.type}): CAM never made it, cleared" for p in self.cleared]
        lines += [
            f"preflight: recovered {p.name}: CAM made operator {p.operator}'s user, but its password and key never"
            " reached the state; unused, it was deleted, and this up makes it again with a new password"
            " (hand it over with commands.handover)"
            for p in self.remade
        ]
        lines += [
            f"preflight: operator {name}: its user was used since the interrupted run and is imported, but its"
            " password never reached the state; reset it in the CAM console"
            for name in self.imported_without_password
        ]
        return [one_line(line) for line in lines]


def _exists(reader: Any, action: str, **params: Any) -> dict[str, Any] | None:
    """The answer, or None when CAM says the resource does not exist."""
    try:
        return dict(reader.call(action, **params))
    except AccountReadError as error:
        if "NotExist" in error.code or "NotFound" in error.code:  # CAM's code, never its free text
            return None
        raise


def cloud_id(pending: PendingCreate, reader: Any) -> str | None:
    """The provider's id of what a pending create made, found in CAM by its unique name or composite
    id; None when CAM has no such resource (so nothing was made)."""
    inputs = pending.inputs
    if pending.type == USER:
        return str(inputs["name"]) if _exists(reader, "GetUser", Name=str(inputs["name"])) else None
    if pending.type == POLICY:
        name = str(inputs["name"])
        listed = reader.pages("ListPolicies", "List", Keyword=name, Scope="Local")
        return next((str(p["PolicyId"]) for p in listed if str(p["PolicyName"]) == name), None)
    if pending.type == USER_ATTACHMENT:
        user = _exists(reader, "GetUser", Name=str(inputs["userName"]))
        if user is None:
            return None
        attached = reader.pages("ListAttachedUserPolicies", "List", TargetUin=int(user["Uin"]))
        found = any(str(p["PolicyId"]) == str(inputs["policyId"]) for p in attached)
        return f"{inputs['userName']}#{inputs['policyId']}" if found else None
    if pending.type == GROUP_ATTACHMENT:
        group = int(str(inputs["groupId"]))
        attached = reader.pages("ListAttachedGroupPolicies", "List", TargetGroupId=group)
        found = any(str(p["PolicyId"]) == str(inputs["policyId"]) for p in attached)
        return f"{group}#{inputs['policyId']}" if found else None
    if pending.type == MFA_FLAG:
        # SetMfaFlag sets what it is given: made again, it is the same; imported, its flags are read.
        uin = int(str(inputs["opUin"]))
        return str(uin) if _exists(reader, "DescribeSafeAuthFlagColl", SubUin=uin) is not None else None
    if pending.type == ACCESS_KEY:
        return None  # its SecretKey is lost with the run: made again; a key CAM did make is an unmanaged-key finding
    raise PreflightError(
        f"the interrupted run left {pending.urn} pending, of a type the preflight cannot look up in CAM;"
        " run `pulumi refresh` with --import-pending-creates or --clear-pending-creates for it"
    )


def _unused(reader: Any, user_name: str) -> bool:
    """A user nobody has had the use of: never logged in, no API key used, nothing attached. The
    first thing the program attaches to an operator's user comes after the user's create ends."""
    user = reader.call("GetUser", Name=user_name)
    if user.get("RecentlyLoginTime"):
        return False
    if any(True for _ in reader.pages("ListAttachedUserPolicies", "List", TargetUin=int(user["Uin"]))):
        return False
    keys = [
        str(k["AccessKeyId"]) for k in reader.call("ListAccessKeys", TargetUin=int(user["Uin"])).get("AccessKeys") or []
    ]
    if not keys:
        return True
    used = reader.call("GetSecurityLastUsed", SecretIdList=keys).get("SecretIdLastUsedRows") or []
    return not any(row.get("LastUsedDate") or row.get("LastSecretUsedDate") for row in used)


def import_file(imported: list[tuple[PendingCreate, str]]) -> dict[str, Any]:
    """A `pulumi import --file` document that puts each resource where the program declares it: its
    name and type, its parent and its provider as the pending create recorded them."""
    names: dict[str, str] = {}
    resources = []
    for index, (create, found) in enumerate(imported):
        names[f"parent{index}"] = create.parent
        names[f"provider{index}"] = create.provider.rpartition("::")[0]  # a provider reference is `<urn>::<id>`
        resources.append(
            {
                "type": create.type,
                "name": create.name,
                "id": found,
                "parent": f"parent{index}",
                "provider": f"provider{index}",
            }
        )
    return {"nameTable": names, "resources": resources}


def recover_pending_creates(
    deployment: Mapping[str, Any],
    reader: Any,
    clear: Callable[[], object],
    import_: Callable[[dict[str, Any]], object],
) -> Recovery | None:
    """Each pending create of `deployment` looked up in CAM: every pending create is cleared (`clear`:
    `pulumi refresh --clear-pending-creates`), then what exists is imported where the program declares
    it (`import_`: `pulumi import --file`; the engine's `--import-pending-creates` drops the operation
    without recording the resource). An operator's user CAM made is the exception: its password and own
    key were in the killed run's memory alone, and the guardrails let no password come from code, so an
    unused one is deleted, for the `up` to make again. None when nothing is pending."""
    pending = pending_creates(deployment)
    if not pending:
        return None
    recovery = Recovery()
    for create in pending:
        found = cloud_id(create, reader)
        if found is None:
            recovery.cleared.append(create)
        elif create.operator and _unused(reader, found):
            reader.call("DeleteUser", Name=found, Force=1)
            recovery.remade.append(create)
        else:
            recovery.imported.append((create, found))
            if create.operator:
                recovery.imported_without_password.append(create.operator)
    clear()
    if recovery.imported:
        import_(import_file(recovery.imported))
    return recovery


def _cam(config: Mapping[str, Any], env: Mapping[str, str], *, via_localcloud: bool) -> cam_client.CamClient:
    """A CAM client with the credentials in `env`, over the route the stack's provider takes (the
    run's own proxy variables, not this process's: the engine gets `env`)."""
    # CAM's own host, never one a stack file names (im_access/provider_config.py), as the provider reaches it.
    endpoint, protocol = endpoint_for(config, via_localcloud=via_localcloud)
    proxy = _proxy(env, protocol == "http", endpoint)
    if protocol == "http" and proxy is None:
        raise PreflightError("plain HTTP is only for localcloud, and HTTP_PROXY is not set")
    secret_id, secret_key = (env.get(name, "") for name in CREDENTIALS)
    http = HttpProfile(endpoint=endpoint, protocol=protocol, reqTimeout=TIMEOUT_SECONDS, proxy=proxy)
    token = env.get(SECURITY_TOKEN) or None
    return cam_client.CamClient(
        credential.Credential(secret_id, secret_key, token), "", ClientProfile(httpProfile=http)
    )


def recovery_reader(
    config: Mapping[str, Any], env: Mapping[str, str], *, via_localcloud: bool, on_output: Callable[[str], object]
) -> PacedReader:
    """The recovery's CAM reader. What the killed run made shows in CAM's reads only after CAM's lag,
    and "not found" must mean "not made": its first read waits the lag out."""
    try:
        lag = cam_lag_seconds(env, via_localcloud=via_localcloud)
    except AccountReadError as error:
        raise PreflightError(str(error)) from None
    if not via_localcloud:  # against Tencent Cloud, never less than CAM's lag: a miss would clear what exists
        lag = max(lag, CLOUD_LAG_MS / 1000)
    if lag:
        on_output(f"preflight: the last run was interrupted; waiting {lag:g} s for CAM's reads to show what it made")
    return PacedReader(_cam(config, env, via_localcloud=via_localcloud), lag=lag)


def recover_interrupted_up(
    opened: Any,
    stack: str,
    config: Mapping[str, Any],
    acting_env: Mapping[str, str],
    *,
    via_localcloud: bool,
    config_file: str | None,
    on_output: Callable[[str], object],
) -> Recovery | None:
    """Before an `up`: the pending creates in the stack's state (an `auto.Stack`), recovered against
    CAM as the stack's provider reaches it; None when the last run finished."""
    deployment = opened.export_stack().deployment or {}
    if not pending_creates(deployment):
        return None
    reader = recovery_reader(config, acting_env, via_localcloud=via_localcloud, on_output=on_output)
    workspace = opened.workspace
    extra = ["--yes", "--skip-preview", "--non-interactive", "--color", "never", "--stack", stack]
    if config_file:
        extra += ["--config-file", config_file]

    def pulumi(*args: str) -> object:
        def run() -> object:
            return workspace.pulumi_command.run(
                [*args, *extra], workspace.work_dir, workspace.env_vars, on_output, on_output
            )

        return with_stale_lock_cleared(run, opened, stack, on_output)

    def import_(document: dict[str, Any]) -> object:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "import.json"
            path.write_text(json.dumps(document))
            return pulumi("import", "--file", str(path), "--protect=false", "--generate-code=false")

    try:
        return recover_pending_creates(
            deployment, reader, lambda: pulumi("refresh", "--clear-pending-creates"), import_
        )
    except AccountReadError as error:
        raise PreflightError(f"the interrupted run's pending creates could not be looked up in CAM: {error}") from None


# A DIY backend's lock names its holder: `created by <user>@<host> (pid <pid>) at <time>`.
LOCK_HOLDER = re.compile(r"created by (?P<user>[^@\s]+)@(?P<host>\S+) \(pid (?P<pid>[0-9]+)\)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def stale_lock_holders(message: str, host: str, alive: Callable[[int], bool] = _alive) -> list[str]:
    """The holders a lock error names, when every one is a process of this machine that no longer
    exists (a killed run); empty when any may still be running, or another machine holds it."""
    holders = list(LOCK_HOLDER.finditer(message))
    if not holders or any(h["host"] != host or alive(int(h["pid"])) for h in holders):
        return []
    return [f"{h['user']}@{h['host']} (pid {h['pid']})" for h in holders]


def with_stale_lock_cleared(action: Callable[[], T], opened: Any, stack: str, on_output: Callable[[str], object]) -> T:
    """`action()`, run once more after removing the stack's lock (`pulumi cancel`) when a killed run
    of this machine left it; a lock another process or machine may hold stops the run as before."""
    try:
        return action()
    except auto.errors.ConcurrentUpdateError as error:
        holders = stale_lock_holders(str(error), socket.gethostname())
        if not holders:
            raise
    on_output(one_line(f"preflight: the stack was locked by {', '.join(holders)}, which no longer runs: unlocked"))
    workspace = opened.workspace
    workspace.pulumi_command.run(
        ["cancel", "--yes", "--color", "never", "--stack", stack], workspace.work_dir, workspace.env_vars
    )
    return action()
