"""Every action localcloud serves, driven with bad inputs through the official SDK: each answer's code
must be one the official SDK lists for that action (localcloud/reference/api.json) or a common code."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from tencentcloud.common.abstract_client import AbstractClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from localcloud.reference import common_codes, documented_errors
from localcloud.server import SERVICES
from tests.localcloud_process import NO_RATE_LIMITS, LocalCloudProcess

OWNER_UIN = 100012345678
NO_UIN = 100099999999
NO_GROUP = 99999
NO_POLICY = 199999999
NO_ROLE = "no-such-role"
PRESET = 1  # AdministratorAccess
JWKS = base64.b64encode(json.dumps({"keys": [{"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB"}]}).encode()).decode()


def document(**statement: Any) -> str:
    return json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/cvm:*"], "resource": ["*"], **statement}]}
    )


TRUST = json.dumps(
    {
        "version": "2.0",
        "statement": [
            {
                "effect": "allow",
                "action": ["name/sts:AssumeRole"],
                "principal": {"qcs": ["qcs::cam::uin/100012345678:root"]},
            }
        ],
    }
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    # Rate limits off: this module sends well over CreateRole's 2 per second on purpose.
    with LocalCloudProcess(tmp_path_factory.mktemp("errors") / "state.db", NO_RATE_LIMITS) as process:
        yield process


@pytest.fixture(scope="module")
def known(cloud: LocalCloudProcess) -> dict[str, Any]:
    """What the bad inputs are checked against: a user with keys, a group, a role, a custom policy, an OIDC provider."""
    cam = cloud.cam()
    user = cam.call_json("AddUser", {"Name": "probe", "UseApi": 1})["Response"]
    other = cam.call_json("AddUser", {"Name": "probe-2"})["Response"]
    group = cam.call_json("CreateGroup", {"GroupName": "probe-group"})["Response"]["GroupId"]
    cam.call_json("CreateRole", {"RoleName": "probe-role", "PolicyDocument": TRUST})
    policy = cam.call_json("CreatePolicy", {"PolicyName": "probe-policy", "PolicyDocument": document()})["Response"]
    fifty = [{"TagKey": f"k{index}", "TagValue": "v"} for index in range(50)]
    resource = f"qcs::cam::uin/{OWNER_UIN}:uin/{user['Uin']}"
    cloud.tag().call_json("ModifyResourceTags", {"Resource": resource, "ReplaceTags": fifty})
    cam.call_json(
        "CreateOIDCConfig",
        {"IdentityUrl": "https://issuer.example", "ClientId": ["sts"], "Name": "probe-idp", "IdentityKey": JWKS},
    )
    return {
        "uin": user["Uin"],
        "secret_id": user["SecretId"],
        "other_uin": other["Uin"],
        "group": group,
        "policy": policy["PolicyId"],
    }


def cases(k: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(service, action, bad parameters): unknown principals and policies, values out of range, bad documents."""
    uin, group, policy = k["uin"], k["group"], k["policy"]
    oidc = {"IdentityUrl": "https://issuer.example", "ClientId": ["sts"], "Name": "probe-idp", "IdentityKey": JWKS}
    return [
        ("cam", "AddUser", {"Name": "bad name!"}),
        ("cam", "AddUser", {"Name": "probe"}),
        ("cam", "AddUser", {"Name": "weak-password", "ConsoleLogin": 1, "Password": "weak"}),
        ("cam", "AddUserToGroup", {"Info": [{"GroupId": NO_GROUP, "Uin": uin}]}),
        ("cam", "AddUserToGroup", {"Info": [{"GroupId": group, "Uin": NO_UIN}]}),
        ("cam", "AddUserToGroup", {"Info": [{"GroupId": group}]}),
        ("cam", "AttachGroupPolicy", {"PolicyId": NO_POLICY, "AttachGroupId": group}),
        ("cam", "AttachGroupPolicy", {"PolicyId": policy, "AttachGroupId": NO_GROUP}),
        ("cam", "AttachRolePolicy", {"PolicyId": policy, "AttachRoleName": NO_ROLE}),
        ("cam", "AttachRolePolicy", {"PolicyId": NO_POLICY, "AttachRoleName": "probe-role"}),
        ("cam", "AttachRolePolicy", {"PolicyId": policy, "AttachRoleId": "not-an-id"}),
        ("cam", "AttachUserPolicy", {"PolicyId": policy, "AttachUin": NO_UIN}),
        ("cam", "AttachUserPolicy", {"PolicyId": NO_POLICY, "AttachUin": uin}),
        ("cam", "CreateAccessKey", {"TargetUin": NO_UIN}),
        ("cam", "CreateGroup", {"GroupName": "probe-group"}),
        ("cam", "CreateGroup", {"GroupName": "bad name!"}),
        ("cam", "CreateOIDCConfig", {**oidc, "Name": "other-idp", "IdentityKey": "not base64"}),
        ("cam", "CreateOIDCConfig", {**oidc, "Name": "other-idp", "ClientId": []}),
        ("cam", "CreateOIDCConfig", {**oidc, "Name": "other-idp", "IdentityUrl": "http://plain.example"}),
        ("cam", "CreateOIDCConfig", oidc),
        ("cam", "CreatePolicy", {"PolicyName": "probe-policy", "PolicyDocument": document()}),
        ("cam", "CreatePolicy", {"PolicyName": "bad name!", "PolicyDocument": document()}),
        ("cam", "CreatePolicy", {"PolicyName": "p-json", "PolicyDocument": "{not json"}),
        ("cam", "CreatePolicy", {"PolicyName": "p-version", "PolicyDocument": document().replace('"2.0"', '"1.0"')}),
        ("cam", "CreatePolicy", {"PolicyName": "p-service", "PolicyDocument": document(action=["name/nosuchsvc:Foo"])}),
        ("cam", "CreatePolicy", {"PolicyName": "p-action", "PolicyDocument": document(action=["cvm"])}),
        ("cam", "CreatePolicy", {"PolicyName": "p-resource", "PolicyDocument": document(resource=["foo"])}),
        ("cam", "CreatePolicy", {"PolicyName": "p-qcs", "PolicyDocument": document(resource=["qcs::cvm"])}),
        (
            "cam",
            "CreatePolicy",
            {"PolicyName": "p-cond", "PolicyDocument": document(condition={"no_such_op": {"a": "b"}})},
        ),
        ("cam", "CreatePolicy", {"PolicyName": "p-cond2", "PolicyDocument": document(condition=["x"])}),
        ("cam", "CreatePolicy", {"PolicyName": "p-effect", "PolicyDocument": document(effect="maybe")}),
        (
            "cam",
            "CreatePolicy",
            {"PolicyName": "p-empty", "PolicyDocument": json.dumps({"version": "2.0", "statement": []})},
        ),
        ("cam", "CreatePolicy", {"PolicyName": "p-long", "PolicyDocument": document(), "Description": "d" * 301}),
        ("cam", "CreateRole", {"RoleName": "bad name!", "PolicyDocument": TRUST}),
        ("cam", "CreateRole", {"RoleName": "probe-role", "PolicyDocument": TRUST}),
        ("cam", "CreateRole", {"RoleName": "r-json", "PolicyDocument": "{not json"}),
        ("cam", "CreateRole", {"RoleName": "r-version", "PolicyDocument": TRUST.replace('"2.0"', '"1.0"')}),
        ("cam", "CreateRole", {"RoleName": "r-principal", "PolicyDocument": document()}),
        ("cam", "DeleteAccessKey", {"AccessKeyId": "AKIDnosuchkey", "TargetUin": uin}),
        ("cam", "DeleteAccessKey", {"AccessKeyId": k["secret_id"], "TargetUin": NO_UIN}),
        ("cam", "DeleteGroup", {"GroupId": NO_GROUP}),
        ("cam", "DeleteOIDCConfig", {"Name": "no-such-idp"}),
        ("cam", "DeletePolicy", {"PolicyId": [NO_POLICY]}),
        ("cam", "DeletePolicy", {"PolicyId": [PRESET]}),
        ("cam", "DeleteRole", {"RoleName": NO_ROLE}),
        ("cam", "DeleteRole", {"RoleId": "not-an-id"}),
        ("cam", "DeleteUser", {"Name": "no-such-user"}),
        ("cam", "DeleteUser", {"Name": "probe"}),
        ("cam", "DescribeOIDCConfig", {"Name": "no-such-idp"}),
        ("cam", "DescribeRoleList", {"Page": 1, "Rp": 201}),
        ("cam", "DescribeSafeAuthFlagColl", {"SubUin": NO_UIN}),
        ("cam", "DescribeSubAccounts", {"FilterSubAccountUin": list(range(1, 52))}),
        ("cam", "DetachGroupPolicy", {"PolicyId": policy, "DetachGroupId": NO_GROUP}),
        ("cam", "DetachGroupPolicy", {"PolicyId": policy, "DetachGroupId": group}),
        ("cam", "DetachRolePolicy", {"PolicyId": policy, "DetachRoleName": NO_ROLE}),
        ("cam", "DetachRolePolicy", {"PolicyId": policy, "DetachRoleName": "probe-role"}),
        ("cam", "DetachUserPolicy", {"PolicyId": policy, "DetachUin": NO_UIN}),
        ("cam", "DetachUserPolicy", {"PolicyId": policy, "DetachUin": uin}),
        ("cam", "GetGroup", {"GroupId": NO_GROUP}),
        ("cam", "GetPolicy", {"PolicyId": NO_POLICY}),
        ("cam", "GetRole", {"RoleName": NO_ROLE}),
        ("cam", "GetRole", {"RoleId": "not-an-id"}),
        ("cam", "GetRole", {}),
        ("cam", "GetSecurityLastUsed", {"SecretIdList": [f"AKID{index}" for index in range(11)]}),
        ("cam", "GetUser", {"Name": "no-such-user"}),
        ("cam", "ListAccessKeys", {"TargetUin": NO_UIN}),
        ("cam", "ListAttachedGroupPolicies", {"TargetGroupId": NO_GROUP}),
        ("cam", "ListAttachedGroupPolicies", {"TargetGroupId": group, "Page": 201}),
        ("cam", "ListAttachedRolePolicies", {"Page": 1, "Rp": 20, "RoleName": NO_ROLE}),
        ("cam", "ListAttachedUserAllPolicies", {"TargetUin": NO_UIN, "Rp": 20, "Page": 1, "AttachType": 0}),
        ("cam", "ListAttachedUserPolicies", {"TargetUin": NO_UIN}),
        ("cam", "ListEntitiesForPolicy", {"PolicyId": NO_POLICY}),
        ("cam", "ListEntitiesForPolicy", {"PolicyId": policy, "EntityFilter": "Everyone"}),
        ("cam", "ListGroups", {"Rp": 201}),
        ("cam", "ListPolicies", {"Page": 201}),
        ("cam", "ListPolicies", {"Scope": "Everything"}),
        ("cam", "ListUsers", {"Bogus": 1}),
        ("cam", "ListUsersForGroup", {"GroupId": NO_GROUP}),
        ("cam", "RemoveUserFromGroup", {"Info": [{"GroupId": NO_GROUP, "Uin": uin}]}),
        ("cam", "RemoveUserFromGroup", {"Info": [{"GroupId": group, "Uin": NO_UIN}]}),
        ("cam", "RemoveUserFromGroup", {"Info": [{"GroupId": group, "Uin": k["other_uin"]}]}),
        ("cam", "SetMfaFlag", {"OpUin": NO_UIN, "LoginFlag": {"Stoken": 1}}),
        ("cam", "SetMfaFlag", {"OpUin": uin, "LoginFlag": {"Stoken": 2}}),
        ("cam", "UpdateAccessKey", {"AccessKeyId": "AKIDnosuchkey", "Status": "Inactive", "TargetUin": uin}),
        ("cam", "UpdateAccessKey", {"AccessKeyId": k["secret_id"], "Status": "Inactive", "TargetUin": NO_UIN}),
        ("cam", "UpdateAssumeRolePolicy", {"PolicyDocument": TRUST, "RoleName": NO_ROLE}),
        ("cam", "UpdateAssumeRolePolicy", {"PolicyDocument": "{not json", "RoleName": "probe-role"}),
        ("cam", "UpdateOIDCConfig", {**oidc, "Name": "no-such-idp"}),
        ("cam", "UpdatePolicy", {"PolicyId": NO_POLICY, "PolicyDocument": document()}),
        ("cam", "UpdatePolicy", {"PolicyId": PRESET, "PolicyDocument": document()}),
        ("cam", "UpdatePolicy", {"PolicyId": policy, "PolicyDocument": document(action=["name/nosuchsvc:Foo"])}),
        ("cam", "UpdatePolicy", {"PolicyId": policy, "PolicyDocument": document(condition={"no_such_op": {"a": "b"}})}),
        ("cam", "UpdatePolicy", {"PolicyId": policy, "PolicyName": "AdministratorAccess"}),
        ("cam", "UpdateRoleConsoleLogin", {"ConsoleLogin": 1, "RoleName": NO_ROLE}),
        ("cam", "UpdateRoleDescription", {"Description": "x", "RoleName": NO_ROLE}),
        ("cam", "UpdateRoleSessionDuration", {"SessionDuration": 3600, "RoleName": NO_ROLE}),
        ("cam", "UpdateRoleSessionDuration", {"SessionDuration": 86400, "RoleName": "probe-role"}),
        ("cam", "UpdateUser", {"Name": "no-such-user"}),
        ("cam", "UpdateUser", {"Name": "probe", "Password": "weak"}),
        (
            "tag",
            "DescribeResourceTagsByResourceIds",
            {"ServiceType": "cam", "ResourcePrefix": "uin", "ResourceIds": ["x"], "ResourceRegion": "", "Limit": 101},
        ),
        ("tag", "ModifyResourceTags", {"Resource": f"qcs::cam::uin/{OWNER_UIN}:uin/{uin}"}),
        (
            "tag",
            "ModifyResourceTags",
            {"Resource": f"qcs::cam::uin/{OWNER_UIN}:uin/{uin}", "ReplaceTags": [{"TagKey": "k51", "TagValue": "v"}]},
        ),
        (
            "tag",
            "ModifyResourceTags",
            {
                "Resource": f"qcs::cam::uin/{OWNER_UIN}:uin/{uin}",
                "ReplaceTags": [{"TagKey": f"k{index}", "TagValue": "v"} for index in range(51)],
            },
        ),
        ("sts", "GetCallerIdentity", {"Bogus": 1}),
        ("sts", "AssumeRole", {"RoleArn": "not-an-arn", "RoleSessionName": "s"}),
        ("sts", "AssumeRole", {"RoleArn": f"qcs::cam::uin/{OWNER_UIN}:roleName/{NO_ROLE}", "RoleSessionName": "s"}),
        (
            "sts",
            "AssumeRoleWithWebIdentity",
            {
                "ProviderId": "no-such-idp",
                "WebIdentityToken": "x.y.z",
                "RoleArn": f"qcs::cam::uin/{OWNER_UIN}:roleName/probe-role",
                "RoleSessionName": "s",
            },
        ),
        (
            "sts",
            "AssumeRoleWithWebIdentity",
            {
                "ProviderId": "probe-idp",
                "WebIdentityToken": "x.y.z",
                "RoleArn": f"qcs::cam::uin/{OWNER_UIN}:roleName/probe-role",
                "RoleSessionName": "s",
            },
        ),
    ]


