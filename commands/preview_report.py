"""Rebuild a pull request's preview reports from its event log, in a job that never runs its code.

    python -m commands.preview_report --events DIR --project PR_CHECKOUT --out DIR [--against-localcloud]

A preview runs the pull request's program, which can write any file of its job (the reports
included) and what later steps of that job read (`$GITHUB_ENV`, `$GITHUB_PATH`). So the preview
job hands over only `<stack>-preview.events.json` (the planned changes and the policy verdicts),
and this command, run by the base branch in another job, treats it as hostile: every field is
checked for type, size and allowed values (policy names from the base's own pack) before anything
is built, and every report is written anew through the escaping helpers. Everything else in the
reports is worked out here: which guarded files the pull request changes, and the break-glass
exceptions in force. It writes, per cloud stack, `<stack>-preview.md`, `.sarif` and `.junit.xml`,
and `comment.md`, the pull request comment. A stack with no log had no preview (it stopped before the
engine, at its preflight, and its own job failed and says why): its section says so, and that is not
an error here. A malformed log becomes a report that says so. Exit 0 when every log present was
valid, 2 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from commands import cli, escape
from commands.engine import ROOT
from commands.guarded_files import changed_guarded_files
from commands.guardrail_reports import pack_rules, write_reports
from commands.preview_summary import MAX_ERROR, MAX_ERRORS, Summary, markdown
from im_access.approvals import load_approvals
from im_access.break_glass import load_exceptions, today
from im_access.provider_config import LOCAL_STACK
from im_access.stack_files import known_stacks

GUARDRAILS = ROOT / "policy_pack"
COMMAND = "preview"
COMMENT_MARKER = "<!-- im-access-preview -->"
MAX_BYTES = 5_000_000
MAX_ENTRIES = 10_000
MAX_URN, MAX_MESSAGE, MAX_CALLER = 2_048, 8_192, 256
# The engine's step operations (what a summary's changes table can say).
OPERATIONS = frozenset(
    [
        "create",
        "update",
        "delete",
        "replace",
        "create-replacement",
        "delete-replaced",
        "read",
        "read-replacement",
        "refresh",
        "import",
        "import-replacement",
        "discard",
        "discard-replaced",
        "remove-pending-replace",
    ]
)
LEVELS = ("mandatory", "advisory", "remediate", "disabled")
OPTIONAL_KEYS = {"identity", "errors"}  # absent from the logs of older base branches


class ReportError(ValueError):
    """The event log is not one this command accepts; every problem is listed."""


def events_path(folder: Path, stack: str, command: str = COMMAND) -> Path:
    return folder / f"{stack}-{command}.events.json"


def write_events(summary: Summary, exit_code: int, folder: Path, command: str, identity: Any = None) -> None:
    """The event log a later job rebuilds the reports from; `identity` is the preflight's answer."""
    document = {
        "stack": summary.stack,
        "command": command,
        "exitCode": exit_code,
        "changes": [list(change) for change in summary.changes],
        "violations": [list(violation) for violation in summary.violations],
        "identity": identity.as_json() if identity is not None else None,
        "errors": summary.errors,
    }
    events_path(folder, summary.stack, command).write_text(json.dumps(document) + "\n")


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _rows(document: dict[str, Any], key: str, checks: Sequence[Any], problems: list[str]) -> list[tuple[str, ...]]:
    rows = document.get(key)
    if not isinstance(rows, list) or len(rows) > MAX_ENTRIES:
        problems.append(f"{key} must be a list of at most {MAX_ENTRIES} entries")
        return []
    valid: list[tuple[str, ...]] = []
    for index, row in enumerate(rows):
        well_formed = isinstance(row, list) and len(row) == len(checks)
        if not well_formed or not all(check(value) for check, value in zip(checks, row, strict=True)):
            problems.append(f"{key}[{index}] is not a valid entry")
        else:
            valid.append(tuple(row))
    return valid


