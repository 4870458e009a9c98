"""localcloud's CAM and tag actions, driven by the official Tencent Cloud SDK for Python."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from tencentcloud.cam.v20190116.cam_client import CamClient

from localcloud.catalogue import PRESETS
from tests.localcloud_process import NO_RATE_LIMITS, SECRET_ID, LocalCloudProcess, call, error_code

OWNER_UIN = 100012345678
IM_READ_ONLY = next(p.policy_id for p in PRESETS if p.name == "QcloudIMReadOnlyAccess")
IM_FULL = 524252
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


TRUST = json.dumps(
    {
        "version": "2.0",
        "statement": [
            {
                "effect": "allow",
                "action": ["name/sts:AssumeRole"],
                "principal": {"qcs": [f"qcs::cam::uin/{OWNER_UIN}:root"]},
            }
        ],
    }
)


def statement(**fields: Any) -> str:
    """A document of one statement: an allow of IM's DescribeAppInfo on everything, with `fields` changed."""
    one = {"effect": "allow", "action": ["name/im:DescribeAppInfo"], "resource": ["*"], **fields}
    return json.dumps({"version": "2.0", "statement": [one]})


def document(action: str = "name/im:DescribeAppInfo") -> str:
    return json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": [action], "resource": ["*"]}]})


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with LocalCloudProcess(tmp_path_factory.mktemp("localcloud") / "state.db", NO_RATE_LIMITS) as process:
        yield process


@pytest.fixture(scope="module")
def cam(cloud: LocalCloudProcess) -> CamClient:
    return cloud.cam()


def new_user(cam: CamClient, **params: Any) -> dict[str, Any]:
    return call(cam, "AddUser", Name=unique("user"), **params)


def new_policy(cam: CamClient) -> int:
    return int(call(cam, "CreatePolicy", PolicyName=unique("policy"), PolicyDocument=document())["PolicyId"])


# ---- users ---------------------------------------------------------------------------------


def test_add_user_with_console_and_api_access_returns_its_credentials_once(cam: CamClient) -> None:
    added = new_user(cam, ConsoleLogin=1, UseApi=1, NeedResetPassword=1, Remark="on call")
    assert added["Uin"] > 0 and added["Uid"] > 0
    assert len(added["Password"]) >= 8 and added["SecretId"].startswith("AKID") and added["SecretKey"]
    user = call(cam, "GetUser", Name=added["Name"])
    assert (user["Uin"], user["ConsoleLogin"], user["Remark"]) == (added["Uin"], 1, "on call")
    assert "SecretKey" not in json.dumps(call(cam, "ListAccessKeys", TargetUin=added["Uin"]))


def test_api_only_user_gets_no_password(cam: CamClient) -> None:
    added = new_user(cam, ConsoleLogin=0, UseApi=1)
    assert added["Password"] == "" and added["SecretId"]


def test_duplicate_user_names_are_refused(cam: CamClient) -> None:
    name = new_user(cam)["Name"]
    assert error_code(cam, "AddUser", Name=name) == "InvalidParameter.SubUserNameInUse"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Name": "has space"}, "InvalidParameter.UserNameIllegal"),
        ({"Name": "x" * 65}, "InvalidParameter.UserNameIllegal"),
        ({"Name": "weak-password", "ConsoleLogin": 1, "Password": "short"}, "InvalidParameter.PasswordViolatedRules"),
        ({"Name": "flag", "ConsoleLogin": 2}, "InvalidParameterValue"),
        ({"Name": 12}, "InvalidParameter"),
        ({}, "MissingParameter"),
    ],
)
def test_bad_add_user_input_is_refused(cam: CamClient, params: dict[str, Any], code: str) -> None:
    assert error_code(cam, "AddUser", **params) == code


def test_get_update_and_list_users(cam: CamClient) -> None:
    name = new_user(cam, Email="a@example.com")["Name"]
    call(cam, "UpdateUser", Name=name, Remark="moved to support", ConsoleLogin=1, Email="b@example.com")
    user = call(cam, "GetUser", Name=name)
    assert (user["Remark"], user["ConsoleLogin"], user["Email"]) == ("moved to support", 1, "b@example.com")
    listed = {u["Name"]: u for u in call(cam, "ListUsers")["Data"]}
    assert listed[name]["Uin"] == user["Uin"] and listed[name]["CreateTime"]
    assert error_code(cam, "GetUser", Name="nobody") == "ResourceNotFound.UserNotExist"
    assert error_code(cam, "UpdateUser", Name="nobody", Remark="x") == "ResourceNotFound.UserNotExist"


