"""The HTTP front: Tencent Cloud API 3.0 requests in, the JSON envelope out.

Requests arrive either directly (`POST /` with `Host: cam.tencentcloudapi.com`) or as an HTTP
proxy would receive them (`POST http://cam.tencentcloudapi.com/`), so a client can reach the
server through `HTTP_PROXY` without changing its endpoint. Over HTTPS, a client asks the proxy for
a tunnel (`CONNECT sts.tencentcloudapi.com:443`, as `HTTPS_PROXY` makes it); localcloud ends the
TLS itself with a certificate of its own CA (localcloud/tls.py) and reads the requests inside.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import ssl
import sys
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from localcloud import signature
from localcloud.accounts import open_account, state_path
from localcloud.authorization import RestrictedIdentity, authorize
from localcloud.cam import cam
from localcloud.errors import ApiError
from localcloud.params import check_fields
from localcloud.rate_limits import RateLimits, throttle_code
from localcloud.service import Caller, Context, Service
from localcloud.store import Store
from localcloud.sts import sts
from localcloud.sts_assume import register as register_assume_role
from localcloud.sts_assume import session_of, unsigned_call
from localcloud.tag import tag
from localcloud.tls import Authority, tunnel_host

register_assume_role(sts)
SERVICES: dict[str, Service] = {service.name: service for service in (cam, tag, sts)}
MAX_BODY_BYTES = 10 * 1024 * 1024
# Reads that see a write at once, lag or not. The provider (0.2.3, from terraform-provider-tencentcloud
# v1.82.42) retries its read after most creates ("creation not done"), but not these: GetUser after
# AddUser (UserNotExist fails the create), ListAccessKeys after CreateAccessKey, DescribeSafeAuthFlagColl
# after SetMfaFlag and DescribeOIDCConfig after CreateOIDCConfig (a missing answer empties the state).
# As the provider works against CAM, CAM must answer these from the latest state.
READ_YOUR_WRITES = frozenset(
    {("cam", "GetUser"), ("cam", "ListAccessKeys"), ("cam", "DescribeSafeAuthFlagColl"), ("cam", "DescribeOIDCConfig")}
)
HANDSHAKE_SECONDS = 30


@dataclass(frozen=True)
class Faults:
    """Injected trouble for tests: a share of throttled answers, added latency, and CAM's rate limits."""

    throttle_rate: float = 0.0
    latency_seconds: float = 0.0
    rate_limits: RateLimits | None = None


