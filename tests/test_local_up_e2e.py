"""The main job, `make local-up`, as a user runs it: localcloud, then `pulumi up --stack local` with
the guardrails through the project's engine, then each operator's login link and the next commands,
each run here as printed (tests/test_readme_lines.py checks the README's other lines).

The user's shell has what the README's "Preview and deploy a stack" block exports for the cloud (a
team passphrase, a backend): the local route keeps its own, so neither reaches the local state.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.checkout import checkout_copy
from tests.engine_project import require_engine
from tests.localcloud_process import CAM_LAG, LocalCloudProcess, call

HINT = re.compile(r": (make [a-z-]+(?: [A-Z_]+=\S+)*)$", re.M)


def shell_line(checkout: Path, env: dict[str, str], line: str) -> subprocess.CompletedProcess[str]:
    """One README line or printed hint, run in bash as printed, in `checkout`."""
    return subprocess.run(["bash", "-c", line], cwd=checkout, env=env, capture_output=True, text=True, timeout=600)


def test_make_local_up_in_a_cloud_shell_then_every_next_step_it_prints_runs_as_printed(tmp_path: Path) -> None:
    require_engine()
    checkout = checkout_copy(tmp_path / "checkout")  # the command writes into its checkout
    state = tmp_path / "localcloud" / "state.db"
    stack_file = (checkout / "Pulumi.local.yaml").read_bytes()
    (tmp_path / "trial-backend").mkdir()
    # As from a shell (under `make test` the inherited MAKELEVEL would make make print more), with the
    # cloud exports of the README's "Preview and deploy" block.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    env |= {
        "LOCALCLOUD_STATE": str(state),
        "LOCALCLOUD_PORT": "0",
        "LOCALCLOUD_ARGS": " ".join(CAM_LAG),
        "PULUMI_CONFIG_PASSPHRASE": "the-teams-passphrase",
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'trial-backend'}",
    }

    first = shell_line(checkout, env, "make local-up")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "### Stack `local`: passes" in first.stdout
    # The summary counts what the engine counts: each operator with its MFA flags, and the stack.
    assert "Changes: 14 to create." in first.stdout
    assert re.search(r"^\s+\+ 14 created$", first.stdout, re.M), first.stdout
    assert "im-local-alice: https://" in first.stdout and "username=im-local-alice" in first.stdout
    assert "im-local-stats-bot: (no console access)" in first.stdout
    assert "[secret]" in first.stdout
    assert "warning" not in (first.stdout + first.stderr).lower()
    assert not list((tmp_path / "trial-backend").iterdir()), "the cloud backend is never written"

    hints = HINT.findall(first.stdout)
    assert hints == ["make handover STACK=local OPERATOR=im-local-alice PLAINTEXT=1", "make audit STACK=local",
                     "make review STACK=local"]  # fmt: skip

    # Without PLAINTEXT=1 the hand-over refuses (no recipient key): one line, exit 2, no file.
    refused = shell_line(checkout, env, "make handover STACK=local OPERATOR=im-local-alice")
    credentials = checkout / "credentials" / "local-im-local-alice.credentials.csv"
    assert refused.returncode == 2 and not credentials.exists()
    (refusal,) = [line for line in refused.stderr.splitlines() if line.startswith("handover:")]
    assert refusal.startswith("handover: operator 'im-local-alice' has no recipient key")
    assert "PLAINTEXT=1" in refused.stderr

    handover = shell_line(checkout, env, "make handover STACK=local OPERATOR=im-local-alice PLAINTEXT=1")
    assert handover.returncode == 0, handover.stdout + handover.stderr
    assert "handover: wrote credentials/local-im-local-alice.credentials.csv (mode 600)" in handover.stdout
    assert credentials.read_text().splitlines()[1].startswith("im-local-alice,")
    assert credentials.stat().st_mode & 0o777 == 0o600

    # The audit's exit code 0: nothing drifted (make would turn the drift's 1 into 2).
    audit = shell_line(checkout, env, "make audit STACK=local")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    readme_audit = shell_line(
        checkout, env, "scripts/with_localcloud.sh .venv/bin/python -m commands.audit --stack local"
    )
    assert readme_audit.returncode == 0, readme_audit.stdout + readme_audit.stderr

    review = shell_line(checkout, env, "make review STACK=local")
    assert review.returncode == 0, review.stdout + review.stderr
    html, csv_path = (checkout / line for line in review.stdout.split())
    assert html.suffix == ".html" and html.is_file() and csv_path.suffix == ".csv" and csv_path.is_file()

    second = shell_line(checkout, env, "make local-up")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Changes: no changes." in second.stdout
    # The engine's passphrase salt never lands in the reviewed stack file.
    assert (checkout / "Pulumi.local.yaml").read_bytes() == stack_file

    with LocalCloudProcess(state, *CAM_LAG) as cloud:
        users = {user["Name"] for user in call(cloud.cam(), "ListUsers")["Data"]}
    assert users == {"qa-lead", "im-local-alice", "im-local-stats-bot"}
