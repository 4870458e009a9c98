"""`--consistency-lag-ms`: CAM's reads trail its writes, so localcloud's reads see a write only after
the lag, while writes check the latest state; the project's readers wait it out, as they wait out
CAM's, and scripts/with_localcloud.sh tells them how long it is."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

from commands import preflight
from commands.cam_account import LAG_ENV, PacedReader, read_holdings
from im_access.recovery import POLICY, PendingCreate
from localcloud.store import Store
from tests.localcloud_process import ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess, call, error_code

SEED = ROOT / "localcloud" / "seeds" / "local.json"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def names(store: Store) -> list[str]:
    with store.transaction(write=False, lagged=True) as db:
        return [row["name"] for row in db.execute("SELECT name FROM groups ORDER BY name")]


def add_group(store: Store, name: str) -> None:
    with store.transaction(write=True) as db:
        db.execute("INSERT INTO groups (name, create_time) VALUES (?, '')", (name,))


def test_a_lagged_read_sees_each_write_once_its_lag_has_passed(tmp_path: Path) -> None:
    store, clock = Store(tmp_path / "state.db"), Clock()
    add_group(store, "before")
    store.lag_reads(1.0, clock)
    assert names(store) == ["before"]  # what exists when the lag starts is seen at once
    add_group(store, "first")
    clock.now = 0.5
    add_group(store, "second")
    assert names(store) == ["before"]
    with store.transaction(write=False) as db:  # a read of the latest state, as writes check
        assert db.execute("SELECT COUNT(*) FROM groups").fetchone()[0] == 3
    clock.now = 1.0
    assert names(store) == ["before", "first"]
    clock.now = 1.5
    assert names(store) == ["before", "first", "second"]
    store.close()


def test_a_failed_write_is_never_seen(tmp_path: Path) -> None:
    store, clock = Store(tmp_path / "state.db"), Clock()
    store.lag_reads(1.0, clock)
    try:
        with store.transaction(write=True) as db:
            db.execute("INSERT INTO groups (name, create_time) VALUES ('rolled-back', '')")
            raise RuntimeError("the action failed")
    except RuntimeError:
        pass
    clock.now = 5.0
    assert names(store) == []
    store.close()


def test_the_server_shows_a_new_user_only_after_the_lag(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db", "--seed", str(SEED), "--consistency-lag-ms", "1000") as cloud:
        cam = cloud.cam()
        assert call(cam, "GetUser", Name="qa-lead")["Name"] == "qa-lead"  # the seed is there before anyone reads
        uin = call(cam, "AddUser", Name="lagging")["Uin"]
        written = time.monotonic()
        assert "lagging" not in {user["Name"] for user in call(cam, "ListUsers")["Data"]}
        assert call(cam, "GetUser", Name="lagging")["Uin"] == uin  # as the provider reads a new user
        call(cam, "AttachUserPolicy", PolicyId=524252, AttachUin=uin)  # writes check the latest state
        assert error_code(cam, "ListAttachedUserPolicies", TargetUin=uin) == "InvalidParameter.ParamError"
        assert time.monotonic() - written < 1.0, "the machine was too slow to see the lag"
        time.sleep(1.1 - (time.monotonic() - written))
        assert "lagging" in {user["Name"] for user in call(cam, "ListUsers")["Data"]}
        assert call(cam, "ListAttachedUserPolicies", TargetUin=uin)["TotalNum"] == 1


def test_without_the_flag_reads_see_writes_at_once(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db") as cloud:
        cam = cloud.cam()
        uin = call(cam, "AddUser", Name="prompt")["Uin"]
        assert call(cam, "GetUser", Name="prompt")["Uin"] == uin


def test_a_lag_out_of_range_is_refused(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "localcloud", "serve", "--port", "0", "--state", str(tmp_path / "s.db")]
    env = {"TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY, "PATH": ""}
    result = subprocess.run(
        [*command, "--consistency-lag-ms", "-5"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "--consistency-lag-ms must be from 0 to 60000" in result.stderr
    assert not (tmp_path / "s.db").exists()


def test_the_audits_reader_sees_a_change_made_just_before_it_only_by_waiting_out_the_lag(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "state.db", "--consistency-lag-ms", "1000") as cloud:
        cam = cloud.cam()
        uin = call(cam, "AddUser", Name="console-carol")["Uin"]
        call(cam, "AttachUserPolicy", PolicyId=524252, AttachUin=uin)  # IM full access, in the console

        patient_reader = PacedReader(cloud.cam(), lag=cloud.lag_ms / 1000)  # made with the impatient one
        impatient = {h.principal for h in read_holdings(PacedReader(cloud.cam()))}
        assert "user:console-carol" not in impatient, "the lag was not in effect: this test proves nothing"
        patient = {h.principal for h in read_holdings(patient_reader)}

    assert "user:console-carol" in patient


def localcloud_run(tmp_path: Path, localcloud_args: str) -> subprocess.CompletedProcess[str]:
    """scripts/with_localcloud.sh running `env`, with LOCALCLOUD_ARGS as a user would set them."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LOCALCLOUD_STATE": str(tmp_path / "localcloud" / "state.db"),
        "LOCALCLOUD_PORT": "0",
        "LOCALCLOUD_ARGS": localcloud_args,
    }
    return subprocess.run(
        ["bash", "scripts/with_localcloud.sh", "env"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_with_localcloud_tells_the_readers_localclouds_lag_rounded_up(tmp_path: Path) -> None:
    for args, lag in [
        ("--consistency-lag-ms 1000", "1000"),
        ("--no-rate-limits --consistency-lag-ms=250.2", "251"),
        ("--consistency-lag-ms 5 --consistency-lag-ms 0", "0"),  # the last one counts, as for localcloud
    ]:
        result = localcloud_run(tmp_path, args)
        assert result.returncode == 0, result.stderr
        assert f"{LAG_ENV}={lag}" in result.stdout.splitlines(), args
    without = localcloud_run(tmp_path, "--no-rate-limits")
    assert without.returncode == 0 and f"{LAG_ENV}=" not in without.stdout


def test_an_abbreviated_lag_flag_is_refused_rather_than_taken_unseen(tmp_path: Path) -> None:
    result = localcloud_run(tmp_path, "--consistency-lag 500")
    assert result.returncode != 0
    assert "unrecognized arguments: --consistency-lag 500" in result.stderr


def test_every_localcloud_an_end_to_end_run_starts_lags_as_cam_does() -> None:
    """A server started without the lag would let a reader that never waits pass here: every server an
    end-to-end module starts, and every `make` run with a localcloud of its own (LOCALCLOUD_STATE) that
    it or a helper it imports starts (another test module's fixtures it borrows no server from)."""
    modules = {path: ast.parse(path.read_text()) for path in sorted((ROOT / "tests").glob("*_e2e.py"))}
    for tree in list(modules.values()):
        for node in ast.walk(tree):
            name = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            if name.startswith("tests.") and not name.startswith("tests.test_"):
                helper = ROOT / "tests" / f"{name.removeprefix('tests.')}.py"
                modules.setdefault(helper, ast.parse(helper.read_text()))
    unlagged = []
    for path, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "LocalCloudProcess":
                starred = [arg.value for arg in node.args if isinstance(arg, ast.Starred)]
                if not any(isinstance(value, ast.Name) and value.id == "CAM_LAG" for value in starred):
                    unlagged.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Dict):
                keys = {key.value for key in node.keys if isinstance(key, ast.Constant)}
                if "LOCALCLOUD_STATE" in keys and "LOCALCLOUD_ARGS" not in keys:
                    unlagged.append(f"{path.name}:{node.lineno} (make)")
    assert len(modules) > 25 and unlagged == []


def test_the_recovery_finds_what_a_killed_run_made_a_moment_ago_only_by_waiting_out_the_lag(tmp_path: Path) -> None:
    """A policy the killed run made is in CAM, but CAM's reads do not show it yet: read at once, the
    recovery would take it for never made and clear it, and the next `up` would fail on its name."""
    with LocalCloudProcess(tmp_path / "state.db", "--consistency-lag-ms", "1000") as cloud:
        document = '{"version":"2.0","statement":[{"effect":"allow","action":"name/im:*","resource":"*"}]}'
        made = call(cloud.cam(), "CreatePolicy", PolicyName="im-access-dev-bot", PolicyDocument=document)
        pending = PendingCreate("urn:bot-policy", POLICY, {"name": "im-access-dev-bot"})
        route = {
            "TENCENTCLOUD_SECRET_ID": SECRET_ID,
            "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
            "HTTP_PROXY": f"http://{cloud.address}",
        }
        said: list[str] = []

        def reader(**lag: str) -> PacedReader:
            return preflight.recovery_reader({}, {**route, **lag}, via_localcloud=True, on_output=said.append)

        at_once = preflight.cloud_id(pending, reader())
        found = preflight.cloud_id(pending, reader(**cloud.lag_env()))

    assert at_once is None, "the lag was not in effect: this test proves nothing"
    assert found == str(made["PolicyId"])
    assert said == ["preflight: the last run was interrupted; waiting 1 s for CAM's reads to show what it made"]
