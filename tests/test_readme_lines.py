"""Every command line a new user is shown runs as shown: each line of README.md's `sh` blocks, and
each command the project's commands suggest in their output, with the exit code and the first line
the README documents ("an expected error is one line and exit 2").

The lines run here in one shell, as a new user would, on a copy of the checkout with no cloud
account: what needs one stops at the preflight's documented line. Lines that need the deployed
local stack run in tests/test_local_up_e2e.py, on the one stack it deploys, and a line another test
already runs through the engine is named with that test instead of being run twice.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.checkout import checkout_copy
from tests.localcloud_process import ROOT

README = ROOT / "README.md"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
THIS_FILE = Path(__file__).name
LOCAL_WALK = "test_local_up_e2e.py"

# Where each README line is checked: run by the named test file as printed, or why it is not run.
RUN_HERE = {
    "make help",
    "source scripts/engine_env.sh",
    "pulumi version",
    "pulumi plugin ls",
    "export TENCENTCLOUD_SECRET_ID=AKIDlocal TENCENTCLOUD_SECRET_KEY=any-local-secret",
    ".venv/bin/python -m localcloud serve --port 18080 --state .localcloud/state.db --seed localcloud/seeds/local.json",
    "make stack-init STACK=dev",
    "make preview STACK=dev",
    "make up STACK=prod",
    "make handover STACK=dev OPERATOR=im-stats-bot",
    ".venv/bin/python -m commands.audit",
    ".venv/bin/python -m commands.audit --stack dev --format markdown",
    ".venv/bin/python -m commands.audit --unused-days 30",
    "make review",
    "make review STACK=dev",
    "make review UNUSED_DAYS=60",
    "make adopt STACK=dev",
    "make adopt STACK=dev AS=operator",
    "export AWS_ACCESS_KEY_ID=$COS_SECRET_ID AWS_SECRET_ACCESS_KEY=$COS_SECRET_KEY",
    "export PULUMI_BACKEND_URL='s3://im-access-state-1250000000?endpoint=cos.ap-guangzhou.myqcloud.com"
    "&region=ap-guangzhou&s3ForcePathStyle=true'",
}
RUN_ON_THE_LOCAL_STACK = {
    "make local-up",
    "make handover STACK=local OPERATOR=im-local-alice PLAINTEXT=1",
    "make audit STACK=local",
    "make review STACK=local",
    "scripts/with_localcloud.sh .venv/bin/python -m commands.audit --stack local",
}
# A placeholder for a value only the reader has, and the value this walk puts in its place (the
# README names the trial backend itself: "or file://DIR for a trial").
PLACEHOLDERS = {
    "export PULUMI_BACKEND_URL='s3://...'": "export PULUMI_BACKEND_URL=file://$TRIAL_BACKEND",
    "export PULUMI_CONFIG_PASSPHRASE=...": "export PULUMI_CONFIG_PASSPHRASE=the-teams-passphrase",
}
NOT_RUN = {
    "make setup": "made this checkout's .venv and .engine before any test ran; its engine install is"
    " tests/test_install_engine.py's, online and from the mirror",
    "make test": "the suite itself, this test included",
    "make check": "the suite's tests that run no engine, this one included (tests/test_engine_runs.py checks the mark)",
    "export TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=...": "an admin key of a real account, which"
    " tests never use: the walk goes on without it and stops at the preflight's credentials line",
}
# Run through the engine by another test already (the words of the line are all in that file).
COVERED = {
    "make preview-localcloud STACK=dev": "test_stack_routes_e2e.py",
    "make adopt STACK=local": "test_make_adopt_e2e.py",
}


def readme_lines() -> list[str]:
    """The command lines of README.md's `sh` blocks, each without its trailing comment."""
    lines = []
    for block in SH_BLOCK.findall(README.read_text()):
        for line in block.splitlines():
            command = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def test_every_readme_command_line_is_checked_somewhere() -> None:
    lines = readme_lines()
    known = RUN_HERE | RUN_ON_THE_LOCAL_STACK | set(PLACEHOLDERS) | set(NOT_RUN) | set(COVERED)
    assert sorted(set(lines) - known) == [], "a README line no test knows: add it here"
    assert sorted(known - set(lines)) == [], "a line the README no longer shows"
    local_walk = (ROOT / "tests" / LOCAL_WALK).read_text()
    for line in RUN_ON_THE_LOCAL_STACK:
        assert repr(line) in local_walk or f'"{line}"' in local_walk, f"{LOCAL_WALK} runs {line!r}"
    for line, test_file in COVERED.items():
        text = (ROOT / "tests" / test_file).read_text()
        assert all(f'"{word}"' in text for word in line.split()), f"{test_file} runs {line!r}"


