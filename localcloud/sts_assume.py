"""STS (`sts`, version 2018-08-13): AssumeRole and AssumeRoleWithWebIdentity, and the temporary
credentials they hand out.

AssumeRoleWithWebIdentity is the one unsigned call (`Authorization: SKIP`, as the SDK sends it):
the OIDC token is the proof. It is checked as CAM checks it: the RS256 signature against the JWKS
of the role OIDC provider named by ProviderId (its IdentityKey), then `iss` (its IdentityUrl),
`aud` (one of its ClientId), `exp`, and the role's trust policy, whose conditions are matched
against `oidc:iss`, `oidc:aud` and `oidc:sub`. A request signed with temporary credentials must
carry their token (`X-TC-Token`); it then acts as the role, limited by the role's policies.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import re
import secrets
import sqlite3
import string
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import jwt

from localcloud.authorization import RestrictedIdentity
from localcloud.cam.roles import decode_jwks, find_provider, role_policy_documents
from localcloud.errors import ApiError
from localcloud.params import Int, ListOf, Obj, Str
from localcloud.service import Context, Service
from localcloud.store import Store

VERSION = "2018-08-13"
UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithWebIdentity"})
DEFAULT_DURATION = 7200
MAX_DURATION = 43200
TOKEN_ALGORITHMS = ["RS256"]
SESSION_NAME = r"[\w+=,.@-]{2,128}"
ROLE_ARN = re.compile(r"^qcs::cam::uin/([0-9]{1,20}):(roleName/([A-Za-z0-9+=,.@_-]{1,128})|role/([0-9]{1,20}))$")
_CREDENTIAL = re.compile(r"Credential=([^/\s]+)/")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    secret_id TEXT PRIMARY KEY, secret_key TEXT NOT NULL, token TEXT NOT NULL,
    role_id INTEGER NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
    session_name TEXT NOT NULL, expires_at INTEGER NOT NULL)
"""


def install_sessions(db: sqlite3.Connection) -> None:
    db.execute(SCHEMA)


# ---- trust policies ------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: Any, values: Mapping[str, str]) -> bool:
    """Every operator on every key holds; an operator or key CAM would not know holds nothing."""
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return False
    for operator, clauses in condition.items():
        if not isinstance(clauses, dict):
            return False
        for key, expected in clauses.items():
            actual = values.get(key)
            wanted = [str(item) for item in _as_list(expected)]
            if actual is None:
                return False
            if operator == "string_equal" and actual not in wanted:
                return False
            if operator == "string_like" and not any(fnmatchcase(actual, pattern) for pattern in wanted):
                return False
            if operator == "string_not_equal" and actual in wanted:
                return False
            if operator not in ("string_equal", "string_like", "string_not_equal"):
                return False
    return True


def _statement_matches(statement: dict[str, Any], action: str, principal: str, values: Mapping[str, str]) -> bool:
    actions = [str(a).lower() for a in _as_list(statement.get("action"))]
    if not any(fnmatchcase(action.lower(), pattern) for pattern in actions):
        return False
    named = statement.get("principal")
    principals = (
        [str(p) for value in named.values() for p in _as_list(value)] if isinstance(named, dict) else _as_list(named)
    )
    if principal not in principals and "*" not in principals:
        return False
    return _condition_holds(statement.get("condition"), values)


def trusts(document: str, action: str, principal: str, values: Mapping[str, str]) -> bool:
    """Whether a role's trust policy lets `principal` call `action` with these condition values."""
    statements = _as_list(json.loads(document).get("statement"))
    matching = [s for s in statements if isinstance(s, dict) and _statement_matches(s, action, principal, values)]
    effects = {str(s.get("effect", "")).lower() for s in matching}
    return "allow" in effects and "deny" not in effects


# ---- roles and credentials -----------------------------------------------------------------


def role_account(p: dict[str, Any]) -> int | None:
    """The account whose role a RoleArn names (None for a malformed ARN): the request runs there."""
    match = ROLE_ARN.match(p.get("RoleArn", ""))
    return int(match.group(1)) if match else None


