"""The `local` stack deployed from scratch while localcloud throttles 30% of the requests: the real
engine and provider retry until the account holds what the stack declares, and nothing more.

Apart from tests/test_local_stack_e2e.py's scenario so that it runs on a worker of its own.

Only the engine shows: the provider's retries converging, and a state that agrees with the account
afterwards (the preview that follows changes nothing). localcloud's throttling itself is tested
with the SDK (tests/test_localcloud_rate_limits.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, LocalCloudProcess, call

IM_READ_ONLY = "QcloudIMReadOnlyAccess"


def test_up_converges_with_30_percent_of_requests_throttled(tmp_path: Path) -> None:
    state = tmp_path / "localcloud.db"
    throttled = LocalCloudProcess(state, "--seed", str(SEED), "--throttle-rate", "0.3", *CAM_LAG).start()
    project = EngineProject(tmp_path, throttled)
    project.config("local")["im-access:operators"].append({"name": "im-local-carol", "access": "readonly"})
    try:
        result = project.run("up")
    finally:
        throttled.stop()
    assert result.exit_code == 0, result.text

    with LocalCloudProcess(state, *CAM_LAG) as project.cloud:
        cam = project.cloud.cam()
        for user in ("im-local-carol", "im-local-alice", "qa-lead"):
            uin = call(cam, "GetUser", Name=user)["Uin"]
            attached = {p["PolicyName"] for p in call(cam, "ListAttachedUserPolicies", TargetUin=uin, Rp=200)["List"]}
            assert IM_READ_ONLY in attached, user
        assert project.run("preview", expect_no_changes=True).exit_code == 0
