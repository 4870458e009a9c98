"""End to end on the `local` stack: the real engine, provider plugin and policy pack against localcloud.

The tests run in order as one scenario on one stack. They need the Pulumi CLI and the
tencentcloud provider plugin on this machine (README, Status); without the CLI they are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.localcloud_process import ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess, call, error_code

pytestmark = pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the pulumi CLI and provider plugin")

PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "components", "im_access", "policy_pack")
IM_READ_ONLY = "QcloudIMReadOnlyAccess"


class LocalStack:
    """A copy of the project whose `local` stack runs against one localcloud."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        for name in PROJECT_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, workdir / name)
        (workdir / ".venv").symlink_to(ROOT / ".venv")
        self.config = yaml.safe_load((ROOT / "Pulumi.local.yaml").read_text())
        self.cloud = LocalCloudProcess(workdir / "localcloud.db", "--seed", str(ROOT / "localcloud/seeds/local.json"))

    def env(self) -> dict[str, str]:
        proxy = f"http://{self.cloud.address}"
        return {
            **os.environ,
            "TENCENTCLOUD_SECRET_ID": SECRET_ID,
            "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
            "HTTP_PROXY": proxy,
            "http_proxy": proxy,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PULUMI_BACKEND_URL": f"file://{self.workdir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": "e2e-only",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }

    def pulumi(self, *args: str) -> subprocess.CompletedProcess[str]:
        (self.workdir / "state").mkdir(exist_ok=True)
        (self.workdir / "Pulumi.local.yaml").write_text(yaml.safe_dump(self.config))
        return subprocess.run(
            ["pulumi", *args, "--stack", "local", "--non-interactive"],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=900,
        )

    def up(self) -> subprocess.CompletedProcess[str]:
        policy = ("--policy-pack", "policy_pack", "--policy-pack-config", "policy_pack/config/local.json")
        return self.pulumi("up", "--yes", "--skip-preview", *policy)

    @property
    def operators(self) -> list[dict[str, Any]]:
        return list(self.config["config"]["im-access:operators"])

    @property
    def grants(self) -> list[dict[str, Any]]:
        return list(self.config["config"]["im-access:grants"])


def attached_names(stack: LocalStack, user: str) -> set[str]:
    cam = stack.cloud.cam()
    uin = call(cam, "GetUser", Name=user)["Uin"]
    return {p["PolicyName"] for p in call(cam, "ListAttachedUserPolicies", TargetUin=uin, Rp=200)["List"]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(tmp_path_factory.mktemp("local-stack"))
    local.cloud.start()
    (local.workdir / "state").mkdir()
    assert local.pulumi("stack", "init", "local").returncode == 0
    yield local
    local.cloud.stop()


def test_up_creates_the_operators_and_their_access(stack: LocalStack) -> None:
    result = stack.up()
    assert result.returncode == 0, result.stdout + result.stderr
    assert IM_READ_ONLY in attached_names(stack, "im-local-alice")
    assert attached_names(stack, "qa-lead") == {IM_READ_ONLY}
    bot = call(stack.cloud.cam(), "GetUser", Name="im-local-stats-bot")
    assert len(call(stack.cloud.cam(), "ListAccessKeys", TargetUin=bot["Uin"])["AccessKeys"]) == 1
    group = call(stack.cloud.cam(), "ListAttachedGroupPolicies", TargetGroupId=90001)["List"]
    assert [p["PolicyName"] for p in group] == [IM_READ_ONLY]


def test_a_second_up_changes_nothing(stack: LocalStack) -> None:
    result = stack.pulumi("preview", "--expect-no-changes")
    assert result.returncode == 0, result.stdout + result.stderr


def test_removing_a_grant_detaches_it_and_keeps_the_user(stack: LocalStack) -> None:
    stack.config["config"]["im-access:grants"] = [g for g in stack.grants if g.get("user") != "qa-lead"]
    assert stack.up().returncode == 0
    assert attached_names(stack, "qa-lead") == set()


def test_full_access_on_a_non_approved_stack_is_blocked_and_creates_nothing(stack: LocalStack) -> None:
    stack.config["config"]["im-access:operators"] = [*stack.operators, {"name": "im-local-root", "access": "full"}]
    result = stack.up()
    assert result.returncode != 0
    assert "im-full-access-approved-stacks-only" in result.stdout + result.stderr
    assert error_code(stack.cloud.cam(), "GetUser", Name="im-local-root") == "ResourceNotFound.UserNotExist"
    stack.config["config"]["im-access:operators"] = stack.operators[:-1]


def test_up_converges_with_30_percent_of_requests_throttled(stack: LocalStack) -> None:
    stack.cloud.stop()
    stack.cloud = LocalCloudProcess(stack.cloud.state, "--throttle-rate", "0.3").start()
    stack.config["config"]["im-access:operators"] = [*stack.operators, {"name": "im-local-carol", "access": "readonly"}]
    result = stack.up()
    assert result.returncode == 0, result.stdout + result.stderr
    assert IM_READ_ONLY in attached_names_with_retries(stack, "im-local-carol")
    stack.cloud.stop()
    stack.cloud = LocalCloudProcess(stack.cloud.state).start()
    assert stack.pulumi("preview", "--expect-no-changes").returncode == 0


def attached_names_with_retries(stack: LocalStack, user: str) -> set[str]:
    for _ in range(20):
        try:
            return attached_names(stack, user)
        except Exception as error:  # throttled on purpose
            if "RequestLimitExceeded" not in str(error):
                raise
    raise AssertionError("localcloud throttled 20 reads in a row")


def test_destroy_removes_what_the_stack_created_and_nothing_else(stack: LocalStack) -> None:
    result = stack.pulumi("destroy", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    cam = stack.cloud.cam()
    assert {u["Name"] for u in call(cam, "ListUsers")["Data"]} == {"qa-lead"}
    assert call(cam, "ListPolicies", Scope="Local")["TotalNum"] == 0
    assert call(cam, "GetGroup", GroupId=90001)["GroupNum"] == 1
    assert call(cam, "ListAttachedGroupPolicies", TargetGroupId=90001)["TotalNum"] == 0
