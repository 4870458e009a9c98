"""localcloud speaks Tencent Cloud API 3.0: signatures, envelopes and request checks."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common import abstract_client
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tag.v20180813 import tag_client

from tests.localcloud_process import ROOT, LocalCloudProcess, error_code, sdk_signed


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with LocalCloudProcess(tmp_path_factory.mktemp("localcloud") / "state.db") as process:
        yield process


def raw_post(cloud: LocalCloudProcess, headers: dict[str, str], body: str) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection(cloud.address, timeout=10)
    connection.request("POST", "/", body=body.encode(), headers=headers)
    answer = connection.getresponse()
    status, payload = answer.status, json.loads(answer.read())
    connection.close()
    return status, payload


def test_a_wrong_secret_key_is_refused_and_changes_nothing(cloud: LocalCloudProcess) -> None:
    forger = cloud.cam(secret_key="not-the-key")
    assert error_code(forger, "AddUser", Name="intruder") == "AuthFailure.SignatureFailure"
    assert error_code(cloud.cam(), "GetUser", Name="intruder") == "ResourceNotFound.UserNotExist"


def test_an_unknown_secret_id_is_refused(cloud: LocalCloudProcess) -> None:
    assert error_code(cloud.cam(secret_id="AKIDunknown"), "ListUsers") == "AuthFailure.SecretIdNotFound"


def test_a_signature_older_than_five_minutes_is_refused(
    cloud: LocalCloudProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_time = time.time
    monkeypatch.setattr(abstract_client.time, "time", lambda: real_time() - 301)
    assert error_code(cloud.cam(), "ListUsers") == "AuthFailure.SignatureExpire"


def test_the_signed_host_header_is_checked(cloud: LocalCloudProcess) -> None:
    request = sdk_signed(cloud.address, "GetUser", {"Name": "nobody"})
    status, answer = raw_post(cloud, dict(request.header), request.data)
    assert status == 200 and answer["Response"]["Error"]["Code"] == "ResourceNotFound.UserNotExist"

    moved = {**request.header, "Host": "cam.example.com"}
    status, answer = raw_post(cloud, moved, request.data)
    assert status == 200 and answer["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_a_body_changed_after_signing_is_refused(cloud: LocalCloudProcess) -> None:
    request = sdk_signed(cloud.address, "AddUser", {"Name": "signed-name"})
    _, answer = raw_post(cloud, dict(request.header), request.data.replace("signed-name", "other-name"))
    assert answer["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert error_code(cloud.cam(), "GetUser", Name="other-name") == "ResourceNotFound.UserNotExist"


def test_an_unsigned_request_gets_the_error_envelope_with_http_200(cloud: LocalCloudProcess) -> None:
    headers = {"Content-Type": "application/json", "X-TC-Action": "ListUsers", "X-TC-Version": "2019-01-16"}
    status, answer = raw_post(cloud, headers, "{}")
    assert status == 200
    assert answer["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert answer["Response"]["RequestId"]


def test_a_malformed_authorization_header_is_refused(cloud: LocalCloudProcess) -> None:
    request = sdk_signed(cloud.address, "ListUsers", {})
    headers = {**request.header, "Authorization": "Bearer something"}
    assert raw_post(cloud, headers, request.data)[1]["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def test_a_request_signed_for_another_service_is_refused(cloud: LocalCloudProcess) -> None:
    http = HttpProfile(endpoint="cam.tencentcloudapi.com", protocol="http")
    http.proxy = f"http://{cloud.address}"
    client = tag_client.TagClient(cloud.cam().credential, "", ClientProfile(httpProfile=http))
    assert error_code(client, "ModifyResourceTags", Resource="qcs::cam::uin/1:uin/x", DeleteTags=[{"TagKey": "a"}]) == (
        "AuthFailure.SignatureFailure"
    )


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("CreateSAMLProvider", {"Name": "r"}, "InvalidAction"),
        ("GetUser", {"Name": "x", "Nickname": "y"}, "UnknownParameter"),
        ("GetUser", {}, "MissingParameter"),
        ("GetPolicy", {"PolicyId": "one"}, "InvalidParameter"),
        ("ListPolicies", {"Page": 0}, "InvalidParameterValue"),
    ],
)
def test_requests_outside_the_schema_are_refused(
    cloud: LocalCloudProcess, action: str, params: dict[str, Any], code: str
) -> None:
    with pytest.raises(Exception, match=code) as raised:
        cloud.cam().call_json(action, params)
    assert raised.value.get_code() == code  # type: ignore[attr-defined]


def test_an_unknown_api_version_is_refused(cloud: LocalCloudProcess) -> None:
    client = cloud.cam()
    client._apiVersion = "2017-03-12"
    assert error_code(client, "ListUsers") == "NoSuchVersion"


def test_get_requests_are_refused_as_unsupported(cloud: LocalCloudProcess) -> None:
    client = cloud.cam()
    client.profile.httpProfile.reqMethod = "GET"
    assert error_code(client, "ListUsers") == "UnsupportedProtocol"


def test_integers_sent_as_digit_strings_are_accepted(cloud: LocalCloudProcess) -> None:
    assert cloud.cam().call_json("GetPolicy", {"PolicyId": "1"})["Response"]["PolicyName"] == "AdministratorAccess"


def failed_start(state_dir: Path, *args: str, credentials: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    if credentials:
        env |= {"TENCENTCLOUD_SECRET_ID": "id", "TENCENTCLOUD_SECRET_KEY": "key"}
    command = [sys.executable, "-m", "localcloud", "serve", "--port", "0", "--state", f"{state_dir}/s.db", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    ("args", "credentials", "message"),
    [
        ((), False, "TENCENTCLOUD_SECRET_ID"),
        (("--throttle-rate", "1.5"), True, "--throttle-rate must be at least 0 and below 1"),
        (("--seed", "localcloud/seeds/missing.json"), True, "the seed localcloud/seeds/missing.json cannot be read"),
    ],
)
def test_the_server_refuses_to_start_on_bad_settings(
    tmp_path: Path, args: tuple[str, ...], credentials: bool, message: str
) -> None:
    assert message in failed_start(tmp_path, *args, credentials=credentials).stderr
    assert not (tmp_path / "s.db").exists()


def test_a_seed_that_breaks_the_rules_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"users": [{"Name": "has space"}]}))
    stderr = failed_start(tmp_path, "--seed", str(seed)).stderr
    assert "cannot be applied" in stderr and "InvalidParameter.UserNameIllegal" in stderr


def test_a_port_in_use_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "first.db") as first:
        port = first.address.rsplit(":", 1)[1]
        env = {**os.environ, "TENCENTCLOUD_SECRET_ID": "AKIDlocal", "TENCENTCLOUD_SECRET_KEY": "any-local-secret"}
        # The command line of the README, on the port the first server holds.
        command = [".venv/bin/python", "-m", "localcloud", "serve", "--port", port, "--state", str(tmp_path / "s.db")]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"localcloud: port {port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one)"
    ]
    assert not (tmp_path / "s.db").exists()