@dataclass
class LocalCloud:
    """Everything a request needs: each account's state, credentials, the main account and faults."""

    stores: dict[int, Store]  # every account's state, by account uin
    credentials: Mapping[str, str]
    owner_uin: int
    faults: Faults
    random: random.Random
    restricted: Mapping[str, RestrictedIdentity] = field(default_factory=dict)
    # Root keys of other accounts, SecretId -> (SecretKey, account uin): each acts in its account.
    other_accounts: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        """The main account's (owner_uin), where seeds go."""
        return self.stores[self.owner_uin]

    def close(self) -> None:
        for store in self.stores.values():
            store.close()

    def caller(self, secret_id: str) -> Caller:
        if secret_id in self.other_accounts:
            account = self.other_accounts[secret_id][1]
            return Caller(account, account, secret_id=secret_id)
        if secret_id in self.restricted:
            return Caller(self.owner_uin, self.restricted[secret_id].uin, secret_id=secret_id)
        return Caller(self.owner_uin, self.owner_uin, secret_id=secret_id)

    def handle(self, request: signature.SignedRequest, host: str) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        try:
            return {"Response": {**self._dispatch(request, host), "RequestId": request_id}}
        except ApiError as error:
            failure = {"Code": error.code, "Message": error.message}
        except Exception:  # a fault of localcloud itself: answered like the real API, and logged
            traceback.print_exc()
            failure = {"Code": "InternalError.SystemError", "Message": f"Internal error; see the log for {request_id}."}
        return {"Response": {"Error": failure, "RequestId": request_id}}

    def _dispatch(self, request: signature.SignedRequest, host: str) -> dict[str, Any]:
        if request.method != "POST" or not request.headers.get("content-type", "").startswith("application/json"):
            raise ApiError("UnsupportedProtocol", "localcloud accepts POST requests with a JSON body only.")
        credentials = {
            **{key: secret for key, (secret, _) in self.other_accounts.items()},
            **{key: who.secret_key for key, who in self.restricted.items()},
            **self.credentials,
        }
        # Temporary credentials sign like any key, and must carry their token.
        session = session_of(self.stores, request.headers, time.time(), credentials)
        if session is not None:
            credentials[session.secret_id] = session.secret_key
        host_service = host.split(".", 1)[0] if ".tencentcloudapi.com" in host else ""
        if unsigned_call(request.headers, host_service):
            secret_id, scope_service = "", host_service  # the call's own token is its proof
        else:
            secret_id, scope_service = signature.verify(request, credentials, time.time())
        # A request for <service>.tencentcloudapi.com names its service; a bare address relies on the scope.
        named = host_service or scope_service
        service = SERVICES.get(named)
        if service is None:
            raise ApiError("UnsupportedOperation", f"localcloud does not emulate the `{named}` service.")
        if service.name != scope_service:
            raise ApiError(
                "AuthFailure.SignatureFailure", f"The credential scope names `{scope_service}`, not `{named}`."
            )
        version = request.headers.get("x-tc-version", "")
        if version != service.version:
            raise ApiError("NoSuchVersion", f"The {service.name} API has version {service.version}, not `{version}`.")
        action_name = request.headers.get("x-tc-action", "")
        action = service.actions.get(action_name)
        if action is None:
            raise ApiError("InvalidAction", f"The action `{action_name}` does not exist.")
        try:
            body = json.loads(request.body or b"{}")
        except json.JSONDecodeError:
            raise ApiError("InvalidParameter", "The request body is not JSON.") from None
        if not isinstance(body, dict):
            raise ApiError("InvalidParameter", "The request body must be a JSON object.")
        params = check_fields(action.schema, body)
        caller = Caller(session.account_uin, session.account_uin, session.role) if session else self.caller(secret_id)
        if not action.any_caller:
            # A role's temporary credentials may do what the role's policies allow.
            authorize(session.identity if session else self.restricted.get(secret_id), service.name, action_name)
        # A request acts in its caller's account, unless the action names another one that
        # localcloud holds (AssumeRole's RoleArn); an account it does not hold is the action's to refuse.
        named_account = action.account_of(params) if action.account_of else None
        account = named_account if named_account in self.stores else caller.account_uin

        if self.faults.latency_seconds:
            time.sleep(self.faults.latency_seconds)
        limits = self.faults.rate_limits if service is cam else None  # the documented figures are CAM's
        if limits is not None and not limits.allow(action_name, account):
            raise ApiError(throttle_code(service.name, action_name), f"Over {action_name}'s requests per second.")
        if self.faults.throttle_rate and self.random.random() < self.faults.throttle_rate:
            raise ApiError("RequestLimitExceeded", "The request rate limit is exceeded; retry later.")
        # CAM's reads trail its writes (--consistency-lag-ms); its writes check the latest state.
        lagged = not action.writes and (service.name, action_name) not in READ_YOUR_WRITES
        with self.stores[account].transaction(write=action.writes, lagged=lagged) as db:
            return action.handler(Context(db, account, dt.datetime.now(dt.UTC), caller), params)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as SDK clients expect
    # Headers and body go out in separate writes; without this, delayed ACKs add ~40 ms per answer.
    disable_nagle_algorithm = True
    server: Listener
    tunnel: str = ""  # inside a CONNECT tunnel: the host it was opened to
    tls: ssl.SSLSocket | None = None

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def do_CONNECT(self) -> None:
        host = tunnel_host(self.path)
        authority = self.server.authority
        if host is None or authority is None or self.tunnel:
            print(f"localcloud: refused CONNECT {self.path[:300]!r} from {self.client_address[0]}", file=sys.stderr)
            self.send_error(403, "localcloud opens tunnels to <service>.tencentcloudapi.com:443 only")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self._terminate_tls(authority, host)

    def _terminate_tls(self, authority: Authority, host: str) -> None:
        """Speaks TLS on the tunnel's socket, then reads the requests inside it like any other."""
        self.connection.settimeout(HANDSHAKE_SECONDS)
        try:
            tls = authority.context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError) as error:  # e.g. a client that does not trust localcloud's CA
            print(f"localcloud: no TLS with {self.client_address[0]} for {host}: {error}", file=sys.stderr)
            self.close_connection = True
            return
        tls.settimeout(None)
        self.tls, self.tunnel, self.connection = tls, host, tls
        self.rfile, self.wfile = tls.makefile("rb"), tls.makefile("wb")
        self.close_connection = False  # a CONNECT sent as HTTP/1.0 still keeps its tunnel open

    def finish(self) -> None:
        super().finish()
        if self.tls is not None:
            self.tls.close()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_error(413, "request body too large")
            return
        body = self.rfile.read(length)
        target = urlsplit(self.path)
        host = self.tunnel or target.netloc or self.headers.get("Host", "")
        headers = {name.lower(): value for name, value in self.headers.items()}
        headers.setdefault("host", host)
        request = signature.SignedRequest(self.command, target.path or "/", target.query, headers, body)
        answer = json.dumps(self.server.cloud.handle(request, host.lower())).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class Listener(ThreadingHTTPServer):
    """The bound socket, then the server: `serve` gives it the cloud it answers for."""

    daemon_threads = True
    request_queue_size = 128
    cloud: LocalCloud
    verbose = False
    authority: Authority | None = None  # None: no HTTPS through the proxy

    def __init__(self, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.host = host


def open_cloud(
    state: Path,
    credentials: Mapping[str, str],
    owner_uin: int,
    faults: Faults,
    restricted: Mapping[str, RestrictedIdentity] | None = None,
    other_accounts: Mapping[str, tuple[str, int]] | None = None,
) -> LocalCloud:
    other_accounts = dict(other_accounts or {})
    uins = {owner_uin, *(uin for _, uin in other_accounts.values())}
    stores = {uin: open_account(state_path(state, owner_uin, uin)) for uin in sorted(uins)}
    restricted = dict(restricted or {})
    return LocalCloud(stores, credentials, owner_uin, faults, random.Random(), restricted, other_accounts)


def listen(host: str, port: int) -> Listener:
    """Binds the port, before any state is opened: a port in use fails here (OSError) and changes nothing."""
    return Listener(host, port)


def serve(server: Listener, cloud: LocalCloud, verbose: bool = False, authority: Authority | None = None) -> None:
    server.cloud, server.verbose, server.authority = cloud, verbose, authority
    with server:
        print(f"localcloud listening on http://{server.host}:{server.server_port}", flush=True)
        server.serve_forever()
