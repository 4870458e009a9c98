"""Benchmark: build the program for 1,000 operators under mocks, against the same raw resources.

The baseline registers the same CAM users, attachments and MFA flags directly, without components, in the
same process and under the same mocks, so the ratio is the cost of the components and the config
validation. Run: .venv/bin/python -m benchmarks.program_build
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pulumi
from tencentcloud_iac_pulumi import cam

from benchmarks.mode import is_short
from tests.harness import CloudMocks, RecordingMonitor, run_program

OWNER = "100012345678"


def program_config(operators: int) -> dict[str, object]:
    return {
        "im-access:ownerUin": OWNER,
        # The provider's account pin every stack carries (the program refuses a stack without it).
        "tencentcloud:allowedAccountIds": [OWNER],
        "im-access:operators": [{"name": f"op-{i}", "access": "readonly"} for i in range(operators)],
    }


def with_components(operators: int) -> None:
    run_program("bench", program_config(operators))


def raw_resources(operators: int) -> None:
    mocks = CloudMocks()
    pulumi.runtime.set_mocks(mocks, project="im-access", stack="bench", monitor=RecordingMonitor(mocks))

    @pulumi.runtime.test
    def register() -> None:
        for i in range(operators):
            user = cam.User(f"op-{i}-user", name=f"op-{i}", console_login=True, need_reset_password=True)
            cam.UserPolicyAttachment(f"op-{i}-im-access", user_name=user.name, policy_id="900001")
            cam.MfaFlag(
                f"op-{i}-mfa",
                op_uin=user.uin,
                login_flag={"phone": 0, "stoken": 1, "wechat": 0},
                action_flag={"phone": 0, "stoken": 0, "wechat": 0},
            )

    register()


def best_of(rounds: int, body: Callable[[], None]) -> tuple[float, float]:
    """Best and median wall time in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    short = is_short(__doc__)
    operators, rounds = (20, 1) if short else (1000, 3)
    raw_best, raw_median = best_of(rounds, lambda: raw_resources(operators))
    prog_best, prog_median = best_of(rounds, lambda: with_components(operators))
    print(f"{operators} operators, best of {rounds} (median in brackets)")
    print(f"  raw resources (baseline): {raw_best * 1000:8.0f} ms ({raw_median * 1000:.0f})")
    print(f"  program with components:  {prog_best * 1000:8.0f} ms ({prog_median * 1000:.0f})")
    print(f"  ratio program / raw:      {prog_best / raw_best:8.2f}x")


if __name__ == "__main__":
    main()
