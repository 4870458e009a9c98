"""Runs localcloud as a child process and hands out official Tencent Cloud SDK clients for it."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sts.v20180813 import sts_client
from tencentcloud.tag.v20180813 import tag_client

from commands.cam_account import LAG_ENV

ROOT = Path(__file__).resolve().parent.parent
SECRET_ID = "AKIDlocalcloudtests"
SECRET_KEY = "localcloud-test-secret-key"
# CAM's documented rate limits are on by default (CreateRole: 2 per second). The clients handed out
# here retry a throttled request as the provider does; modules that measure or count something the
# limits would blur (faults, contention, error codes) turn them off.
NO_RATE_LIMITS = "--no-rate-limits"
# CAM's reads trail its writes. Every end-to-end module runs its server with this lag, so a reader
# or a test that reads right after a write without waiting it out fails here as it would on CAM.
CAM_LAG = ("--consistency-lag-ms", "1000")
LAG_FLAG = CAM_LAG[0]


class ThrottleRetryer:
    """Retries any `RequestLimitExceeded*` answer (AddUser's is `.CreateUser`), as the provider does,
    within the next one-second window; nothing else (a server that is gone stays an error). The
    SDK's StandardRetryer knows fewer codes and keeps a failed attempt's error after a success."""

    ATTEMPTS = 20

    def send_request(self, attempt: Callable[[], Any]) -> Any:
        for _ in range(self.ATTEMPTS - 1):
            try:
                return attempt()
            except TencentCloudSDKException as error:
                if not str(error.get_code()).startswith("RequestLimitExceeded"):
                    raise
            time.sleep(0.1 + random.random() * 0.2)
        return attempt()


class LocalCloudProcess:
    """`python -m localcloud serve` on a free port, with its state in `state`."""

    def __init__(self, state: Path, *extra_args: str, module: str = "localcloud") -> None:
        self.module = module
        self.state = state
        self.extra_args = extra_args
        self.process: subprocess.Popen[str] | None = None
        self.address = ""

    @property
    def args(self) -> list[str]:
        # LOCALCLOUD_TEST_ARGS adds flags to every server the tests start, e.g. "--consistency-lag-ms 3000"
        # to run a suite against a longer lag; it is split into words on purpose.
        everywhere = os.environ.get("LOCALCLOUD_TEST_ARGS", "").split() if self.module == "localcloud" else []
        return [*self.extra_args, *everywhere]

    @property
    def lag_ms(self) -> int:
        """The server's consistency lag, in whole milliseconds (rounded up): its last LAG_FLAG."""
        # Read as localcloud reads its flags: both spellings, the last one winning, no abbreviation.
        parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
        parser.add_argument(LAG_FLAG, type=float, default=0.0)
        return math.ceil(parser.parse_known_args(self.args)[0].consistency_lag_ms)

    def lag_env(self) -> dict[str, str]:
        """For a command that reads CAM: how long to wait for this server's reads to show a write."""
        return {LAG_ENV: str(self.lag_ms)}

    def settle(self) -> None:
        """Waits until reads show every write this server has answered."""
        time.sleep(self.lag_ms / 1000)

    def start(self) -> LocalCloudProcess:
        env = {**os.environ, "TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY}
        self.process = subprocess.Popen(
            [
                sys.executable,
                *("-m", self.module, "serve", "--port", "0", "--state", str(self.state)),
                *self.args,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        if not banner.startswith("localcloud listening on http://"):
            self.stop()
            raise RuntimeError(f"localcloud did not start: {banner!r}")
        self.address = banner.rsplit("http://", 1)[1].strip()
        return self

    @property
    def ca_file(self) -> Path:
        """The certificate of the CA localcloud made at start (HTTPS through the proxy trusts it)."""
        args = list(self.extra_args)
        return Path(args[args.index("--ca-file") + 1]) if "--ca-file" in args else Path(f"{self.state}.ca.pem")

    def https_env(self) -> dict[str, str]:
        """For a child process that calls `https://<service>.tencentcloudapi.com` (as the provider's
        STS check does): the proxy for HTTPS, and localcloud's CA as the one certificate it trusts
        (Go's crypto/x509 and OpenSSL read SSL_CERT_FILE)."""
        proxy = f"http://{self.address}"
        return {"HTTPS_PROXY": proxy, "https_proxy": proxy, "SSL_CERT_FILE": str(self.ca_file)}

    def kill(self) -> None:
        """Kill -9: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> LocalCloudProcess:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def _profile(self, via_proxy: bool, service: str, retry_throttled: bool = True) -> ClientProfile:
        if via_proxy:
            # The way the provider reaches localcloud: the real endpoint over plain HTTP, through a proxy.
            http = HttpProfile(endpoint=f"{service}.tencentcloudapi.com", protocol="http", keepAlive=True)
            http.proxy = f"http://{self.address}"
        else:
            http = HttpProfile(endpoint=self.address, protocol="http", keepAlive=True)
        # Connections are reused, as the provider's Go client does.
        return ClientProfile(httpProfile=http, retryer=ThrottleRetryer() if retry_throttled else None)

    def cam(
        self,
        secret_key: str = SECRET_KEY,
        secret_id: str = SECRET_ID,
        via_proxy: bool = False,
        token: str = "",
        retry_throttled: bool = True,
    ) -> cam_client.CamClient:
        """A CAM client signing with a key pair (and the token of temporary credentials); it retries
        throttled requests unless `retry_throttled` is False (to see the throttling itself)."""
        credentials = credential.Credential(secret_id, secret_key, token or None)
        return cam_client.CamClient(credentials, "", self._profile(via_proxy, "cam", retry_throttled))

    def sts(
        self, secret_key: str = SECRET_KEY, secret_id: str = SECRET_ID, via_proxy: bool = False, token: str = ""
    ) -> sts_client.StsClient:
        credentials = credential.Credential(secret_id, secret_key, token or None)
        return sts_client.StsClient(credentials, "ap-guangzhou", self._profile(via_proxy, "sts"))

    def tag(self, via_proxy: bool = False) -> tag_client.TagClient:
        return tag_client.TagClient(credential.Credential(SECRET_ID, SECRET_KEY), "", self._profile(via_proxy, "tag"))


def sdk_signed(endpoint: str, action: str, params: dict[str, Any]) -> RequestInternal:
    """Headers and body exactly as the official SDK signs them for `endpoint`, to send (or tamper with) by hand."""
    http = HttpProfile(endpoint=endpoint, protocol="http")
    client = cam_client.CamClient(credential.Credential(SECRET_ID, SECRET_KEY), "", ClientProfile(httpProfile=http))
    request = RequestInternal(endpoint, "POST", "/")
    client._build_req_with_tc3_signature(action, params, request)
    return request


def call(client: Any, action: str, **params: Any) -> dict[str, Any]:
    """One API call through the SDK's typed request and response models.

    The SDK warns about response fields its model does not know; that is turned into a failure,
    so every answer must fit the official models."""
    models = importlib.import_module(client.__module__.rsplit(".", 1)[0] + ".models")
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = getattr(client, action)(request)
    useless = [str(w.message) for w in caught if "useless" in str(w.message)]
    assert not useless, f"{action} answered with fields the SDK does not know: {useless}"
    return dict(json.loads(response.to_json_string()))


def policy_id(cam: Any, name: str) -> int:
    """The id of the policy named `name` (a preset among hundreds: looked up by keyword)."""
    policies = call(cam, "ListPolicies", Keyword=name, Rp=200)["List"]
    return int(next(p["PolicyId"] for p in policies if p["PolicyName"] == name))


def error_code(client: Any, action: str, **params: Any) -> str:
    """The error code an API call is answered with; fails if the call succeeds."""
    try:
        call(client, action, **params)
    except TencentCloudSDKException as error:
        return str(error.get_code())
    raise AssertionError(f"{action} succeeded, but an error was expected")


def add_users_counting_throttles(cam: Any, names: list[str]) -> tuple[set[str], int]:
    """AddUser for each name; the names created, and how many requests were throttled (and so changed nothing)."""
    created: set[str] = set()
    throttled = 0
    for name in names:
        try:
            call(cam, "AddUser", Name=name)
            created.add(name)
        except TencentCloudSDKException as error:
            assert error.get_code().startswith("RequestLimitExceeded")  # AddUser's own: .CreateUser
            throttled += 1
    return created, throttled
