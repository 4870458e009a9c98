"""localcloud serves several accounts, each with its own state: the main one and every account whose
root key `--other-account-key` names. Driven by the official Tencent Cloud SDK: a request acts in
the account of the key that signed it, and AssumeRole reaches a role of another account whose
trust policy names the caller, handing out credentials that act in the role's account."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.cam.v20190116.cam_client import CamClient
from tencentcloud.common.common_client import CommonClient

from tests.localcloud_process import NO_RATE_LIMITS, ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess, call, error_code
from tests.oidc_issuer import AUDIENCE, ISSUER, OidcIssuer, subject

A = 100012345678  # the main account (--owner-uin's default)
B = 200098765432
B_KEY = ("AKIDaccountb", "account-b-secret")
UNKNOWN = 300011112222
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def flags() -> tuple[str, ...]:
    return ("--other-account-key", *B_KEY, str(B))


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("accounts") / "state.db"


@pytest.fixture(scope="module")
def cloud(state: Path) -> Iterator[LocalCloudProcess]:
    with LocalCloudProcess(state, NO_RATE_LIMITS, *flags()) as process:
        yield process


def in_b(cloud: LocalCloudProcess) -> CamClient:
    return cloud.cam(secret_id=B_KEY[0], secret_key=B_KEY[1])


def user_names(cam: CamClient) -> set[str]:
    return {user["Name"] for user in call(cam, "ListUsers")["Data"]}


def trusting(*principals: str, action: str = "name/sts:AssumeRole", key: str = "qcs") -> str:
    statement = {"effect": "allow", "action": action, "principal": {key: list(principals)}}
    return json.dumps({"version": "2.0", "statement": [statement]})


def role_in(cam: CamClient, document: str, *actions: str) -> str:
    """A role with a policy of its own that allows `actions`."""
    name = unique("role")
    call(cam, "CreateRole", RoleName=name, PolicyDocument=document)
    if actions:
        policy = {"version": "2.0", "statement": [{"effect": "allow", "action": list(actions), "resource": ["*"]}]}
        policy_id = call(cam, "CreatePolicy", PolicyName=unique("policy"), PolicyDocument=json.dumps(policy))
        call(cam, "AttachRolePolicy", PolicyId=policy_id["PolicyId"], AttachRoleName=name)
    return name


def assume(cloud: LocalCloudProcess, account: int, role: str, **key: str) -> dict[str, Any]:
    """AssumeRole through the official STS client, signed with `key` (the main account's root key by default)."""
    sts = cloud.sts(**key, via_proxy=True)
    arn = f"qcs::cam::uin/{account}:roleName/{role}"
    return call(sts, "AssumeRole", RoleArn=arn, RoleSessionName="deploy", DurationSeconds=900)


def session_clients(cloud: LocalCloudProcess, credentials: dict[str, Any]) -> tuple[CamClient, Any]:
    key = {"secret_id": credentials["TmpSecretId"], "secret_key": credentials["TmpSecretKey"]}
    return cloud.cam(**key, token=credentials["Token"]), cloud.sts(**key, token=credentials["Token"])


def test_each_accounts_root_key_acts_in_its_own_account(cloud: LocalCloudProcess) -> None:
    in_a, b = cloud.cam(), in_b(cloud)
    call(in_a, "AddUser", Name="only-in-a")
    call(b, "AddUser", Name="only-in-b")
    assert "only-in-a" in user_names(in_a) and "only-in-a" not in user_names(b)
    assert "only-in-b" in user_names(b) and "only-in-b" not in user_names(in_a)
    assert error_code(in_a, "GetUser", Name="only-in-b") == "ResourceNotFound.UserNotExist"
    # The same name may exist in both, as two users.
    call(in_a, "AddUser", Name="in-both")
    call(b, "AddUser", Name="in-both")
    call(b, "DeleteUser", Name="in-both")
    assert call(in_a, "GetUser", Name="in-both")["Name"] == "in-both"
    # Each account has the preset policies, and attachments name the account that made them.
    call(b, "AttachUserPolicy", AttachUin=call(b, "GetUser", Name="only-in-b")["Uin"], PolicyId=400411)
    attached = call(b, "ListAttachedUserPolicies", TargetUin=call(b, "GetUser", Name="only-in-b")["Uin"])
    assert [(p["PolicyName"], p["OperateOwnerUin"]) for p in attached["List"]] == [("ReadOnlyAccess", str(B))]
    identity = call(cloud.sts(secret_id=B_KEY[0], secret_key=B_KEY[1]), "GetCallerIdentity")
    assert (identity["AccountId"], identity["Arn"]) == (str(B), f"qcs::cam:{B}:uin/{B}")


def test_a_role_of_another_account_that_trusts_the_caller_acts_there_within_its_policies(
    cloud: LocalCloudProcess,
) -> None:
    role = role_in(in_b(cloud), trusting(f"qcs::cam::uin/{A}:root"), "name/cam:AddUser", "name/cam:GetUser")
    answer = assume(cloud, B, role)
    session_cam, session_sts = session_clients(cloud, answer["Credentials"])
    name = unique("made-by-role")
    call(session_cam, "AddUser", Name=name)
    assert name in user_names(in_b(cloud)) and name not in user_names(cloud.cam())
    assert call(session_cam, "GetUser", Name=name)["Name"] == name
    # Its policy allows AddUser and GetUser, nothing else.
    assert error_code(session_cam, "DeleteUser", Name=name) == "UnauthorizedOperation"
    assert error_code(session_cam, "ListUsers") == "UnauthorizedOperation"
    identity = call(session_sts, "GetCallerIdentity")
    assert identity["AccountId"] == str(B) and identity["Arn"] == f"qcs::sts:{B}:assumed-role/{role}"
    assert identity["Type"] == "CAMRole"


def test_a_role_that_does_not_trust_the_caller_is_refused(cloud: LocalCloudProcess) -> None:
    b = in_b(cloud)
    only_b = role_in(b, trusting(f"qcs::cam::uin/{B}:root"), "name/cam:GetUser")
    arn = f"qcs::cam::uin/{B}:roleName/{only_b}"
    assert error_code(cloud.sts(via_proxy=True), "AssumeRole", RoleArn=arn, RoleSessionName="deploy") == (
        "UnauthorizedOperation"
    )
    # The look-alike holds: the account it trusts may assume it.
    assert assume(cloud, B, only_b, secret_id=B_KEY[0], secret_key=B_KEY[1])["Credentials"]["Token"]
    # A trust naming a sub-user or a role of A is not A's root.
    for principal in (f"qcs::cam::uin/{A}:uin/100030000001", f"qcs::cam::uin/{A}:roleName/deploy"):
        other = role_in(b, trusting(principal))
        arn = f"qcs::cam::uin/{B}:roleName/{other}"
        assert error_code(cloud.sts(), "AssumeRole", RoleArn=arn, RoleSessionName="deploy") == "UnauthorizedOperation"
    # B's root key cannot assume A's role that trusts only A.
    in_a = role_in(cloud.cam(), trusting(f"qcs::cam::uin/{A}:root"))
    arn = f"qcs::cam::uin/{A}:roleName/{in_a}"
    b_sts = cloud.sts(secret_id=B_KEY[0], secret_key=B_KEY[1])
    assert error_code(b_sts, "AssumeRole", RoleArn=arn, RoleSessionName="deploy") == "UnauthorizedOperation"


def test_a_role_of_an_account_localcloud_does_not_hold_is_not_found(cloud: LocalCloudProcess) -> None:
    arn = f"qcs::cam::uin/{UNKNOWN}:roleName/deploy"
    assert (
        error_code(cloud.sts(), "AssumeRole", RoleArn=arn, RoleSessionName="deploy") == "ResourceNotFound.RoleNotFound"
    )
    # A role name that exists in B is still not found in another account.
    role = role_in(in_b(cloud), trusting(f"qcs::cam::uin/{A}:root"))
    arn = f"qcs::cam::uin/{UNKNOWN}:roleName/{role}"
    assert (
        error_code(cloud.sts(), "AssumeRole", RoleArn=arn, RoleSessionName="deploy") == "ResourceNotFound.RoleNotFound"
    )
    arn = f"qcs::cam::uin/{A}:roleName/{role}"  # B's role, asked for in A
    assert (
        error_code(cloud.sts(), "AssumeRole", RoleArn=arn, RoleSessionName="deploy") == "ResourceNotFound.RoleNotFound"
    )


def test_a_web_identity_role_uses_its_own_accounts_identity_provider(cloud: LocalCloudProcess) -> None:
    issuer, b = OidcIssuer(), in_b(cloud)
    provider = unique("github")
    key = {"IdentityUrl": ISSUER, "IdentityKey": issuer.identity_key, "ClientId": [AUDIENCE]}
    call(b, "CreateOIDCConfig", Name=provider, **key)
    federated = f"qcs::cam::uin/{B}:oidc-provider/{provider}"
    document = json.loads(trusting(federated, action="name/sts:AssumeRoleWithWebIdentity", key="federated"))
    document["statement"][0]["condition"] = {"string_equal": {"oidc:sub": subject("environment:b")}}
    role = role_in(b, json.dumps(document), "name/cam:AddUser")
    client = CommonClient("sts", "2018-08-13", None, "ap-guangzhou", profile=cloud._profile(True, "sts"))
    body = {
        "ProviderId": provider,
        "WebIdentityToken": issuer.token(subject("environment:b")),
        "RoleArn": f"qcs::cam::uin/{B}:roleName/{role}",
        "RoleSessionName": "ci",
    }
    credentials = client.call_json("AssumeRoleWithWebIdentity", body, options={"SkipSign": True})["Response"]
    session_cam, _ = session_clients(cloud, credentials["Credentials"])
    name = unique("made-by-ci")
    call(session_cam, "AddUser", Name=name)
    assert name in user_names(b) and name not in user_names(cloud.cam())
    # A has no provider of that name: the same token names no provider there.
    a_role = role_in(cloud.cam(), json.dumps(document).replace(str(B), str(A)))
    with pytest.raises(Exception, match=r"InvalidParameter\.ParamError"):
        arn = f"qcs::cam::uin/{A}:roleName/{a_role}"
        client.call_json("AssumeRoleWithWebIdentity", {**body, "RoleArn": arn}, options={"SkipSign": True})


def test_each_accounts_state_survives_a_restart(state: Path, cloud: LocalCloudProcess) -> None:
    call(cloud.cam(), "AddUser", Name="kept-in-a")
    call(in_b(cloud), "AddUser", Name="kept-in-b")
    role = role_in(in_b(cloud), trusting(f"qcs::cam::uin/{A}:root"), "name/cam:GetUser")
    session = assume(cloud, B, role)["Credentials"]
    cloud.stop()
    assert state.exists() and state.with_name(f"state-{B}.db").exists()
    cloud.start()
    assert "kept-in-a" in user_names(cloud.cam()) and "kept-in-a" not in user_names(in_b(cloud))
    assert "kept-in-b" in user_names(in_b(cloud)) and "kept-in-b" not in user_names(cloud.cam())
    session_cam, _ = session_clients(cloud, session)
    assert call(session_cam, "GetUser", Name="kept-in-b")["Name"] == "kept-in-b"


def test_an_account_is_served_only_while_its_key_is_given(state: Path, cloud: LocalCloudProcess) -> None:
    """Without --other-account-key, B's key is unknown and its state file is left as it is."""
    call(in_b(cloud), "AddUser", Name="b-while-served")
    cloud.stop()
    before = state.with_name(f"state-{B}.db").stat().st_size
    with LocalCloudProcess(state, NO_RATE_LIMITS) as alone:
        assert error_code(alone.cam(secret_id=B_KEY[0], secret_key=B_KEY[1]), "ListUsers") == (
            "AuthFailure.SecretIdNotFound"
        )
        assert "b-while-served" not in user_names(alone.cam())
    assert state.with_name(f"state-{B}.db").stat().st_size == before
    cloud.start()
    assert "b-while-served" in user_names(in_b(cloud))


def test_bad_account_keys_are_all_named_and_nothing_is_made(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "localcloud", "serve", "--port", "0", "--state", str(tmp_path / "state.db")]
    for key in (("AKIDb", "k", "../x"), ("AKIDc", "k", str(A)), (SECRET_ID, "k", "200000000001"), ("AKIDb", "k", "2")):
        command += ["--other-account-key", *key]
    env = {**os.environ, "TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert f"not '../x', '{A}'" in result.stderr
    assert f"given more than once: AKIDb, {SECRET_ID}" in result.stderr
    assert list(tmp_path.iterdir()) == []
