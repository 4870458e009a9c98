"""Kill points: an `up` of 20 operators (18 console operators, 2 API bots with custom policies) killed
with SIGKILL (engine, language host and provider, the whole process group) at points spread over
its duration, localcloud adding latency to every request; then the next `up` (the preflight recovers
what the killed run left) and whether it converged: exit 0, then a preview with no changes, and in
localcloud exactly the declared users, attachments and custom policies (no duplicate, no orphan).

The first, uninterrupted `up` in the same run sets the duration the kill points are spread over.

Run: .venv/bin/python -m benchmarks.recovery_kill_points [--points 8] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from commands import engine
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import ROOT, LocalCloudProcess, call
from tests.test_recovery_e2e import kill_tree

CONSOLE, BOTS = 18, 2
SEED_USERS = {"qa-lead"}


def operators() -> list[dict[str, Any]]:
    people = [{"name": f"im-kill-{index:02d}", "access": "readonly"} for index in range(CONSOLE)]
    bots = [
        {
            "name": f"im-kill-bot-{index}",
            "access": "custom",
            "console": False,
            "apiKey": True,
            "sdkAppIds": [1400000001],
            "actions": ["name/im:DescribeAppStatList"],
        }
        for index in range(BOTS)
    ]
    return people + bots


def project_in(workdir: Path, cloud: LocalCloudProcess) -> EngineProject:
    project = EngineProject(workdir, cloud)
    project.config("local")["im-access:operators"] = operators()
    return project


def account(cloud: LocalCloudProcess) -> tuple[list[str], list[tuple[str, int]], list[str]]:
    cam = cloud.cam()
    users = [u for u in call(cam, "ListUsers")["Data"] if u["Name"] not in SEED_USERS]
    attached = [
        (u["Name"], int(p["PolicyId"]))
        for u in users
        for p in call(cam, "ListAttachedUserPolicies", TargetUin=u["Uin"], Rp=200)["List"]
    ]
    custom = [p["PolicyName"] for p in call(cam, "ListPolicies", Rp=200, Scope="Local")["List"]]
    return sorted(u["Name"] for u in users), sorted(attached), sorted(custom)


def converged(cloud: LocalCloudProcess) -> tuple[bool, str]:
    users, attached, custom = account(cloud)
    wanted = sorted(entry["name"] for entry in operators())
    policies = sorted(f"im-access-local-{entry['name']}" for entry in operators() if entry["access"] == "custom")
    problems = []
    if users != wanted:
        problems.append(
            f"users {len(users)} (extra {sorted(set(users) - set(wanted))}, missing {sorted(set(wanted) - set(users))})"
        )
    if len(attached) != len(wanted) or sorted(name for name, _ in attached) != wanted:
        problems.append(f"attachments {len(attached)}")
    if custom != policies:
        problems.append(f"custom policies {custom}")
    return not problems, "; ".join(problems) or "exact"


def killed_up(project: EngineProject, after: float) -> None:
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
    time.sleep(after)
    kill_tree(process.pid)
    process.wait()


def pending(project: EngineProject) -> int:
    with engine.open_stack("local", project.workdir, project.env()) as opened:
        deployment = opened.export_stack().deployment or {}
    return len(deployment.get("pending_operations") or [])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args(argv)
    latency = ("--latency-ms", str(args.latency_ms))
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "reference"
        reference.mkdir()
        with LocalCloudProcess(reference / "localcloud.db", "--seed", str(SEED), *latency) as cloud:
            started = time.monotonic()
            result = project_in(reference, cloud).run("up")
            duration = time.monotonic() - started
            assert result.exit_code == 0, result.text[-3000:]
        print(f"uninterrupted up of {CONSOLE + BOTS} operators, {args.latency_ms} ms latency: {duration:.1f} s")
        print("| kill at (s) | pending creates left | preflight's actions | next up | then | localcloud | verdict |")
        print("|---|---|---|---|---|---|---|")
        for point in range(1, args.points + 1):
            at = duration * point / (args.points + 1)
            workdir = Path(folder) / f"kill-{point}"
            workdir.mkdir()
            with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *latency) as cloud:
                project = project_in(workdir, cloud)
                killed_up(project, at)
                left = pending(project)
                again = project.run("up")
                actions = [line for line in again.output if line.startswith("preflight: ") and "acting on" not in line]
                kinds = {
                    "imported": sum(", imported" in line for line in actions),
                    "cleared": sum("cleared" in line for line in actions),
                    "made again": sum("makes it again" in line for line in actions),
                    "unlocked": sum("unlocked" in line for line in actions),
                }
                summary = ", ".join(f"{count} {kind}" for kind, count in kinds.items() if count) or "none"
                quiet = project.run("preview", expect_no_changes=True).exit_code == 0 if again.exit_code == 0 else False
                exact, detail = converged(cloud)
                verdict = "converged" if again.exit_code == 0 and quiet and exact else "NOT converged"
                then = "no changes" if quiet else "changes left"
                print(f"| {at:.1f} | {left} | {summary} | exit {again.exit_code} | {then} | {detail} | {verdict} |")


if __name__ == "__main__":
    main()
