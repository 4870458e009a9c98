"""Benchmark: signed requests per second that localcloud answers, with 1 and with 8 clients.

Clients are the official SDK for Python (keep-alive, one client per thread). The baseline is the
same HTTP server stack answering a fixed envelope without signatures or SQLite, measured in the
same run, so the ratio shows what localcloud itself costs. The provider calls CAM at most at the
API's own rate limits (AddUser 20/s, AttachUserPolicy 10/s); localcloud must stay far above them.

Run: .venv/bin/python -m benchmarks.localcloud_requests
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.mode import is_short
from tests.localcloud_process import NO_RATE_LIMITS, LocalCloudProcess

FULL = {"reads": 400, "writes": 60, "clients": (1, 8)}  # per client
SHORT = {"reads": 10, "writes": 5, "clients": (1, 2)}


Request = Callable[[int, int], tuple[str, dict[str, Any]]]  # (worker, index) -> (action, params)


def requests_per_second(cloud: LocalCloudProcess, clients: int, request: Request, per_client: int) -> float:
    def run(worker: int) -> None:
        cam = cloud.cam()
        for index in range(per_client):
            cam.call_json(*request(worker, index))

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, range(clients)))
    return clients * per_client / (time.perf_counter() - start)


def measure(module: str, state_dir: Path, sizes: dict[str, Any]) -> dict[tuple[str, int], float]:
    results: dict[tuple[str, int], float] = {}
    # Raw throughput: localcloud's rate limits (CAM's, on by default) would measure themselves instead.
    unlimited = (NO_RATE_LIMITS,) if module == "localcloud" else ()
    with LocalCloudProcess(state_dir / f"{module}.db", *unlimited, module=module) as cloud:
        cloud.cam().call_json("AddUser", {"Name": "reader"})
        for clients in sizes["clients"]:

            def read(worker: int, index: int) -> tuple[str, dict[str, Any]]:
                return "GetUser", {"Name": "reader"}

            def write(worker: int, index: int, clients: int = clients) -> tuple[str, dict[str, Any]]:
                return "AddUser", {"Name": f"c{clients}-w{worker}-u{index}"}

            results[("read GetUser", clients)] = requests_per_second(cloud, clients, read, sizes["reads"])
            results[("write AddUser", clients)] = requests_per_second(cloud, clients, write, sizes["writes"])
    return results


def main() -> None:
    sizes = SHORT if is_short(__doc__) else FULL
    with tempfile.TemporaryDirectory() as state_dir:
        baseline = measure("benchmarks.fixed_answer_server", Path(state_dir), sizes)
        localcloud = measure("localcloud", Path(state_dir), sizes)
    print(f"{'request':<15}{'clients':>8}{'localcloud req/s':>18}{'baseline req/s':>16}{'baseline/localcloud':>21}")
    for (kind, clients), rate in localcloud.items():
        base = baseline[(kind, clients)]
        print(f"{kind:<15}{clients:>8}{rate:>18.0f}{base:>16.0f}{base / rate:>20.2f}x")


if __name__ == "__main__":
    main()
