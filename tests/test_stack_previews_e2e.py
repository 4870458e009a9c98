"""Each cloud stack previewed by the real engine with its guardrails, against localcloud's account,
and the summary a pull request shows printed from that preview. A pull request that edits the
guardrails is still previewed with the base branch's.

Only the engine shows: the policy events of a real preview (the program, the provider's invokes
against localcloud, the pack) turned into the summary, SARIF and JUnit; the engine's own output
naming a catalogue typo; and which pack a `--project` run loads. The policies' verdicts alone are
proved through the analyzer protocol (tests/test_policy_pack_protocol.py; a lapsed break-glass
exception in tests/test_break_glass.py), so each preview here proves several of them at once."""

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
from im_access.approvals import load_approvals
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess
from tests.test_break_glass import VALID as VALID_EXCEPTION

SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-2.1.0-rtm.5.json"
FULL_ACCESS_OPERATOR = {"name": "im-dev-root", "access": "full", "email": "root@example.com"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    workdir = tmp_path_factory.mktemp("previews")
    with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *CAM_LAG) as cloud:
        yield EngineProject(workdir, cloud)


def test_dev_with_a_full_access_operator_is_blocked_and_a_custom_action_typo_gets_the_closest_names(
    project: EngineProject,
) -> None:
    """One preview, two findings: the mandatory block of full access, and the catalogue's advisory
    warning on a typo in a custom action (a warning alone passes: the catalogue is partial)."""
    operators = project.config("dev")["im-access:operators"]
    bot = next(op for op in operators if op["access"] == "custom")
    original = list(bot["actions"])
    bot["actions"] = ["name/im:DescribeAppStatLst"]
    operators.append(FULL_ACCESS_OPERATOR)
    try:
        result = project.run("preview", "dev")
    finally:
        operators.pop()
        bot["actions"] = original

    assert result.exit_code != 0
    blocked = [v for v in result.summary.violations if v[0] == "mandatory"]
    # The operator and the attachment of the full-access preset it makes: both are full access.
    assert {policy for _, policy, _, _ in blocked} == {"im-full-access-approved-stacks-only"}
    assert {urn.rsplit("::", 1)[-1] for _, _, urn, _ in blocked} == {"im-dev-root", "im-dev-root-im-access"}
    assert all("im-dev-root" in message for _, _, _, message in blocked)
    (warning,) = [v for v in result.summary.violations if v[0] == "advisory"]
    _, policy, _, message = warning
    assert policy == "im-custom-actions-in-catalogue"
    assert "'name/im:DescribeAppStatLst' matches no action" in message
    assert "did you mean name/im:DescribeAppStatList" in message
    assert "did you mean name/im:DescribeAppStatList" in result.text  # the engine's own preview output
    comment = markdown(result.summary, result.exit_code, against_localcloud=True, approved=result.approved)
    print(comment)
    assert comment.startswith("### Stack `dev`: blocked by a mandatory policy")
    assert "`im-full-access-approved-stacks-only`" in comment and "Previewed against localcloud" in comment
    assert "IM full access is not approved on this stack (policy_pack/approvals.yaml)." in comment
    assert "| advisory | `im-custom-actions-in-catalogue` |" in comment
    assert "did you mean name/im:DescribeAppStatList, " in comment

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

    # And as JUnit: one test case per policy, the blocking one failed (the advisory one passes).
    (suite,) = JUnitXml.fromfile(str(project.workdir / "reports" / "dev-preview.junit.xml"))
    cases = {case.name: case for case in suite}
    assert set(cases) == {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert [name for name, case in cases.items() if not case.is_passed] == ["im-full-access-approved-stacks-only"]


# staging is previewed through the engine below (with a break-glass exception) and in
# tests/test_member_account_e2e.py (in its own account); the pack's verdict on its checked-in config
# is in tests/test_program_against_pack.py.
@pytest.mark.parametrize("stack_name", ["dev", "prod"])
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
    owner = project.config("dev")["im-access:ownerUin"]
    # Its own guardrails would let it through: the one function the pack asks says so.
    assert load_approvals(pr_config.parent).is_approved("dev", owner)
    assert not load_approvals(ROOT / "policy_pack").is_approved("dev", owner)
    project.config("dev")["im-access:operators"].append(FULL_ACCESS_OPERATOR)
    try:
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


def test_a_break_glass_exception_previews_green_with_a_note(project: EngineProject) -> None:
    """The day after it expires the pack blocks it again: tests/test_break_glass.py shows that
    through the analyzer protocol, on the same IM_ACCESS_TODAY route."""
    oncall = {"name": "im-stg-oncall", "access": "full", "email": "oncall@example.com"}
    guardrails = project.workdir / "policy_pack"
    exceptions_file = guardrails / "break_glass.yaml"
    reviewed = exceptions_file.read_text()
    exceptions_file.write_text(yaml.safe_dump({"exceptions": [VALID_EXCEPTION]}))
    project.config("staging")["im-access:operators"].append(oncall)
    try:
        project.extra_env["IM_ACCESS_TODAY"] = "2026-11-26"
        allowed = project.run("preview", "staging", guardrails=guardrails)
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
