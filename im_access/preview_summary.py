"""Summarise a Pulumi engine event log (`--event-log`) as Markdown: planned changes and policy violations.

`pulumi preview --json` leaves policy violations out; the event log has them as `policyEvent`s.
Secrets never appear: only resource URNs, operations and policy messages are read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Summary:
    stack: str
    changes: list[tuple[str, str]] = field(default_factory=list)  # operation, urn
    violations: list[tuple[str, str, str, str]] = field(default_factory=list)  # level, policy, urn, message

    @property
    def blocked(self) -> bool:
        return any(level == "mandatory" for level, *_ in self.violations)


def summarise(stack: str, lines: Iterable[str]) -> Summary:
    summary = Summary(stack)
    for line in lines:
        if not line.strip():
            continue
        event: dict[str, Any] = json.loads(line)
        if "resourcePreEvent" in event:
            metadata = event["resourcePreEvent"].get("metadata", {})
            operation = metadata.get("op", "")
            if operation and operation != "same" and metadata.get("type") != "pulumi:pulumi:Stack":
                summary.changes.append((operation, metadata.get("urn", "")))
        elif "policyEvent" in event:
            policy = event["policyEvent"]
            summary.violations.append(
                (
                    policy.get("enforcementLevel", ""),
                    policy.get("policyName", ""),
                    policy.get("resourceUrn", ""),
                    " ".join(str(policy.get("message", "")).split()),
                )
            )
    return summary


def _short(urn: str) -> str:
    parts = urn.split("::")
    return f"{parts[-2].split('$')[-1]} {parts[-1]}" if len(parts) >= 2 else urn or "(stack)"


AGAINST_LOCALCLOUD = (
    "> Previewed against localcloud, an empty stand-in account, because this run has no cloud secrets."
    " The guardrails checked every resource, but changes are shown against an empty stack, and the real"
    " account's state, preset policy ids and existing users and groups were not checked."
)


def markdown(summary: Summary, exit_code: int, against_localcloud: bool = False) -> str:
    verdict = "blocked by a mandatory policy" if summary.blocked else ("failed" if exit_code else "passes")
    operations = Counter(op for op, _ in summary.changes)
    counts = ", ".join(f"{count} to {op}" for op, count in sorted(operations.items())) or "no changes"
    lines = [f"### Stack `{summary.stack}`: {verdict}", ""]
    lines += [AGAINST_LOCALCLOUD, ""] if against_localcloud else []
    lines += [f"Changes: {counts}."]
    if summary.changes:
        lines += ["", "| operation | resource |", "|---|---|"]
        lines += [f"| {op} | `{_short(urn)}` |" for op, urn in summary.changes]
    if summary.violations:
        lines += ["", "| level | policy | resource | message |", "|---|---|---|---|"]
        lines += [
            f"| {level} | `{policy}` | `{_short(urn)}` | {message.replace('|', '/')} |"
            for level, policy, urn, message in summary.violations
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--exit-code", type=int, default=0, help="the exit code of the pulumi command")
    parser.add_argument("--against-localcloud", action="store_true", help="say what a localcloud preview cannot check")
    args = parser.parse_args(argv)
    lines = args.events.read_text().splitlines() if args.events.exists() else []
    sys.stdout.write(markdown(summarise(args.stack, lines), args.exit_code, args.against_localcloud))
    return 0


if __name__ == "__main__":
    sys.exit(main())