def read_events(path: Path, stack: str, policies: set[str]) -> tuple[Summary, int, dict[str, str] | None]:
    """The summary and exit code in an untrusted event log; ReportError unless every field is valid."""
    if path.stat().st_size > MAX_BYTES:
        raise ReportError(f"{path.name} is larger than {MAX_BYTES} bytes")
    try:
        document = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ReportError(f"{path.name} is not JSON: {escape.one_line(error)[:200]}") from None
    if not isinstance(document, dict):
        raise ReportError(f"{path.name} is not a JSON object")
    problems: list[str] = []
    if set(document) - OPTIONAL_KEYS != {"stack", "command", "exitCode", "changes", "violations"}:
        problems.append(
            "the keys must be exactly stack, command, exitCode, changes, violations, and optionally identity and errors"
        )
    errors = document.get("errors", [])
    if not isinstance(errors, list) or len(errors) > MAX_ERRORS or not all(_text(e, MAX_ERROR) for e in errors):
        problems.append(f"errors must be a list of at most {MAX_ERRORS} texts of at most {MAX_ERROR} characters")
    identity = document.get("identity")
    if identity is not None and not _identity(identity):
        problems.append(f"identity must be null or {{account: digits, caller: text of at most {MAX_CALLER}}}")
    if document.get("stack") != stack or document.get("command") != COMMAND:
        problems.append(f"it is not the {COMMAND} of stack {stack!r}")
    exit_code = document.get("exitCode")
    if not isinstance(exit_code, int) or isinstance(exit_code, bool) or not 0 <= exit_code <= 255:
        problems.append("exitCode must be an integer 0-255")
    changes = _rows(document, "changes", (lambda v: v in OPERATIONS, lambda v: _text(v, MAX_URN)), problems)
    violations = _rows(
        document,
        "violations",
        (lambda v: v in LEVELS, lambda v: v in policies, lambda v: _text(v, MAX_URN), lambda v: _text(v, MAX_MESSAGE)),
        problems,
    )
    if problems:
        raise ReportError(f"{path.name}: " + "; ".join(problems[:20]))
    summary = Summary(
        stack, [(op, urn) for op, urn in changes], [(a, b, c, d) for a, b, c, d in violations], list(errors)
    )
    return summary, int(exit_code), identity  # type: ignore[arg-type]


def _identity(value: Any) -> bool:
    """The preflight's answer as the preview job reported it: an account uin and the caller's ARN."""
    if not isinstance(value, dict) or set(value) != {"account", "caller"}:
        return False
    account, caller = value["account"], value["caller"]
    digits = isinstance(account, str) and account.isascii() and account.isdigit() and len(account) <= 20
    return digits and _text(caller, MAX_CALLER)


def no_preview_report(stack: str, path: Path) -> str:
    return (
        f"### Stack {escape.markdown(stack, code=True)}: no preview ran\n\n"
        f"There is no event log ({escape.markdown(path.name, code=True)}): the preview stopped before the engine"
        " (at its preflight, for instance), so nothing was planned or judged; its job's log says why.\n"
    )


def invalid_report(stack: str, error: ReportError) -> str:
    return (
        f"### Stack {escape.markdown(stack, code=True)}: no valid preview report\n\n"
        f"The preview's event log was refused, so nothing of it is shown: {escape.markdown(error)}\n"
    )


def rebuild(events: Path, project: Path, out: Path, *, against_localcloud: bool, guardrails: Path = GUARDRAILS) -> int:
    """Every cloud stack's reports and the comment, from the event logs in `events`."""
    out.mkdir(parents=True, exist_ok=True)
    descriptions = {rule.name: rule.description for rule in pack_rules(guardrails)}
    policies = set(descriptions)
    changed = changed_guarded_files(project, guardrails.parent)
    exceptions = load_exceptions(guardrails)
    approvals = load_approvals(guardrails)
    sections, status = [], 0
    for stack in (name for name in known_stacks(guardrails) if name != LOCAL_STACK):
        log = events_path(events, stack)
        if not log.exists():
            sections.append(no_preview_report(stack, log))
            continue
        try:
            summary, exit_code, identity = read_events(log, stack, policies)
        except ReportError as error:
            sections.append(invalid_report(stack, error))
            status = 2
            continue
        write_reports(summary, guardrails, project, out, COMMAND)
        report = markdown(
            summary,
            exit_code,
            against_localcloud=against_localcloud,
            changed_files=changed,
            exceptions=exceptions.for_stack(stack, today()),
            approved=approvals.is_approved(stack, identity["account"] if identity else None),
            identity=identity,
            descriptions=descriptions,
        )
        (out / f"{stack}-{COMMAND}.md").write_text(report)
        sections.append(report)
    comment = "\n".join([COMMENT_MARKER, "## im-access preview", "", *sections])
    (out / "comment.md").write_text(comment)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.preview_report", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=Path, required=True, help="the folder of <stack>-preview.events.json")
    parser.add_argument("--project", type=Path, required=True, help="the pull request's checkout (read, never run)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the reports and comment.md")
    parser.add_argument("--against-localcloud", action="store_true", help="the previews ran against localcloud")
    args = parser.parse_args(argv)
    status = rebuild(args.events, args.project.resolve(), args.out, against_localcloud=args.against_localcloud)
    sys.stdout.write((args.out / "comment.md").read_text())
    return status


if __name__ == "__main__":
    sys.exit(cli.run("preview-report", main))
