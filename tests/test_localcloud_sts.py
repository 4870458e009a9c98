"""STS GetCallerIdentity in localcloud, through the official STS SDK client: per key, as STS
answers, for the root key, a restricted sub-user key and a key of another account."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.localcloud_process import LocalCloudProcess, call, error_code

OWNER = 100012345678
OTHER_ACCOUNT = ("AKIDotheraccount", "other-account-secret", "200098765432")
READER = ("AKIDreader", "reader-secret")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    folder = tmp_path_factory.mktemp("sts")
    policy = folder / "reader.json"
    statement = {"effect": "allow", "action": ["name/cam:ListPolicies"], "resource": ["*"]}
    policy.write_text(json.dumps({"version": "2.0", "statement": [statement]}))
    flags = ("--other-account-key", *OTHER_ACCOUNT, "--restricted-identity", *READER, str(policy))
    with LocalCloudProcess(folder / "state.db", *flags) as process:
        yield process


@pytest.mark.parametrize("via_proxy", [False, True])
def test_the_root_key_is_the_account_itself(cloud: LocalCloudProcess, via_proxy: bool) -> None:
    answer = call(cloud.sts(via_proxy=via_proxy), "GetCallerIdentity")
    assert answer["AccountId"] == answer["UserId"] == answer["PrincipalId"] == str(OWNER)
    assert answer["Arn"] == f"qcs::cam:{OWNER}:uin/{OWNER}"
    assert answer["Type"] == "CAMUser" and answer["RequestId"]


def test_a_sub_user_key_names_its_account_and_itself(cloud: LocalCloudProcess) -> None:
    # A restricted key may ask who it is whatever its policy, which allows only ListPolicies.
    answer = call(cloud.sts(secret_id=READER[0], secret_key=READER[1]), "GetCallerIdentity")
    assert answer["AccountId"] == str(OWNER)
    assert answer["UserId"] == answer["PrincipalId"] == "100030000001"
    assert answer["Arn"] == f"qcs::cam:{OWNER}:uin/100030000001"


def test_a_key_of_another_account_names_that_account(cloud: LocalCloudProcess) -> None:
    secret_id, secret_key, account = OTHER_ACCOUNT
    answer = call(cloud.sts(secret_id=secret_id, secret_key=secret_key, via_proxy=True), "GetCallerIdentity")
    assert answer["AccountId"] == account and answer["Arn"] == f"qcs::cam:{account}:uin/{account}"
    # localcloud serves that account too: the key acts there (tests/test_localcloud_accounts.py).
    assert call(cloud.cam(secret_id=secret_id, secret_key=secret_key), "ListUsers")["Data"] == []


def test_wrong_keys_and_parameters_are_refused(cloud: LocalCloudProcess) -> None:
    assert error_code(cloud.sts(secret_key="wrong"), "GetCallerIdentity") == "AuthFailure.SignatureFailure"
    assert error_code(cloud.sts(secret_id="AKIDnobody"), "GetCallerIdentity") == "AuthFailure.SecretIdNotFound"
    client = cloud.sts()
    assert client.call_json("GetCallerIdentity", {})["Response"]["AccountId"] == str(OWNER)
    with pytest.raises(Exception, match="UnknownParameter"):
        client.call_json("GetCallerIdentity", {"Extra": 1})


def test_another_account_key_must_name_another_account(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="did not start"):
        LocalCloudProcess(tmp_path / "state.db", "--other-account-key", "AKIDx", "key", str(OWNER)).start()
