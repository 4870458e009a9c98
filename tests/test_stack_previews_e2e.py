"""Each cloud stack previewed by the real engine with its guardrails, against localcloud's account,
and the summary a pull request shows printed from that preview. A pull request that edits the
guardrails is still previewed with the base branch's."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml
from junitparser import JUnitXml

from commands.engine import ENGINE_DIR
from commands.preview_summary import GUARDRAILS_CHANGED, markdown
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import ROOT, LocalCloudProcess
from tests.test_break_glass import VALID as VALID_EXCEPTION

SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-2.1.0-rtm.5.json"
FULL_ACCESS_OPERATOR = {"name": "im-dev-root", "access": "full", "email": "root@example.com"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    workdir = tmp_path_factory.mktemp("previews")
    with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED)) as cloud:
        yield EngineProject(workdir, cloud)


def test_dev_with_a_full_access_operator_is_blocked_by_the_mandatory_guardrail(project: EngineProject) -> None:
    project.config("dev")["im-access:operators"].append(FULL_ACCESS_OPERATOR)
    result = project.run("preview", "dev")
    project.config("dev")["im-access:operators"].pop()

    assert result.exit_code != 0
    blocked = [v for v in result.summary.violations if v[0] == "mandatory"]
    # The operator and the attachment of the full-access preset it makes: both are full access.
    assert {policy for _, policy, _, _ in blocked} == {"im-full-access-approved-stacks-only"}
    assert {urn.rsplit("::", 1)[-1] for _, _, urn, _ in blocked} == {"im-dev-root", "im-dev-root-im-access"}
    assert all("im-dev-root" in message for _, _, _, message in blocked)
    comment = markdown(result.summary, result.exit_code, against_localcloud=True)
    print(comment)
    assert comment.startswith("### Stack `dev`: blocked by a mandatory policy")
    assert "`im-full-access-approved-stacks-only`" in comment and "Previewed against localcloud" in comment

    # The same verdicts as SARIF, schema-valid and pointing at the line that declares the operator.
    sarif = json.loads((project.workdir / "reports" / "dev-preview.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    (run,) = sarif["runs"]
    errors = [r for r in run["results"] if r["level"] == "error"]
    assert len(errors) == 2
    stack_lines = (project.workdir / "Pulumi.dev.yaml").read_text().splitlines()
    for finding in errors:
        location = finding["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "Pulumi.dev.yaml"
        assert "name: im-dev-root" in stack_lines[location["region"]["startLine"] - 1]
        rule = run["tool"]["driver"]["rules"][finding["ruleIndex"]]
        assert rule["id"] == finding["ruleId"] == "im-full-access-approved-stacks-only"
        assert rule["defaultConfiguration"]["level"] == "error"

    # And as JUnit: one test case per policy, the blocking one failed.
    (suite,) = JUnitXml.fromfile(str(project.workdir / "reports" / "dev-preview.junit.xml"))
    cases = {case.name: case for case in suite}
    assert set(cases) == {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert [name for name, case in cases.items() if not case.is_passed] == ["im-full-access-approved-stacks-only"]


def test_a_typo_in_a_custom_action_shows_the_closest_catalogue_names_in_the_preview(project: EngineProject) -> None:
    bot = next(op for op in project.config("dev")["im-access:operators"] if op["access"] == "custom")
    original = list(bot["actions"])
    bot["actions"] = ["name/im:DescribeAppStatLst"]
    try:
        result = project.run("preview", "dev")
    finally:
        bot["actions"] = original

    assert result.exit_code == 0, "a warning, not a block: the catalogue is partial"
    (warning,) = result.summary.violations
    level, policy, _, message = warning
    assert (level, policy) == ("advisory", "im-custom-actions-in-catalogue")
    assert "'name/im:DescribeAppStatLst' matches no action" in message
    assert "did you mean name/im:DescribeAppStatList" in message
    assert "did you mean name/im:DescribeAppStatList" in result.text  # the engine's own preview output
    comment = markdown(result.summary, result.exit_code, against_localcloud=True, approved=result.approved)
    assert comment.startswith("### Stack `dev`: passes")
    assert "IM full access is not approved on this stack (policy_pack/approvals.yaml)." in comment
    assert "| advisory | `im-custom-actions-in-catalogue` |" in comment
    assert "did you mean name/im:DescribeAppStatList, " in comment


@pytest.mark.parametrize("stack_name", ["dev", "staging", "prod"])
def test_the_checked_in_stacks_preview_green_with_no_policy_notes(project: EngineProject, stack_name: str) -> None:
    result = project.run("preview", stack_name)

    assert result.exit_code == 0, result.text
    # A note only where something is really left unchecked: these stacks leave nothing unchecked.
    assert result.summary.violations == []
    operators = project.config(stack_name)["im-access:operators"]
    created = {urn.rsplit("::", 1)[-1] for op, urn in result.summary.changes if op == "create"}
    assert {f"{operator['name']}-user" for operator in operators} <= created
    assert result.approved is (stack_name == "prod"), "the summary says what policy_pack/approvals.yaml approves"
    comment = markdown(result.summary, result.exit_code)
    print(comment)
    assert comment.startswith(f"### Stack `{stack_name}`: passes")


@pytest.fixture
def base_checkout(tmp_path: Path) -> Iterator[Path]:
    """The base branch as CI checks it out beside the pull request: a git worktree of HEAD."""
    base = tmp_path / "base"
    subprocess.run(["git", "worktree", "add", "--detach", str(base), "HEAD"], cwd=ROOT, check=True, capture_output=True)
    (base / ".venv").symlink_to(ROOT / ".venv")
    yield base
    subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=True, capture_output=True)


def test_a_pull_request_that_approves_itself_is_still_previewed_with_the_base_guardrails(
    project: EngineProject, base_checkout: Path
) -> None:
    # The pull request approves dev for full access in its own approvals, and adds full access.
    pr_config = project.workdir / "policy_pack" / "approvals.yaml"
    original = pr_config.read_text()
    approving = yaml.safe_load(original)
    approving["stacks"]["dev"]["fullAccessApproved"] = True
    pr_config.write_text(yaml.safe_dump(approving))
    project.config("dev")["im-access:operators"].append(FULL_ACCESS_OPERATOR)
    try:
        own = project.run("preview", "dev", guardrails=project.workdir / "policy_pack")
        assert own.exit_code == 0, "the pull request's own guardrails let it through"

        project.write_stack_file("dev")
        command = ["python", "-m", "commands.stack", "preview", "dev", "--project", str(project.workdir)]
        env = {
            **project.env(),
            "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
            "IM_ACCESS_ENGINE_DIR": str(ENGINE_DIR),
        }
        result = subprocess.run(
            [*command, "--against-localcloud"], cwd=base_checkout, env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        pr_config.write_text(original)
        project.config("dev")["im-access:operators"].pop()

    assert result.returncode == 1, result.stdout + result.stderr
    assert "### Stack `dev`: blocked by a mandatory policy" in result.stdout
    assert GUARDRAILS_CHANGED in result.stdout


def test_a_break_glass_exception_previews_green_with_a_note_and_fails_the_day_after_it_expires(
    project: EngineProject,
) -> None:
    oncall = {"name": "im-stg-oncall", "access": "full", "email": "oncall@example.com"}
    guardrails = project.workdir / "policy_pack"
    exceptions_file = guardrails / "break_glass.yaml"
    reviewed = exceptions_file.read_text()
    exceptions_file.write_text(yaml.safe_dump({"exceptions": [VALID_EXCEPTION]}))
    project.config("staging")["im-access:operators"].append(oncall)
    try:
        project.extra_env["IM_ACCESS_TODAY"] = "2026-11-26"
        allowed = project.run("preview", "staging", guardrails=guardrails)
        project.extra_env["IM_ACCESS_TODAY"] = "2026-11-28"
        lapsed = project.run("preview", "staging", guardrails=guardrails)
    finally:
        project.extra_env.clear()
        exceptions_file.write_text(reviewed)
        project.config("staging")["im-access:operators"].pop()

    assert allowed.exit_code == 0, allowed.text
    assert {(level, policy) for level, policy, _, _ in allowed.summary.violations} == {
        ("advisory", "im-full-access-break-glass")
    }
    comment = markdown(allowed.summary, allowed.exit_code, exceptions=allowed.exceptions)
    assert comment.startswith("### Stack `staging`: passes")
    assert "Break-glass exceptions in force on this stack:" in comment and "expires 2026-11-27" in comment

    assert lapsed.exit_code != 0 and lapsed.summary.blocked
    assert lapsed.exceptions == []
    assert any(
        "which has lapsed" in message for level, _, _, message in lapsed.summary.violations if level == "mandatory"
    )
