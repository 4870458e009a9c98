"""Benchmark: what the preflight's identity step (STS GetCallerIdentity through the official SDK, a new
client per run as the commands make it) costs, against one plain CAM call made the same way in the
same process (a fresh CAM client's ListPolicies of one policy), both over localcloud's route.

Printed: milliseconds per call of each, best of 5 alternating rounds of 50 calls, and the ratio.

Run: .venv/bin/python -m benchmarks.preflight_identity
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from commands.preflight import check_identity
from tests.localcloud_process import SECRET_ID, SECRET_KEY, LocalCloudProcess

CALLS, ROUNDS = 50, 5
CONFIG = {"tencentcloud:region": "ap-guangzhou", "im-access:ownerUin": "100012345678"}


def per_call_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        action()
    return (time.perf_counter() - start) * 1000 / CALLS


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, LocalCloudProcess(Path(folder) / "state.db") as cloud:
        proxy = f"http://{cloud.address}"
        env = {"TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY, "HTTP_PROXY": proxy}

        def preflight() -> object:
            return check_identity("dev", CONFIG, env, plain_http=True, via_localcloud=True)

        def cam_call() -> object:
            http = HttpProfile(endpoint="cam.tencentcloudapi.com", protocol="http", proxy=proxy)
            client = cam_client.CamClient(
                credential.Credential(SECRET_ID, SECRET_KEY), "", ClientProfile(httpProfile=http)
            )
            return client.call_json("ListPolicies", {"Rp": 1})

        preflight(), cam_call()  # warm up imports and the server
        best_preflight, best_cam = float("inf"), float("inf")
        for _ in range(ROUNDS):
            best_preflight = min(best_preflight, per_call_ms(preflight))
            best_cam = min(best_cam, per_call_ms(cam_call))
    print(f"preflight identity step (STS GetCallerIdentity + checks): {best_preflight:.2f} ms per run")
    print(f"baseline, one CAM ListPolicies with a fresh client:      {best_cam:.2f} ms per call")
    print(f"ratio: {best_preflight / best_cam:.2f}x")


if __name__ == "__main__":
    main()
