"""A fault inside localcloud is answered in the API's envelope, not with a dropped connection."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from localcloud import signature
from localcloud.cam import cam
from localcloud.server import Faults, open_cloud
from localcloud.service import Context


def signed(action: str, body: dict[str, Any], secret_key: str) -> signature.SignedRequest:
    now = int(time.time())
    headers = {
        "content-type": "application/json",
        "host": "cam.tencentcloudapi.com",
        "x-tc-action": action,
        "x-tc-version": "2019-01-16",
        "x-tc-timestamp": str(now),
    }
    request = signature.SignedRequest("POST", "/", "", headers, json.dumps(body).encode())
    digest = signature.sign(secret_key, request, ["content-type", "host"], "cam", now)
    date = time.strftime("%Y-%m-%d", time.gmtime(now))
    headers["authorization"] = (
        f"TC3-HMAC-SHA256 Credential=AKIDx/{date}/cam/tc3_request, SignedHeaders=content-type;host, Signature={digest}"
    )
    return request


def test_an_unexpected_fault_becomes_internal_error_and_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = open_cloud(tmp_path / "state.db", {"AKIDx": "key"}, 100012345678, Faults())
    add_user = cam.actions["AddUser"]

    def add_then_fail(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        add_user.handler(ctx, params)
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(cam.actions, "AddUser", dataclasses.replace(add_user, handler=add_then_fail))
    answer = cloud.handle(signed("AddUser", {"Name": "half-made"}, "key"), "cam.tencentcloudapi.com")
    assert answer["Response"]["Error"]["Code"] == "InternalError.SystemError"
    assert "disk on fire" in capsys.readouterr().err

    monkeypatch.setitem(cam.actions, "AddUser", add_user)
    listed = cloud.handle(signed("ListUsers", {}, "key"), "cam.tencentcloudapi.com")
    assert listed["Response"]["Data"] == []
    cloud.store.close()
