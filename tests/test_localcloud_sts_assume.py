"""localcloud's roles, role OIDC providers and STS, driven by the official Tencent Cloud SDK for
Python: AssumeRoleWithWebIdentity checks the token (signature against the provider's JWKS, iss,
aud, exp, and sub against the role's trust policy), and the temporary credentials it hands out act
as the role, limited by the role's policies, only together with their token."""

from __future__ import annotations

import itertools
import json
import time
import warnings
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from tencentcloud.cam.v20190116.cam_client import CamClient
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813.sts_client import StsClient

from tests.localcloud_process import NO_RATE_LIMITS, LocalCloudProcess, call, error_code
from tests.oidc_issuer import AUDIENCE, ISSUER, OidcIssuer, subject

OWNER_UIN = 100012345678
PROVIDER = "github"
READ_ONLY_ACCESS = 400411  # name/*:Describe*, name/*:List*, name/*:Get*
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def trust(sub: str | list[str], operator: str = "string_equal") -> str:
    return json.dumps(
        {
            "version": "2.0",
            "statement": [
                {
                    "effect": "allow",
                    "action": "name/sts:AssumeRoleWithWebIdentity",
                    "principal": {"federated": [f"qcs::cam::uin/{OWNER_UIN}:oidc-provider/{PROVIDER}"]},
                    "condition": {operator: {"oidc:aud": [AUDIENCE], "oidc:sub": sub}},
                }
            ],
        }
    )


