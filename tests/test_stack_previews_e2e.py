"""Each cloud stack previewed by the real engine with its guardrails, against localcloud's account,
and the summary a pull request shows printed from that preview. A pull request that edits the
guardrails is still previewed with the base branch's."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.engine import ENGINE_DIR
from commands.preview_summary import GUARDRAILS_CHANGED, markdown
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import ROOT, LocalCloudProcess

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
    assert [policy for _, policy, _, _ in blocked] == ["im-full-access-approved-stacks-only"]
    assert "im-dev-root" in blocked[0][3]
    comment = markdown(result.summary, result.exit_code, against_localcloud=True)
    print(comment)
    assert comment.startswith("### Stack `dev`: blocked by a mandatory policy")
    assert "`im-full-access-approved-stacks-only`" in comment and "Previewed against localcloud" in comment


@pytest.mark.parametrize("stack_name", ["dev", "staging", "prod"])
def test_the_checked_in_stacks_preview_green_with_no_policy_notes(project: EngineProject, stack_name: str) -> None:
    result = project.run("preview", stack_name)

    assert result.exit_code == 0, result.text
    # A note only where something is really left unchecked: these stacks leave nothing unchecked.
    assert result.summary.violations == []
    operators = project.config(stack_name)["im-access:operators"]
    created = {urn.rsplit("::", 1)[-1] for op, urn in result.summary.changes if op == "create"}
    assert {f"{operator['name']}-user" for operator in operators} <= created
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
    # The pull request approves dev for full access in its own policy config, and adds full access.
    pr_config = project.workdir / "policy_pack" / "config" / "dev.json"
    original = pr_config.read_text()
    approving = {policy: {**settings, "approvedStacks": ["dev"]} for policy, settings in json.loads(original).items()}
    pr_config.write_text(json.dumps(approving))
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
