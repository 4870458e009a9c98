"""The guardrails' verdicts of one preview as SARIF 2.1.0 (code scanning annotations on the lines
that declare each principal) and as JUnit XML (one test case per policy, for any CI system).

Both are built from the engine's policy events, summarised in `Summary.violations`, and from the
policy pack's own list of policies.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from junitparser import Failure, JUnitXml, TestCase, TestSuite

from commands import escape
from commands.preview_summary import Summary
from im_access.config import (
    ConfigurationError,
    GrantConfig,
    OperatorConfig,
    component_name,
    parse_stack_config,
    read_namespace,
    read_stack_file,
)

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0-rtm.5.json"
SARIF_LEVELS = {"mandatory": "error", "advisory": "warning", "remediate": "warning"}
PROGRAM = "__main__.py"
EXCEPTIONS_FILE = "policy_pack/break_glass.yaml"
PRINCIPAL_KEYS = ("name", "user", "group")


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    level: str  # mandatory | advisory


def pack_rules(guardrails: Path) -> list[Rule]:
    """The policies of the pack in `guardrails`, as its own code lists them."""
    if str(guardrails) not in sys.path:
        sys.path.insert(0, str(guardrails))
    from im_guardrails import ALL_POLICIES

    return [
        Rule(p.name, p.description or "", str(getattr(p.enforcement_level, "value", p.enforcement_level)))
        for p in ALL_POLICIES
    ]


def _config_lines(stack_file: Path, stack: str) -> dict[str, int]:
    """The line (1-based) of each entry of the stack file, by the name of the component it becomes."""
    if not stack_file.exists():
        return {}
    try:
        config = parse_stack_config(stack, read_namespace(read_stack_file(stack_file)), allow_past_expiry=True)
    except ConfigurationError:
        return {}
    root = yaml.compose(stack_file.read_text())
    settings = next((value for key, value in getattr(root, "value", []) if key.value == "config"), None)
    entries: dict[str, Sequence[OperatorConfig | GrantConfig]] = {
        "im-access:operators": config.operators,
        "im-access:grants": config.grants,
    }
    lines: dict[str, int] = {}
    for key, value in getattr(settings, "value", []):
        for entry, node in zip(entries.get(key.value, ()), value.value, strict=False):
            # The line of the key that names the principal (name, user or group) within the entry.
            naming = [k for k, _ in getattr(node, "value", []) if k.value in PRINCIPAL_KEYS]
            lines[component_name(entry)] = (naming[0] if naming else node).start_mark.line + 1
    return lines


def _location(urn: str, policy: str, lines: dict[str, int], stack_file: str) -> tuple[str, int]:
    """Where a violation points: the stack file's entry for its principal, the exceptions file, or the program."""
    if policy == "im-break-glass-exceptions-valid":
        return EXCEPTIONS_FILE, 1
    name = urn.rsplit("::", 1)[-1] if urn else ""
    owners = [component for component in lines if name == component or name.startswith(component + "-")]
    if owners:
        return stack_file, lines[max(owners, key=len)]
    return PROGRAM, 1


def sarif(summary: Summary, rules: Sequence[Rule], project: Path) -> dict[str, Any]:
    stack_file = f"Pulumi.{summary.stack}.yaml"
    lines = _config_lines(project / stack_file, summary.stack)
    index = {rule.name: i for i, rule in enumerate(rules)}
    results = []
    for level, policy, urn, message in summary.violations:
        uri, line = _location(urn, policy, lines, stack_file)
        result: dict[str, Any] = {
            "ruleId": policy,
            "level": SARIF_LEVELS.get(level, "note"),
            "message": {"text": escape.sarif(message)},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}],
            "properties": {"stack": summary.stack, "enforcementLevel": level, "resource": urn},
        }
        if policy in index:
            result["ruleIndex"] = index[policy]
        results.append(result)
    driver = {
        "name": "im-access-guardrails",
        "rules": [
            {
                "id": rule.name,
                "name": rule.name,
                "shortDescription": {"text": escape.sarif(rule.description)},
                "defaultConfiguration": {"level": SARIF_LEVELS.get(rule.level, "note")},
                "properties": {"enforcementLevel": rule.level},
            }
            for rule in rules
        ],
    }
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": driver}, "automationDetails": {"id": f"im-access/{summary.stack}/"}, "results": results}
        ],
    }


def junit(summary: Summary, rules: Sequence[Rule]) -> JUnitXml:
    """One test case per policy: failed when it reported a mandatory violation on this stack."""
    suite = TestSuite(escape.junit(f"im-access guardrails: {summary.stack}"))
    for rule in rules:
        case = TestCase(escape.junit(rule.name), classname=escape.junit(f"guardrails.{summary.stack}"))
        found = [(level, urn, message) for level, policy, urn, message in summary.violations if policy == rule.name]
        # URNs and messages carry names from code and config: one line each, nothing XML cannot hold.
        blocking = [
            escape.junit(f"{urn or 'stack'}: {message}") for level, urn, message in found if level == "mandatory"
        ]
        if blocking:
            case.result = [Failure("; ".join(blocking), "mandatory policy violation")]
        notes = [
            escape.junit(f"{level}: {urn or 'stack'}: {message}")
            for level, urn, message in found
            if level != "mandatory"
        ]
        if notes:
            case.system_out = "\n".join(notes)
        suite.add_testcase(case)
    report = JUnitXml()
    report.add_testsuite(suite)
    return report


def write_reports(summary: Summary, guardrails: Path, project: Path, reports: Path, command: str) -> None:
    """`<stack>-<command>.sarif` and `<stack>-<command>.junit.xml` in `reports`."""
    rules = pack_rules(guardrails)
    (reports / f"{summary.stack}-{command}.sarif").write_text(
        json.dumps(sarif(summary, rules, project), indent=2) + "\n"
    )
    junit(summary, rules).write(str(reports / f"{summary.stack}-{command}.junit.xml"), pretty=True)
