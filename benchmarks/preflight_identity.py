"""Benchmark: what the preflight's identity step (STS GetCallerIdentity through the official SDK, a new
client per run as the commands make it) costs, against one plain CAM call made the same way in the
same process (a fresh CAM client's ListPolicies of one policy), all over localcloud's route; and the
same step for a stack of a member account, which first assumes the member account's role.

Printed: milliseconds per call of each, best of 5 alternating rounds of 50 calls, and the ratios.

Run: .venv/bin/python -m benchmarks.preflight_identity
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from benchmarks.mode import is_short
from commands.preflight import check_identity
from tests.localcloud_process import NO_RATE_LIMITS, SECRET_ID, SECRET_KEY, LocalCloudProcess, call

CONFIG = {"tencentcloud:region": "ap-guangzhou", "im-access:ownerUin": "100012345678"}
MEMBER, MEMBER_KEY, ROLE = "200098765432", ("AKIDbenchmember", "bench-member-secret"), "im-access-deploy"
MEMBER_CONFIG = {
    "tencentcloud:region": "ap-guangzhou",
    "im-access:ownerUin": MEMBER,
    "tencentcloud:assumeRole": {"roleArn": f"qcs::cam::uin/{MEMBER}:roleName/{ROLE}", "sessionName": "bench"},
}
TRUST = {
    "version": "2.0",
    "statement": [
        {"effect": "allow", "action": "name/sts:AssumeRole", "principal": {"qcs": ["qcs::cam::uin/100012345678:root"]}}
    ],
}


def per_call_ms(action: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        action()
    return (time.perf_counter() - start) * 1000 / calls


def main() -> None:
    calls, rounds = (2, 1) if is_short(__doc__) else (50, 5)
    member = ("--other-account-key", *MEMBER_KEY, MEMBER)
    with (
        tempfile.TemporaryDirectory() as folder,
        LocalCloudProcess(Path(folder) / "state.db", NO_RATE_LIMITS, *member) as cloud,
    ):
        proxy = f"http://{cloud.address}"
        in_member = cloud.cam(secret_id=MEMBER_KEY[0], secret_key=MEMBER_KEY[1])
        call(in_member, "CreateRole", RoleName=ROLE, PolicyDocument=json.dumps(TRUST))
        env = {"TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY, "HTTP_PROXY": proxy}

        def preflight() -> object:
            return check_identity("dev", CONFIG, env, plain_http=True, via_localcloud=True)

        def member_preflight() -> object:
            return check_identity("staging", MEMBER_CONFIG, env, plain_http=True, via_localcloud=True)

        def cam_call() -> object:
            http = HttpProfile(endpoint="cam.tencentcloudapi.com", protocol="http", proxy=proxy)
            client = cam_client.CamClient(
                credential.Credential(SECRET_ID, SECRET_KEY), "", ClientProfile(httpProfile=http)
            )
            return client.call_json("ListPolicies", {"Rp": 1})

        preflight(), member_preflight(), cam_call()  # warm up imports and the server
        best_preflight, best_member, best_cam = float("inf"), float("inf"), float("inf")
        for _ in range(rounds):
            best_preflight = min(best_preflight, per_call_ms(preflight, calls))
            best_member = min(best_member, per_call_ms(member_preflight, calls))
            best_cam = min(best_cam, per_call_ms(cam_call, calls))
    print(f"preflight identity step (STS GetCallerIdentity + checks): {best_preflight:.2f} ms per run")
    print(f"the same for a member account (AssumeRole first):       {best_member:.2f} ms per run")
    print(f"baseline, one CAM ListPolicies with a fresh client:      {best_cam:.2f} ms per call")
    print(f"ratios: {best_preflight / best_cam:.2f}x, member account {best_member / best_cam:.2f}x")


if __name__ == "__main__":
    main()
