"""The audit's credential findings against localcloud after a real `pulumi up`: console-style changes
made with the official SDK (a key added by hand, MFA turned off, a console user given IM access),
and keys left to age, each reported with its kind; nothing for what the stack manages.

Only the engine shows: that the keys and MFA flags the provider really makes are what the audit
counts as the stack's. The findings' logic is tested on fixed holdings (tests/test_credential_audit.py);
one `up` serves every test of the module.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from im_access.audit import masked_secret_id
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess, call

# The tests share one deployed stack and change the account in turn: the module runs on one
# worker (`make test` distributes with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("credential-audit")

ROTOR = "im-local-rotor"
TODAY = dt.datetime.now(dt.UTC).date()  # localcloud stamps keys with its clock


def findings(project: EngineProject, *args: str) -> tuple[int, set[tuple[str, str, str, str | None]]]:
    command = [sys.executable, "-m", "commands.audit", "--stack", "local", "--project", str(project.workdir)]
    env = {"PATH": "/usr/bin:/bin", **project.env()}
    result = subprocess.run([*command, "--format", "json", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr
    found = {(f["kind"], f["principal"], f["policy"], f["stack"]) for f in json.loads(result.stdout)["findings"]}
    return result.returncode, found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    workdir = tmp_path_factory.mktemp("credential-audit")
    with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *CAM_LAG) as cloud:
        project = EngineProject(workdir, cloud)
        operators = project.config("local")["im-access:operators"]
        operators.append(
            {"name": ROTOR, "access": "readonly", "console": False, "apiKey": {"rotateDays": 30, "overlapDays": 5}}
        )
        project.extra_env["IM_ACCESS_TODAY"] = TODAY.isoformat()
        result = project.run("up")
        assert result.exit_code == 0, result.text
        yield project


def test_what_the_stack_made_has_no_credential_finding(project: EngineProject) -> None:
    assert findings(project) == (0, set())


def test_console_style_changes_are_each_reported(project: EngineProject) -> None:
    cam = project.cloud.cam()
    rotor = call(cam, "GetUser", Name=ROTOR)["Uin"]
    by_hand = call(cam, "CreateAccessKey", TargetUin=rotor)["AccessKey"]["AccessKeyId"]
    alice = call(cam, "GetUser", Name="im-local-alice")["Uin"]
    call(cam, "SetMfaFlag", OpUin=alice, LoginFlag={"Stoken": 0})
    dave = call(cam, "AddUser", Name="console-dave", ConsoleLogin=1)["Uin"]
    read_only = next(p["PolicyId"] for p in call(cam, "ListPolicies", Keyword="QcloudIMReadOnlyAccess")["List"])
    call(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=dave)

    code, found = findings(project)

    assert code == 1
    assert found == {
        ("unmanaged-key", f"user:{ROTOR}", masked_secret_id(by_hand), "local"),
        ("no-mfa", "user:im-local-alice", "login protection", "local"),
        ("no-mfa", "user:console-dave", "login protection", None),
        ("unmanaged", "user:console-dave", "QcloudIMReadOnlyAccess", None),
    }
    call(cam, "DeleteAccessKey", TargetUin=rotor, AccessKeyId=by_hand)


def test_keys_left_to_age_are_stale(project: EngineProject) -> None:
    bot_key = call(
        project.cloud.cam(),
        "ListAccessKeys",
        TargetUin=call(project.cloud.cam(), "GetUser", Name="im-local-stats-bot")["Uin"],
    )
    rotor_key = call(
        project.cloud.cam(), "ListAccessKeys", TargetUin=call(project.cloud.cam(), "GetUser", Name=ROTOR)["Uin"]
    )
    (bot,) = [k["AccessKeyId"] for k in bot_key["AccessKeys"]]
    (rotor,) = [k["AccessKeyId"] for k in rotor_key["AccessKeys"]]
    # 36 days on, without an `up`: the rotating key outlived rotateDays + overlapDays; the other has 90 days.
    _, later = findings(project, "--today", (TODAY + dt.timedelta(days=36)).isoformat())
    assert ("stale-key", f"user:{ROTOR}", masked_secret_id(rotor), "local") in later
    assert not any(kind == "stale-key" and key == masked_secret_id(bot) for kind, _, key, _ in later)
    _, much_later = findings(project, "--today", (TODAY + dt.timedelta(days=91)).isoformat())
    assert ("stale-key", "user:im-local-stats-bot", masked_secret_id(bot), "local") in much_later
