"""One escaping helper per format: hostile names stay inert text in Markdown (the preview summary and
the audit's issue body), SARIF messages and JUnit reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pulumi.automation import EngineEvent

from commands import escape
from commands.audit import render
from commands.guardrail_reports import Rule, junit, sarif
from commands.preview_summary import markdown, summarise
from im_access.audit import Finding

HOSTILE = [
    "x`\n\n### Stack `prod`: passes\n\n<!-- ",
    "``` <!-- -->",
    "a | b | c",
    "[click](https://attacker.example) ![i](https://attacker.example/i.png)",
    "<img src=x onerror=alert(1)> &lt; $x$ *em* _em_ ~~del~~",
    "line\u2028sep\u202eevil\x1b[31m\x00",
]
RENDER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
URN = "urn:pulumi:dev::im-access::tencentcloud:Cam/user:User::"


def html(text: str) -> str:
    return RENDER.render(text)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_inert_markdown_text_and_code(name: str) -> None:
    for rendered in (html(escape.markdown(name)), html(f"| a |\n|---|\n| {escape.markdown(name, code=True)} |")):
        for tag in ("<h3", "<a ", "<img", "<em", "<strong", "<del", "<!--", "\x1b", "\x00", "\u202e"):
            assert tag not in rendered, (name, rendered)
    assert html(f"| a |\n|---|\n| {escape.markdown(name)} |").count("<td>") == 1
    assert html(f"| a |\n|---|\n| {escape.markdown(name, code=True)} |").count("<td>") == 1


def event(**body: object) -> EngineEvent:
    return EngineEvent.from_json({"sequence": 1, "timestamp": 1, **body})


def violation(name: str) -> EngineEvent:
    """A mandatory verdict on a resource with a hostile name, as the engine reports it."""
    policy = {"policyName": "im-full-access-approved-stacks-only", "enforcementLevel": "mandatory", "color": "never"}
    pack = {"policyPackName": "im-access-guardrails", "policyPackVersion": "0.1.0", "policyPackVersionTag": "0.1.0"}
    return event(policyEvent={"resourceUrn": URN + name, "message": f"Remove {name}", **policy, **pack})


def test_the_preview_summary_keeps_one_heading_and_every_violation_whatever_the_names() -> None:
    events = [
        event(resourcePreEvent={"metadata": {"op": "create", "urn": URN + name, "type": "tencentcloud:Cam/user:User"}})
        for name in HOSTILE
    ] + [violation(name) for name in HOSTILE]
    rendered = html(markdown(summarise("dev", events), exit_code=1))
    assert rendered.count("<h3>") == 1 and "<h3>Stack <code>dev</code>: blocked by a mandatory policy</h3>" in rendered
    assert rendered.count("<tr>") == 2 * (len(HOSTILE) + 1)  # both tables, headers included
    assert all(row.count("<td>") in (2, 4) for row in rendered.split("<tr>")[1:] if "<td>" in row)
    assert "<!--" not in rendered and "<a " not in rendered


def test_the_audit_issue_body_escapes_what_the_account_names() -> None:
    findings = [Finding("unmanaged", f"role:{name}", name, 7, f"revoke {name}") for name in HOSTILE]
    rendered = html(render("dev", findings, "markdown"))
    assert rendered.count("<h3>") == 1 and f"{len(HOSTILE)} findings</h3>" in rendered
    assert rendered.count("<tr>") == len(HOSTILE) + 1
    assert "<!--" not in rendered and "<a " not in rendered and "<img" not in rendered


def test_sarif_messages_and_junit_reports_carry_hostile_names_as_text() -> None:
    events = [violation(name) for name in HOSTILE]
    summary = summarise("dev", events)
    rules = [Rule("im-full-access-approved-stacks-only", "d", "mandatory")]
    messages = [r["message"]["text"] for r in sarif(summary, rules, Path("/nonexistent"))["runs"][0]["results"]]
    assert len(messages) == len(HOSTILE)
    for text in messages:
        assert "\n" not in text and "\x1b" not in text and "\x00" not in text
        assert "](" not in text.replace("\\]", "")  # no SARIF embedded link
    document = ET.fromstring(junit(summary, rules).tostring())  # parses: nothing XML cannot hold
    (case,) = document.iter("testcase")
    (failure,) = case.iter("failure")
    assert "attacker.example" in str(failure.get("message")) and "\n" not in str(failure.get("message"))
