"""HTTPS through localcloud's proxy: `CONNECT <service>.tencentcloudapi.com:443`, then TLS ended by
localcloud with a certificate of the CA it makes at start, whose certificate (and only that) it
writes out. Driven by the official SDK's STS and CAM clients over HTTPS, by the ssl module, and
by curl; a client that does not trust the CA fails, so the TLS is real."""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from tencentcloud.cam.v20190116.cam_client import CamClient
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sts.v20180813.sts_client import StsClient

from tests.localcloud_process import SECRET_ID, SECRET_KEY, LocalCloudProcess, call, sdk_signed

OWNER = 100012345678
OTHER = ("AKIDotheraccount", "other-account-secret", "200098765432")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with LocalCloudProcess(tmp_path_factory.mktemp("tls") / "state.db", "--other-account-key", *OTHER) as process:
        yield process


def https_profile(cloud: LocalCloudProcess, service: str, certification: str | None) -> ClientProfile:
    """The SDK's real HTTPS endpoint through localcloud as proxy; `certification` is the CA bundle
    it verifies against (None: its default, certifi's public CAs)."""
    http = HttpProfile(endpoint=f"{service}.tencentcloudapi.com", protocol="https", keepAlive=True)
    http.proxy = f"http://{cloud.address}"
    http.certification = certification
    return ClientProfile(httpProfile=http)


def sts_over_https(cloud: LocalCloudProcess, key: tuple[str, str] = (SECRET_ID, SECRET_KEY)) -> StsClient:
    return StsClient(credential.Credential(*key), "ap-guangzhou", https_profile(cloud, "sts", str(cloud.ca_file)))


def connect(cloud: LocalCloudProcess, target: str) -> tuple[socket.socket, bytes]:
    """A CONNECT request to the proxy: the socket, and the status line and headers it answered."""
    host, port = cloud.address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(1)
        if not chunk:
            break
        answer += chunk
    return sock, answer


def test_the_sdk_over_https_through_the_proxy_gets_answers(cloud: LocalCloudProcess) -> None:
    sts = sts_over_https(cloud)
    for _ in range(3):  # one kept-alive tunnel carries several requests
        answer = call(sts, "GetCallerIdentity")
        assert (answer["AccountId"], answer["Arn"]) == (str(OWNER), f"qcs::cam:{OWNER}:uin/{OWNER}")
    other = call(sts_over_https(cloud, OTHER[:2]), "GetCallerIdentity")
    assert other["AccountId"] == OTHER[2]
    # Requests inside the tunnel are served like any other: CAM over HTTPS writes, plain HTTP reads it back.
    cam = CamClient(credential.Credential(SECRET_ID, SECRET_KEY), "", https_profile(cloud, "cam", str(cloud.ca_file)))
    call(cam, "AddUser", Name="made-over-https")
    assert call(cloud.cam(via_proxy=True), "GetUser", Name="made-over-https")["Name"] == "made-over-https"


def test_inside_a_tunnel_the_host_is_the_tunnels(cloud: LocalCloudProcess) -> None:
    """A request signed for CAM, sent inside a tunnel to STS, is STS's and refused (its scope names cam)."""
    request = sdk_signed("cam.tencentcloudapi.com", "ListUsers", {})
    sock, answer = connect(cloud, "sts.tencentcloudapi.com:443")
    assert answer.startswith(b"HTTP/1.1 200 ")
    context = ssl.create_default_context(cafile=str(cloud.ca_file))
    with context.wrap_socket(sock, server_hostname="sts.tencentcloudapi.com") as tls:
        head = "".join(f"{name}: {value}\r\n" for name, value in request.header.items())
        tls.sendall(f"POST / HTTP/1.1\r\n{head}Content-Length: {len(request.data)}\r\n\r\n{request.data}".encode())
        response = http.client.HTTPResponse(tls)
        response.begin()
        reply = response.read().decode()
    assert response.status == 200
    assert '"Code": "AuthFailure.SignatureFailure"' in reply and "names `cam`, not `sts`" in reply


