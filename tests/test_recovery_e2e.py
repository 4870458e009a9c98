"""An `up` killed with SIGKILL while the provider waits after creating a user: the next `up` (the exact
`python -m commands.stack up` that `make up` runs) finds the pending creates in the state, looks each
up in CAM, and converges with no duplicate and no orphan, and no manual step."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from commands import engine
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess, call

pytestmark = pytest.mark.xdist_group("recovery")
SEED_USERS = {"qa-lead"}


def kill_tree(pid: int) -> None:
    """SIGKILL to a process and every process under it, as a killed runner loses them all: the
    engine starts its plugins in process groups of their own, which a group kill would leave."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    for member in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)


def killed_up(project: EngineProject, when: Any, timeout: float = 120) -> None:
    """`up` in its own process group, killed (engine, language host, provider) once `when()` holds."""
    project.write_stack_file("local")
    command = [sys.executable, "-m", "commands.stack", "up", "local", "--project", str(project.workdir)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **project.env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while not when():
            assert process.poll() is None, "the up ended before the kill point"
            assert time.monotonic() < deadline, "the kill point never came"
            time.sleep(0.1)
    finally:
        kill_tree(process.pid)
        process.wait()


def pending(project: EngineProject) -> list[str]:
    with engine.open_stack("local", project.workdir, project.env()) as opened:
        deployment = opened.export_stack().deployment or {}
    return [op["resource"]["urn"].rsplit("::", 1)[1] for op in deployment.get("pending_operations") or []]


def account(project: EngineProject) -> tuple[set[str], set[tuple[str, int]]]:
    """The account's users (seeded ones aside) and their attachments, once CAM's reads show the last run."""
    project.cloud.settle()
    cam = project.cloud.cam()
    users = {u["Name"]: u["Uin"] for u in call(cam, "ListUsers")["Data"] if u["Name"] not in SEED_USERS}
    attached = {
        (name, int(p["PolicyId"]))
        for name, uin in users.items()
        for p in call(cam, "ListAttachedUserPolicies", TargetUin=uin, Rp=200)["List"]
    }
    return set(users), attached


def test_an_up_killed_after_cam_made_a_user_converges_on_the_next_up(tmp_path: Path) -> None:
    with LocalCloudProcess(tmp_path / "localcloud.db", "--seed", str(SEED), *CAM_LAG) as cloud:
        project = EngineProject(tmp_path, cloud)
        cam = cloud.cam()

        def alice_made() -> bool:
            return any(u["Name"] == "im-local-alice" for u in call(cam, "ListUsers")["Data"])

        killed_up(project, alice_made)

        left = pending(project)
        assert "im-local-alice-user" in left  # the provider waits ~10 s after AddUser: killed in between
        result = project.run("up")

        assert result.exit_code == 0, result.text
        # Its look-ups waited out CAM's lag, which the run's environment gives: "not found" means "not made".
        waited = f"waiting {cloud.lag_ms / 1000:g} s for CAM's reads to show what it made"
        assert (f"preflight: the last run was interrupted; {waited}" in result.text) == bool(cloud.lag_ms)
        assert "preflight: recovered im-local-alice-user: CAM made operator im-local-alice's user" in result.text
        assert pending(project) == []
        users, attached = account(project)
        assert users == {"im-local-alice", "im-local-stats-bot"}  # no duplicate, no orphan
        outputs = project.outputs()["operators"]
        assert outputs["im-local-alice"]["password"]  # made again: a password to hand over
        assert outputs["im-local-stats-bot"]["secretKey"]
        policy_ids = {int(entry["policyId"]) for entry in project.outputs()["access"]}
        assert {policy for _, policy in attached} <= policy_ids
        assert len(attached) == 2
        assert project.run("preview", expect_no_changes=True).exit_code == 0
