"""How every command ends (commands/cli.py): an expected error is one line and exit 2, an unexpected
one shows its traceback and exits 2 too; through the commands' real entry points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from commands import cli
from commands.preflight import PreflightError
from tests.localcloud_process import ROOT


def fails(error: BaseException) -> int:
    def main() -> int:
        raise error

    return cli.run("stack", main)


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (PreflightError("PULUMI_CONFIG_PASSPHRASE is not set"), "stack: PULUMI_CONFIG_PASSPHRASE is not set\n"),
        (
            auto.errors.CommandError(
                CommandResult("Previewing...", "warning: x\nerror: no stack named 'dev' found", 255)
            ),
            "stack: the Pulumi CLI failed: no stack named 'dev' found\n",
        ),
        (
            FileNotFoundError(2, "No such file or directory", "Pulumi.dev.yaml"),
            "stack: No such file or directory: Pulumi.dev.yaml\n",
        ),
    ],
)
def test_an_expected_error_is_one_line_and_exit_2(
    error: BaseException, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fails(error) == 2
    captured = capsys.readouterr()
    assert captured.err == line and captured.out == ""


def test_an_unexpected_error_shows_its_traceback_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert fails(KeyError("operators")) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "KeyError: 'operators'" in err
    assert err.endswith("stack: an unexpected error (the traceback above); nothing after it ran\n")


def test_an_unknown_command_is_a_usage_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "commands.stack", "deploy", "dev"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "invalid choice: 'deploy'" in result.stderr


def test_a_missing_events_folder_is_one_line() -> None:
    command = [sys.executable, "-m", "commands.preview_report", "--events", "/nonexistent", "--project", str(ROOT)]
    result = subprocess.run([*command, "--out", "/proc/forbidden"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.startswith("preview-report: ")


def test_a_hand_over_from_a_bad_outputs_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "outputs.json").write_text("[1")
    command = [sys.executable, "-m", "commands.handover", "--stack", "dev", "--list", "--outputs-file"]
    broken = subprocess.run([*command, str(tmp_path / "outputs.json")], cwd=ROOT, capture_output=True, text=True)
    missing = subprocess.run([*command, str(tmp_path / "none.json")], cwd=ROOT, capture_output=True, text=True)
    assert broken.returncode == 2 and broken.stderr.startswith(f"handover: {tmp_path / 'outputs.json'} is not JSON")
    assert (
        missing.returncode == 2 and missing.stderr == f"handover: No such file or directory: {tmp_path / 'none.json'}\n"
    )
    assert "Traceback" not in broken.stderr + missing.stderr