def test_a_client_that_does_not_trust_localclouds_ca_fails(cloud: LocalCloudProcess) -> None:
    # The SDK's default bundle (certifi's public CAs) does not hold localcloud's CA.
    untrusting = StsClient(credential.Credential(SECRET_ID, SECRET_KEY), "", https_profile(cloud, "sts", None))
    with pytest.raises(TencentCloudSDKException, match="CERTIFICATE_VERIFY_FAILED"):
        call(untrusting, "GetCallerIdentity")
    sock, answer = connect(cloud, "sts.tencentcloudapi.com:443")
    assert answer.startswith(b"HTTP/1.1 200 Connection established\r\n")
    with pytest.raises(ssl.SSLCertVerificationError):
        ssl.create_default_context().wrap_socket(sock, server_hostname="sts.tencentcloudapi.com")
    sock.close()


def test_the_certificate_covers_tencentcloudapi_com_only(cloud: LocalCloudProcess) -> None:
    trusting = ssl.create_default_context(cafile=str(cloud.ca_file))
    for host in ("cam.tencentcloudapi.com", "tencentcloudapi.com"):
        sock, answer = connect(cloud, f"{host}:443")
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        with trusting.wrap_socket(sock, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        names = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(x509.SubjectAlternativeName)
        assert names.value.get_values_for_type(x509.DNSName) == ["*.tencentcloudapi.com", "tencentcloudapi.com"]
    # The same certificate, asked for under another name, does not verify.
    sock, _ = connect(cloud, "sts.tencentcloudapi.com:443")
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        trusting.wrap_socket(sock, server_hostname="example.com")
    sock.close()


@pytest.mark.parametrize(
    "target",
    [
        "example.com:443",
        "sts.tencentcloudapi.com:80",
        "sts.tencentcloudapi.com.example.com:443",
        "sts.ap-guangzhou.tencentcloudapi.com:443",  # not covered by the wildcard
        "127.0.0.1:22",
    ],
)
def test_a_tunnel_anywhere_else_is_refused(cloud: LocalCloudProcess, target: str) -> None:
    sock, answer = connect(cloud, target)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 403 "), answer


def test_only_the_cas_certificate_is_written(tmp_path: Path) -> None:
    ca_file = tmp_path / "trust" / "localcloud-ca.pem"
    with LocalCloudProcess(tmp_path / "state.db", "--ca-file", str(ca_file)) as process:
        assert process.ca_file == ca_file
        first = ca_file.read_text()
        assert first.count("-----BEGIN CERTIFICATE-----") == 1 and "PRIVATE KEY" not in first
        assert call(sts_over_https(process), "GetCallerIdentity")["AccountId"] == str(OWNER)
        written = [path for path in tmp_path.rglob("*") if path.is_file()]
        assert not [path for path in written if b"PRIVATE KEY" in path.read_bytes()]
    # A new CA at each start: the old certificate no longer holds.
    with LocalCloudProcess(tmp_path / "state.db", "--ca-file", str(ca_file)) as process:
        assert ca_file.read_text() != first
        assert call(sts_over_https(process), "GetCallerIdentity")["AccountId"] == str(OWNER)


def test_the_ca_file_defaults_beside_the_state(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db") as process:
        assert process.ca_file == tmp_path / "state.db.ca.pem" and process.ca_file.is_file()


def test_curl_through_the_proxy_with_https_env(cloud: LocalCloudProcess) -> None:
    """Go-free: curl reads the proxy and the CA from the environment `https_env()` gives a child."""
    curl = shutil.which("curl")
    assert curl, "curl is needed for this test"
    command = [
        curl,
        "-sS",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-H",
        "X-TC-Action: GetCallerIdentity",
    ]
    command += ["-H", "X-TC-Version: 2018-08-13", "-d", "{}", "https://sts.tencentcloudapi.com/"]
    env = {"PATH": "/usr/bin:/bin", **cloud.https_env()}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    # Unsigned, so the API's own refusal: TLS and the request inside it went through.
    assert result.returncode == 0, result.stderr
    assert '"Code": "AuthFailure.SignatureFailure"' in result.stdout
    # Without localcloud's CA, curl refuses the server (exit 60: peer certificate cannot be authenticated).
    del env["SSL_CERT_FILE"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 60, result.stderr
