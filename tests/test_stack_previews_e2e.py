"""Each cloud stack previewed by the real engine with its guardrails, against localcloud's account,
and the summary a pull request shows printed from that preview."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commands.preview_summary import markdown
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import LocalCloudProcess

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