# Hints: a command in backticks, or after "with: " / "run " / ": " at the end of a printed line.
HINT = re.compile(r"`((?:make|\.venv/bin/python -m|bash scripts/)[^`]*)`|: (make [a-z-]+(?: [A-Z_]+=\S+)*)\"")


def printed_hints() -> set[str]:
    """The commands the project's commands and scripts print as the next step, from their source."""
    hints: set[str] = set()
    for path in [*sorted((ROOT / "commands").glob("*.py")), *sorted((ROOT / "scripts").glob("*.sh"))]:
        for found in HINT.finditer(path.read_text()):
            hints.add(found.group(1) or found.group(2))
    return hints


def makefile_targets_and_variables() -> tuple[set[str], set[str]]:
    text = (ROOT / "Makefile").read_text()
    targets = {name for names in re.findall(r"^([a-z][a-z -]*):", text, re.M) for name in names.split()}
    return targets, set(re.findall(r"\$\(([A-Z_]+)\)", text))


def test_every_hint_a_command_prints_names_a_real_target_or_module() -> None:
    targets, variables = makefile_targets_and_variables()
    hints = printed_hints()
    assert {"make handover", "make stack-init", "make audit", "make review"} <= {
        " ".join(hint.split()[:2]) for hint in hints
    }
    for hint in hints:
        words = hint.split()
        if words[0] == "make":
            assert words[1] in targets, f"{hint!r}: no target {words[1]}"
            for word in words[2:]:
                name = word.split("=", 1)[0]
                assert "=" not in word or name in variables, f"{hint!r}: the Makefile reads no {name}"
        elif words[0] == "bash":
            assert (ROOT / words[1]).is_file(), hint
        else:
            module = words[2].replace(".", "/")
            assert (ROOT / f"{module}.py").is_file() or (ROOT / module).is_dir(), hint


