"""localcloud under stress: injected faults, kill -9, and many clients at once (CAM's rate limits
off, so that what is measured is the injected fault or the contention alone)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.localcloud_process import NO_RATE_LIMITS, LocalCloudProcess, add_users_counting_throttles, call


def user_names(cloud: LocalCloudProcess) -> set[str]:
    return {user["Name"] for user in call(cloud.cam(), "ListUsers")["Data"]}


def test_throttled_requests_change_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with LocalCloudProcess(state, NO_RATE_LIMITS, "--throttle-rate", "0.5") as cloud:
        created, throttled = add_users_counting_throttles(
            cloud.cam(retry_throttled=False), [f"maybe-{index}" for index in range(200)]
        )
    assert 60 <= throttled <= 140  # 200 draws at 50%: far outside this range is a broken injector
    with LocalCloudProcess(state, NO_RATE_LIMITS) as cloud:
        assert user_names(cloud) == created


def test_added_latency_delays_every_answer(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db", NO_RATE_LIMITS, "--latency-ms", "300") as cloud:
        started = time.monotonic()
        call(cloud.cam(), "ListUsers")
        assert time.monotonic() - started >= 0.3


def test_kill_9_loses_no_acknowledged_write(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    acknowledged: list[str] = []
    cloud = LocalCloudProcess(state, NO_RATE_LIMITS).start()
    stop = threading.Event()

    def write_until_killed() -> None:
        cam = cloud.cam()
        index = 0
        while not stop.is_set():
            try:
                call(cam, "AddUser", Name=f"durable-{index}", UseApi=1)
            except TencentCloudSDKException:
                return  # the server is gone
            acknowledged.append(f"durable-{index}")
            index += 1

    writer = threading.Thread(target=write_until_killed)
    writer.start()
    while len(acknowledged) < 50:
        time.sleep(0.01)
    cloud.kill()
    stop.set()
    writer.join()
    cloud.stop()

    with LocalCloudProcess(state, NO_RATE_LIMITS) as restarted:
        names = user_names(restarted)
        assert set(acknowledged) <= names
        # At most the one write in flight at the kill may have landed without its answer.
        assert len(names - set(acknowledged)) <= 1
        uin = call(restarted.cam(), "GetUser", Name=acknowledged[-1])["Uin"]
        assert len(call(restarted.cam(), "ListAccessKeys", TargetUin=uin)["AccessKeys"]) == 1


def test_parallel_clients_corrupt_nothing(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db", NO_RATE_LIMITS) as cloud:

        def onboard(worker: int) -> list[int]:
            cam = cloud.cam()
            uins = []
            for index in range(25):
                uin = call(cam, "AddUser", Name=f"w{worker}-u{index}")["Uin"]
                call(cam, "AttachUserPolicy", PolicyId=900001, AttachUin=uin)
                call(cam, "ListUsers")
                uins.append(uin)
            return uins

        with ThreadPoolExecutor(8) as pool:
            uins = [uin for batch in pool.map(onboard, range(8)) for uin in batch]
        users = call(cloud.cam(), "ListUsers")["Data"]
        assert len(users) == 200 == len(set(uins)) == len({u["Uid"] for u in users})
        im_read_only = next(
            p
            for p in call(cloud.cam(), "ListPolicies", Scope="QCS", Keyword="QcloudIMReadOnlyAccess")["List"]
            if p["PolicyId"] == 900001
        )
        assert im_read_only["Attachments"] == 200


def test_parallel_attachments_stop_exactly_at_the_limit(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db", NO_RATE_LIMITS) as cloud:
        cam = cloud.cam()
        uin = call(cam, "AddUser", Name="crowded")["Uin"]
        document = '{"version":"2.0","statement":[{"effect":"allow","action":"name/im:*","resource":"*"}]}'
        policy_ids = [
            call(cam, "CreatePolicy", PolicyName=f"p{i}", PolicyDocument=document)["PolicyId"] for i in range(240)
        ]

        def attach(batch: list[int]) -> list[str]:
            client = cloud.cam()
            outcomes = []
            for policy_id in batch:
                try:
                    call(client, "AttachUserPolicy", PolicyId=policy_id, AttachUin=uin)
                    outcomes.append("attached")
                except TencentCloudSDKException as error:
                    outcomes.append(str(error.get_code()))
            return outcomes

        with ThreadPoolExecutor(8) as pool:
            outcomes = [o for batch in pool.map(attach, [policy_ids[i::8] for i in range(8)]) for o in batch]
        assert outcomes.count("attached") == 200
        assert outcomes.count("InvalidParameter.AttachmentFull") == 40
        assert call(cam, "ListAttachedUserPolicies", TargetUin=uin, Rp=200)["TotalNum"] == 200