def test_deleting_a_user_with_api_keys_needs_force(cam: CamClient) -> None:
    added = new_user(cam, UseApi=1)
    assert error_code(cam, "DeleteUser", Name=added["Name"]) == "OperationDenied.HaveKeys"
    assert call(cam, "GetUser", Name=added["Name"])["Uin"] == added["Uin"]
    call(cam, "DeleteUser", Name=added["Name"], Force=1)
    assert error_code(cam, "GetUser", Name=added["Name"]) == "ResourceNotFound.UserNotExist"
    assert error_code(cam, "DeleteUser", Name=added["Name"]) == "ResourceNotFound.UserNotExist"


def test_a_user_without_keys_is_deleted_with_its_attachments(cam: CamClient) -> None:
    added = new_user(cam)
    policy_id = new_policy(cam)
    call(cam, "AttachUserPolicy", PolicyId=policy_id, AttachUin=added["Uin"])
    call(cam, "DeleteUser", Name=added["Name"])
    assert not any(
        p["PolicyId"] == policy_id and p["Attachments"]
        for p in call(cam, "ListPolicies", Scope="Local", Rp=200)["List"]
    )


# ---- API keys ------------------------------------------------------------------------------


def test_access_keys_at_most_two_per_user(cam: CamClient) -> None:
    uin = new_user(cam, UseApi=1)["Uin"]
    second = call(cam, "CreateAccessKey", TargetUin=uin, Description="rotation")["AccessKey"]
    assert second["Status"] == "Active" and second["SecretAccessKey"]
    assert error_code(cam, "CreateAccessKey", TargetUin=uin) == "OperationDenied.AccessKeyOverLimit"
    keys = call(cam, "ListAccessKeys", TargetUin=uin)["AccessKeys"]
    assert len(keys) == 2 and second["AccessKeyId"] in {k["AccessKeyId"] for k in keys}


def test_access_keys_can_be_disabled_and_deleted(cam: CamClient) -> None:
    uin = new_user(cam)["Uin"]
    key_id = call(cam, "CreateAccessKey", TargetUin=uin)["AccessKey"]["AccessKeyId"]
    call(cam, "UpdateAccessKey", AccessKeyId=key_id, Status="Inactive", TargetUin=uin)
    assert call(cam, "ListAccessKeys", TargetUin=uin)["AccessKeys"][0]["Status"] == "Inactive"
    assert (
        error_code(cam, "UpdateAccessKey", AccessKeyId=key_id, Status="Paused", TargetUin=uin)
        == "InvalidParameterValue"
    )
    call(cam, "DeleteAccessKey", AccessKeyId=key_id, TargetUin=uin)
    assert call(cam, "ListAccessKeys", TargetUin=uin)["AccessKeys"] == []
    assert error_code(cam, "DeleteAccessKey", AccessKeyId=key_id, TargetUin=uin) == "ResourceNotFound.SecretNotExist"
    assert error_code(cam, "ListAccessKeys", TargetUin=1) == "InvalidParameter.UserNotExist"


# ---- policies ------------------------------------------------------------------------------


def test_preset_catalogue_is_listed_by_name_and_id_over_more_than_one_page(cam: CamClient) -> None:
    first, second = (call(cam, "ListPolicies", Scope="QCS", Rp=200, Page=page) for page in (1, 2))
    assert first["TotalNum"] == len(PRESETS) >= 300 and len(first["List"]) == 200 and second["List"]
    presets = {p["PolicyName"]: p for p in first["List"] + second["List"]}
    assert len(presets) == len(PRESETS)
    assert {
        name: presets[name]["PolicyId"]
        for name in ("AdministratorAccess", "QCloudResourceFullAccess", "ReadOnlyAccess", "QcloudAVCFullAccess")
    } == {
        "AdministratorAccess": 1,
        "QCloudResourceFullAccess": 2,
        "ReadOnlyAccess": 400411,
        "QcloudAVCFullAccess": IM_FULL,
    }
    assert presets["QcloudIMReadOnlyAccess"]["Type"] == 2
    im_full = json.loads(call(cam, "GetPolicy", PolicyId=IM_FULL)["PolicyDocument"])
    assert "name/im:*" in im_full["statement"][0]["action"]


