"""Benchmark: `make adopt AS=operator` of console-made operators (users with console access and an API
key, each holding IM read-only access) against the audit's read of the same account, in the same run.

localcloud enforces CAM's per-action rate limits (`--rate-limits`); both go through the same paced
client. Adopting is the audit's read plus ListUsers and one ListAccessKeys per adopted user, and
the in-place edit of the stack file. Printed: CAM requests and seconds of each, and the ratios.

Run: .venv/bin/python -m benchmarks.adopt_requests [--operators 200] [--short]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from commands import adopt, audit
from commands.cam_account import PacedReader
from im_access.break_glass import utc_today
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import ROOT, LocalCloudProcess, call, policy_id

OPERATORS, SHORT = 200, 20
counted: Counter[str] = Counter()


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Every CAM request any paced reader sends, by action, while inside."""
    original: Callable[..., dict[str, Any]] = PacedReader._call

    def _call(self: PacedReader, action: str, **params: Any) -> dict[str, Any]:
        counted[action] += 1
        return original(self, action, **params)

    counted.clear()
    PacedReader._call = _call  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        PacedReader._call = original  # type: ignore[method-assign]


def paced(cam: Any, action: str, **params: Any) -> dict[str, Any]:
    """A console click: retried while CAM's rate limit refuses it."""
    while True:
        try:
            return call(cam, action, **params)
        except TencentCloudSDKException as error:
            if error.get_code() != "RequestLimitExceeded":
                raise
            time.sleep(0.1)


def console_made(cloud: LocalCloudProcess, count: int) -> None:
    cam = cloud.cam()
    read_only = policy_id(cam, "QcloudIMReadOnlyAccess")
    for index in range(count):
        uin = paced(cam, "AddUser", Name=f"console-op-{index:03d}", ConsoleLogin=1, UseApi=1)["Uin"]
        paced(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=uin)


def measure(run: Callable[[], object]) -> tuple[int, float]:
    with counting() as requests:
        started = time.monotonic()
        run()
        return sum(requests.values()), time.monotonic() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--operators", type=int, default=OPERATORS)
    parser.add_argument("--short", action="store_true", help=f"{SHORT} operators, for `make bench`")
    args = parser.parse_args(argv)
    count = SHORT if args.short else args.operators
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), "--rate-limits") as cloud:
            project = EngineProject(workdir, cloud)
            for name in ("local", "dev", "staging", "prod"):
                shutil.copy(ROOT / f"Pulumi.{name}.yaml", workdir / f"Pulumi.{name}.yaml")
            console_made(cloud, count)
            os.environ.update(project.env())  # the readers route and sign as a run through localcloud does
            day = utc_today()
            audit_requests, audit_seconds = measure(lambda: audit.audit_accounts(["local"], workdir, day))
            adopted: list[adopt.Adopted] = []
            adopt_requests, adopt_seconds = measure(
                lambda: adopted.append(adopt.adopt("local", "operator", workdir, day))
            )
    assert len(adopted[0].proposals) == count, adopted[0].skipped
    print(f"adopt {count} console-made operators (AS=operator), localcloud with --rate-limits:")
    print(f"  audit's read of the account: {audit_requests} CAM requests in {audit_seconds:.1f} s")
    print(
        f"  make adopt (the same read, then the users' details and keys, then the edit):"
        f" {adopt_requests} CAM requests in {adopt_seconds:.1f} s"
    )
    print(f"  ratio: {adopt_requests / audit_requests:.2f}x requests, {adopt_seconds / audit_seconds:.2f}x time")


if __name__ == "__main__":
    main()
