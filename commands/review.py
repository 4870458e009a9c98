"""Access review evidence: who holds IM access, at what level, declared where and changed in which
pull request, approved by whom, until when, and whether it is used. An HTML report people read and
a CSV of the same rows.

    python -m commands.review                      every cloud stack's account
    python -m commands.review --stack dev          one stack (repeat --stack for more)
    python -m commands.review --unused-days 60     access unused for 60 days is a finding (default 90)

Writes reports/access-review-<date>.html and .csv and prints their paths; the date is today, or
IM_ACCESS_TODAY as for the guardrails (a rehearsal or a test). It reads the account
exactly as the audit does (commands/audit.py) and adds what git says of each declaration
(commands/provenance.py). Exit 0 when the report is written, whatever it finds; 2 when it could
not be written, with the reason on stderr and no report left behind.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

try:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from commands import cli, escape
    from commands.audit import (
        Account,
        AuditError,
        audit_accounts,
        cloud_stacks,
        local_stack_hint,
        positive_days,
        stack_files,
    )
    from commands.engine import ROOT
    from commands.provenance import Declaration, History, declarations
    from commands.review_chart import Chart, summary_chart
    from im_access.access import preset_im_level
    from im_access.audit import DEFAULT_UNUSED_DAYS, Finding, Held, Usage, idle_days, masked_secret_id
    from im_access.break_glass import BreakGlass, Exceptions
    from im_access.break_glass import today as guardrails_today
except Exception as import_error:  # the exit code is a contract, as the audit's
    if __name__ != "__main__":
        raise
    print(f"review: could not run: {type(import_error).__name__}: {str(import_error)[:500]}", file=sys.stderr)
    sys.exit(2)

TEMPLATES = Path(__file__).resolve().parent / "templates"
EXPIRING_DAYS = 30
UNMANAGED = "unmanaged"  # held, declared by no stack: the audit's word, used for it everywhere
# Findings about a principal's credentials (its keys, its MFA flags), not about one policy it holds:
# they belong on every row of that principal.
PRINCIPAL_FINDINGS = frozenset({"stale-key", "unmanaged-key", "no-mfa"})


@dataclass(frozen=True)
class Row:
    """One holding of IM access by one principal (a group's, by each of its members), as the CSV has it."""

    stack: str  # the stack that declares it; empty when none does
    principal: str
    via_group: str  # the group it is held through, if any
    level: str  # readonly | custom | full
    policy: str
    policy_id: int
    declared_at: str  # Pulumi.<stack>.yaml:<line>, or "unmanaged"
    commit: str
    commit_date: str
    commit_author: str
    commit_subject: str
    pull_request: str  # "#123", or empty when git does not say
    history_note: str  # why there is no commit
    break_glass_approver: str
    break_glass: str
    expires: str
    held_since: str
    last_console_login: str
    api_keys_last_used: str
    idle_days: str
    findings: str  # the kinds, "; " between them
    what_to_do: str

    @property
    def unmanaged(self) -> bool:
        return not self.stack

    def api_keys(self) -> list[str]:
        """Each key's `AKID…abcd <date>`, one identifier each."""
        return [key for key in self.api_keys_last_used.split("; ") if key]

    def finding_kinds(self) -> list[str]:
        return [kind for kind in self.findings.split("; ") if kind]


COLUMNS = tuple(Row.__dataclass_fields__)


def level_of(held: Held) -> str:
    holding = held.holding
    if holding.preset:
        return preset_im_level(holding.policy, holding.policy_id) or "custom"
    return "full" if holding.full_access else "custom"


def _break_glass(exceptions: Exceptions, stack: str, held: Held, today: dt.date) -> BreakGlass | None:
    """The exception for this principal (or the group it holds through) on this stack: the one in
    force, else the latest that lapsed."""
    if not stack:
        return None
    matching = [e for who in (held.principal, held.via) if who for e in exceptions.matching(stack, who)]
    in_force = [e for e in matching if e.in_force(today)]
    return (in_force or sorted(matching, key=lambda e: e.expires))[-1] if matching else None


def _concerns(finding: Finding, held: Held, stack: str) -> bool:
    """A finding about this holding: the account's, or this row's stack's (any stack's, for a holding
    no stack declares, such as full access a stack's user holds through a console-made group). One
    about the principal's own credentials concerns each of its rows."""
    in_scope = not stack or finding.stack in (None, stack)
    if finding.kind in PRINCIPAL_FINDINGS:
        return in_scope and finding.principal.casefold() == held.principal.casefold()
    same_policy = finding.policy.casefold() == held.holding.policy.casefold()
    who = {held.principal.casefold(), (held.via or held.principal).casefold()}
    return same_policy and finding.principal.casefold() in who and in_scope


def build_rows(
    accounts: Sequence[Account],
    found: dict[tuple[str, tuple[str, str]], Declaration],
    exceptions: Exceptions,
    today: dt.date,
) -> list[Row]:
    rows: list[Row] = []
    for account in accounts:
        for held in account.held:
            key = held.holding.key
            declaring = [stack for stack, entries in account.declared.items() if any(e.key == key for e in entries)]
            stacks = [s for s in declaring if s in account.stacks] or declaring[:1] or [""]
            for stack in stacks:
                rows.append(_row(account, held, stack, found.get((stack, key)), exceptions, today))
    return sorted(rows, key=lambda r: (r.stack == "", r.stack, r.principal.casefold(), r.policy.casefold()))


def _row(
    account: Account, held: Held, stack: str, declaration: Declaration | None, exceptions: Exceptions, today: dt.date
) -> Row:
    entry = next((e for e in account.declared.get(stack, ()) if e.key == held.holding.key), None)
    usage = account.usage.get(held.principal.casefold(), Usage()) if held.is_user else None
    idle = idle_days(held, usage, today)
    findings = [f for f in account.findings if _concerns(f, held, stack)]
    exception = _break_glass(exceptions, stack, held, today)
    commit = declaration.commit if declaration else None
    if exception is None:
        break_glass = ""
    else:
        state = "in force" if exception.in_force(today) else "lapsed"
        break_glass = f"#{exception.index} {state}, expires {exception.expires.isoformat()}: {exception.reason}"
    keys = usage.keys if usage else ()
    return Row(
        stack=stack,
        principal=held.principal,
        via_group=held.via or "",
        level=level_of(held),
        policy=held.holding.policy,
        policy_id=held.holding.policy_id,
        declared_at=declaration.location if declaration else (f"Pulumi.{stack}.yaml" if stack else UNMANAGED),
        commit=commit.short if commit else "",
        commit_date=commit.date if commit else "",
        commit_author=commit.author if commit else "",
        commit_subject=commit.subject if commit else "",
        pull_request=f"#{commit.pull_request}" if commit and commit.pull_request else "",
        history_note=declaration.history if declaration else "",
        break_glass_approver=exception.approver if exception else "",
        break_glass=break_glass,
        expires=entry.expires.isoformat() if entry and entry.expires else "",
        held_since=held.since.isoformat() if held.since else "",
        last_console_login=(usage.last_login.isoformat() if usage and usage.last_login else "never") if usage else "",
        api_keys_last_used="; ".join(
            f"{masked_secret_id(k.secret_id)} {k.last_used.isoformat() if k.last_used else 'never'}" for k in keys
        ),
        idle_days="" if idle is None else str(idle),
        findings="; ".join(dict.fromkeys(f.kind for f in findings)),
        what_to_do=" | ".join(dict.fromkeys(f.fix for f in findings)),
    )


def to_csv(rows: Sequence[Row]) -> str:
    """The rows as CSV, every cell through escape.csv_cell (no formula runs in a spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([escape.csv_cell(value) for value in asdict(row).values()])
    return out.getvalue()


@dataclass(frozen=True)
class Summary:
    holders: Counter[tuple[str, str]]  # (stack, level) -> principals
    principals: int  # distinct principals among the holdings (the rows)
    expiring: list[Row]
    unused: int
    unmanaged: int
    chart: Chart


def summarise(rows: Sequence[Row], today: dt.date) -> Summary:
    distinct = {(row.stack or UNMANAGED, row.principal.casefold(), row.level) for row in rows}
    holders = Counter((stack, level) for stack, _, level in distinct)
    principals = len({row.principal.casefold() for row in rows})
    horizon = today + dt.timedelta(days=EXPIRING_DAYS)
    expiring = [r for r in rows if r.expires and today <= dt.date.fromisoformat(r.expires) <= horizon]
    unused = sum("unused" in row.finding_kinds() for row in rows)
    unmanaged = sum(row.unmanaged for row in rows)
    chart = summary_chart(holders, len(expiring), unused, unmanaged)
    return Summary(holders, principals, expiring, unused, unmanaged, chart)


def render_html(
    rows: Sequence[Row], findings: Sequence[Finding], stacks: Sequence[str], today: dt.date, unused_days: int
) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("access_review.html.j2").render(
        rows=rows,
        findings=findings,
        stacks=stacks,
        today=today.isoformat(),
        unused_days=unused_days,
        expiring_days=EXPIRING_DAYS,
        summary=summarise(rows, today),
    )


def write_report(
    stacks: Sequence[str], project: Path, out: Path, today: dt.date, unused_days: int = DEFAULT_UNUSED_DAYS
) -> tuple[Path, Path]:
    accounts, exceptions = audit_accounts(stacks, project, today, unused_days=unused_days, command="review")
    found = declarations(project, stack_files(project), History(project))
    rows = build_rows(accounts, found, exceptions, today)
    findings = [finding for account in accounts for finding in account.findings]
    html = render_html(rows, findings, stacks, today, unused_days)
    out.mkdir(parents=True, exist_ok=True)
    name = f"access-review-{today.isoformat()}"
    html_path, csv_path = out / f"{name}.html", out / f"{name}.csv"
    html_path.write_text(html, encoding="utf-8")
    csv_path.write_text(to_csv(rows), encoding="utf-8", newline="")
    return html_path, csv_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.review", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", action="append", help="a stack to review (repeatable); default: every cloud stack")
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout whose stacks declare the access")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where the report goes (default reports/)")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--unused-days", type=positive_days, default=DEFAULT_UNUSED_DAYS)
    args = parser.parse_args(argv)
    try:
        today = args.today or guardrails_today()
        stacks = args.stack or cloud_stacks(args.project)
        paths = write_report(stacks, args.project, args.out, today, args.unused_days)
    except AuditError as error:
        local = local_stack_hint("make review STACK=local", args.stack)
        print(
            f"review: could not review {', '.join(args.stack or []) or 'the cloud stacks'}: {error}{local}",
            file=sys.stderr,
        )
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    # Any other failure: a one-line message for what a person can fix, else the traceback; exit 2.
    sys.exit(cli.run("review", main, (*cli.EXPECTED, AuditError)))
