"""What CAM records of use, as localcloud answers it to the official SDK: console logins
(DescribeSubAccounts, GetUser) and API key use (GetSecurityLastUsed), set by the local-only
`python -m localcloud record-use`; and the audit's paced reader of them."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from commands.cam_account import PacedReader, day_of, read_usage
from im_access.audit import KeyUse, Usage
from tests.localcloud_process import NO_RATE_LIMITS, ROOT, LocalCloudProcess, call, error_code


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with LocalCloudProcess(tmp_path_factory.mktemp("last-used") / "state.db", NO_RATE_LIMITS) as process:
        yield process


def record_use(cloud: LocalCloudProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "localcloud", "record-use", "--state", str(cloud.state), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_user_that_never_logged_in_and_a_key_never_used_have_no_dates(cloud: LocalCloudProcess) -> None:
    cam = cloud.cam()
    user = call(cam, "AddUser", Name="fresh", UseApi=1)
    (account,) = call(cam, "DescribeSubAccounts", FilterSubAccountUin=[user["Uin"], 999])["SubAccounts"]
    assert (account["Name"], account["LastLoginIp"], account["LastLoginTime"]) == ("fresh", "", None)
    assert call(cam, "GetUser", Name="fresh")["RecentlyLoginTime"] == ""
    (row,) = call(cam, "GetSecurityLastUsed", SecretIdList=[user["SecretId"], "AKIDunknown"])["SecretIdLastUsedRows"]
    assert row == {"SecretId": user["SecretId"], "LastUsedDate": None, "LastSecretUsedDate": None}


def test_recorded_use_is_answered_as_cam_answers_it(cloud: LocalCloudProcess) -> None:
    cam = cloud.cam()
    user = call(cam, "AddUser", Name="busy", UseApi=1, ConsoleLogin=1)
    result = record_use(cloud, "--login", "busy=2026-10-01 09:30:00", "--key", f"{user['SecretId']}=2026-11-20")
    assert result.returncode == 0, result.stderr

    (account,) = call(cam, "DescribeSubAccounts", FilterSubAccountUin=[user["Uin"]])["SubAccounts"]
    assert account["LastLoginTime"] == "2026-10-01 09:30:00" and account["LastLoginIp"]
    assert call(cam, "GetUser", Name="busy")["RecentlyLoginTime"] == "2026-10-01 09:30:00"
    (row,) = call(cam, "GetSecurityLastUsed", SecretIdList=[user["SecretId"]])["SecretIdLastUsedRows"]
    assert row["LastUsedDate"] == "2026-11-20"
    used = dt.datetime.fromtimestamp(row["LastSecretUsedDate"] / 1000, dt.UTC)
    assert used == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def test_record_use_of_an_unknown_user_changes_nothing_and_says_why(cloud: LocalCloudProcess) -> None:
    cam = cloud.cam()
    call(cam, "AddUser", Name="untouched")
    result = record_use(cloud, "--login", "untouched=2026-11-01", "--login", "nobody=2026-11-01")
    assert result.returncode == 2
    assert "nothing recorded" in result.stderr and "nobody" in result.stderr and "Traceback" not in result.stderr
    assert call(cam, "GetUser", Name="untouched")["RecentlyLoginTime"] == ""
    assert record_use(cloud, "--key", "no-equals-sign").returncode == 2


def test_the_limits_of_a_request_are_those_cam_documents(cloud: LocalCloudProcess) -> None:
    cam = cloud.cam()
    assert error_code(cam, "GetSecurityLastUsed", SecretIdList=[f"AKID{i}" for i in range(11)]) == (
        "InvalidParameterValue"
    )
    assert error_code(cam, "DescribeSubAccounts", FilterSubAccountUin=list(range(1, 52))) == "InvalidParameterValue"


def test_the_paced_reader_reads_logins_and_every_key_in_batches(cloud: LocalCloudProcess) -> None:
    cam = cloud.cam()
    users: dict[str, int] = {}
    secret_ids: dict[str, list[str]] = {}
    for index in range(55):  # two DescribeSubAccounts batches
        created = call(cam, "AddUser", Name=f"batch-{index}", UseApi=1)
        users[f"user:batch-{index}"] = created["Uin"]
        second = call(cam, "CreateAccessKey", TargetUin=created["Uin"])["AccessKey"]["AccessKeyId"]
        secret_ids[f"user:batch-{index}"] = [created["SecretId"], second]
    key_used = f"{secret_ids['user:batch-7'][1]}=2026-08-08"
    recorded = record_use(cloud, "--login", "batch-3=2026-09-09", "--key", key_used)
    assert recorded.returncode == 0, recorded.stderr
    reader = PacedReader(cam)

    usage = read_usage(reader, users)

    assert usage["user:batch-3"].last_login == dt.date(2026, 9, 9)
    assert usage["user:batch-7"] == Usage(
        None,
        (
            KeyUse(secret_ids["user:batch-7"][0], "Active", None),
            KeyUse(secret_ids["user:batch-7"][1], "Active", dt.date(2026, 8, 8)),
        ),
    )
    assert usage["user:batch-7"].last_used == dt.date(2026, 8, 8)
    assert all(usage[user].last_used is None for user in users if user not in ("user:batch-3", "user:batch-7"))
    assert reader.requests == {"DescribeSubAccounts": 2, "ListAccessKeys": 55, "GetSecurityLastUsed": 11}


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-11-25 10:00:00", dt.date(2026, 11, 25)),
        ("2026-11-25", dt.date(2026, 11, 25)),
        (1671681023555, dt.date(2022, 12, 22)),
        (None, None),
        ("", None),
        (0, None),
        ("0000-00-00 00:00:00", None),
        ("1970-01-01 08:00:00", None),
    ],
)
def test_cam_times_are_read_as_days(value: Any, day: dt.date | None) -> None:
    assert day_of(value) == day