def test_list_policies_pages_and_filters(cam: CamClient) -> None:
    prefix = unique("paged")
    for index in range(23):
        call(cam, "CreatePolicy", PolicyName=f"{prefix}-{index:02}", PolicyDocument=document())
    pages = [call(cam, "ListPolicies", Scope="Local", Keyword=prefix, Rp=10, Page=page) for page in (1, 2, 3, 4)]
    assert [len(page["List"]) for page in pages] == [10, 10, 3, 0]
    assert {page["TotalNum"] for page in pages} == {23}
    names = [p["PolicyName"] for page in pages for p in page["List"]]
    assert names == sorted(names) and len(set(names)) == 23
    assert all(p["Type"] == 1 for p in pages[0]["List"])
    assert error_code(cam, "ListPolicies", Rp=201) == "InvalidParameterValue"
    assert error_code(cam, "ListPolicies", Scope="Mine") == "InvalidParameterValue"


def test_create_get_update_delete_a_custom_policy(cam: CamClient) -> None:
    name = unique("custom")
    policy_id = call(cam, "CreatePolicy", PolicyName=name, PolicyDocument=document(), Description="stats")["PolicyId"]
    got = call(cam, "GetPolicy", PolicyId=policy_id)
    assert (got["PolicyName"], got["Type"], got["Description"], got["PolicyDocument"]) == (name, 1, "stats", document())
    assert (
        error_code(cam, "CreatePolicy", PolicyName=name, PolicyDocument=document()) == "FailedOperation.PolicyNameInUse"
    )
    call(cam, "UpdatePolicy", PolicyId=policy_id, PolicyDocument=document("name/im:DescribeAppStatList"))
    assert "DescribeAppStatList" in call(cam, "GetPolicy", PolicyId=policy_id)["PolicyDocument"]
    call(cam, "DeletePolicy", PolicyId=[policy_id])
    assert error_code(cam, "GetPolicy", PolicyId=policy_id) == "ResourceNotFound.PolicyIdNotFound"
    assert error_code(cam, "DeletePolicy", PolicyId=[policy_id]) == "ResourceNotFound.PolicyIdNotFound"


def test_preset_policies_cannot_be_changed_or_deleted(cam: CamClient) -> None:
    # Neither action's official list names FailedOperation.Unmodifiable: the common code it is.
    assert error_code(cam, "UpdatePolicy", PolicyId=1, Description="mine now") == "FailedOperation"
    assert error_code(cam, "DeletePolicy", PolicyId=[IM_FULL]) == "FailedOperation"
    assert call(cam, "GetPolicy", PolicyId=1)["PolicyName"] == "AdministratorAccess"


def test_policy_documents_are_limited_to_6144_characters(cam: CamClient) -> None:
    base = document()
    padding = 6144 - len(base)
    at_limit = base.replace('"resource"', '"resource"' + " " * padding, 1)
    assert len(at_limit) == 6144
    call(cam, "CreatePolicy", PolicyName=unique("at-limit"), PolicyDocument=at_limit)
    over = at_limit.replace(" ", "  ", 1)
    assert error_code(cam, "CreatePolicy", PolicyName=unique("over"), PolicyDocument=over) == (
        "InvalidParameter.PolicyDocumentLengthOverLimit"
    )