ROOT_TRUST = json.dumps(
    {
        "version": "2.0",
        "statement": [
            {
                "effect": "allow",
                "action": "name/sts:AssumeRole",
                "principal": {"qcs": [f"qcs::cam::uin/{OWNER_UIN}:root"]},
            }
        ],
    }
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with LocalCloudProcess(tmp_path_factory.mktemp("localcloud") / "state.db", NO_RATE_LIMITS) as process:
        yield process


@pytest.fixture(scope="module")
def cam(cloud: LocalCloudProcess) -> CamClient:
    return cloud.cam()


@pytest.fixture(scope="module")
def issuer(cam: CamClient) -> OidcIssuer:
    """The test issuer, published as the role OIDC provider `github`."""
    found = OidcIssuer()
    call(
        cam, "CreateOIDCConfig", Name=PROVIDER, IdentityUrl=ISSUER, IdentityKey=found.identity_key, ClientId=[AUDIENCE]
    )
    return found


def new_role(cam: CamClient, document: str, *policies: int) -> str:
    name = unique("role")
    call(cam, "CreateRole", RoleName=name, PolicyDocument=document, ConsoleLogin=0)
    for policy_id in policies:
        call(cam, "AttachRolePolicy", PolicyId=policy_id, AttachRoleName=name)
    return name


def arn(role: str) -> str:
    return f"qcs::cam::uin/{OWNER_UIN}:roleName/{role}"


def assume_with_token(cloud: LocalCloudProcess, role: str, token: str, **params: Any) -> dict[str, Any]:
    """AssumeRoleWithWebIdentity exactly as the SDK's OIDCRoleArnCredential sends it: unsigned
    (Authorization: SKIP), read back through the SDK's response model."""
    client = CommonClient("sts", "2018-08-13", None, "ap-guangzhou", profile=cloud._profile(True, "sts"))
    body = {"ProviderId": PROVIDER, "WebIdentityToken": token, "RoleArn": arn(role), "RoleSessionName": "ci"}
    answer = client.call_json("AssumeRoleWithWebIdentity", {**body, **params}, options={"SkipSign": True})
    model = sts_models.AssumeRoleWithWebIdentityResponse()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model._deserialize(answer["Response"])
    assert not [w for w in caught if "useless" in str(w.message)]
    return dict(json.loads(model.to_json_string()))


def refused(cloud: LocalCloudProcess, role: str, token: str, **params: Any) -> str:
    try:
        assume_with_token(cloud, role, token, **params)
    except TencentCloudSDKException as error:
        return str(error.get_code())
    raise AssertionError("AssumeRoleWithWebIdentity succeeded, but a refusal was expected")


def cam_as(cloud: LocalCloudProcess, credentials: dict[str, Any], token: str | None = None) -> CamClient:
    secret = credential.Credential(
        credentials["TmpSecretId"], credentials["TmpSecretKey"], credentials["Token"] if token is None else token
    )
    return CamClient(secret, "", cloud._profile(False, "cam"))


def sts_client(cloud: LocalCloudProcess, secret: credential.Credential | None = None) -> StsClient:
    from tests.localcloud_process import SECRET_ID, SECRET_KEY

    return StsClient(
        secret or credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", cloud._profile(True, "sts")
    )


# ---- roles ---------------------------------------------------------------------------------


def test_a_role_is_created_read_updated_attached_and_deleted_as_cam_answers(cam: CamClient) -> None:
    name = unique("deploy")
    role_id = call(cam, "CreateRole", RoleName=name, PolicyDocument=trust(subject("environment:dev")))["RoleId"]
    info = call(cam, "GetRole", RoleId=role_id)["RoleInfo"]
    assert (info["RoleName"], info["RoleArn"]) == (name, arn(name))
    assert json.loads(info["PolicyDocument"]) == json.loads(trust(subject("environment:dev")))
    assert name in [r["RoleName"] for r in call(cam, "DescribeRoleList", Page=1, Rp=200)["List"]]

    call(cam, "UpdateAssumeRolePolicy", RoleId=role_id, PolicyDocument=trust(subject("environment:prod")))
    assert "environment:prod" in call(cam, "GetRole", RoleName=name)["RoleInfo"]["PolicyDocument"]
    call(cam, "UpdateRoleDescription", RoleId=role_id, Description="deploys prod")
    call(cam, "UpdateRoleConsoleLogin", RoleId=int(role_id), ConsoleLogin=1)
    info = call(cam, "GetRole", RoleName=name)["RoleInfo"]
    assert (info["Description"], info["ConsoleLogin"]) == ("deploys prod", 1)

    call(cam, "AttachRolePolicy", PolicyId=READ_ONLY_ACCESS, AttachRoleId=role_id)
    call(cam, "AttachRolePolicy", PolicyName="QcloudIMReadOnlyAccess", AttachRoleName=name)
    attached = call(cam, "ListAttachedRolePolicies", RoleId=role_id, Page=1, Rp=20)
    assert attached["TotalNum"] == 2
    assert {p["PolicyName"] for p in attached["List"]} == {"ReadOnlyAccess", "QcloudIMReadOnlyAccess"}
    call(cam, "DetachRolePolicy", PolicyId=READ_ONLY_ACCESS, DetachRoleName=name)
    assert call(cam, "ListAttachedRolePolicies", RoleName=name, Page=1, Rp=20)["TotalNum"] == 1

    call(cam, "DeleteRole", RoleId=role_id)
    assert error_code(cam, "GetRole", RoleId=role_id) == "InvalidParameter.RoleNotExist"  # what the provider matches


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"RoleName": "has space", "PolicyDocument": ROOT_TRUST}, "InvalidParameter.RoleNameError"),
        ({"RoleName": "not-json", "PolicyDocument": "{"}, "InvalidParameter.ParamError"),
        (
            {"RoleName": "old-version", "PolicyDocument": ROOT_TRUST.replace('"2.0"', '"1.0"')},
            "InvalidParameter.VersionError",
        ),
        (
            {"RoleName": "no-principal", "PolicyDocument": ROOT_TRUST.replace('"principal"', '"resource"')},
            "InvalidParameter.PrincipalError",
        ),
        ({"RoleName": "too-long", "PolicyDocument": ROOT_TRUST, "SessionDuration": 43201}, "InvalidParameterValue"),
    ],
)
def test_bad_roles_are_refused(cam: CamClient, params: dict[str, Any], code: str) -> None:
    assert error_code(cam, "CreateRole", **params) == code


def test_role_names_are_one_name_whatever_their_case(cam: CamClient) -> None:
    name = new_role(cam, ROOT_TRUST)
    assert error_code(cam, "CreateRole", RoleName=name.upper(), PolicyDocument=ROOT_TRUST) == (
        "InvalidParameter.RoleNameInUse"
    )


