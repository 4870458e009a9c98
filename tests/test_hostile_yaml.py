"""Hostile YAML never crashes or hangs what reads it: a break-glass date with a time, alias bombs
and deep nesting in break_glass.yaml and in stack files, over the pack's protocol, through the
audit command and through the stack command."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from im_access import safe_yaml
from im_access.config import ConfigurationError, read_stack_file
from tests.analyzer_client import POLICY_PACK, AnalyzerResource, PolicyPackProcess, mandatory
from tests.harness import LOCALCLOUD_ROUTE
from tests.localcloud_process import LocalCloudProcess
from tests.pull_request import make_preview_localcloud, program_checkout
from tests.test_stack_files import audit_env

VALIDITY = "im-break-glass-exceptions-valid"
STACK = AnalyzerResource("pulumi:pulumi:Stack", "im-access-staging", {})
SEED = Path(__file__).resolve().parent.parent / "localcloud" / "seeds" / "local.json"
CODE = ("commands", "im_access", "policy_pack", "engine")
DATED = """exceptions:
  - stack: staging
    principal: user:im-stg-oncall
    access: full
    approver: security-lead@example.com
    reason: INC-1234
    added: {added}
    expires: 2026-11-27
"""


def alias_bomb(leaf: str = '"lol"', where: str = "exceptions: [{stack: staging, reason: *i}]") -> str:
    """The classic billion laughs: nine levels of nine aliases, a few hundred bytes."""
    lines = [f"a: &a [{', '.join([leaf] * 9)}]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join([*lines, where]) + "\n"


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fails the test instead of hanging it."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def pack_with(tmp_path: Path) -> Iterator[Any]:
    started: list[PolicyPackProcess] = []

    def start(break_glass: str) -> PolicyPackProcess:
        pack_dir = tmp_path / f"pack-{len(started)}"
        shutil.copytree(POLICY_PACK, pack_dir, ignore=shutil.ignore_patterns("__pycache__"))
        (pack_dir / "break_glass.yaml").write_text(break_glass)
        with deadline(30):
            pack = PolicyPackProcess(
                "staging",
                pack_dir=pack_dir,
                extra_env={"IM_ACCESS_TODAY": "2026-11-26", **LOCALCLOUD_ROUTE},
            )
        started.append(pack)
        pack.configure({})
        return pack

    yield start
    for pack in started:
        pack.close()


@pytest.mark.parametrize("added", ["2026-11-25 10:00:00", "2026-11-25T10:00:00Z", "20261125"])
def test_a_break_glass_date_with_a_time_is_a_clear_error_of_the_pack(pack_with: Any, added: str) -> None:
    pack = pack_with(DATED.format(added=added))
    (error,) = mandatory(pack.analyze(STACK))
    assert error.policy == VALIDITY
    assert "added must be a date YYYY-MM-DD, without a time" in error.message and "allows nothing" in error.message


def test_an_alias_bomb_in_break_glass_yaml_is_refused_at_once(pack_with: Any) -> None:
    started = time.monotonic()
    pack = pack_with(alias_bomb())
    (error,) = mandatory(pack.analyze(STACK))
    assert time.monotonic() - started < 20
    assert error.policy == VALIDITY and "expands to more than" in error.message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (alias_bomb(), "expands to more than"),
        ("config: " + "[" * 200 + "]" * 200, "nested more than"),
        ("config:\n" + "".join(f"  k{i}: &x{i} v\n  r{i}: *x{i}\n" for i in range(101)), "more than 100 aliases"),
        ("config: {a: '" + "x" * safe_yaml.MAX_BYTES + "'}", "larger than"),
    ],
)
def test_a_stack_file_over_the_limits_is_refused_before_anything_is_built(
    tmp_path: Path, text: str, problem: str
) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(text)
    with deadline(10), pytest.raises(ConfigurationError) as raised:
        read_stack_file(stack_file)
    assert problem in str(raised.value) and "Pulumi.dev.yaml" in str(raised.value)


def test_quoting_an_aliased_config_value_in_an_error_is_bounded() -> None:
    import yaml

    from im_access.config import parse_stack_config

    bomb = yaml.safe_load(alias_bomb(where="grants: *i"))  # built without the limits, as a program might
    with deadline(10), pytest.raises(ConfigurationError) as raised:
        parse_stack_config("dev", {"ownerUin": "100012345678", "grants": bomb["grants"]})
    assert len(str(raised.value)) < 20_000


@pytest.fixture
def code_copy(tmp_path: Path) -> Path:
    """This checkout's commands and guardrails in a folder of their own, to edit break_glass.yaml."""
    root = Path(__file__).resolve().parent.parent
    copy = tmp_path / "checkout"
    for name in CODE:
        shutil.copytree(root / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "Pulumi.local.yaml").write_text(
        'config:\n  tencentcloud:protocol: HTTP\n  im-access:ownerUin: "100012345678"\n'
        '  tencentcloud:allowedAccountIds: ["100012345678"]\n'
    )
    return copy


