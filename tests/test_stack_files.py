"""One stack, one file: a decoy `Pulumi.*.yaml` never declares access for another stack. The audit and
the stack command refuse any file that is not exactly one known stack's, listing every one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from im_access.stack_files import StackFileError, stack_files
from tests.localcloud_process import ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess, call
from tests.pull_request import make_preview_localcloud, program_checkout

SEED = ROOT / "localcloud" / "seeds" / "local.json"
KNOWN = ("dev", "local", "prod", "staging")
LOCAL = {
    "config": {
        "tencentcloud:protocol": "HTTP",
        "im-access:ownerUin": "100012345678",
        "tencentcloud:allowedAccountIds": ["100012345678"],
    }
}
DECOY = {"config": {**LOCAL["config"], "im-access:grants": [{"user": "qa-lead", "access": "readonly"}]}}


def test_each_stack_file_is_named_as_the_engine_names_its_stack(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.local.yaml"):
        (tmp_path / name).write_text("config: {}\n")
    assert set(stack_files(tmp_path, KNOWN)) == {"dev", "local"}


def test_every_file_that_is_not_one_known_stacks_is_listed_at_once(tmp_path: Path) -> None:
    decoys = ("Pulumi.local.zz.yaml", "Pulumi.Local.yaml", "Pulumi.local.yml", "Pulumi.dev yaml.yaml", "Pulumi.qa.yaml")
    for name in ("Pulumi.local.yaml", *decoys):
        (tmp_path / name).write_text("config: {}\n")
    with pytest.raises(StackFileError) as raised:
        stack_files(tmp_path, KNOWN)
    problems = raised.value.problems
    assert len(problems) == len(decoys)
    for decoy, problem in zip(sorted(decoys), problems, strict=True):
        assert problem.startswith(decoy), problems
    message = str(raised.value)
    unlisted = "stack 'local.zz', which policy_pack/approvals.yaml does not list"
    assert f"{unlisted}; allowed stacks: dev, local, prod, staging" in message
    assert "Pulumi.local.yml is not a stack file; allowed: Pulumi.<stack>.yaml" in str(raised.value)


def audit_env(cloud: LocalCloudProcess) -> dict[str, str]:
    """What the audit command needs to read localcloud's account, and nothing else."""
    proxy = f"http://{cloud.address}"
    return {
        "PATH": "/usr/bin:/bin",
        "TENCENTCLOUD_SECRET_ID": SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
        "HTTP_PROXY": proxy,
        "http_proxy": proxy,
    }


def test_a_decoy_stack_file_cannot_hide_a_console_grant_from_the_audit(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.local.yaml").write_text(yaml.safe_dump(LOCAL))
    (tmp_path / "Pulumi.local.zz.yaml").write_text(yaml.safe_dump(DECOY))
    with LocalCloudProcess(tmp_path / "localcloud.db", "--seed", str(SEED)) as cloud:
        cam = cloud.cam()
        presets = call(cam, "ListPolicies", Rp=200, Keyword="QcloudIMReadOnlyAccess")["List"]  # past page 1 of 306
        read_only = next(p["PolicyId"] for p in presets if p["PolicyName"] == "QcloudIMReadOnlyAccess")
        call(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=call(cam, "GetUser", Name="qa-lead")["Uin"])
        env = audit_env(cloud)
        command = [sys.executable, "-m", "commands.audit", "--stack", "local", "--project", str(tmp_path)]
        decoyed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        (tmp_path / "Pulumi.local.zz.yaml").unlink()
        honest = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert decoyed.returncode == 2, decoyed.stdout + decoyed.stderr
    assert decoyed.stdout == ""
    unlisted = "which policy_pack/approvals.yaml does not list"
    assert f"Pulumi.local.zz.yaml is the file of stack 'local.zz', {unlisted}" in decoyed.stderr
    assert honest.returncode == 1, honest.stdout + honest.stderr
    assert "unmanaged" in honest.stdout and "user:qa-lead" in honest.stdout


def test_make_preview_localcloud_refuses_a_project_with_a_decoy_stack_file(tmp_path: Path) -> None:
    project = program_checkout(tmp_path / "pr", "Pulumi.dev.yaml")
    shutil.copy(ROOT / "Pulumi.dev.yaml", project / "Pulumi.dev.old.yaml")
    result = make_preview_localcloud(project, tmp_path, timeout=300)
    assert result.returncode != 0
    unlisted = "which policy_pack/approvals.yaml does not list"
    assert f"stack: Pulumi.dev.old.yaml is the file of stack 'dev.old', {unlisted}" in result.stderr