@pytest.mark.parametrize(
    ("policy_document", "code"),
    [
        ("not json", "InvalidParameter.PolicyDocumentError"),
        (json.dumps({"version": "1.0", "statement": []}), "InvalidParameter.VersionError"),
        (json.dumps({"version": "2.0", "statement": []}), "InvalidParameter.StatementError"),
        (
            json.dumps({"version": "2.0", "statement": [{"effect": "maybe", "action": "*", "resource": "*"}]}),
            "InvalidParameter.EffectError",
        ),
        (
            json.dumps({"version": "2.0", "statement": [{"effect": "allow", "resource": "*"}]}),
            "InvalidParameter.ActionError",
        ),
        (statement(action=["name/nosuchsvc:Foo"]), "InvalidParameter.ActionServiceNotExist"),
        (statement(action=["DescribeAppInfo"]), "InvalidParameter.ActionError"),
        (statement(resource=["foo"]), "InvalidParameter.ResourceQcsError"),
        (statement(resource=["qcs::im::uin/1"]), "InvalidParameter.ResourceContentError"),
        (statement(resource=["qcs::nosuchsvc::uin/1:x/1"]), "InvalidParameter.ResourceServiceNotExist"),
        (statement(condition={"string_equal_maybe": {"qcs:ip": "1"}}), "InvalidParameter.ConditionTypeError"),
        (statement(condition={"string_equal": "qcs:ip"}), "InvalidParameter.ConditionContentError"),
        (statement(condition=["string_equal"]), "InvalidParameter.ConditionError"),
    ],
)
def test_malformed_policy_documents_are_refused_on_create_and_update(
    cam: CamClient, policy_document: str, code: str
) -> None:
    assert error_code(cam, "CreatePolicy", PolicyName=unique("bad"), PolicyDocument=policy_document) == code
    policy_id = new_policy(cam)
    assert error_code(cam, "UpdatePolicy", PolicyId=policy_id, PolicyDocument=policy_document) == code
    assert call(cam, "GetPolicy", PolicyId=policy_id)["PolicyDocument"] == document()


def test_documents_with_known_services_resources_and_operators_are_taken(cam: CamClient) -> None:
    sound = statement(
        action=["name/im:DescribeAppInfo", "im:GetAppInfo", "*"],
        resource=[f"qcs::im::uin/{OWNER_UIN}:sdkappid/1400000001", "qcs::cos:ap-guangzhou:uid/1:bucket/*", "*"],
        condition={"for_any_value:string_equal": {"qcs:tag": ["a"]}, "ip_equal_if_exist": {"qcs:ip": "10.0.0.1"}},
    )
    assert call(cam, "CreatePolicy", PolicyName=unique("sound"), PolicyDocument=sound)["PolicyId"]


# ---- user attachments ----------------------------------------------------------------------


def test_attach_list_and_detach_user_policies(cam: CamClient) -> None:
    uin = new_user(cam)["Uin"]
    call(cam, "AttachUserPolicy", PolicyId=IM_READ_ONLY, AttachUin=uin)
    call(cam, "AttachUserPolicy", PolicyId=IM_READ_ONLY, AttachUin=uin)  # twice changes nothing
    listed = call(cam, "ListAttachedUserPolicies", TargetUin=uin)
    assert listed["TotalNum"] == 1
    assert (listed["List"][0]["PolicyName"], listed["List"][0]["PolicyType"]) == ("QcloudIMReadOnlyAccess", "QCS")
    call(cam, "DetachUserPolicy", PolicyId=IM_READ_ONLY, DetachUin=uin)
    assert call(cam, "ListAttachedUserPolicies", TargetUin=uin)["TotalNum"] == 0


def test_detaching_what_is_not_attached_is_an_error(cam: CamClient) -> None:
    uin = new_user(cam)["Uin"]
    assert error_code(cam, "DetachUserPolicy", PolicyId=IM_FULL, DetachUin=uin) == "InvalidParameter.PolicyIdNotExist"
    assert error_code(cam, "DetachUserPolicy", PolicyId=IM_FULL, DetachUin=1) == "InvalidParameter.UserNotExist"
    assert error_code(cam, "AttachUserPolicy", PolicyId=999, AttachUin=uin) == "InvalidParameter.PolicyIdNotExist"
    assert error_code(cam, "AttachUserPolicy", PolicyId=IM_FULL, AttachUin=1) == "InvalidParameter.UserNotExist"
    assert error_code(cam, "ListAttachedUserPolicies", TargetUin=1) == "InvalidParameter.ParamError"


def test_at_most_200_policies_attach_to_one_user_and_pages_list_them(cam: CamClient) -> None:
    uin = new_user(cam)["Uin"]
    policy_ids = [new_policy(cam) for _ in range(201)]
    for policy_id in policy_ids[:200]:
        call(cam, "AttachUserPolicy", PolicyId=policy_id, AttachUin=uin)
    assert (
        error_code(cam, "AttachUserPolicy", PolicyId=policy_ids[200], AttachUin=uin)
        == "InvalidParameter.AttachmentFull"
    )
    first, second = (call(cam, "ListAttachedUserPolicies", TargetUin=uin, Rp=150, Page=page) for page in (1, 2))
    assert (first["TotalNum"], len(first["List"]), len(second["List"])) == (200, 150, 50)
    assert [p["PolicyId"] for p in first["List"] + second["List"]] == policy_ids[:200]


