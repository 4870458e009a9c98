"""Credential hand-over: a console-style CSV, owner-only, secrets never printed."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest

from commands import engine, handover

OPERATORS = {
    "im-stats-bot": {
        "userName": "im-stats-bot",
        "uin": 200000001011,
        "loginUrl": "https://example.test/login/1",
        "password": None,
        "secretId": "AKIDexample",
        "secretKey": "SKexample-secret",
    },
    "im-dev-alice": {
        "userName": "im-dev-alice",
        "uin": 200000001005,
        "loginUrl": "https://example.test/login/2",
        "password": "Generated-Pw-1!",
        "secretId": None,
        "secretKey": None,
    },
}


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "operators.json"
    path.write_text(json.dumps(OPERATORS))
    return path


def test_writes_the_console_columns_readable_by_the_owner_only(
    tmp_path: Path, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "creds" / "bot.csv"
    code = handover.main(
        [
            "--stack",
            "dev",
            "--operator",
            "im-stats-bot",
            "--outputs-file",
            str(outputs_file),
            "--out",
            str(out),
            "--plaintext",
        ]
    )

    assert code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.reader(out.open()))
    assert rows == [
        ["User name", "Password", "SecretId", "SecretKey", "Login link"],
        ["im-stats-bot", "", "AKIDexample", "SKexample-secret", "https://example.test/login/1"],
    ]
    printed = capsys.readouterr()
    assert "SKexample-secret" not in printed.out + printed.err
    assert str(out) in printed.out


def test_refuses_to_overwrite_without_force(tmp_path: Path, outputs_file: Path) -> None:
    out = tmp_path / "alice.csv"
    out.write_text("old")
    out.chmod(0o644)
    args = ["--stack", "dev", "--operator", "im-dev-alice", "--outputs-file", str(outputs_file), "--out", str(out)]
    args.append("--plaintext")

    assert handover.main(args) == 2
    assert out.read_text() == "old"
    assert handover.main([*args, "--force"]) == 0
    assert "Generated-Pw-1!" in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_unknown_operator_names_the_known_ones(
    tmp_path: Path, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = handover.main(
        [
            "--stack",
            "dev",
            "--operator",
            "nobody",
            "--outputs-file",
            str(outputs_file),
            "--out",
            str(tmp_path / "x.csv"),
        ]
    )

    assert code == 2
    assert "im-dev-alice, im-stats-bot" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_missing_engine_is_reported_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(engine, "PULUMI_ROOT", tmp_path / "no-engine")
    with pytest.raises(handover.HandoverError, match="run `make setup`"):
        handover.read_stack_operators("dev")


def test_list_prints_login_links_and_where_the_secrets_are_but_no_secret(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert handover.main(["--stack", "local", "--list", "--outputs-file", str(outputs_file)]) == 0
    printed = capsys.readouterr().out
    assert "im-dev-alice: https://example.test/login/2" in printed
    assert "im-stats-bot: https://example.test/login/1" in printed
    assert "encrypted stack state of `local`" in printed
    # The hint names a real operator and the flag it needs, so it runs as printed.
    assert printed.rstrip().endswith("make handover STACK=local OPERATOR=im-dev-alice PLAINTEXT=1")
    for secret in ("Generated-Pw-1!", "AKIDexample", "SKexample-secret"):
        assert secret not in printed
