"""`make adopt STACK=local` as the README prints it, in a copy of the checkout: a grant made in the
console becomes an entry of Pulumi.local.yaml, and a second run finds nothing left to adopt."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.checkout import checkout_copy
from tests.engine_project import SEED
from tests.localcloud_process import CAM_LAG, LocalCloudProcess, call


def make(checkout: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCALCLOUD_STATE": str(state), "LOCALCLOUD_PORT": "0", "LOCALCLOUD_ARGS": " ".join(CAM_LAG)}
    return subprocess.run(["make", "-s", *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=300)


def console_read_only_user(state: Path, name: str) -> int:
    """A user given IM read-only access in the console (localcloud on the state `make` uses next)."""
    with LocalCloudProcess(state, "--seed", str(SEED), *CAM_LAG) as cloud:
        cam = cloud.cam()
        policies = call(cam, "ListPolicies", Rp=200, Keyword="QcloudIMReadOnlyAccess")["List"]
        read_only = next(int(p["PolicyId"]) for p in policies if p["PolicyName"] == "QcloudIMReadOnlyAccess")
        user = call(cam, "AddUser", Name=name, ConsoleLogin=1)
        call(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=user["Uin"])
        return read_only


def test_make_adopt_writes_console_grants_into_the_stack_file_once(tmp_path: Path) -> None:
    checkout = checkout_copy(tmp_path / "checkout")  # the command edits its checkout's stack file
    state = tmp_path / "localcloud" / "state.db"
    state.parent.mkdir()
    read_only = console_read_only_user(state, "console-frank")
    before = (checkout / "Pulumi.local.yaml").read_text()

    first = make(checkout, state, "adopt", "STACK=local")

    assert first.returncode == 0, first.stdout + first.stderr
    assert "adopt: user:console-frank holds QcloudIMReadOnlyAccess" in first.stdout
    assert "adopt: wrote Pulumi.local.yaml (1 entry added)" in first.stdout
    after = (checkout / "Pulumi.local.yaml").read_text()
    assert after.startswith(before.rstrip("\n"))  # the reviewed file, then the new entry
    assert "    - user: console-frank\n      access: readonly\n" in after
    assert f"      adopted: {{policyId: {read_only}}}  # imported as it is" in after

    console_read_only_user(state, "console-gina")
    second = make(checkout, state, "adopt", "STACK=local", "AS=operator")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "adopt: user:console-gina holds QcloudIMReadOnlyAccess" in second.stdout
    assert "added to im-access:operators as {name: console-gina, access: readonly, console: True}" in second.stdout
    assert "console-frank" not in second.stdout  # adopted already

    third = make(checkout, state, "adopt", "STACK=local")
    assert third.returncode == 0, third.stdout + third.stderr
    assert "adopt: nothing to adopt; Pulumi.local.yaml is unchanged" in third.stdout
