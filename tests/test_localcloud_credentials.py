"""localcloud's MFA flags and API-key limits, driven by the official Tencent Cloud SDK for Python."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from tencentcloud.cam.v20190116.cam_client import CamClient

from tests.localcloud_process import LocalCloudProcess, call, error_code

_names = itertools.count()
OFF = {"Phone": 0, "Token": 0, "Stoken": 0, "Wechat": 0, "Custom": 0, "Mail": 0, "U2FToken": 0, "Passkey": 0}


@pytest.fixture(scope="module")
def cam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CamClient]:
    with LocalCloudProcess(tmp_path_factory.mktemp("localcloud") / "state.db") as process:
        yield process.cam()


def new_uin(cam: CamClient) -> int:
    return int(call(cam, "AddUser", Name=f"mfa-user-{next(_names)}", ConsoleLogin=1)["Uin"])


def test_a_new_user_has_no_mfa_flag(cam: CamClient) -> None:
    flags = call(cam, "DescribeSafeAuthFlagColl", SubUin=new_uin(cam))
    assert flags["LoginFlag"] == OFF and flags["ActionFlag"] == OFF


def test_set_mfa_flag_sets_login_and_operation_protection(cam: CamClient) -> None:
    uin = new_uin(cam)
    call(cam, "SetMfaFlag", OpUin=uin, LoginFlag={"Stoken": 1}, ActionFlag={"Phone": 1, "Stoken": 1})
    flags = call(cam, "DescribeSafeAuthFlagColl", SubUin=uin)
    assert flags["LoginFlag"] == {**OFF, "Stoken": 1}
    assert flags["ActionFlag"] == {**OFF, "Phone": 1, "Stoken": 1}


def test_a_flag_given_replaces_that_flag_and_a_flag_left_out_stays(cam: CamClient) -> None:
    uin = new_uin(cam)
    call(cam, "SetMfaFlag", OpUin=uin, LoginFlag={"Stoken": 1}, ActionFlag={"Stoken": 1})
    call(cam, "SetMfaFlag", OpUin=uin, LoginFlag={"Wechat": 1})
    flags = call(cam, "DescribeSafeAuthFlagColl", SubUin=uin)
    assert flags["LoginFlag"] == {**OFF, "Wechat": 1} and flags["ActionFlag"] == {**OFF, "Stoken": 1}
    call(cam, "SetMfaFlag", OpUin=uin, LoginFlag={"Phone": 0, "Stoken": 0, "Wechat": 0}, ActionFlag={})
    flags = call(cam, "DescribeSafeAuthFlagColl", SubUin=uin)
    assert flags["LoginFlag"] == OFF and flags["ActionFlag"] == OFF


def test_mfa_flags_go_with_the_user(cam: CamClient) -> None:
    name = f"mfa-gone-{next(_names)}"
    uin = call(cam, "AddUser", Name=name)["Uin"]
    call(cam, "SetMfaFlag", OpUin=uin, LoginFlag={"Stoken": 1})
    call(cam, "DeleteUser", Name=name)
    assert error_code(cam, "DescribeSafeAuthFlagColl", SubUin=uin) == "ResourceNotFound.UserNotExist"
    assert error_code(cam, "SetMfaFlag", OpUin=uin, LoginFlag={"Stoken": 1}) == "ResourceNotFound.UserNotExist"


def test_mfa_flags_take_only_zero_or_one(cam: CamClient) -> None:
    uin = new_uin(cam)
    assert error_code(cam, "SetMfaFlag", OpUin=uin, LoginFlag={"Stoken": 2}) == "InvalidParameterValue"
    assert call(cam, "DescribeSafeAuthFlagColl", SubUin=uin)["LoginFlag"] == OFF


def test_keys_carry_their_create_time_and_a_third_is_refused_with_cams_code(cam: CamClient) -> None:
    uin = new_uin(cam)
    first = call(cam, "CreateAccessKey", TargetUin=uin)["AccessKey"]
    second = call(cam, "CreateAccessKey", TargetUin=uin)["AccessKey"]
    # The code CAM documents for it (the SDK's errorcodes: at most two AccessKeys per account).
    assert error_code(cam, "CreateAccessKey", TargetUin=uin) == "OperationDenied.AccessKeyOverLimit"
    listed = call(cam, "ListAccessKeys", TargetUin=uin)["AccessKeys"]
    assert [k["AccessKeyId"] for k in listed] == [first["AccessKeyId"], second["AccessKeyId"]]
    assert [k["CreateTime"] for k in listed] == [first["CreateTime"], second["CreateTime"]]
    assert all(len(k["CreateTime"]) == 19 for k in listed)  # YYYY-MM-DD HH:MM:SS
    # An inactive key still counts against the limit; deleting one makes room.
    call(cam, "UpdateAccessKey", TargetUin=uin, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    assert error_code(cam, "CreateAccessKey", TargetUin=uin) == "OperationDenied.AccessKeyOverLimit"
    call(cam, "DeleteAccessKey", TargetUin=uin, AccessKeyId=first["AccessKeyId"])
    assert call(cam, "CreateAccessKey", TargetUin=uin)["AccessKey"]["Status"] == "Active"
