"""Audit stacks against the live CAM account: who holds IM access, and what the code does not say.

    python -m commands.audit                               every cloud stack, a table
    python -m commands.audit --stack dev                   one stack (repeat --stack for more)
    python -m commands.audit --format markdown             for an issue or a pull request
    python -m commands.audit --format json                 {"stacks": [...], "findings": [...]}
    python -m commands.audit --unused-days 30              access unused for 30 days is a finding (default 90)

Reads each account once, with the credentials of a preview (read-only actions only). A holding no
stack declares is reported once per account, not once per stack. Exit 0 when nothing drifted, 1
when anything did, 2 when the audit could not run, whatever the reason; then nothing is printed on
stdout, so a partial report is never taken for a complete one. Run it directly, not through make,
which turns every failing exit code into 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

try:
    from commands import cli, escape, preflight
    from commands.cam_account import (
        AccountReadError,
        account_reader,
        cam_lag_seconds,
        endpoint_for,
        read_credentials,
        read_holdings,
        read_memberships,
        read_reach,
        read_usage,
    )
    from commands.engine import ROOT
    from commands.stack import GUARDRAILS, LOCAL_STACK
    from im_access.approvals import APPROVALS_FILE, load_approvals
    from im_access.audit import (
        DEFAULT_UNUSED_DAYS,
        Declared,
        Finding,
        Held,
        Holding,
        Member,
        Usage,
        audit_stack,
        declared_access,
        expand,
        reach_findings,
        unmanaged,
        unused,
    )
    from im_access.break_glass import Exceptions, load_exceptions, today
    from im_access.config import (
        ConfigurationError,
        StackConfig,
        parse_stack_config,
        read_namespace,
        read_stack_file,
    )
    from im_access.credential_audit import ManagedOperator, credential_findings, managed_operators
    from im_access.provider_config import localcloud_route, stack_config_problems
    from im_access.stack_files import StackFileError, known_stacks
    from im_access.stack_files import stack_files as checked_stack_files
    from im_access.trust import load_trust_settings
except Exception as import_error:  # the exit code is a contract: an audit that cannot load could not run
    if __name__ != "__main__":
        raise
    print(f"audit: could not run: {type(import_error).__name__}: {str(import_error)[:500]}", file=sys.stderr)
    sys.exit(2)

FORMATS = ("table", "markdown", "json")


class AuditError(RuntimeError):
    """The audit could not run; the message says why."""


def stack_files(project: Path, guardrails: Path = GUARDRAILS) -> dict[str, Path]:
    """One file per stack the guardrails know; any other `Pulumi.*` file stops the audit."""
    try:
        return checked_stack_files(project, known_stacks(guardrails))
    except StackFileError as error:
        raise AuditError(str(error)) from None


def cloud_stacks(project: Path, guardrails: Path = GUARDRAILS) -> list[str]:
    """The stacks audited by default: every stack but the one that runs against localcloud."""
    return [stack for stack in stack_files(project, guardrails) if stack != LOCAL_STACK]


def _configs_in_account(project: Path, owner_uin: str, guardrails: Path) -> list[tuple[str, StackConfig]]:
    """Every stack of the project that manages the same account, with its validated config."""
    found = []
    for name, path in stack_files(project, guardrails).items():
        try:
            config = parse_stack_config(name, read_namespace(read_stack_file(path)), allow_past_expiry=True)
        except ConfigurationError as error:
            raise AuditError(str(error)) from None
        if config.owner_uin == owner_uin:
            found.append((name, config))
    return found


def _im_users(held: Sequence[Held]) -> dict[str, bool]:
    """Users holding IM access, directly or through a group: casefolded name to whether it is full."""
    users: dict[str, bool] = {}
    for entry in held:
        if entry.is_user:
            name = entry.principal.partition(":")[2].casefold()
            users[name] = users.get(name, False) or entry.holding.full_access
    return users


@dataclass
class Account:
    """One account as the audit read it, and what it found there."""

    owner_uin: str
    stacks: list[str]  # the audited stacks that manage it
    declared: dict[str, list[Declared]]  # by every stack of the project that manages it
    holdings: list[Holding]
    memberships: dict[str, list[Member]]
    usage: dict[str, Usage]
    findings: list[Finding] = field(default_factory=list)

    @property
    def held(self) -> list[Held]:
        return expand(self.holdings, self.memberships)


def audit_accounts(
    stacks: Sequence[str],
    project: Path,
    today: dt.date,
    guardrails: Path = GUARDRAILS,
    unused_days: int = DEFAULT_UNUSED_DAYS,
    command: str = "audit",
) -> tuple[list[Account], Exceptions]:
    """Each account `stacks` manage, read once, with its findings: its unmanaged holdings and unused
    access once, then each stack's own; and the break-glass exceptions they were judged with.
    `command` names the command that reads, in what it says on stderr."""
    approvals = load_approvals(guardrails)
    if approvals.problems:
        raise AuditError(f"{guardrails / APPROVALS_FILE}: {'; '.join(approvals.problems)}")
    files = stack_files(project, guardrails)
    missing = [stack for stack in stacks if stack not in files]
    if missing or not stacks:
        raise AuditError(
            f"no Pulumi.{(missing or ['<stack>'])[0]}.yaml in {project}; stacks: {', '.join(files) or 'none'}"
        )
    exceptions = load_exceptions(guardrails)
    trust = load_trust_settings(guardrails)
    for malformed in dict.fromkeys(m for stack in stacks for m in exceptions.errors_for(stack)):  # allows nothing
        print(f"audit: {malformed.describe()}", file=sys.stderr)
    via_localcloud = localcloud_route(os.environ)  # every stack's account is localcloud's then
    try:
        # Changes made before now show in every account's reads from this moment on: one wait in all.
        readable_from = time.monotonic() + cam_lag_seconds(os.environ, via_localcloud=via_localcloud)
    except AccountReadError as error:
        raise AuditError(str(error)) from None
    accounts: dict[tuple[str, str, str], list[str]] = {}
    try:
        raw = {stack: read_stack_file(files[stack]) for stack in dict.fromkeys(stacks)}
    except ConfigurationError as error:
        raise AuditError(str(error)) from None
    for stack, config in raw.items():
        # The file alone: only the local stack's may ask for plain HTTP, and none names another host.
        if problems := stack_config_problems(stack, config, {}):
            raise AuditError(f"Pulumi.{stack}.yaml: " + "; ".join(problems))
        account = (str(config.get("im-access:ownerUin", "")), *endpoint_for(config, via_localcloud=via_localcloud))
        accounts.setdefault(account, []).append(stack)
    read: list[Account] = []
    for (owner_uin, _, protocol), account_stacks in accounts.items():
        configs = _configs_in_account(project, owner_uin, guardrails)
        declared = {name: declared_access(name, config) for name, config in configs}
        # The audited stacks' operators; another stack's are the account's like any user's.
        operators: list[ManagedOperator] = [
            operator
            for name, config in configs
            if name in account_stacks
            for operator in managed_operators(name, config)
        ]
        try:
            # Whose the credentials are, over the route the reads below take: another account stops it.
            identity, acting_env = preflight.acting_identity(
                account_stacks[0],
                raw[account_stacks[0]],
                os.environ,
                plain_http=protocol == "http",
                via_localcloud=via_localcloud,
            )
        except preflight.PreflightError as error:
            raise AuditError(str(error)) from None
        print(identity.line(", ".join(account_stacks)), file=sys.stderr)  # stdout holds the report alone
        try:
            # As the stack's provider acts: through the role of a member account, if it assumes one.
            reader = account_reader(
                raw[account_stacks[0]],
                acting_env,
                via_localcloud=via_localcloud,
                lag=max(0.0, readable_from - time.monotonic()),
                command=command,
            )
            holdings = read_holdings(reader)
            memberships = read_memberships(reader, holdings, full_only=False)
            held = expand(holdings, memberships)
            usage = read_usage(reader, {h.principal: h.uin for h in held if h.is_user and h.uin is not None})
            im_users = _im_users(held)
            managed_names = [operator.name for operator in operators]
            full_users = [name for name, full in im_users.items() if full]
            credentials = read_credentials(reader, [*im_users, *managed_names], [*full_users, *managed_names])
            graph = read_reach(reader, owner_uin, trust)
        except AccountReadError as error:
            raise AuditError(str(error)) from None
        found = Account(owner_uin, account_stacks, declared, holdings, memberships, usage)
        members = {group: [m.principal for m in users] for group, users in memberships.items()}
        found.findings += unmanaged(holdings, declared)
        listed = [p for stack in account_stacks for p in approvals.of(stack, owner_uin).full_access_principals]
        found.findings += reach_findings(graph, listed, declared)
        found.findings += [
            finding
            for finding in unused(held, usage, declared, today=today, days=unused_days)
            if finding.stack is None or finding.stack in account_stacks
        ]
        for stack in account_stacks:
            found.findings += audit_stack(
                stack,
                holdings,
                declared,
                approved=approvals.is_approved(stack, owner_uin),
                today=today,
                exceptions=exceptions,
                members=members,
            )
        found.findings += credential_findings(credentials, operators, im_users, today)
        read.append(found)
    return read, exceptions


def run_audit(
    stacks: Sequence[str],
    project: Path,
    today: dt.date,
    guardrails: Path = GUARDRAILS,
    unused_days: int = DEFAULT_UNUSED_DAYS,
) -> list[Finding]:
    """The findings for `stacks`: each account they manage read once, its unmanaged holdings once."""
    accounts, _ = audit_accounts(stacks, project, today, guardrails, unused_days)
    return [finding for account in accounts for finding in account.findings]


def render(stacks: Sequence[str], findings: Sequence[Finding], output_format: str) -> str:
    if output_format == "json":
        return json.dumps({"stacks": list(stacks), "findings": [finding.as_json() for finding in findings]}) + "\n"
    # Stack, principal and policy names come from files and the account: escaped, so none can forge
    # the issue body.
    markdown = output_format == "markdown"
    named = ", ".join(escape.markdown(stack, code=True) if markdown else f"`{stack}`" for stack in stacks)
    subject = f"stack {named}" if len(stacks) == 1 else f"stacks {named}"
    if not findings:
        return f"IM access audit of {subject}: no drift; the account holds what the code declares.\n"
    heading = f"IM access audit of {subject}: {len(findings)} finding" + ("s" if len(findings) != 1 else "")
    rows = [
        (
            f.kind,
            f.stack or "(account)",
            f.principal,
            f.policy,
            "" if f.policy_id is None else str(f.policy_id),
            f.fix,
        )
        for f in findings
    ]
    header = ("kind", "stack", "principal", "policy", "policy id", "what to do")
    if output_format == "markdown":
        lines = [f"### {heading}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        lines += ["| " + " | ".join(escape.markdown(cell) for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = [heading, ""]
    for row in (header, *rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    return "\n".join(lines) + "\n"


def positive_days(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 3650:
        raise argparse.ArgumentTypeError(f"{value[:20]!r}: allowed: a whole number of days from 1 to 3650")
    return int(value)


def local_stack_hint(line: str, stacks_named: Sequence[str] | None) -> str:
    """Right after `make local-up` there are no cloud credentials: the local stack is the one to read,
    with `line`."""
    if stacks_named or os.environ.get("TENCENTCLOUD_SECRET_ID"):
        return ""
    return f"; the local stack: `{line}`"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.audit", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", action="append", help="a stack to audit (repeatable); default: every cloud stack")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout whose stacks declare the access")
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=today(),
        help="YYYY-MM-DD (default: today; IM_ACCESS_TODAY through localcloud)",
    )
    parser.add_argument(
        "--unused-days",
        type=positive_days,
        default=DEFAULT_UNUSED_DAYS,
        help=f"access unused for this many days is a finding (default {DEFAULT_UNUSED_DAYS})",
    )
    args = parser.parse_args(argv)  # a usage error exits 2 too
    stacks = args.stack or cloud_stacks(args.project)
    try:
        findings = run_audit(stacks, args.project, args.today, unused_days=args.unused_days)
        report = render(stacks, findings, args.format)
    except AuditError as error:
        local = local_stack_hint("make audit STACK=local", args.stack)
        print(f"audit: could not audit {', '.join(stacks) or 'any stack'}: {error}{local}", file=sys.stderr)
        return 2
    sys.stdout.write(report)  # only once complete: a partial report is never printed
    return 1 if findings else 0


if __name__ == "__main__":
    # Any other failure: a one-line message for what a person can fix, else the traceback; exit 2.
    sys.exit(cli.run("audit", main, (*cli.EXPECTED, AuditError)))
