"""The preflight's answer when STS cannot be reached: one clean line saying why, not the HTTP
library's nested exception text cut mid-word."""

from __future__ import annotations

import socket

import pytest

from commands import preflight


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sts_behind_a_proxy_that_refuses_is_one_clean_line() -> None:
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "x"}
    env["HTTPS_PROXY"] = f"http://127.0.0.1:{closed_port()}"

    with pytest.raises(preflight.PreflightError) as raised:
        preflight.caller_identity(env, plain_http=False)

    assert str(raised.value) == (
        "could not reach sts.tencentcloudapi.com to ask whose the credentials are (the proxy in HTTPS_PROXY"
        " refused the connection); check the network (and HTTPS_PROXY, if this machine needs a proxy)"
    )


@pytest.mark.parametrize(
    ("library_text", "reason"),
    [
        (
            "HTTPSConnectionPool(host='sts.tencentcloudapi.com', port=443): Max retries exceeded with url: / (Caused by"
            " NameResolutionError(\"HTTPSConnection(host='sts.tencentcloudapi.com', port=443): Failed to resolve"
            " 'sts.tencentcloudapi.com' ([Errno -2] Name or service not known)\"))",
            "its name does not resolve",
        ),
        ("... (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] ...')))",
         "its TLS certificate was not trusted"),
        ("... (Caused by ConnectTimeoutError(..., 'Connection to sts.tencentcloudapi.com timed out.'))",
         "the connection timed out"),
        ("something new", "a network error"),
    ],
)  # fmt: skip
def test_each_network_failure_is_named_in_a_few_words(library_text: str, reason: str) -> None:
    assert preflight._network_reason(library_text) == reason