def test_an_oidc_provider_is_read_back_and_needs_a_jwks(cam: CamClient, issuer: OidcIssuer) -> None:
    described = call(cam, "DescribeOIDCConfig", Name=PROVIDER)
    assert (described["IdentityUrl"], described["ClientId"], described["ProviderType"]) == (ISSUER, [AUDIENCE], 11)
    bad = {"IdentityUrl": ISSUER, "ClientId": [AUDIENCE], "IdentityKey": "bm90IGEgandrcw=="}
    assert error_code(cam, "CreateOIDCConfig", Name="broken", **bad) == "InvalidParameter"  # the code its list names


# ---- AssumeRoleWithWebIdentity --------------------------------------------------------------


def test_a_token_of_the_trusted_subject_gets_credentials_that_act_as_the_role(
    cloud: LocalCloudProcess, cam: CamClient, issuer: OidcIssuer
) -> None:
    role = new_role(cam, trust(subject("environment:preview")), READ_ONLY_ACCESS)
    answer = assume_with_token(cloud, role, issuer.token(subject("environment:preview")), DurationSeconds=900)
    credentials = answer["Credentials"]
    assert credentials["TmpSecretId"].startswith("AKID") and credentials["TmpSecretKey"] and credentials["Token"]
    assert 0 < answer["ExpiredTime"] - time.time() <= 900

    as_role = cam_as(cloud, credentials)
    assert call(as_role, "ListPolicies", Rp=1)["TotalNum"] > 0  # ReadOnlyAccess allows List*
    assert error_code(as_role, "AddUser", Name=unique("intruder")) == "UnauthorizedOperation"
    # Without its token, or with another, the key is worth nothing.
    assert error_code(cam_as(cloud, credentials, token=""), "ListPolicies") == "AuthFailure.TokenFailure"
    assert error_code(cam_as(cloud, credentials, token="forged"), "ListPolicies") == "AuthFailure.TokenFailure"


def test_a_token_of_another_repository_is_refused_with_cams_error(
    cloud: LocalCloudProcess, cam: CamClient, issuer: OidcIssuer
) -> None:
    role = new_role(cam, trust(subject("environment:prod")), READ_ONLY_ACCESS)
    for sub in (
        "repo:attacker/im-access:environment:prod",
        subject("pull_request"),
        subject("environment:PROD"),
        subject("environment:prod") + " ",
    ):
        assert refused(cloud, role, issuer.token(sub)) == "UnauthorizedOperation", sub


@pytest.mark.parametrize(
    "case",
    ["expired", "another audience", "another issuer", "another key", "tampered", "no sub", "alg none", "not a jwt"],
)
def test_tokens_that_do_not_hold_are_refused(
    cloud: LocalCloudProcess, cam: CamClient, issuer: OidcIssuer, case: str
) -> None:
    role = new_role(cam, trust(subject("environment:dev")), READ_ONLY_ACCESS)
    sub = subject("environment:dev")
    token = {
        "expired": lambda: issuer.token(sub, lifetime=-60),
        "another audience": lambda: issuer.token(sub, aud="sts.attacker.example"),
        "another issuer": lambda: OidcIssuer(private_key=issuer.private_key, issuer="https://attacker.example").token(
            sub
        ),
        "another key": lambda: OidcIssuer().token(sub),
        "tampered": lambda: _tampered(issuer.token(subject("environment:staging")), sub),
        "no sub": lambda: issuer.token(None),
        "alg none": lambda: jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": int(time.time()) + 300},
            None,  # type: ignore[arg-type]
            algorithm="none",
        ),
        "not a jwt": lambda: "eyJ.not.a-token",
    }[case]()
    assert refused(cloud, role, token) == "InvalidParameter.WebIdentityTokenError"


def _tampered(token: str, sub: str) -> str:
    """The signed token with its payload swapped for one naming `sub`: the signature no longer holds."""
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    swapped = jwt.utils.base64url_encode(json.dumps({**claims, "sub": sub}).encode()).decode()
    return f"{header}.{swapped}.{signature}"


def test_a_wildcard_trust_is_honoured_as_cam_would_which_is_why_the_guardrails_block_it(
    cloud: LocalCloudProcess, cam: CamClient, issuer: OidcIssuer
) -> None:
    role = new_role(cam, trust("repo:im-access/*", operator="string_like"), READ_ONLY_ACCESS)
    assert assume_with_token(cloud, role, issuer.token(subject("pull_request")))["Credentials"]["Token"]
    # An operator CAM does not know holds nothing.
    strict = new_role(cam, trust(subject("environment:dev"), operator="StringEquals"), READ_ONLY_ACCESS)
    assert refused(cloud, strict, issuer.token(subject("environment:dev"))) == "UnauthorizedOperation"


