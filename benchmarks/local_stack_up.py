"""Benchmark: `pulumi up` and `pulumi destroy` of 100 operators through the real engine and provider,
against localcloud enforcing CAM's per-action rate limits, at several parallelism settings.

The provider waits about 10 s after each CAM create before reading it back, so a stack's floor is
its longest dependency chain (user, then attachment), measured in the same run as the up of a
one-operator stack, or CAM's rate limits (100 AddUser at 20/s, 100 AttachUserPolicy at 10/s),
whichever is longer. Each figure is printed as a ratio to that floor.

Run: .venv/bin/python -m benchmarks.local_stack_up
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.mode import is_short
from commands.stack import DEFAULT_PARALLEL
from localcloud.rate_limits import CAM_LIMITS
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import LocalCloudProcess

PARALLELISM: tuple[int | None, ...] = (None, 16, DEFAULT_PARALLEL, 128)  # None: the engine's default


def operators(count: int) -> list[dict[str, object]]:
    return [{"name": f"im-bench-{index:03d}", "access": "readonly"} for index in range(count)]


def timed(project: EngineProject, command: str, parallel: int | None) -> float:
    started = time.monotonic()
    result = project.run(command, parallel=parallel)
    elapsed = time.monotonic() - started
    if result.exit_code != 0:
        raise SystemExit(f"{command} failed:\n{result.text[-3000:]}")
    return elapsed


def main() -> None:
    short = is_short(__doc__)
    count = 1 if short else 100
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), "--rate-limits") as cloud:
            project = EngineProject(workdir, cloud)
            config = project.config("local")
            config["im-access:grants"] = []

            config["im-access:operators"] = operators(1)
            chain = timed(project, "up", DEFAULT_PARALLEL)
            chain_destroy = timed(project, "destroy", DEFAULT_PARALLEL)
            rate_bound = count / CAM_LIMITS["AddUser"] + count / CAM_LIMITS["AttachUserPolicy"]
            floor = max(chain, rate_bound)
            print(f"floor: one user-then-attachment chain {chain:.1f} s; CAM rate limits {rate_bound:.1f} s")
            print(f"{count} operators | parallel | up s | up / floor | destroy s")
            if short:  # the one-operator chain is the whole sweep: two engine runs instead of four
                print(f"| {DEFAULT_PARALLEL} | {chain:.1f} | {chain / floor:.2f}x | {chain_destroy:.1f} |")
                return

            config["im-access:operators"] = operators(count)
            for parallel in PARALLELISM:
                up = timed(project, "up", parallel)
                destroy = timed(project, "destroy", parallel)
                label = "engine default" if parallel is None else str(parallel)
                print(f"| {label} | {up:.1f} | {up / floor:.2f}x | {destroy:.1f} |", flush=True)


if __name__ == "__main__":
    main()
