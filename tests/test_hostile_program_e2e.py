"""A pull request's program with hostile names, a steered provider and a resource of another
service, previewed as a fork's pull request is: `make preview-localcloud` with this checkout's
guardrails. The summary, SARIF and JUnit reports stay well-formed with every violation in them, and
the steered provider and the other service's resource are blocked.

Only the engine shows: names and providers as the real engine and provider hand them to the pack,
and its events turned into the reports. One preview serves every test of the module; the escaping
of each format alone is tested without it (tests/test_escape.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml
from markdown_it import MarkdownIt

from tests.engine_project import require_engine
from tests.localcloud_process import ROOT
from tests.pull_request import make_preview_localcloud, program_checkout

# The module's tests read one preview's reports: run on one worker, so it is previewed once
# (`make test` uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("hostile-program")

SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-2.1.0-rtm.5.json"
# A name that, unescaped, closes its code span, forges a green verdict for another stack, hides
# the rest of the comment in an HTML comment, and corrupts XML.
FORGED = "x`\n\n### Stack `prod`: passes\n\n<!-- "
HOSTILE_USER = "mallory` <!-- ]](https://attacker.example) | \x1b]8;;\x07 <testcase name='forged'/>"
HOSTILE_PROGRAM = f"""
import tencentcloud_iac_pulumi as _tencentcloud

_tencentcloud.cam.UserPolicyAttachment({"hostile" + FORGED!r}, user_name={HOSTILE_USER + FORGED!r}, policy_id="524252")
_steered = _tencentcloud.Provider("steered", domain="attacker.example")
_tencentcloud.cam.Group("steered-group", name="steered", opts=pulumi.ResourceOptions(provider=_steered))
_tencentcloud.scf.Namespace("runner", namespace="runner")  # another service: code that could run as any role
"""


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    require_engine()
    workdir = tmp_path_factory.mktemp("hostile")
    project = program_checkout(workdir / "pr", "im_access", "Pulumi.dev.yaml")
    (project / "__main__.py").write_text((ROOT / "__main__.py").read_text() + HOSTILE_PROGRAM)
    return make_preview_localcloud(project, workdir), project / "reports"


def test_the_summary_keeps_its_one_heading_and_every_violation(
    preview: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, reports = preview
    assert result.returncode != 0, result.stdout + result.stderr
    summary = (reports / "dev-preview.md").read_text()
    html = MarkdownIt("commonmark").enable("table").render(summary)
    assert html.count("<h3>") == 1 and "<h3>Stack <code>dev</code>: blocked by a mandatory policy</h3>" in html
    assert "<!--" not in html and "<a " not in html and "\x1b" not in html
    violations = [line for line in summary.splitlines() if line.startswith("| mandatory |")]
    assert len(violations) >= 3  # the attachment, the steered provider and the group it serves
    rows = [line for line in summary.splitlines() if line.startswith(("| mandatory |", "| advisory |"))]
    # Each violation is one row of the violations table, with its four cells: none was split or hidden.
    table = html.split("<th>message</th>", 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == len(rows)
    assert all(row.count("<td>") == 4 for row in table.split("<tr>")[1:])
    assert "im-provider-endpoint-fixed" in summary and "attacker.example" in summary
    assert "im-resource-kinds-known" in summary and "tencentcloud:Scf/namespace:Namespace" in summary


def test_sarif_and_junit_stay_well_formed_with_every_violation(
    preview: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, reports = preview
    sarif = json.loads((reports / "dev-preview.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    (run,) = sarif["runs"]
    texts = [result["message"]["text"] for result in run["results"] if result["level"] == "error"]
    hostile = [text for text in texts if "mallory" in text]
    assert hostile and all("\n" not in text and "\x1b" not in text for text in hostile)
    assert all("](" not in text.replace("\\]", "") for text in hostile)  # no embedded link is formed

    (suite,) = JUnitXml.fromfile(str(reports / "dev-preview.junit.xml"))
    cases = {case.name: case for case in suite}
    assert "forged" not in cases
    assert set(cases) == {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    failed = {name for name, case in cases.items() if not case.is_passed}
    assert {"im-full-access-approved-stacks-only", "im-provider-endpoint-fixed"} <= failed
    message = cases["im-full-access-approved-stacks-only"].result[0].message
    assert "mallory" in message and "\n" not in message