def test_unknown_roles_and_providers_and_long_sessions_are_refused(
    cloud: LocalCloudProcess, cam: CamClient, issuer: OidcIssuer
) -> None:
    token = issuer.token(subject("environment:dev"))
    assert refused(cloud, "nobody", token) == "ResourceNotFound.RoleNotFound"
    role = new_role(cam, trust(subject("environment:dev")))
    assert refused(cloud, role, token, ProviderId="gitlab") == "InvalidParameter.ParamError"
    assert refused(cloud, role, token, DurationSeconds=43201) == "InvalidParameter.OverTimeError"


def test_only_assume_role_with_web_identity_goes_unsigned(cloud: LocalCloudProcess) -> None:
    for service, action in (("sts", "AssumeRole"), ("cam", "ListPolicies")):
        client = CommonClient(
            service, "2019-01-16" if service == "cam" else "2018-08-13", None, "", profile=cloud._profile(True, service)
        )
        with pytest.raises(TencentCloudSDKException) as caught:
            client.call_json(
                action,
                {"RoleArn": arn("x"), "RoleSessionName": "ci"} if service == "sts" else {},
                options={"SkipSign": True},
            )
        assert caught.value.get_code().startswith("AuthFailure"), action


# ---- AssumeRole -----------------------------------------------------------------------------


def test_assume_role_follows_the_trust_policy_and_the_callers_own_policies(
    cloud: LocalCloudProcess, cam: CamClient, issuer: OidcIssuer
) -> None:
    target = new_role(cam, ROOT_TRUST, READ_ONLY_ACCESS)
    request = sts_models.AssumeRoleRequest()
    request.from_json_string(json.dumps({"RoleArn": arn(target), "RoleSessionName": "audit", "DurationSeconds": 900}))
    answer = sts_client(cloud).AssumeRole(request)
    assert answer.Credentials.TmpSecretId.startswith("AKID") and answer.ExpiredTime > time.time()
    as_target = cam_as(cloud, json.loads(answer.Credentials.to_json_string()))
    assert call(as_target, "GetRole", RoleName=target)["RoleInfo"]["RoleName"] == target

    untrusting = new_role(cam, trust(subject("environment:dev")))
    request.from_json_string(json.dumps({"RoleArn": arn(untrusting), "RoleSessionName": "audit"}))
    with pytest.raises(TencentCloudSDKException) as caught:
        sts_client(cloud).AssumeRole(request)
    assert caught.value.get_code() == "UnauthorizedOperation"

    # A session whose role's policies do not allow sts:AssumeRole cannot chain into another role.
    session = assume_with_token(
        cloud,
        new_role(cam, trust(subject("environment:dev")), READ_ONLY_ACCESS),
        issuer.token(subject("environment:dev")),
    )["Credentials"]
    chained = sts_client(
        cloud, credential.Credential(session["TmpSecretId"], session["TmpSecretKey"], session["Token"])
    )
    request.from_json_string(json.dumps({"RoleArn": arn(target), "RoleSessionName": "chain"}))
    with pytest.raises(TencentCloudSDKException) as caught:
        chained.AssumeRole(request)
    assert caught.value.get_code() == "UnauthorizedOperation"


def test_temporary_credentials_end_when_they_expire_or_their_role_goes(
    cloud: LocalCloudProcess, cam: CamClient, issuer: OidcIssuer
) -> None:
    role = new_role(cam, trust(subject("environment:dev")), READ_ONLY_ACCESS)
    token = issuer.token(subject("environment:dev"))
    short = assume_with_token(cloud, role, token, DurationSeconds=1)["Credentials"]
    lasting = assume_with_token(cloud, role, token)["Credentials"]
    time.sleep(1.5)
    assert error_code(cam_as(cloud, short), "ListPolicies") == "AuthFailure.TokenFailure"
    assert call(cam_as(cloud, lasting), "ListPolicies", Rp=1)["TotalNum"] > 0
    call(cam, "DeleteRole", RoleName=role)
    assert error_code(cam_as(cloud, lasting), "ListPolicies") == "AuthFailure.SecretIdNotFound"
