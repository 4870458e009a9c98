"""The main job, `make local-up`, as a user runs it: localcloud, then `pulumi up --stack local` with
the guardrails through the project's engine, then each operator's login link."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.checkout import checkout_copy
from tests.engine_project import require_engine
from tests.localcloud_process import LocalCloudProcess, call


def make(checkout: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCALCLOUD_STATE": str(state), "LOCALCLOUD_PORT": "0"}
    return subprocess.run(["make", *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=600)


def test_make_local_up_creates_the_local_stack_a_second_run_changes_nothing_and_the_audit_agrees(
    tmp_path: Path,
) -> None:
    require_engine()
    checkout = checkout_copy(tmp_path / "checkout")  # the command writes into its checkout
    state = tmp_path / "localcloud" / "state.db"
    stack_file = (checkout / "Pulumi.local.yaml").read_bytes()

    first = make(checkout, state, "local-up")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "### Stack `local`: passes" in first.stdout
    assert "Changes: 13 to create." in first.stdout  # each operator with its MFA flags
    assert "im-local-alice: https://" in first.stdout and "username=im-local-alice" in first.stdout
    assert "im-local-stats-bot: (no console access)" in first.stdout
    assert "[secret]" in first.stdout
    assert "warning" not in (first.stdout + first.stderr).lower()

    second = make(checkout, state, "local-up")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Changes: no changes." in second.stdout
    # The engine's passphrase salt never lands in the reviewed stack file.
    assert (checkout / "Pulumi.local.yaml").read_bytes() == stack_file

    audit = make(checkout, state, "-s", "audit", "STACK=local", "FORMAT=json")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert json.loads(audit.stdout) == {"stacks": ["local"], "findings": []}

    with LocalCloudProcess(state) as cloud:
        users = {user["Name"] for user in call(cloud.cam(), "ListUsers")["Data"]}
    assert users == {"qa-lead", "im-local-alice", "im-local-stats-bot"}

    # The README's hand-over line: refused without a recipient key, written with --plaintext.
    handover = ["bash", "scripts/with_localcloud.sh", ".venv/bin/python", "-m", "commands.handover"]
    handover += ["--stack", "local", "--operator", "im-local-alice", "--out", str(tmp_path / "alice.csv")]
    env = {**os.environ, "LOCALCLOUD_STATE": str(state), "LOCALCLOUD_PORT": "0"}
    refused = subprocess.run(handover, cwd=checkout, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "--plaintext" in refused.stderr and not (tmp_path / "alice.csv").exists()
    written = subprocess.run(
        [*handover, "--plaintext"], cwd=checkout, env=env, capture_output=True, text=True, timeout=300
    )
    assert written.returncode == 0, written.stdout + written.stderr
    assert (tmp_path / "alice.csv").read_text().splitlines()[1].startswith("im-local-alice,")
    assert (tmp_path / "alice.csv").stat().st_mode & 0o777 == 0o600
