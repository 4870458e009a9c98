"""MFA flags and the sealed hand-over, through the real engine and provider against localcloud.

One operator of the `local` stack logs in to the console and rotates a PGP-encrypted key, with an
age recipient: its MFA flags are read back with the official SDK, its hand-over is opened with the
test identities, and the plaintext SecretKey is looked for in state, the engine's output and the
reports: it is nowhere. Then it opts out of login protection: the flag is set back to 0 in CAM.
"""

from __future__ import annotations

import base64
import csv
import io
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyrage
import pytest
from pysequoia import Tsk, decrypt

from commands import handover
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, LocalCloudProcess, call

# The tests share one deployed stack and change it in turn: the module runs on one worker
# (`make test` distributes with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("credentials")

NAME = "im-local-sealed"
AGE = pyrage.x25519.Identity.generate()
PGP = Tsk.generate("IM operator <operator@example.com>")  # the operator's private key
PGP_PUBLIC = base64.b64encode(bytes(PGP.extract_certificate())).decode()  # raw, not armored
STOKEN_ONLY = {"Phone": 0, "Token": 0, "Stoken": 1, "Wechat": 0, "Custom": 0, "Mail": 0, "U2FToken": 0, "Passkey": 0}
OFF = {**STOKEN_ONLY, "Stoken": 0}
# What the first test's `up` handed over and printed, checked against every later run's output.
SECRET_KEYS: list[str] = []
UP_TEXTS: list[str] = []


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    workdir = tmp_path_factory.mktemp("credentials")
    cloud = LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *CAM_LAG).start()
    local = EngineProject(workdir, cloud)
    local.config("local")["im-access:operators"] = [
        {
            "name": NAME,
            "access": "readonly",
            "apiKey": {"rotateDays": 90, "overlapDays": 7, "pgpKey": PGP_PUBLIC},
            "ageRecipient": str(AGE.to_public()),
        }
    ]
    local.config("local")["im-access:grants"] = []
    yield local
    local.cloud.stop()


def flags(project: EngineProject) -> dict[str, Any]:
    cam = project.cloud.cam()
    return call(cam, "DescribeSafeAuthFlagColl", SubUin=call(cam, "GetUser", Name=NAME)["Uin"])


def test_a_console_operator_gets_login_protection_and_a_key_only_its_recipient_can_read(
    project: EngineProject, tmp_path: Path
) -> None:
    run = project.run("up")
    assert run.exit_code == 0, run.text
    assert flags(project)["LoginFlag"] == STOKEN_ONLY and flags(project)["ActionFlag"] == OFF

    operators = project.outputs()["operators"]
    path = handover.hand_over(operators, NAME, tmp_path / "sealed.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sealed.csv.age"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    header, row = list(csv.reader(io.StringIO(pyrage.decrypt(path.read_bytes(), [AGE]).decode())))
    fields = dict(zip(header, row, strict=True))
    assert fields["User name"] == NAME and fields["Password"] == operators[NAME]["password"]
    assert fields["Login link"].endswith(f"username={NAME}")
    assert fields["SecretKey"] == ""  # never had it: only the PGP message
    listed = call(project.cloud.cam(), "ListAccessKeys", TargetUin=operators[NAME]["uin"])["AccessKeys"]
    assert [key["AccessKeyId"] for key in listed] == [fields["SecretId"]]
    message = base64.b64decode(fields["SecretKey encrypted for the PGP key (base64)"])
    opened = decrypt(message, decryptor=PGP.decryptor()).bytes
    assert opened is not None
    secret_key = opened.decode()
    assert len(secret_key) >= 20 and secret_key.isalnum()

    SECRET_KEYS.append(secret_key)
    UP_TEXTS.append(run.text + str(run.summary))


def test_opting_out_of_login_protection_sets_the_flag_back_and_is_noted(project: EngineProject) -> None:
    operator = project.config("local")["im-access:operators"][0]
    operator["mfa"] = {"login": False, "reason": "kiosk account in the NOC, INC-42"}
    run = project.run("up")
    assert run.exit_code == 0, run.text
    assert flags(project)["LoginFlag"] == OFF
    noted = [v for v in run.summary.violations if v[1] == "im-console-login-protection"]
    assert noted and noted[0][0] == "advisory" and "INC-42" in noted[0][3]

    # The plaintext SecretKey is nowhere: not in state, the output of either `up` (this one with the
    # key in state already, printing the outputs) or the reports.
    (secret_key,) = SECRET_KEYS
    reports = "".join(p.read_text() for p in (project.workdir / "reports").iterdir() if p.is_file())
    for text in (project.state_files_text(), *UP_TEXTS, run.text + str(run.summary), reports):
        assert secret_key not in text


def test_full_access_gets_operation_protection_and_passes_on_an_approved_stack(project: EngineProject) -> None:
    project.config("prod")["im-access:grants"] = []  # its grantee does not exist in localcloud
    run = project.run("up", "prod")
    assert run.exit_code == 0, run.text
    assert not [v for v in run.summary.violations if "operation protection" in v[3]]
    cam = project.cloud.cam()
    oncall = call(cam, "DescribeSafeAuthFlagColl", SubUin=call(cam, "GetUser", Name="im-oncall")["Uin"])
    assert oncall["ActionFlag"] == STOKEN_ONLY and oncall["LoginFlag"] == STOKEN_ONLY
    auditor = call(cam, "DescribeSafeAuthFlagColl", SubUin=call(cam, "GetUser", Name="im-prod-auditor")["Uin"])
    assert auditor["ActionFlag"] == OFF and auditor["LoginFlag"] == STOKEN_ONLY
