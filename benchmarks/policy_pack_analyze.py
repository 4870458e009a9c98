"""Benchmark: Analyze 3,000 resources and AnalyzeStack over them through the gRPC server.

Both the guardrails pack and a no-op pack (the baseline) run in child processes started as the
engine starts them, measured in the same run.   Run: .venv/bin/python -m benchmarks.policy_pack_analyze
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from benchmarks.mode import is_short
from tests.analyzer_client import AnalyzerResource, PolicyPackProcess

NOOP_PACK = Path(__file__).resolve().parent / "noop_pack"


def stack_of_resources(count: int) -> list[AnalyzerResource]:
    """A realistic mix: per operator a component, a user, an attachment and its MFA flags; every tenth
    is custom."""
    resources: list[AnalyzerResource] = []
    document = json.dumps(
        {
            "version": "2.0",
            "statement": [
                {
                    "effect": "allow",
                    "action": ["name/im:DescribeAppStatList"],
                    "resource": ["qcs::im::uin/1:sdkappid/1400000001"],
                }
            ],
        }
    )
    i = 0
    while len(resources) < count:
        custom = i % 10 == 0
        component = AnalyzerResource(
            "im-access:index:ImOperator",
            f"op-{i}",
            # A custom level's actions go through the catalogue check too.
            {"access": "custom", "userName": f"op-{i}", "actions": ["name/im:DescribeAppStatList"]}
            if custom
            else {"access": "readonly", "userName": f"op-{i}"},
        )
        user = AnalyzerResource(
            "tencentcloud:Cam/user:User",
            f"op-{i}-user",
            {"name": f"op-{i}", "consoleLogin": True, "needResetPassword": True},
            parent=component.urn,
        )
        policy_urns: list[str] = []
        resources += [component, user]
        if custom:
            policy = AnalyzerResource(
                "tencentcloud:Cam/policy:Policy",
                f"op-{i}-policy",
                {"name": f"p-{i}", "document": document},
                parent=component.urn,
            )
            resources.append(policy)
            policy_urns = [policy.urn]
        resources.append(
            AnalyzerResource(
                "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
                f"op-{i}-im-access",
                {"userName": f"op-{i}", "policyId": "90001" if custom else "900001"},
                parent=component.urn,
                property_dependencies={"policyId": policy_urns} if policy_urns else {},
            )
        )
        resources.append(  # every operator's MFA flags, tied to its user
            AnalyzerResource(
                "tencentcloud:Cam/mfaFlag:MfaFlag",
                f"op-{i}-mfa",
                {
                    "loginFlag": {"phone": 0, "stoken": 1, "wechat": 0},
                    "actionFlag": {"phone": 0, "stoken": 0, "wechat": 0},
                },
                parent=component.urn,
                property_dependencies={"opUin": [user.urn]},
            )
        )
        i += 1
    return resources[:count]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc), which other load does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(pack: PolicyPackProcess, resources: list[AnalyzerResource]) -> tuple[float, float, float]:
    """Milliseconds per resource for Analyze (one call each) and for one AnalyzeStack, wall clock, and
    the pack process's CPU milliseconds per resource for both."""
    cpu = cpu_seconds(pack.process.pid)
    start = time.perf_counter()
    for resource in resources:
        pack.analyze(resource)
    analyze = time.perf_counter() - start
    start = time.perf_counter()
    pack.analyze_stack(resources)
    stack = time.perf_counter() - start
    cpu = cpu_seconds(pack.process.pid) - cpu
    return analyze * 1000 / len(resources), stack * 1000 / len(resources), cpu * 1000 / len(resources)


def main() -> None:
    short = is_short(__doc__)
    round_count = 1 if short else 5
    resources = stack_of_resources(60 if short else 3000)
    # Both packs run side by side and take turns, best of `round_count` each: load from other processes
    # on a shared machine then slows both alike instead of skewing the ratio.
    with PolicyPackProcess("dev", pack_dir=NOOP_PACK) as noop_pack, PolicyPackProcess("dev") as pack:
        noop_pack.configure({})
        pack.configure({})
        rounds: dict[str, list[tuple[float, float, float]]] = {"no-op pack": [], "guardrails": []}
        for _ in range(round_count):
            rounds["no-op pack"].append(one_round(noop_pack, resources))
            rounds["guardrails"].append(one_round(pack, resources))
    best = {name: tuple(min(r[i] for r in runs) for i in range(3)) for name, runs in rounds.items()}
    noop, guardrails = best["no-op pack"], best["guardrails"]
    print(f"{len(resources)} resources, ms per resource, best of {round_count} alternating rounds")
    print(f"  {'':12} {'Analyze':>9} {'AnalyzeStack':>13} {'pack CPU':>9}")
    print(f"  {'no-op pack':12} {noop[0]:9.3f} {noop[1]:13.4f} {noop[2]:9.3f}")
    print(f"  {'guardrails':12} {guardrails[0]:9.3f} {guardrails[1]:13.4f} {guardrails[2]:9.3f}")
    ratios = [guardrails[i] / noop[i] for i in range(3)]
    print(f"  {'ratio':12} {ratios[0]:8.2f}x {ratios[1]:12.2f}x {ratios[2]:8.2f}x")


if __name__ == "__main__":
    main()
