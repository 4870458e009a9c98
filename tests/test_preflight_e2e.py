"""The preflight through the documented command lines: each missing step of a first run against a
real account is one line with the fix and exit 2 (make's), and credentials of another account stop
a preview, the audit and a hand-over before anything runs. Against localcloud with two keys of
different accounts; nothing here reaches Tencent Cloud.

Most runs here stop before the engine (the table counts their CLI calls, not engine runs). Only
the engine shows: a `make preview-localcloud` that passes the preflight and runs, naming a changed
guarded file, and a stack made by `stack-init` whose secrets the engine encrypts at `up`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from commands import engine, stack
from tests.checkout import checkout_copy
from tests.engine_project import SEED, require_engine
from tests.localcloud_process import CAM_LAG, ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess
from tests.pull_request import make_preview_localcloud, program_checkout

OWNER = "100012345678"
OTHER = ("AKIDotheraccount", "other-account-secret", "200098765432")
STEPS = (
    "PULUMI_BACKEND_URL",
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_CONFIG_PASSPHRASE_FILE",
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
)
MISMATCH = (
    f"these credentials belong to account {OTHER[2]} (caller qcs::cam:{OTHER[2]}:uin/{OTHER[2]});"
    f" stack dev declares ownerUin {OWNER} (Pulumi.dev.yaml)"
)
SUCCESS = f"preflight: acting on account {OWNER} as caller qcs::cam:{OWNER}:uin/{OWNER} (stack dev)"


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without any of the preflight's variables, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if k not in STEPS}, **extra}


def make(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    folder = tmp_path_factory.mktemp("preflight-cloud")
    with LocalCloudProcess(
        folder / "state.db", "--seed", str(SEED), "--other-account-key", *OTHER, *CAM_LAG
    ) as process:
        yield process


def through(cloud: LocalCloudProcess, key: tuple[str, str], **extra: str) -> dict[str, str]:
    """localcloud's route (as scripts/with_localcloud.sh sets it: HTTPS too, for the provider's
    account check), signing with `key`."""
    proxy = f"http://{cloud.address}"
    return clean_env(
        TENCENTCLOUD_SECRET_ID=key[0],
        TENCENTCLOUD_SECRET_KEY=key[1],
        HTTP_PROXY=proxy,
        http_proxy=proxy,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PULUMI_SKIP_UPDATE_CHECK="1",
        **{**cloud.https_env(), **extra},
    )


def test_make_preview_names_each_missing_step_in_order(tmp_path: Path) -> None:
    require_engine()
    project = program_checkout(tmp_path / "project", "Pulumi.dev.yaml")
    reviewed = (project / "Pulumi.dev.yaml").read_bytes()
    state = tmp_path / "state"
    state.mkdir()
    backend = f"file://{state}"
    preview = ("preview", "STACK=dev", f"PROJECT={project}")
    steps = [
        (clean_env(), "stack: no Pulumi backend is configured for the stack's state; export PULUMI_BACKEND_URL"),
        (
            clean_env(PULUMI_BACKEND_URL=backend),
            f"stack: stack 'dev' does not exist in {backend}; create it with `make stack-init STACK=dev`",
        ),
    ]
    for env, line in steps:
        result = make(*preview, env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert line in result.stderr and "Traceback" not in result.stderr
    assert "s3://<bucket>?endpoint=cos." in make(*preview, env=clean_env()).stderr  # the README's COS backend

    # The stack is created where the backend is, and the reviewed stack file stays byte for byte.
    init = ("stack-init", "STACK=dev", f"PROJECT={project}")
    refused = make(*init, env=clean_env(PULUMI_BACKEND_URL=backend))
    assert refused.returncode == 2 and "stack: PULUMI_CONFIG_PASSPHRASE is not set" in refused.stderr
    assert not list(state.rglob("dev.json"))
    created = make(*init, env=clean_env(PULUMI_BACKEND_URL=backend, PULUMI_CONFIG_PASSPHRASE="trial"))
    assert created.returncode == 0, created.stderr
    assert f"stack: created 'dev' in {backend}; Pulumi.dev.yaml is unchanged" in created.stdout
    assert (project / "Pulumi.dev.yaml").read_bytes() == reviewed
    again = make(*init, env=clean_env(PULUMI_BACKEND_URL=backend, PULUMI_CONFIG_PASSPHRASE="trial"))
    assert again.returncode == 0 and "exists already" in again.stdout
    assert (project / "Pulumi.dev.yaml").read_bytes() == reviewed

    steps = [
        (clean_env(PULUMI_BACKEND_URL=backend), "stack: PULUMI_CONFIG_PASSPHRASE is not set"),
        (
            clean_env(PULUMI_BACKEND_URL=backend, PULUMI_CONFIG_PASSPHRASE="trial"),
            "stack: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set: export the API key of an"
            f" identity of account {OWNER}",
        ),
        (
            clean_env(PULUMI_BACKEND_URL=backend, PULUMI_CONFIG_PASSPHRASE="trial", TENCENTCLOUD_SECRET_ID="AKIDx"),
            "stack: TENCENTCLOUD_SECRET_KEY is not set",
        ),
    ]
    for env, line in steps:
        result = make(*preview, env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert line in result.stderr and "Traceback" not in result.stderr
        assert "Previewing" not in result.stdout and not (project / "reports" / "dev-preview.events.json").exists()
    assert (project / "Pulumi.dev.yaml").read_bytes() == reviewed


def test_a_key_of_another_account_stops_the_preview_before_the_engine(cloud: LocalCloudProcess, tmp_path: Path) -> None:
    project = program_checkout(tmp_path / "project", "Pulumi.dev.yaml")
    env = through(cloud, OTHER[:2], PULUMI_BACKEND_URL=f"file://{tmp_path}", PULUMI_CONFIG_PASSPHRASE="e2e-only")
    command = [sys.executable, "-m", "commands.stack", "preview", "dev", "--against-localcloud"]
    result = subprocess.run(
        [*command, "--project", str(project)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"stack: {MISMATCH}" in result.stderr and "Traceback" not in result.stderr
    assert OTHER[1] not in result.stdout + result.stderr  # the key's secret is never shown
    assert "Previewing" not in result.stdout and not (project / "reports" / "dev-preview.events.json").exists()


def test_make_preview_localcloud_shows_whose_credentials_act_and_names_a_changed_guardrail_file(
    tmp_path: Path,
) -> None:
    """A pull request's whole checkout with one guarded file changed (commands/guarded_files.py)."""
    project = checkout_copy(tmp_path / "project")
    with (project / "im_access" / "contract.py").open("a") as changed:
        changed.write("\n# switched off\n")
    result = make_preview_localcloud(project, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (project / "reports" / "dev-preview.md").read_text()
    assert "This change edits the guardrails" in summary
    assert "> Changed: `im_access/contract.py`." in summary
    assert SUCCESS in result.stdout
    assert result.stdout.index(SUCCESS) < result.stdout.index("Previewing")  # before the engine starts
    report = (project / "reports" / "dev-preview.md").read_text()
    assert f"Acting on account `{OWNER}` as caller `qcs::cam:{OWNER}:uin/{OWNER}` (preflight)." in report
    events = json.loads((project / "reports" / "dev-preview.events.json").read_text())
    assert events["identity"] == {"account": OWNER, "caller": f"qcs::cam:{OWNER}:uin/{OWNER}"}


def test_make_preview_localcloud_stops_when_localclouds_account_is_not_the_stacks(tmp_path: Path) -> None:
    project = program_checkout(tmp_path / "project", "Pulumi.dev.yaml")
    result = make_preview_localcloud(project, tmp_path, localcloud_args="--owner-uin 300000000001")
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "stack: these credentials belong to account 300000000001 (caller qcs::cam:300000000001:uin/300000000001);"
        f" stack dev declares ownerUin {OWNER} (Pulumi.dev.yaml); localcloud's account is set with --owner-uin"
        f" (LOCALCLOUD_ARGS='--owner-uin {OWNER}')"
    ) in result.stderr
    assert "Previewing" not in result.stdout