@dataclass
class Shell:
    """One shell session of a new user: each line runs in bash in the checkout, and what it exports
    stays for the next."""

    cwd: Path
    env: dict[str, str]
    env_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.env_file = self.cwd.parent / "shell.env"

    def run(self, line: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        script = f'{line}\nstatus=$?\nenv -0 > "{self.env_file}"\nexit $status\n'
        result = subprocess.run(
            ["bash", "-c", script], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        pairs = self.env_file.read_text().split("\0")
        self.env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        return result


def first_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command's own first line: on stderr for an error, else on stdout; make's echo of the
    recipe and its `make: ***` trailer are not the command's."""
    text = result.stderr if result.returncode else result.stdout
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith((".venv/bin/python ", "bash scripts/", "make: ***", "@"))
    ]
    return lines[0] if lines else ""


def new_user_shell(tmp_path: Path) -> Shell:
    """A shell with nothing of this machine's Pulumi or Tencent Cloud settings, in a copy of the checkout."""
    drop = ("PULUMI_", "TENCENTCLOUD_", "AWS_", "MAKE", "MFLAGS", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k not in ("https_proxy",)}
    env |= {"LOCALCLOUD_PORT": "0", "LOCALCLOUD_STATE": str(tmp_path / "localcloud" / "state.db")}
    checkout = checkout_copy(tmp_path / "checkout")
    return Shell(checkout, env)


AUDIT_ALL, AUDIT_DEV = "audit: could not audit dev, prod, staging: ", "audit: could not audit dev: "
CREDENTIALS_MISSING = (
    "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set: export the API key of an identity of"
    " account 100012345678"
)


def test_every_target_given_stack_local_takes_localcloud_s_route() -> None:
    shell = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    for target in ("preview", "up", "destroy", "handover", "audit", "review"):
        planned = subprocess.run(
            ["make", "-n", target, "STACK=local"], cwd=ROOT, env=shell, capture_output=True, text=True, timeout=60
        ).stdout
        assert planned.startswith("bash scripts/with_localcloud.sh .venv/bin/python -m commands."), planned


def test_make_alone_and_make_help_show_every_target_and_run_nothing(tmp_path: Path) -> None:
    shell = new_user_shell(tmp_path)
    for line in ("make", "make help"):
        result = shell.run(line)
        assert result.returncode == 0, result.stderr
        assert first_line(result) == "usage: make TARGET [VARIABLE=value ...]   (README.md has the details)"
        listed = {line.split()[0] for line in result.stdout.splitlines()[1:]}
        assert listed == makefile_targets_and_variables()[0] - {"help"}
    assert not (shell.cwd / ".localcloud").exists() and not (shell.cwd / "reports").exists()


def test_the_engine_lines_run_as_printed(tmp_path: Path) -> None:
    shell = Shell(ROOT, {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")})
    shell.env_file = tmp_path / "shell.env"
    assert shell.run("source scripts/engine_env.sh").returncode == 0
    version = shell.run("pulumi version")
    assert (version.returncode, first_line(version)) == (0, "v3.259.0")
    plugins = shell.run("pulumi plugin ls")
    assert plugins.returncode == 0 and re.search(r"^tencentcloud +resource +0\.2\.3 ", plugins.stdout, re.M)


def test_localcloud_alone_starts_with_the_readme_lines(tmp_path: Path) -> None:
    shell = new_user_shell(tmp_path)
    assert shell.run("export TENCENTCLOUD_SECRET_ID=AKIDlocal TENCENTCLOUD_SECRET_KEY=any-local-secret").returncode == 0
    line = ".venv/bin/python -m localcloud serve --port 18080 --state .localcloud/state.db --seed localcloud/seeds/local.json"  # noqa: E501
    # The test's own free port: port 18080 may be another run's on a shared machine.
    server = subprocess.Popen(
        ["bash", "-c", "exec " + line.replace("--port 18080", "--port 0")],
        cwd=shell.cwd,
        env=shell.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert banner.startswith("localcloud listening on http://127.0.0.1:"), banner
    assert (shell.cwd / ".localcloud" / "state.db").is_file()


def test_the_cloud_lines_in_one_shell_without_an_account_stop_at_their_documented_line(tmp_path: Path) -> None:
    shell = new_user_shell(tmp_path)
    trial = tmp_path / "trial-backend"
    trial.mkdir()
    shell.env["TRIAL_BACKEND"] = str(trial)
    for placeholder, value in PLACEHOLDERS.items():
        assert shell.run(value).returncode == 0, placeholder
    backend = f"file://{trial}"
    assert shell.env["PULUMI_BACKEND_URL"] == backend

    expected = [  # line, exit code, first line
        ("make stack-init STACK=dev", 0, f"stack: created 'dev' in {backend}; Pulumi.dev.yaml is unchanged"),
        ("make preview STACK=dev", 2, f"stack: {CREDENTIALS_MISSING}"),
        (
            "make up STACK=prod",
            2,
            f"stack: stack 'prod' does not exist in {backend}; create it with `make stack-init STACK=prod`",
        ),
        # The hint above, as printed; then the same line goes one step further.
        ("make stack-init STACK=prod", 0, f"stack: created 'prod' in {backend}; Pulumi.prod.yaml is unchanged"),
        ("make up STACK=prod", 2, f"stack: {CREDENTIALS_MISSING}"),
        ("make handover STACK=dev OPERATOR=im-stats-bot", 2, f"handover: {CREDENTIALS_MISSING}"),
        (".venv/bin/python -m commands.audit", 2, AUDIT_ALL + CREDENTIALS_MISSING),
        (".venv/bin/python -m commands.audit --stack dev --format markdown", 2, AUDIT_DEV + CREDENTIALS_MISSING),
        (".venv/bin/python -m commands.audit --unused-days 30", 2, AUDIT_ALL + CREDENTIALS_MISSING),
        ("make review", 2, f"review: could not review the cloud stacks: {CREDENTIALS_MISSING}"),
        ("make review STACK=dev", 2, f"review: could not review dev: {CREDENTIALS_MISSING}"),
        ("make review UNUSED_DAYS=60", 2, f"review: could not review the cloud stacks: {CREDENTIALS_MISSING}"),
        ("make adopt STACK=dev", 2, f"adopt: could not adopt for stack dev: {CREDENTIALS_MISSING}"),
        ("make adopt STACK=dev AS=operator", 2, f"adopt: could not adopt for stack dev: {CREDENTIALS_MISSING}"),
    ]  # fmt: skip
    for line, code, first in expected:
        result = shell.run(line)
        shown = f"{line}\n{result.stdout}{result.stderr}"
        assert result.returncode == code and first_line(result).startswith(first), shown
        if line in ("make review", "make review UNUSED_DAYS=60"):  # no credentials: the local stack's review
            assert first_line(result).endswith("; the local stack: `make review STACK=local`")
        if line.startswith(".venv/bin/python -m commands.audit") and "--stack" not in line:  # ... and audit
            assert first_line(result).endswith("; the local stack: `make audit STACK=local`")
        if code:  # one line: the command's own, then make's trailer
            own = [out for out in result.stderr.splitlines() if not out.startswith("make: ***")]
            assert len(own) == 1, f"{line}: {result.stderr}"

    # The local stack never goes to this backend: refused before a stack is made there.
    refused = shell.run(".venv/bin/python -m commands.stack preview local")
    assert refused.returncode == 2 and first_line(refused).startswith(
        f"stack: stack 'local' runs only through localcloud, and this run has the backend {backend} and no HTTP_PROXY;"
    )
    assert "`make preview-localcloud STACK=local` or `make local-up`" in refused.stderr
    stacks = trial / ".pulumi" / "stacks" / "im-access"
    assert {path.name.split(".")[0] for path in stacks.iterdir()} == {"dev", "prod"}

    # The team backend of "Share state across a team": exported as printed.
    for line in sorted(RUN_HERE):
        if line.startswith(("export AWS_", "export PULUMI_BACKEND_URL='s3://im-access")):
            assert shell.run(line).returncode == 0, line
    assert shell.env["PULUMI_BACKEND_URL"].startswith("s3://im-access-state-1250000000?endpoint=")


@pytest.mark.parametrize(
    ("backend", "first"),
    [
        ("/tmp/state", "stack: PULUMI_BACKEND_URL=/tmp/state is not a URL; export PULUMI_BACKEND_URL: the team's"),
        (
            "file:///tmp/no/such/folder",
            "stack: PULUMI_BACKEND_URL=file:///tmp/no/such/folder names a folder that does not exist; create it with"
            " `mkdir -p /tmp/no/such/folder`, or export another backend",
        ),
    ],
)  # fmt: skip
def test_a_backend_that_is_not_one_is_one_clear_line(tmp_path: Path, backend: str, first: str) -> None:
    shell = new_user_shell(tmp_path)
    shell.env |= {"PULUMI_BACKEND_URL": backend, "PULUMI_CONFIG_PASSPHRASE": "x"}
    result = shell.run("make preview STACK=dev")
    assert result.returncode == 2 and first_line(result).startswith(first), result.stderr
    assert "PULUMI_ACCESS_TOKEN" not in result.stderr


def test_a_bad_config_value_is_one_line_per_problem_and_exit_2_before_the_engine(tmp_path: Path) -> None:
    shell = new_user_shell(tmp_path)
    stack_file = shell.cwd / "Pulumi.dev.yaml"
    text = stack_file.read_text()
    assert "access: readonly" in text
    stack_file.write_text(text.replace("access: readonly", "access: admin", 1))
    shell.env |= {"PULUMI_BACKEND_URL": f"file://{tmp_path}", "PULUMI_CONFIG_PASSPHRASE": "x"}
    started = time.monotonic()
    result = shell.run("make preview STACK=dev")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("make: ***")]
    assert lines[0] == "stack: stack 'dev': the im-access configuration has 1 problem; nothing was changed:"
    assert re.fullmatch(
        r"  - im-access:(operators|grants)\[\d+\]\.access: Input should be .*\(got 'admin'\).*", lines[1]
    )
    assert len(lines) == 2 and time.monotonic() - started < 60
    assert not (tmp_path / ".pulumi").exists(), "nothing reached the backend"
