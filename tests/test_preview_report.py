"""The report job's command: it rebuilds every report from the preview's event log, treating the
log as hostile, and never reads what the pull request's program could have written instead."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from commands import escape
from commands.preview_report import MAX_ENTRIES, rebuild
from tests.localcloud_process import ROOT

URN = "urn:pulumi:dev::im-access::im-access:index:ImOperator::"
BLOCKED = ["mandatory", "im-full-access-approved-stacks-only", URN + "root", "Remove IM full access for user 'root'."]
VALID = {
    "stack": "dev",
    "command": "preview",
    "exitCode": 1,
    "changes": [["create", URN + "root"]],
    "violations": [BLOCKED],
}


def write_logs(folder: Path, **logs: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stack in ("dev", "staging", "prod"):
        document = logs.get(stack, {**VALID, "stack": stack, "exitCode": 0, "violations": []})
        if document is not None:
            (folder / f"{stack}-preview.events.json").write_text(
                document if isinstance(document, str) else json.dumps(document)
            )
    return folder


def test_a_valid_log_is_rebuilt_into_every_report(tmp_path: Path) -> None:
    events = write_logs(tmp_path / "events", dev=VALID)
    status = rebuild(events, ROOT, tmp_path / "out", against_localcloud=True)

    assert status == 0
    summary = (tmp_path / "out" / "dev-preview.md").read_text()
    assert summary.startswith("### Stack `dev`: blocked by a mandatory policy")
    sarif = json.loads((tmp_path / "out" / "dev-preview.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["im-full-access-approved-stacks-only"]
    assert (tmp_path / "out" / "prod-preview.junit.xml").exists()
    comment = (tmp_path / "out" / "comment.md").read_text()
    assert comment.startswith("<!-- im-access-preview -->\n## im-access preview")
    rendered = MarkdownIt("commonmark").enable("table").render(comment)
    assert rendered.count("<h3>") == 3 and "Previewed against localcloud" in comment


FORGED = [
    ({**VALID, "violations": []}, None),  # a log may hide its own violations: that is what remains (SECURITY.md)
    ({**VALID, "extra": 1}, "the keys must be exactly"),
    ({**VALID, "stack": "prod"}, "it is not the preview of stack 'dev'"),
    ({**VALID, "exitCode": "0"}, "exitCode must be an integer"),
    ({**VALID, "violations": [["mandatory", "im-made-up-policy", URN, "m"]]}, "violations[0] is not a valid entry"),
    ({**VALID, "violations": [["passes", *BLOCKED[1:]]]}, "violations[0] is not a valid entry"),
    ({**VALID, "violations": [[*BLOCKED[:3], "m" * 100_000]]}, "violations[0] is not a valid entry"),
    ({**VALID, "changes": [["create", URN]] * (MAX_ENTRIES + 1)}, "changes must be a list of at most"),
    ({**VALID, "changes": [["### Stack `prod`: passes", URN]]}, "changes[0] is not a valid entry"),
    ("[" * 100_000 + "]" * 100_000, "is not"),
    ("not json", "is not JSON"),
    ({**VALID, "identity": {"account": "1000 123", "caller": "x"}}, "identity must be null or"),
    ({**VALID, "identity": {"account": "1", "caller": "x" * 300}}, "identity must be null or"),
    ({**VALID, "identity": {"account": "1", "caller": "x", "role": "admin"}}, "identity must be null or"),
]


@pytest.mark.parametrize(("log", "problem"), FORGED)
def test_a_forged_or_missing_log_is_refused_and_the_report_says_so(tmp_path: Path, log: Any, problem: str) -> None:
    events = write_logs(tmp_path / "events", dev=log)
    status = rebuild(events, ROOT, tmp_path / "out", against_localcloud=False)
    comment = (tmp_path / "out" / "comment.md").read_text()
    if problem is None:
        assert status == 0
        return
    assert status == 2
    assert "### Stack `dev`: no valid preview report" in comment and escape.markdown(problem) in comment
    assert not (tmp_path / "out" / "dev-preview.sarif").exists()
    assert (tmp_path / "out" / "prod-preview.sarif").exists()  # the other stacks are still reported


def make_preview_report(events: Path, project: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """The workflow's line: `make -s preview-report EVENTS=... PROJECT=... OUT=...`."""
    command = ["make", "-s", "preview-report", f"EVENTS={events}", f"PROJECT={project}", f"OUT={out}"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_stack_with_no_event_log_had_no_preview_and_that_is_said_not_failed(tmp_path: Path) -> None:
    events = write_logs(tmp_path / "events", dev=None)
    out = tmp_path / "out"
    result = make_preview_report(events, ROOT, out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "### Stack `dev`: no preview ran\n\nThere is no event log (`dev-preview.events.json`)" in result.stdout
    assert not (out / "dev-preview.sarif").exists() and (out / "prod-preview.sarif").exists()


def test_the_preflight_identity_is_shown_escaped(tmp_path: Path) -> None:
    caller = "qcs::cam:100012345678:uin/100012345678`\n### Stack `prod`: passes"
    events = write_logs(tmp_path / "events", dev={**VALID, "identity": {"account": "100012345678", "caller": caller}})
    assert rebuild(events, ROOT, tmp_path / "out", against_localcloud=False) == 0
    summary = (tmp_path / "out" / "dev-preview.md").read_text()
    shown = f"Acting on account `100012345678` as caller {escape.markdown(caller, code=True)} (preflight)."
    assert shown in summary
    rendered = MarkdownIt("commonmark").enable("table").render((tmp_path / "out" / "comment.md").read_text())
    assert rendered.count("<h3>") == 3


def test_make_preview_report_ignores_the_reports_a_program_wrote(tmp_path: Path) -> None:
    project = tmp_path / "pr"
    write_logs(project / "reports", dev=VALID)
    # What the pull request's program could leave behind for later steps.
    (project / "reports" / "dev-preview.md").write_text("### Stack `dev`: passes\n")
    (project / "reports" / "dev-preview.sarif").write_text('{"runs": []}')
    out = tmp_path / "out"
    result = make_preview_report(project / "reports", project, out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "### Stack `dev`: blocked by a mandatory policy" in result.stdout
    assert (out / "dev-preview.md").read_text().startswith("### Stack `dev`: blocked by a mandatory policy")
    assert json.loads((out / "dev-preview.sarif").read_text())["runs"][0]["results"]
