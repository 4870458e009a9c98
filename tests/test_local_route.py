"""The local route the provider takes: scripts/with_localcloud.sh starts a seeded localcloud and
points HTTP_PROXY at it, so a client that honours the proxy variables reaches it unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.localcloud_process import ROOT

# Runs inside the script's environment: the official SDK with the real endpoint over plain HTTP
# and no proxy of its own, as the provider is configured for the local stack.
CLIENT = """
import json
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cam.v20190116 import cam_client
import os
client = cam_client.CamClient(
    credential.Credential(os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"]), "",
    ClientProfile(httpProfile=HttpProfile(endpoint="cam.tencentcloudapi.com", protocol="http")),
)
user = client.call_json("GetUser", {"Name": "qa-lead"})["Response"]
group = client.call_json("GetGroup", {"GroupId": 90001})["Response"]
print(json.dumps({"user": user["Name"], "group": group["GroupName"], "members": group["GroupNum"]}))
"""


def run_through_local_route(state: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "LOCALCLOUD_PORT": "0",
        "LOCALCLOUD_STATE": str(state),
    }
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "HTTP_PROXY", "http_proxy"):
        env.pop(name, None)
    result = subprocess.run(
        ["bash", "scripts/with_localcloud.sh", sys.executable, "-c", CLIENT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "with_localcloud: localcloud listening on http://" in result.stderr
    assert (state.parent / "pulumi-state").is_dir()
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_seeded_principals_are_reached_through_the_proxy(tmp_path: Path) -> None:
    assert run_through_local_route(tmp_path / "state.db") == {"user": "qa-lead", "group": "im-support", "members": 1}


def test_seeding_again_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    run_through_local_route(state)
    assert run_through_local_route(state) == {"user": "qa-lead", "group": "im-support", "members": 1}
