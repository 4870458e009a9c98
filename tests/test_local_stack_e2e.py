"""End to end on the `local` stack: the real engine, provider plugin and policy pack against localcloud.

The tests run in order as one scenario on one stack, each reading the account through the
official SDK client. Without the engine from `make setup` they fail and name that command.

Only the engine shows: what `up`, a second `up` and `destroy` really do to the account, what the
state and the engine's output hold, and a blocked `up` creating nothing. The program's config
errors are checked under mocks (tests/test_program.py, tests/test_config_validation.py), the
pack's verdicts through the analyzer protocol.
"""

from __future__ import annotations

import csv
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands import handover
from commands.stack import StackRun
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, LocalCloudProcess, call, error_code

# One scenario on one stack, in order (each test starts from what the one before left): the
# module runs on one worker (`make test` distributes with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("local-stack")

IM_READ_ONLY = "QcloudIMReadOnlyAccess"


def attached_names(project: EngineProject, user: str) -> set[str]:
    project.cloud.settle()  # CAM's reads show the last run's attachments only after its lag
    cam = project.cloud.cam()
    uin = call(cam, "GetUser", Name=user)["Uin"]
    return {p["PolicyName"] for p in call(cam, "ListAttachedUserPolicies", TargetUin=uin, Rp=200)["List"]}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    workdir = tmp_path_factory.mktemp("local-stack")
    cloud = LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *CAM_LAG).start()
    local = EngineProject(workdir, cloud)
    yield local
    local.cloud.stop()


def test_up_creates_the_operators_and_their_access(project: EngineProject) -> None:
    result = project.run("up")
    assert result.exit_code == 0, result.text
    assert IM_READ_ONLY in attached_names(project, "im-local-alice")
    assert attached_names(project, "qa-lead") == {IM_READ_ONLY}
    cam = project.cloud.cam()
    bot = call(cam, "GetUser", Name="im-local-stats-bot")
    assert len(call(cam, "ListAccessKeys", TargetUin=bot["Uin"])["AccessKeys"]) == 1
    assert attached_names(project, "im-local-stats-bot") == {"im-access-local-im-local-stats-bot"}
    group = call(cam, "ListAttachedGroupPolicies", TargetGroupId=90001)["List"]
    assert [p["PolicyName"] for p in group] == [IM_READ_ONLY]
    assert not result.summary.violations, result.summary.violations


SECOND_UP: list[StackRun] = []  # read by the hand-over test: it prints the outputs


def test_a_second_up_changes_nothing(project: EngineProject) -> None:
    result = project.run("up")
    assert result.exit_code == 0, result.text
    assert result.summary.changes == []
    SECOND_UP.append(result)


def test_credentials_are_handed_over_and_never_stored_or_shown_in_plaintext(
    project: EngineProject, tmp_path: Path
) -> None:
    operators = project.outputs()["operators"]
    bot = operators["im-local-stats-bot"]
    key = call(project.cloud.cam(), "ListAccessKeys", TargetUin=bot["uin"])["AccessKeys"][0]
    assert bot["secretId"] == key["AccessKeyId"] and len(bot["secretKey"]) >= 20
    alice_password = operators["im-local-alice"]["password"]
    assert alice_password

    path = handover.hand_over(operators, "im-local-alice", tmp_path / "alice.csv", plaintext=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with path.open() as handle:
        header, row = list(csv.reader(handle))
    assert header == list(handover.COLUMNS)
    assert row[0] == "im-local-alice" and row[1] == alice_password
    assert row[4].endswith("username=im-local-alice")

    secrets = (alice_password, bot["secretKey"])
    stored = project.state_files_text()
    (run,) = SECOND_UP  # changed nothing, and printed the outputs
    run_output = run.text + str(run.summary)
    assert "im-local-alice" in stored and re.search(r"password +: \[secret\]", run_output)
    for secret in secrets:
        assert secret not in stored, "a credential is in plaintext in the stack state"
        assert secret not in run_output, "a credential was printed by the engine"


def test_removing_a_grant_detaches_it_and_keeps_the_user(project: EngineProject) -> None:
    config = project.config("local")
    config["im-access:grants"] = [g for g in config["im-access:grants"] if g.get("user") != "qa-lead"]
    result = project.run("up")
    assert result.exit_code == 0, result.text
    assert attached_names(project, "qa-lead") == set()
    assert call(project.cloud.cam(), "GetUser", Name="qa-lead")["Name"] == "qa-lead"
    assert IM_READ_ONLY in attached_names(project, "im-local-alice")


def test_full_access_on_a_non_approved_stack_is_blocked_and_creates_nothing(project: EngineProject) -> None:
    operators = project.config("local")["im-access:operators"]
    operators.append({"name": "im-local-root", "access": "full"})
    result = project.run("up")
    operators.pop()
    assert result.exit_code != 0
    assert result.summary.blocked
    assert any(policy == "im-full-access-approved-stacks-only" for _, policy, _, _ in result.summary.violations)
    assert error_code(project.cloud.cam(), "GetUser", Name="im-local-root") == "ResourceNotFound.UserNotExist"


def test_destroy_removes_what_the_stack_created_and_nothing_else(project: EngineProject) -> None:
    result = project.run("destroy")
    assert result.exit_code == 0, result.text
    project.cloud.settle()  # CAM's reads show the deletes only after its lag
    cam = project.cloud.cam()
    assert {u["Name"] for u in call(cam, "ListUsers")["Data"]} == {"qa-lead"}
    assert call(cam, "ListPolicies", Scope="Local")["TotalNum"] == 0
    assert call(cam, "GetGroup", GroupId=90001)["GroupNum"] == 1
    assert call(cam, "ListAttachedGroupPolicies", TargetGroupId=90001)["TotalNum"] == 0