@pytest.mark.parametrize("break_glass", [DATED.format(added="2026-11-25 10:00:00"), alias_bomb()])
def test_the_audit_reports_a_bad_exceptions_file_and_still_audits(code_copy: Path, break_glass: str) -> None:
    (code_copy / "policy_pack" / "break_glass.yaml").write_text(break_glass.replace("staging", "local"))
    with LocalCloudProcess(code_copy / "localcloud.db", "--seed", str(SEED)) as cloud:
        env = audit_env(cloud)
        command = [sys.executable, "-m", "commands.audit", "--stack", "local", "--project", str(code_copy)]
        result = subprocess.run(command, cwd=code_copy, env=env, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no drift" in result.stdout
    assert "break-glass exception" in result.stderr and "allows nothing" in result.stderr


def test_make_preview_localcloud_refuses_an_alias_bomb_in_a_stack_file_before_the_engine(tmp_path: Path) -> None:
    project = program_checkout(tmp_path / "pr")
    (project / "Pulumi.dev.yaml").write_text(alias_bomb(where='config: {"im-access:ownerUin": "1", x: *i}'))
    started = time.monotonic()
    result = make_preview_localcloud(project, tmp_path, timeout=120)
    assert result.returncode != 0
    assert "Pulumi.dev.yaml: expands to more than" in result.stderr, result.stdout + result.stderr
    assert time.monotonic() - started < 60


# A date that is no day, and an integer longer than Python converts, in every YAML the project reads:
# the reader names the key and what it allows, where YAML's constructors would raise a ValueError.
IMPOSSIBLE_DATE = "2027-02-30"
HUGE = "9" * 5000


@pytest.mark.parametrize("value", [IMPOSSIBLE_DATE, HUGE])
def test_a_stack_file_value_that_is_no_date_or_too_long_a_number_names_its_key(tmp_path: Path, value: str) -> None:
    from im_access.config import parse_stack_config, read_namespace

    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(
        'config:\n  im-access:ownerUin: "100012345678"\n  tencentcloud:allowedAccountIds: ["100012345678"]\n'
        f"  im-access:grants:\n    - user: qa-lead\n      access: readonly\n      expires: {value}\n"
    )
    with pytest.raises(ConfigurationError) as raised:
        parse_stack_config("dev", read_namespace(read_stack_file(stack_file)))
    (line,) = [line for line in str(raised.value).splitlines() if "expires" in line]
    assert "im-access:grants[0].expires" in line and "allowed: a date YYYY-MM-DD" in line
    assert len(line) < 400


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("break_glass.yaml", DATED.format(added="2026-11-25").replace("2026-11-27", IMPOSSIBLE_DATE), "expires"),
        ("break_glass.yaml", DATED.format(added=HUGE), "added"),
        ("approvals.yaml", f"stacks:\n  staging:\n    account: {HUGE}\n    fullAccessApproved: false\n", "account"),
        ("trust.yaml", f"repository: a/b\norganizationUins: [{HUGE}]\n", "organizationUins"),
    ],
)
def test_the_pack_starts_with_a_bad_value_in_a_reviewed_file_and_names_the_key(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    pack_dir = tmp_path / "pack"
    shutil.copytree(POLICY_PACK, pack_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (pack_dir / name).write_text(text)
    with deadline(30), PolicyPackProcess("staging", pack_dir=pack_dir) as pack:
        pack.configure({})
        found = mandatory(pack.analyze(STACK))
    assert any(problem in d.message and "Traceback" not in d.message for d in found), [d.message for d in found]
    assert all(len(d.message) < 2000 for d in found)


def test_a_5000_digit_policy_or_group_id_is_judged_not_an_rpc_error() -> None:
    user = AnalyzerResource("tencentcloud:Cam/user:User", "alice", {"name": "alice"})
    attachment = AnalyzerResource(
        "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment", "huge", {"userName": "alice", "policyId": HUGE}
    )
    grant = AnalyzerResource("im-access:index:ImAccessGrant", "g", {"access": "full", "groupId": HUGE})
    with PolicyPackProcess("dev") as pack:
        pack.configure({})
        on_grant = mandatory(pack.analyze(grant))
        found = mandatory(pack.analyze_stack([user, attachment, grant]))
    assert any("Remove IM full access for group '9999" in d.message for d in on_grant), on_grant
    assert all(len(d.message) < 2000 for d in on_grant + found)
    assert any("cannot be shown" in d.message for d in found if d.urn == attachment.urn)