def test_the_audit_says_whose_credentials_it_reads_with_on_stderr(cloud: LocalCloudProcess) -> None:
    command = [sys.executable, "-m", "commands.audit", "--stack", "dev", "--format", "json"]
    mine = subprocess.run(
        command, cwd=ROOT, env=through(cloud, (SECRET_ID, SECRET_KEY)), capture_output=True, text=True
    )
    assert mine.returncode in (0, 1), mine.stderr
    assert json.loads(mine.stdout)["stacks"] == ["dev"]  # stdout holds the report alone
    assert f"preflight: acting on account {OWNER} as caller qcs::cam:{OWNER}:uin/{OWNER} (stack dev)" in mine.stderr

    theirs = subprocess.run(command, cwd=ROOT, env=through(cloud, OTHER[:2]), capture_output=True, text=True)
    assert theirs.returncode == 2 and theirs.stdout == ""
    assert f"audit: could not audit dev: {MISMATCH}" in theirs.stderr
    assert SECRET_KEY not in mine.stdout + mine.stderr and OTHER[1] not in theirs.stderr


def test_a_hand_over_with_another_accounts_key_reads_nothing(cloud: LocalCloudProcess, tmp_path: Path) -> None:
    require_engine()
    state = tmp_path / "state"
    state.mkdir()
    env = through(cloud, OTHER[:2], PULUMI_BACKEND_URL=f"file://{state}", PULUMI_CONFIG_PASSPHRASE="e2e-only")
    # The local stack exists in that backend (as after `make local-up`), so only the account is wrong.
    # In a copy of the checkout: creating the stack writes (then restores) its stack file.
    checkout = checkout_copy(tmp_path / "checkout")
    with engine.open_stack("local", checkout, env, create=True):
        pass
    command = [sys.executable, "-m", "commands.handover", "--stack", "local", "--list"]
    result = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "handover: these credentials belong to account 200098765432" in result.stderr
    assert "stack local declares ownerUin 100012345678" in result.stderr and result.stdout == ""


