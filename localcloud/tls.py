"""HTTPS through the proxy: a private certificate authority, made at each start, and a server
certificate it signs for `*.tencentcloudapi.com` and `tencentcloudapi.com`.

Clients that must reach `https://<service>.tencentcloudapi.com` (the provider asks STS there
whatever its protocol setting) send `CONNECT <host>:443` to localcloud, which then speaks TLS on
that socket with this certificate. Only the CA's certificate is written out, for clients to
trust (`SSL_CERT_FILE`); the private keys stay in memory and die with the process.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DOMAIN = "tencentcloudapi.com"
# The hosts the certificate covers: the domain, and one label before it (`sts.tencentcloudapi.com:443`).
TUNNEL_TARGET = re.compile(r"((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)?tencentcloudapi\.com):443")
VALIDITY = dt.timedelta(days=30)


@dataclass(frozen=True)
class Authority:
    ca_pem: bytes  # the CA's certificate, public
    context: ssl.SSLContext  # the server side, holding the server certificate and its key


def tunnel_host(target: str) -> str | None:
    """The host a CONNECT target names, when localcloud may terminate TLS for it (None otherwise)."""
    match = TUNNEL_TARGET.fullmatch(target.lower())
    return match.group(1) if match else None


def _name(common_name: str) -> x509.Name:
    organization = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "localcloud")
    return x509.Name([organization, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_authority() -> Authority:
    """A fresh CA and a server certificate it signs, as an SSL context for the server side."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # some slack for clocks
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("localcloud CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(f"*.{DOMAIN}"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"*.{DOMAIN}"), x509.DNSName(DOMAIN)]), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # The ssl module loads a key from a file only: a private directory (0700) that is gone at once.
    with tempfile.TemporaryDirectory(prefix="localcloud-tls-") as folder:
        chain = Path(folder) / "server.pem"
        chain.touch(mode=0o600)
        chain.write_bytes(key_pem + server.public_bytes(serialization.Encoding.PEM))
        context.load_cert_chain(chain)
    return Authority(ca.public_bytes(serialization.Encoding.PEM), context)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def write_ca(authority: Authority, path: Path) -> None:
    """Writes the CA certificate whole or not at all (a client may read it at any moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(authority.ca_pem)
    partial.replace(path)
