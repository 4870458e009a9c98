"""The hand-over sealed for its recipient: age-encrypted in memory, no plaintext on disk, and a
refusal to write secrets in plain text unless asked."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Mapping
from pathlib import Path

import pyrage
import pytest

from commands import handover

IDENTITY = pyrage.x25519.Identity.generate()
OPERATOR = {
    "userName": "im-ops",
    "uin": 200000001011,
    "loginUrl": "https://intl.cloud.tencent.com/login/subAccount/1?username=im-ops",
    "password": "Generated-Pw-1!",
    "secretId": "AKIDexample",
    "secretKey": "SKexample-secret-key-value",
    "previousKeyLastDay": "2026-12-08",
    "nextKey": "2027-03-01",
    "ageRecipient": str(IDENTITY.to_public()),
}


def run(tmp_path: Path, operator: Mapping[str, object], *extra: str) -> int:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"im-ops": operator}))
    out = tmp_path / "creds" / "ops.csv"
    args = ["--stack", "dev", "--operator", "im-ops", "--outputs-file", str(outputs), "--out", str(out)]
    return handover.main([*args, *extra])


def test_an_age_recipient_gets_only_the_sealed_file_with_every_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, OPERATOR) == 0
    written = sorted(p.name for p in (tmp_path / "creds").iterdir())
    assert written == ["ops.csv.age"]  # no plaintext file, not even for a moment under another name
    sealed = tmp_path / "creds" / "ops.csv.age"
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    raw = sealed.read_bytes()
    for secret in ("Generated-Pw-1!", "SKexample-secret-key-value", "AKIDexample"):
        assert secret.encode() not in raw
    header, row = list(csv.reader(io.StringIO(pyrage.decrypt(raw, [IDENTITY]).decode())))
    assert dict(zip(header, row, strict=True)) == {
        "User name": "im-ops",
        "Password": "Generated-Pw-1!",
        "SecretId": "AKIDexample",
        "SecretKey": "SKexample-secret-key-value",
        "Login link": OPERATOR["loginUrl"],
        "Previous key works until": "2026-12-08",
        "Next key on": "2027-03-01",
    }
    printed = capsys.readouterr()
    assert "sealed" in printed.out and "Generated-Pw-1!" not in printed.out + printed.err


def test_another_identity_cannot_open_it(tmp_path: Path) -> None:
    assert run(tmp_path, OPERATOR) == 0
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt((tmp_path / "creds" / "ops.csv.age").read_bytes(), [pyrage.x25519.Identity.generate()])


def test_without_a_recipient_secrets_go_to_disk_only_with_plaintext(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    operator = {k: v for k, v in OPERATOR.items() if k != "ageRecipient"}
    assert run(tmp_path, operator) == 2
    error = capsys.readouterr().err
    assert "password and secretKey would be written in plain text" in error and "--plaintext" in error
    assert not (tmp_path / "creds").exists() or not any((tmp_path / "creds").iterdir())
    assert run(tmp_path, operator, "--plaintext") == 0
    assert "SKexample-secret-key-value" in (tmp_path / "creds" / "ops.csv").read_text()


def test_a_pgp_encrypted_key_alone_needs_no_plaintext_flag(tmp_path: Path) -> None:
    operator = {
        "userName": "im-ops",
        "password": None,
        "secretId": "AKIDexample",
        "secretKey": None,
        "encryptedSecretKey": "wcBMA0pgpmessage==",
    }
    assert run(tmp_path, operator) == 0
    header, row = list(csv.reader((tmp_path / "creds" / "ops.csv").open()))
    assert dict(zip(header, row, strict=True))["SecretKey encrypted for the PGP key (base64)"] == "wcBMA0pgpmessage=="


def test_a_bad_age_recipient_is_a_one_line_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, {**OPERATOR, "ageRecipient": "age1notakey"}) == 2
    assert capsys.readouterr().err.startswith("handover: 'age1notakey' is not an age public key")
    assert not (tmp_path / "creds").exists() or not any((tmp_path / "creds").iterdir())