def _role(ctx: Context, arn: str) -> sqlite3.Row:
    """The role `arn` names in the account the request runs in (the ARN's account when localcloud holds it)."""
    match = ROLE_ARN.match(arn)
    if match is None:
        raise ApiError("InvalidParameter.ParamError", f"RoleArn `{arn[:128]}` is not a role's ARN.")
    if int(match.group(1)) != ctx.owner_uin:
        raise ApiError("ResourceNotFound.RoleNotFound", f"The account {match.group(1)} has no role here.")
    if match.group(3) is not None:
        row = ctx.db.execute("SELECT * FROM roles WHERE name = ?", (match.group(3),)).fetchone()
    else:
        row = ctx.db.execute("SELECT * FROM roles WHERE role_id = ?", (int(match.group(4)),)).fetchone()
    if row is None:
        raise ApiError("ResourceNotFound.RoleNotFound", f"The role `{arn[:128]}` does not exist.")
    return row


def _credentials(ctx: Context, role: sqlite3.Row, session_name: str, duration: int | None) -> dict[str, Any]:
    seconds = duration or DEFAULT_DURATION
    if seconds > min(MAX_DURATION, int(role["session_duration"])):
        raise ApiError(
            "InvalidParameter.OverTimeError",
            f"DurationSeconds {seconds} is over the role's session duration of {role['session_duration']} seconds.",
        )
    alphabet = string.ascii_letters + string.digits
    secret_id = "AKID" + "".join(secrets.choice(alphabet) for _ in range(32))
    secret_key = "".join(secrets.choice(alphabet) for _ in range(32))
    token = secrets.token_urlsafe(48)
    expires = int(ctx.now.timestamp()) + seconds
    ctx.db.execute(
        "INSERT INTO sessions (secret_id, secret_key, token, role_id, session_name, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (secret_id, secret_key, token, role["role_id"], session_name, expires),
    )
    return {
        "Credentials": {"Token": token, "TmpSecretId": secret_id, "TmpSecretKey": secret_key},
        "ExpiredTime": expires,
        "Expiration": dt.datetime.fromtimestamp(expires, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _verified_claims(token: str, provider: sqlite3.Row) -> dict[str, Any]:
    """The claims of an OIDC token whose signature, issuer, audience and expiry hold."""
    refuse = "InvalidParameter.WebIdentityTokenError"
    try:
        header = jwt.get_unverified_header(token)
        keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(decode_jwks(provider["identity_key"])).keys}
        key = keys.get(header.get("kid")) if header.get("kid") else next(iter(keys.values()), None)
        if key is None:
            raise ApiError(refuse, "The token is signed with a key the identity provider does not publish.")
        return dict(
            jwt.decode(
                token,
                key=key.key,
                algorithms=TOKEN_ALGORITHMS,
                audience=json.loads(provider["client_ids"]),
                issuer=provider["identity_url"],
                options={"require": ["iss", "aud", "exp", "sub"]},
            )
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(refuse, "The WebIdentityToken has expired.") from None
    except (jwt.PyJWTError, ValueError) as error:
        raise ApiError(refuse, f"The WebIdentityToken is not valid: {error}.") from None


def assume_role_with_web_identity(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    role = _role(ctx, p["RoleArn"])
    try:
        provider = find_provider(ctx.db, p["ProviderId"])
    except ApiError:
        raise ApiError("InvalidParameter.ParamError", f"No identity provider `{p['ProviderId']}`.") from None
    claims = _verified_claims(p["WebIdentityToken"], provider)
    audience = claims["aud"] if isinstance(claims["aud"], str) else next(iter(claims["aud"]), "")
    values = {"oidc:iss": str(claims["iss"]), "oidc:aud": str(audience), "oidc:sub": str(claims["sub"])}
    federated = f"qcs::cam::uin/{ctx.owner_uin}:oidc-provider/{provider['name']}"
    if not trusts(role["document"], "name/sts:AssumeRoleWithWebIdentity", federated, values):
        raise ApiError(
            "UnauthorizedOperation",
            f"The trust policy of role `{role['name']}` does not let subject `{values['oidc:sub'][:200]}` assume it.",
        )
    return _credentials(ctx, role, p["RoleSessionName"], p.get("DurationSeconds"))


def assume_role(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("Policy") or p.get("SerialNumber"):
        raise ApiError("UnsupportedOperation", "localcloud does not narrow sessions (Policy) or check MFA.")
    role = _role(ctx, p["RoleArn"])
    values = {"sts:external_id": p["ExternalId"]} if p.get("ExternalId") else {}
    caller = ctx.caller.principal if ctx.caller is not None else ""
    if not trusts(role["document"], "name/sts:AssumeRole", caller, values):
        raise ApiError("UnauthorizedOperation", f"The trust policy of role `{role['name']}` does not trust the caller.")
    return _credentials(ctx, role, p["RoleSessionName"], p.get("DurationSeconds"))


def register(sts: Service) -> None:
    """Adds STS's role actions to the `sts` service."""
    sts.action(
        "AssumeRoleWithWebIdentity",
        writes=True,
        ProviderId=Str(required=True, max_len=128),
        WebIdentityToken=Str(required=True, max_len=20000),
        RoleArn=Str(required=True, max_len=256),
        RoleSessionName=Str(required=True, pattern=SESSION_NAME),
        DurationSeconds=Int(minimum=1),
    )(assume_role_with_web_identity)
    sts.action(
        "AssumeRole",
        writes=True,
        RoleArn=Str(required=True, max_len=256),
        RoleSessionName=Str(required=True, pattern=SESSION_NAME),
        DurationSeconds=Int(minimum=1),
        Policy=Str(),
        ExternalId=Str(max_len=128),
        Tags=ListOf(item=Obj(fields={"Key": Str(required=True), "Value": Str(required=True)})),
        SourceIdentity=Str(),
        SerialNumber=Str(),
        TokenCode=Str(),
    )(assume_role)
    # The role's account: where the role is looked up and the session lives.
    sts.acts_in("AssumeRoleWithWebIdentity", role_account)
    sts.acts_in("AssumeRole", role_account)


# ---- requests signed with temporary credentials ---------------------------------------------


@dataclass(frozen=True)
class Session:
    secret_id: str
    secret_key: str
    role: str
    identity: RestrictedIdentity  # the role's policies
    account_uin: int  # the role's account, where requests signed with the session act


def _identity(secret_key: str, documents: list[str]) -> RestrictedIdentity:
    allowed: list[str] = []
    denied: list[str] = []
    for document in documents:
        for statement in _as_list(json.loads(document).get("statement")):
            actions = [str(action).lower() for action in _as_list(statement.get("action"))]
            (allowed if str(statement.get("effect")).lower() == "allow" else denied).extend(actions)
    return RestrictedIdentity(secret_key, tuple(allowed), tuple(denied))


def _find_session(store: Store, secret_id: str) -> tuple[sqlite3.Row, list[str]] | None:
    with store.transaction(write=False) as db:
        row = db.execute(
            "SELECT sessions.*, roles.name AS role FROM sessions JOIN roles USING (role_id) WHERE secret_id = ?",
            (secret_id,),
        ).fetchone()
        return None if row is None else (row, role_policy_documents(db, row["role_id"]))


def session_of(
    stores: Mapping[int, Store], headers: Mapping[str, str], now: float, known: Mapping[str, str]
) -> Session | None:
    """The session a request's SecretId belongs to, in whichever account holds its role (None for any
    other key); AuthFailure.TokenFailure when its X-TC-Token is missing or wrong or the session has expired."""
    match = _CREDENTIAL.search(headers.get("authorization", ""))
    if match is None or match.group(1) in known:  # a long-lived key
        return None
    hits = ((account, _find_session(store, match.group(1))) for account, store in stores.items())
    account, found = next(((account, hit) for account, hit in hits if hit is not None), (0, None))
    if found is None:
        return None
    row, documents = found
    if not hmac.compare_digest(headers.get("x-tc-token", "").encode(), row["token"].encode()):
        raise ApiError("AuthFailure.TokenFailure", "The X-TC-Token does not belong to these temporary credentials.")
    if now >= row["expires_at"]:
        raise ApiError("AuthFailure.TokenFailure", "These temporary credentials have expired.")
    identity = _identity(row["secret_key"], documents)
    return Session(row["secret_id"], row["secret_key"], row["role"], identity, account)


def unsigned_call(headers: Mapping[str, str], service: str) -> bool:
    """Whether a request is one of the calls that go unsigned (`Authorization: SKIP`)."""
    return (
        headers.get("authorization", "").strip() == "SKIP"
        and service == "sts"
        and headers.get("x-tc-action", "") in UNSIGNED_ACTIONS
    )
