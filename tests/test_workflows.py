"""The GitHub workflows lint clean and cover every stack, each with its policy config."""

from __future__ import annotations

import subprocess

import yaml

from tests.harness import ROOT

ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"
WORKFLOWS = ROOT / ".github" / "workflows"


# The local stack runs against localcloud on a developer's machine; it is no cloud environment.
LOCAL_STACK = "local"


def stacks() -> set[str]:
    return {path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml")}


def cloud_stacks() -> set[str]:
    return stacks() - {LOCAL_STACK}


def matrix_stacks(workflow: str, job: str) -> set[str]:
    document = yaml.safe_load((WORKFLOWS / workflow).read_text())
    return set(document["jobs"][job]["strategy"]["matrix"]["stack"])


def test_actionlint_is_clean() -> None:
    assert ACTIONLINT.exists(), "actionlint is missing: run `make setup`"
    result = subprocess.run([str(ACTIONLINT), "-no-color", "-oneline"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_stack_has_a_policy_config_a_preview_job_and_a_deploy_job() -> None:
    assert {"dev", "staging", "prod"} <= stacks()
    for stack in stacks():
        assert (ROOT / "policy_pack" / "config" / f"{stack}.json").exists(), stack
    assert matrix_stacks("pull-request.yml", "preview") == cloud_stacks()
    assert matrix_stacks("pull-request.yml", "preview-localcloud") == cloud_stacks()
    assert matrix_stacks("deploy.yml", "up") == cloud_stacks()


def test_deploys_run_in_order_one_stack_at_a_time_behind_environments() -> None:
    job = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())["jobs"]["up"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    assert job["strategy"]["max-parallel"] == 1
    assert job["environment"] == "${{ matrix.stack }}"
    assert job["concurrency"]["group"] == "deploy-${{ matrix.stack }}"


def test_workflows_call_the_same_make_targets_as_a_developer() -> None:
    # Jobs run `make setup` through the shared setup action.
    files = [*WORKFLOWS.glob("*.yml"), *(ROOT / ".github" / "actions").glob("*/action.yml")]
    text = "".join(path.read_text() for path in files)
    targets = ("make setup", "make test", "make preview STACK=", "make preview-localcloud STACK=", "make up STACK=")
    for target in targets:
        assert target in text, target


def test_fork_pull_requests_preview_against_localcloud_and_same_repo_ones_against_the_cloud() -> None:
    jobs = yaml.safe_load((WORKFLOWS / "pull-request.yml").read_text())["jobs"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["preview"]["if"] == same_repo
    assert jobs["preview-localcloud"]["if"] == same_repo.replace("==", "!=")
    assert "secrets." not in yaml.safe_dump(jobs["preview-localcloud"])