def client(cloud: LocalCloudProcess, service: str) -> AbstractClient:
    if service == "cam":
        return cloud.cam()
    return cloud.sts() if service == "sts" else cloud.tag()


def answer_code(cloud: LocalCloudProcess, service: str, action: str, params: dict[str, Any]) -> str:
    # AssumeRoleWithWebIdentity goes unsigned, as the SDK's OIDC credential sends it.
    options = {"SkipSign": True} if action == "AssumeRoleWithWebIdentity" else None
    try:
        client(cloud, service).call_json(action, params, options=options)
    except TencentCloudSDKException as error:
        return str(error.get_code())
    return "(succeeded)"


def test_every_served_action_has_bad_inputs_and_an_official_error_list(known: dict[str, Any]) -> None:
    served = {(service.name, action) for service in SERVICES.values() for action in service.actions}
    driven = {(service, action) for service, action, _ in cases(known)}
    assert served - driven == set()
    assert {pair for pair in served if not documented_errors(*pair)} == set()


def test_every_bad_input_is_answered_with_a_code_the_official_list_names(
    cloud: LocalCloudProcess, known: dict[str, Any]
) -> None:
    wrong = []
    for service, action, params in cases(known):
        code = answer_code(cloud, service, action, params)
        if code not in documented_errors(service, action) | common_codes():
            wrong.append(f"{action} {json.dumps(params)[:120]} -> {code}")
    assert wrong == [], "\n".join(wrong)
