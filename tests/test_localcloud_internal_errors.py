"""A fault inside localcloud is answered in the API's envelope, not with a dropped connection."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from localcloud import signature
from localcloud.cam import cam
from localcloud.server import Faults, open_cloud
from localcloud.service import Context
from tests.localcloud_process import SECRET_ID, SECRET_KEY, sdk_signed

HOST = "cam.tencentcloudapi.com"


def signed(action: str, params: dict[str, Any]) -> signature.SignedRequest:
    request = sdk_signed(HOST, action, params)
    headers = {name.lower(): value for name, value in request.header.items()}
    return signature.SignedRequest("POST", "/", "", headers, request.data.encode())


def test_an_unexpected_fault_becomes_internal_error_and_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = open_cloud(tmp_path / "state.db", {SECRET_ID: SECRET_KEY}, 100012345678, Faults())
    add_user = cam.actions["AddUser"]

    def add_then_fail(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        add_user.handler(ctx, params)
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(cam.actions, "AddUser", dataclasses.replace(add_user, handler=add_then_fail))
    answer = cloud.handle(signed("AddUser", {"Name": "half-made"}), HOST)
    assert answer["Response"]["Error"]["Code"] == "InternalError.SystemError"
    assert "disk on fire" in capsys.readouterr().err

    monkeypatch.setitem(cam.actions, "AddUser", add_user)
    listed = cloud.handle(signed("ListUsers", {}), HOST)
    assert listed["Response"]["Data"] == []
    cloud.store.close()