def test_all_policies_of_a_user_include_those_of_its_groups(cam: CamClient) -> None:
    user = new_user(cam)
    group_id = call(cam, "CreateGroup", GroupName=unique("group"))["GroupId"]
    call(cam, "AddUserToGroup", Info=[{"GroupId": group_id, "Uin": user["Uin"]}])
    custom = new_policy(cam)
    call(cam, "AttachUserPolicy", PolicyId=IM_READ_ONLY, AttachUin=user["Uin"])
    call(cam, "AttachGroupPolicy", PolicyId=custom, AttachGroupId=group_id)

    def listed(**filters: int) -> dict[str, list[int]]:
        answer = call(cam, "ListAttachedUserAllPolicies", TargetUin=user["Uin"], Rp=20, Page=1, **filters)
        return {p["PolicyId"]: [g["GroupId"] for g in p["Groups"]] for p in answer["PolicyList"]}

    assert listed(AttachType=0) == {str(IM_READ_ONLY): [], str(custom): [group_id]}
    assert listed(AttachType=1) == {str(IM_READ_ONLY): []}
    assert listed(AttachType=2) == {str(custom): [group_id]}
    assert listed(AttachType=0, StrategyType=2) == {str(IM_READ_ONLY): []}
    assert error_code(cam, "ListAttachedUserAllPolicies", TargetUin=user["Uin"], Rp=20, Page=1) == "MissingParameter"


def test_entities_for_a_policy_are_its_users_groups_and_roles_paged_and_filtered(cam: CamClient) -> None:
    policy_id = new_policy(cam)
    users = [new_user(cam) for _ in range(3)]
    group_id = call(cam, "CreateGroup", GroupName=unique("group"))["GroupId"]
    role = unique("role")
    role_id = call(cam, "CreateRole", RoleName=role, PolicyDocument=TRUST)["RoleId"]
    for user in users:
        call(cam, "AttachUserPolicy", PolicyId=policy_id, AttachUin=user["Uin"])
    call(cam, "AttachGroupPolicy", PolicyId=policy_id, AttachGroupId=group_id)
    call(cam, "AttachRolePolicy", PolicyId=policy_id, AttachRoleName=role)

    pages = [call(cam, "ListEntitiesForPolicy", PolicyId=policy_id, Rp=3, Page=page) for page in (1, 2)]
    assert [page["TotalNum"] for page in pages] == [5, 5]
    entities = [entity for page in pages for entity in page["List"]]
    assert [(e["RelatedType"], e["Name"]) for e in entities] == [
        *((1, user["Name"]) for user in users),
        (2, call(cam, "GetGroup", GroupId=group_id)["GroupName"]),
        (3, role),
    ]
    assert [e["Uin"] for e in entities[:3]] == [user["Uin"] for user in users]
    assert (entities[3]["Id"], entities[4]["Id"]) == (str(group_id), str(role_id))
    only_groups = call(cam, "ListEntitiesForPolicy", PolicyId=policy_id, EntityFilter="Group")
    assert [e["RelatedType"] for e in only_groups["List"]] == [2]
    only_roles = call(cam, "ListEntitiesForPolicy", PolicyId=policy_id, EntityFilter="Role")
    assert [(e["RelatedType"], e["Name"]) for e in only_roles["List"]] == [(3, role)]
    listed = call(cam, "ListPolicies", Scope="Local", Keyword=call(cam, "GetPolicy", PolicyId=policy_id)["PolicyName"])
    assert [(p["AttachEntityCount"], p["IsAttached"]) for p in listed["List"]] == [(5, 1)]
    assert error_code(cam, "ListEntitiesForPolicy", PolicyId=999999999) == "InvalidParameter.PolicyIdError"


