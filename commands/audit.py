"""Audit one stack against the live CAM account: who holds IM access, and what the code does not say.

    python -m commands.audit --stack dev                   a table on a terminal
    python -m commands.audit --stack dev --format markdown for an issue or a pull request
    python -m commands.audit --stack dev --format json     {"stack": ..., "findings": [...]}

Reads the account with the credentials of a preview (read-only actions only). Exit 0 when nothing
drifted, 1 when anything did, 2 when the audit could not run; then nothing is printed on stdout,
so a partial report is never taken for a complete one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from commands import escape
from commands.cam_account import AccountReadError, PacedReader, client_for, read_holdings
from commands.engine import ROOT
from commands.stack import GUARDRAILS
from im_access.audit import Declared, Finding, audit, declared_access
from im_access.break_glass import load_exceptions
from im_access.config import ConfigurationError, parse_stack_config, read_namespace, read_stack_file
from im_access.provider_config import stack_config_problems
from im_access.stack_files import StackFileError, known_stacks
from im_access.stack_files import stack_files as checked_stack_files

FORMATS = ("table", "markdown", "json")
FULL_ACCESS_POLICY = "im-full-access-approved-stacks-only"


class AuditError(RuntimeError):
    """The audit could not run; the message says why."""


def stack_files(project: Path, guardrails: Path = GUARDRAILS) -> dict[str, Path]:
    """One file per stack the guardrails know; any other `Pulumi.*` file stops the audit."""
    try:
        return checked_stack_files(project, known_stacks(guardrails))
    except StackFileError as error:
        raise AuditError(str(error)) from None


def declared_in_account(project: Path, owner_uin: str, guardrails: Path = GUARDRAILS) -> dict[str, list[Declared]]:
    """What every stack of the project that manages the same account declares."""
    declared: dict[str, list[Declared]] = {}
    for name, path in stack_files(project, guardrails).items():
        try:
            config = parse_stack_config(name, read_namespace(read_stack_file(path)), allow_past_expiry=True)
        except ConfigurationError as error:
            raise AuditError(str(error)) from None
        if config.owner_uin == owner_uin:
            declared[name] = declared_access(name, config)
    return declared


def is_approved(stack: str, guardrails: Path) -> bool:
    """Whether the stack's reviewed policy config approves it for IM full access."""
    path = guardrails / "config" / f"{stack}.json"
    try:
        approved = json.loads(path.read_text()).get(FULL_ACCESS_POLICY, {}).get("approvedStacks", [])
    except (OSError, ValueError) as error:
        raise AuditError(f"{path} cannot be read: {error}") from None
    return any(str(entry) == stack or str(entry).endswith(f"/{stack}") for entry in approved)


def run_audit(stack: str, project: Path, today: dt.date, guardrails: Path = GUARDRAILS) -> list[Finding]:
    files = stack_files(project, guardrails)
    if stack not in files:
        raise AuditError(f"there is no Pulumi.{stack}.yaml in {project}; stacks: {', '.join(files) or 'none'}")
    try:
        raw = read_stack_file(files[stack])
    except ConfigurationError as error:
        raise AuditError(str(error)) from None
    endpoint = stack_config_problems(stack, raw, {})  # the file alone: only the local stack's may say HTTP
    if endpoint:
        raise AuditError(f"Pulumi.{stack}.yaml: " + "; ".join(endpoint))
    owner_uin = str(raw.get("im-access:ownerUin", ""))
    declared = declared_in_account(project, owner_uin, guardrails)
    approved = is_approved(stack, guardrails)
    try:
        holdings = read_holdings(PacedReader(client_for(raw)))
    except AccountReadError as error:
        raise AuditError(str(error)) from None
    exceptions = load_exceptions(guardrails)
    for malformed in exceptions.errors_for(stack):  # it allows nothing; say so, and audit without it
        print(f"audit: {malformed.describe()}", file=sys.stderr)
    return audit(stack, holdings, declared, approved=approved, today=today, exceptions=exceptions)


def render(stack: str, findings: Sequence[Finding], output_format: str) -> str:
    if output_format == "json":
        return json.dumps({"stack": stack, "findings": [finding.as_json() for finding in findings]}) + "\n"
    if not findings:
        return f"IM access audit of stack `{stack}`: no drift; the account holds what the code declares.\n"
    heading = f"IM access audit of stack `{stack}`: {len(findings)} finding" + ("s" if len(findings) != 1 else "")
    rows = [(f.kind, f.principal, f.policy, "" if f.policy_id is None else str(f.policy_id), f.fix) for f in findings]
    header = ("kind", "principal", "policy", "policy id", "what to do")
    if output_format == "markdown":
        # Principals and policy names come from the account: escaped, so none can forge the issue body.
        title = f"IM access audit of stack {escape.markdown(stack, code=True)}: {len(findings)} finding"
        lines = [f"### {title}" + ("s" if len(findings) != 1 else ""), ""]
        lines += ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        lines += ["| " + " | ".join(escape.markdown(cell) for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = [heading, ""]
    for row in (header, *rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.audit", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout whose stacks declare the access")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today(), help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    try:
        findings = run_audit(args.stack, args.project, args.today)
    except AuditError as error:
        print(f"audit: could not audit stack {args.stack!r}: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(render(args.stack, findings, args.format))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
