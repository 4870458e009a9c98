"""TC3-HMAC-SHA256 request signatures, checked the way Tencent Cloud API 3.0 checks them.

A request carries `Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request,
SignedHeaders=content-type;host, Signature=<hex>` and `X-TC-Timestamp`. The server rebuilds the
canonical request from what it received and compares signatures in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from localcloud.errors import ApiError

ALGORITHM = "TC3-HMAC-SHA256"
# The real API refuses a signature made more than five minutes away from its own clock.
MAX_CLOCK_SKEW_SECONDS = 300
REQUIRED_SIGNED_HEADERS = {"content-type", "host"}

_AUTHORIZATION = re.compile(
    ALGORITHM + r" Credential=(?P<secret_id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z0-9]+)/tc3_request,"
    r"\s*SignedHeaders=(?P<signed_headers>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def sign(secret_key: str, request: SignedRequest, signed_headers: list[str], service: str, timestamp: int) -> str:
    """The hex signature of `request`, as a client holding `secret_key` computes it."""
    # Header names and values are lower-cased and trimmed in the canonical form.
    canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip().lower()}\n" for name in signed_headers)
    payload = b"UNSIGNED-PAYLOAD" if request.headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD" else request.body
    canonical_request = "\n".join(
        [
            request.method,
            request.path or "/",
            request.query,
            canonical_headers,
            ";".join(signed_headers),
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    signing_key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(request: SignedRequest, credentials: Mapping[str, str], now: float) -> tuple[str, str]:
    """Check the signature; return the caller's SecretId and the service named in the credential scope."""
    authorization = request.headers.get("authorization")
    if not authorization:
        raise ApiError(
            "AuthFailure.SignatureFailure", "The request is not signed: the Authorization header is missing."
        )
    match = _AUTHORIZATION.fullmatch(authorization.strip())
    if match is None:
        raise ApiError(
            "AuthFailure.InvalidAuthorization", f"The Authorization header is not a valid {ALGORITHM} header."
        )
    signed_headers = match["signed_headers"].split(";")
    if not set(signed_headers) >= REQUIRED_SIGNED_HEADERS:
        raise ApiError("AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type and host.")

    raw_timestamp = request.headers.get("x-tc-timestamp", "")
    if not raw_timestamp.isdigit():
        raise ApiError("MissingParameter", "The request is missing a valid X-TC-Timestamp header.")
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > MAX_CLOCK_SKEW_SECONDS:
        raise ApiError(
            "AuthFailure.SignatureExpire",
            f"The X-TC-Timestamp {timestamp} is more than {MAX_CLOCK_SKEW_SECONDS} seconds from the server time.",
        )
    if dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d") != match["date"]:
        raise ApiError("AuthFailure.SignatureFailure", "The credential date is not the UTC date of X-TC-Timestamp.")

    secret_key = credentials.get(match["secret_id"])
    if secret_key is None:
        raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
    expected = sign(secret_key, request, signed_headers, match["service"], timestamp)
    if not hmac.compare_digest(expected, match["signature"]):
        raise ApiError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
    return match["secret_id"], match["service"]