def test_a_policy_attached_only_to_a_role_is_seen_attached(cam: CamClient) -> None:
    policy_id, role = new_policy(cam), unique("role")
    call(cam, "CreateRole", RoleName=role, PolicyDocument=TRUST)
    call(cam, "AttachRolePolicy", PolicyId=policy_id, AttachRoleName=role)
    entities = call(cam, "ListEntitiesForPolicy", PolicyId=policy_id, EntityFilter="All")
    assert [(e["RelatedType"], e["Name"]) for e in entities["List"]] == [(3, role)]
    name = call(cam, "GetPolicy", PolicyId=policy_id)["PolicyName"]
    assert call(cam, "ListPolicies", Scope="Local", Keyword=name)["List"][0]["Attachments"] == 1
    call(cam, "DeleteRole", RoleName=role)
    assert call(cam, "ListEntitiesForPolicy", PolicyId=policy_id)["TotalNum"] == 0


# ---- groups --------------------------------------------------------------------------------


def test_group_lifecycle_with_members_and_policies(cam: CamClient) -> None:
    name = unique("support")
    group_id = call(cam, "CreateGroup", GroupName=name, Remark="IM support")["GroupId"]
    assert error_code(cam, "CreateGroup", GroupName=name) == "InvalidParameter.GroupNameInUse"
    alice, bob = new_user(cam), new_user(cam)
    call(
        cam,
        "AddUserToGroup",
        Info=[{"GroupId": group_id, "Uin": alice["Uin"]}, {"GroupId": group_id, "Uid": bob["Uid"]}],
    )
    group = call(cam, "GetGroup", GroupId=group_id)
    assert (group["GroupName"], group["GroupNum"], group["Remark"]) == (name, 2, "IM support")
    members = call(cam, "ListUsersForGroup", GroupId=group_id, Rp=1, Page=2)
    assert members["TotalNum"] == 2 and [m["Name"] for m in members["UserInfo"]] == [bob["Name"]]

    call(cam, "AttachGroupPolicy", PolicyId=IM_READ_ONLY, AttachGroupId=group_id)
    attached = call(cam, "ListAttachedGroupPolicies", TargetGroupId=group_id)
    assert [p["PolicyId"] for p in attached["List"]] == [IM_READ_ONLY]
    call(cam, "DetachGroupPolicy", PolicyId=IM_READ_ONLY, DetachGroupId=group_id)
    assert error_code(cam, "DetachGroupPolicy", PolicyId=IM_READ_ONLY, DetachGroupId=group_id) == (
        "InvalidParameter.PolicyIdNotExist"
    )

    call(cam, "RemoveUserFromGroup", Info=[{"GroupId": group_id, "Uin": alice["Uin"]}])
    assert error_code(cam, "RemoveUserFromGroup", Info=[{"GroupId": group_id, "Uin": alice["Uin"]}]) == (
        "FailedOperation"
    )
    assert error_code(cam, "AddUserToGroup", Info=[{"GroupId": 99999, "Uin": alice["Uin"]}]) == (
        "InvalidParameter.GroupNotExist"
    )
    assert error_code(cam, "AddUserToGroup", Info=[{"GroupId": group_id}]) == "InvalidParameter.UserUinAndUinNotAllNull"
    call(cam, "DeleteGroup", GroupId=group_id)
    # GetGroup's official list names no GroupNotExist: the common ResourceNotFound.
    assert error_code(cam, "GetGroup", GroupId=group_id) == "ResourceNotFound"
    assert error_code(cam, "ListAttachedGroupPolicies", TargetGroupId=group_id) == "InvalidParameter.ParamError"
    assert call(cam, "GetUser", Name=alice["Name"])["Uin"] == alice["Uin"]  # members outlive their group


def test_list_groups_pages_and_filters_by_keyword(cam: CamClient) -> None:
    prefix = unique("team")
    ids = [call(cam, "CreateGroup", GroupName=f"{prefix}-{i}")["GroupId"] for i in range(5)]
    pages = [call(cam, "ListGroups", Keyword=prefix, Rp=2, Page=page) for page in (1, 2, 3)]
    assert [g["GroupId"] for page in pages for g in page["GroupInfo"]] == ids
    assert pages[0]["TotalNum"] == 5
    assert error_code(cam, "AttachGroupPolicy", PolicyId=1, AttachGroupId=1) == "ResourceNotFound.GroupNotExist"


# ---- tags ----------------------------------------------------------------------------------


