"""A test OIDC issuer: an RSA key pair, its JWKS, and tokens shaped like GitHub Actions' OIDC tokens.

localcloud learns the keys the way CAM does: the JWKS, base64-encoded, is the IdentityKey of a
role OIDC provider (CreateOIDCConfig, or the provider's cam.RoleSso)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "sts.tencentcloudapi.com"
REPOSITORY = "im-access/im-access"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class OidcIssuer:
    kid: str = "test-key-1"
    issuer: str = ISSUER
    private_key: rsa.RSAPrivateKey = field(default_factory=_key)

    @property
    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    @property
    def identity_key(self) -> str:
        """The JWKS as CAM's IdentityKey takes it."""
        return base64.b64encode(json.dumps(self.jwks).encode()).decode()

    def token(self, sub: str | None, *, aud: str = AUDIENCE, lifetime: int = 300, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": aud, "sub": sub, "iat": now, "nbf": now, "exp": now + lifetime}
        payload.update({"repository": REPOSITORY, **claims})
        payload = {key: value for key, value in payload.items() if value is not None}
        return jwt.encode(payload, self.private_key, algorithm="RS256", headers={"kid": self.kid})


def subject(context: str) -> str:
    return f"repo:{REPOSITORY}:{context}"