def test_the_preflight_asks_sts_at_its_own_host_whatever_the_stack_file_says(tmp_path: Path) -> None:
    """A cloud stack's preflight goes over HTTPS to sts.tencentcloudapi.com (here through a proxy that
    answers nothing, so no request leaves this machine)."""
    import http.server
    import threading

    hosts: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_CONNECT(self) -> None:
            hosts.append(self.path)
            self.send_response(502)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    project = program_checkout(tmp_path / "project", "Pulumi.dev.yaml")
    env = clean_env(
        PULUMI_BACKEND_URL=f"file://{tmp_path}",
        PULUMI_CONFIG_PASSPHRASE="trial",
        TENCENTCLOUD_SECRET_ID="AKIDx",
        TENCENTCLOUD_SECRET_KEY="x",
        HTTPS_PROXY=f"http://127.0.0.1:{server.server_address[1]}",
    )
    try:
        with engine.open_stack("dev", project, env, create=True):
            pass
        result = make("preview", "STACK=dev", f"PROJECT={project}", env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "stack: could not reach sts.tencentcloudapi.com to ask whose the credentials are" in result.stderr
    assert hosts and set(hosts) == {"sts.tencentcloudapi.com:443"}


def test_a_stack_made_by_stack_init_keeps_its_secrets_with_the_stack_file_as_reviewed(
    cloud: LocalCloudProcess, tmp_path: Path
) -> None:
    """The salt `stack init` writes into the stack file is kept by the backend too: with the file put
    back as reviewed, an `up` encrypts the operators' secrets, the passphrase decrypts them and only it."""
    require_engine()
    project = program_checkout(tmp_path / "project", "Pulumi.dev.yaml")
    reviewed = (project / "Pulumi.dev.yaml").read_bytes()
    state = tmp_path / "state"
    state.mkdir()
    env = through(
        cloud, (SECRET_ID, SECRET_KEY), PULUMI_BACKEND_URL=f"file://{state}", PULUMI_CONFIG_PASSPHRASE="right"
    )
    assert make("stack-init", "STACK=dev", f"PROJECT={project}", env=env).returncode == 0

    result = stack.run("up", "dev", work_dir=project, env=env, against_localcloud=True)
    assert result.exit_code == 0, result.text
    assert SUCCESS in result.text
    assert (project / "Pulumi.dev.yaml").read_bytes() == reviewed
    with engine.open_stack("dev", project, env) as opened:
        operators = opened.outputs()["operators"]
    secret_key = operators.value["im-stats-bot"]["secretKey"]
    state_text = "".join(path.read_text() for path in state.rglob("*.json"))
    assert secret_key and secret_key not in state_text and "ciphertext" in state_text  # encrypted at rest
    wrong = {**env, "PULUMI_CONFIG_PASSPHRASE": "wrong"}
    with (
        pytest.raises(auto.errors.CommandError, match="passphrase"),
        engine.open_stack("dev", project, wrong) as opened,
    ):
        opened.outputs()
    assert (project / "Pulumi.dev.yaml").read_bytes() == reviewed


@pytest.mark.parametrize("command", ["up", "destroy"])
def test_no_up_or_destroy_acts_with_another_accounts_key(
    cloud: LocalCloudProcess, tmp_path: Path, command: str
) -> None:
    """The local stack over localcloud's route, as `make local-up` runs it, with the other account's key."""
    require_engine()
    state = tmp_path / "state"
    state.mkdir()
    env = through(cloud, OTHER[:2], PULUMI_BACKEND_URL=f"file://{state}", PULUMI_CONFIG_PASSPHRASE="e2e-only")
    cloud.settle()
    before = cloud.cam().call_json("ListUsers", {})["Response"]["Data"]
    result = subprocess.run(
        [sys.executable, "-m", "commands.stack", command, "local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"these credentials belong to account {OTHER[2]}" in result.stderr
    assert "stack local declares ownerUin 100012345678" in result.stderr
    assert "Updating" not in result.stdout and "Destroying" not in result.stdout
    # The engine never started (above); localcloud would refuse this key's CAM calls anyway.
    cloud.settle()
    assert cloud.cam().call_json("ListUsers", {})["Response"]["Data"] == before