def test_user_tags_are_replaced_described_and_deleted(cloud: LocalCloudProcess) -> None:
    tag = cloud.tag()
    user = unique("tagged")
    resource = f"qcs::cam:ap-guangzhou:uin/{OWNER_UIN}:uin/{user}"
    call(
        tag,
        "ModifyResourceTags",
        Resource=resource,
        ReplaceTags=[{"TagKey": "team", "TagValue": "im"}, {"TagKey": "owner", "TagValue": "alice"}],
    )
    call(
        tag,
        "ModifyResourceTags",
        Resource=resource,
        ReplaceTags=[{"TagKey": "team", "TagValue": "support"}],
        DeleteTags=[{"TagKey": "owner"}],
    )
    described = call(
        tag,
        "DescribeResourceTagsByResourceIds",
        ServiceType="cam",
        ResourcePrefix="uin",
        ResourceIds=[user],
        ResourceRegion="ap-guangzhou",
    )
    assert described["TotalCount"] == 1
    assert [(t["TagKey"], t["TagValue"], t["ResourceId"]) for t in described["Tags"]] == [("team", "support", user)]
    assert (
        error_code(tag, "ModifyResourceTags", Resource="cam/user", ReplaceTags=[{"TagKey": "a", "TagValue": "b"}])
        == "InvalidParameterValue.ResourceDescriptionError"
    )


def test_tag_limit_is_enforced_without_partial_changes(cloud: LocalCloudProcess) -> None:
    tag = cloud.tag()
    resource = f"qcs::cam:ap-guangzhou:uin/{OWNER_UIN}:uin/{unique('crowded')}"
    call(
        tag,
        "ModifyResourceTags",
        Resource=resource,
        ReplaceTags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(45)],
    )
    more = [{"TagKey": f"m{i}", "TagValue": "v"} for i in range(6)]
    assert error_code(tag, "ModifyResourceTags", Resource=resource, ReplaceTags=more) == (
        "LimitExceeded.ResourceAttachedTags"
    )
    described = call(
        tag,
        "DescribeResourceTagsByResourceIds",
        ServiceType="cam",
        ResourcePrefix="uin",
        ResourceIds=[resource.rsplit("/", 1)[1]],
        ResourceRegion="ap-guangzhou",
        Limit=100,
    )
    assert described["TotalCount"] == 45


def test_the_proxy_route_reaches_the_same_state(cloud: LocalCloudProcess, cam: CamClient) -> None:
    name = new_user(cam)["Name"]
    assert call(cloud.cam(via_proxy=True), "GetUser", Name=name)["Name"] == name
    assert (
        call(
            cloud.tag(via_proxy=True),
            "DescribeResourceTagsByResourceIds",
            ServiceType="cam",
            ResourcePrefix="uin",
            ResourceIds=[name],
            ResourceRegion="ap-guangzhou",
        )["TotalCount"]
        == 0
    )


def test_key_actions_default_target_uin_to_the_caller(cam: CamClient) -> None:
    own = call(cam, "ListAccessKeys")["AccessKeys"]
    assert [(key["AccessKeyId"], key["Status"]) for key in own] == [(SECRET_ID, "Active")]
    # A root key created here could not sign: localcloud refuses plainly rather than pretend.
    assert error_code(cam, "CreateAccessKey") == "UnsupportedOperation"
    uin = new_user(cam)["Uin"]
    assert call(cam, "CreateAccessKey", TargetUin=uin)["AccessKey"]["Status"] == "Active"


def test_a_role_session_duration_is_updated(cam: CamClient) -> None:
    role = unique("role")
    role_id = call(cam, "CreateRole", RoleName=role, PolicyDocument=TRUST, SessionDuration=7200)["RoleId"]
    call(cam, "UpdateRoleSessionDuration", RoleName=role, SessionDuration=3600)
    assert call(cam, "GetRole", RoleName=role)["RoleInfo"]["SessionDuration"] == 3600
    call(cam, "UpdateRoleSessionDuration", RoleId=int(role_id), SessionDuration=43200)
    assert call(cam, "GetRole", RoleId=role_id)["RoleInfo"]["SessionDuration"] == 43200
    assert error_code(cam, "UpdateRoleSessionDuration", RoleName=role, SessionDuration=43201) == "InvalidParameterValue"
    assert error_code(cam, "UpdateRoleSessionDuration", RoleName="gone", SessionDuration=60) == (
        "InvalidParameter.RoleNotExist"
    )
