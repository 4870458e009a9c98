"""The real program under mocks: what it registers for each stack configuration."""

from __future__ import annotations

import json
from typing import Any

import pytest

from im_access.contract import IM_OPERATOR
from tests.harness import (
    GROUP_ATTACHMENT,
    POLICY,
    PRESET_CATALOGUE,
    SECRET_SIG,
    USER,
    USER_ATTACHMENT,
    run_program,
    stack_file_config,
)

OWNER = "100012345678"


def base_config(**namespace: Any) -> dict[str, Any]:
    pin = {"tencentcloud:allowedAccountIds": [OWNER]}
    return {"im-access:ownerUin": OWNER, **pin, **{f"im-access:{key}": value for key, value in namespace.items()}}


def secret_values(value: Any) -> list[Any]:
    """Every value wrapped as a secret anywhere inside a wire-format structure."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == SECRET_SIG:
            return [value.get("value")]
        return [found for item in value.values() for found in secret_values(item)]
    if isinstance(value, list):
        return [found for item in value for found in secret_values(item)]
    return []


def without_secrets(value: Any) -> Any:
    """The wire-format structure with every secret removed."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == SECRET_SIG:
            return "[secret]"
        return {key: without_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def test_dev_stack_creates_its_operators_with_their_policies() -> None:
    run = run_program("dev", stack_file_config("dev"))

    users = {user.inputs["name"]: user.inputs for user in run.of_type(USER)}
    assert set(users) == {"im-dev-alice", "im-dev-bob", "im-stats-bot"}
    assert users["im-dev-alice"]["consoleLogin"] is True and users["im-dev-alice"]["useApi"] is False
    assert users["im-dev-alice"]["needResetPassword"] is True
    assert users["im-stats-bot"]["consoleLogin"] is False and users["im-stats-bot"]["useApi"] is True
    assert all("password" not in inputs for inputs in users.values()), "a password must never be an input"

    attachments = {a.inputs["userName"]: a.inputs["policyId"] for a in run.of_type(USER_ATTACHMENT)}
    readonly_id = str(PRESET_CATALOGUE["QcloudIMReadOnlyAccess"])
    custom_policy = next(p for p in run.mocks.resources if p.type == POLICY)
    assert attachments == {
        "im-dev-alice": readonly_id,
        "im-dev-bob": readonly_id,
        "im-stats-bot": custom_policy.id,
        "qa-lead": readonly_id,
    }


def test_custom_policy_is_scoped_to_the_listed_apps_and_actions() -> None:
    run = run_program("dev", stack_file_config("dev"))

    (policy,) = run.of_type(POLICY)
    assert policy.inputs["name"] == "im-access-dev-im-stats-bot"
    assert json.loads(policy.inputs["document"]) == {
        "version": "2.0",
        "statement": [
            {
                "effect": "allow",
                "action": ["name/im:DescribeAppStatList", "name/im:DescribeSdkAppInfo"],
                "resource": [f"qcs::im::uin/{OWNER}:sdkappid/1400000001"],
            }
        ],
    }


def test_prod_full_access_attaches_the_im_full_preset_and_never_a_look_alike() -> None:
    run = run_program("prod", stack_file_config("prod"))

    attachments = {a.inputs["userName"]: a.inputs["policyId"] for a in run.of_type(USER_ATTACHMENT)}
    assert attachments["im-oncall"] == str(PRESET_CATALOGUE["QcloudAVCFullAccess"])
    assert str(PRESET_CATALOGUE["QcloudIMSFullAccess"]) not in attachments.values()


def test_components_tell_the_engine_their_access_level() -> None:
    run = run_program("prod", stack_file_config("prod"))

    levels = {r.name: r.inputs["access"] for r in run.mocks.resources if r.type.startswith("im-access:index:")}
    assert levels == {"im-oncall": "full", "im-prod-auditor": "readonly", "grant-user-support-lead": "readonly"}


# One pattern for all of IM, or patterns that together cover every action of IM's catalogue.
ALL_OF_IM = [["name/im:*"], [f"name/im:{initial}*" for initial in "ACDEORSU"]]


@pytest.mark.parametrize("actions", ALL_OF_IM)
def test_custom_policy_that_allows_all_of_im_counts_as_full(actions: list[str]) -> None:
    run = run_program(
        "dev",
        base_config(
            operators=[
                {
                    "name": "wide-bot",
                    "access": "custom",
                    "apiKey": True,
                    "console": False,
                    "sdkAppIds": [1400000001],
                    "actions": actions,
                },
            ]
        ),
    )

    (component,) = [r for r in run.mocks.resources if r.type == IM_OPERATOR]
    assert component.inputs["access"] == "full"
    assert component.inputs["requestedAccess"] == "custom"
    summary = run.stack_outputs["access"]
    assert summary[0]["access"] == "full"


def test_grants_attach_policies_and_create_no_user() -> None:
    run = run_program(
        "dev",
        base_config(
            grants=[
                {"user": "existing-dev", "access": "readonly"},
                {"group": 90001, "access": "full"},
            ]
        ),
    )

    assert run.of_type(USER) == []
    (user_attachment,) = run.of_type(USER_ATTACHMENT)
    assert user_attachment.inputs == {
        "userName": "existing-dev",
        "policyId": str(PRESET_CATALOGUE["QcloudIMReadOnlyAccess"]),
    }
    (group_attachment,) = run.of_type(GROUP_ATTACHMENT)
    assert group_attachment.inputs == {"groupId": "90001", "policyId": str(PRESET_CATALOGUE["QcloudAVCFullAccess"])}


def test_revoking_a_grant_removes_only_its_attachment() -> None:
    granted = base_config(
        grants=[{"user": "existing-dev", "access": "readonly"}, {"user": "other", "access": "readonly"}]
    )
    revoked = base_config(grants=[{"user": "other", "access": "readonly"}])

    before = {r.name for r in run_program("dev", granted).mocks.resources}
    after = {r.name for r in run_program("dev", revoked).mocks.resources}

    # The difference is exactly the grant component and its attachment; no user is involved.
    assert before - after == {"grant-user-existing-dev", "grant-user-existing-dev-im-access"}
    assert after <= before


@pytest.mark.parametrize("operator_count", [1, 40])
def test_preset_lookups_do_not_grow_with_the_number_of_operators(operator_count: int) -> None:
    operators = [{"name": f"op-{i}", "access": "readonly"} for i in range(operator_count)]
    operators.append({"name": "oncall", "access": "full"})

    run = run_program("prod", base_config(operators=operators))

    looked_up = sorted(args["name"] for _, args in run.mocks.calls)
    assert looked_up == ["QcloudAVCFullAccess", "QcloudIMReadOnlyAccess"]
    assert len(run.of_type(USER_ATTACHMENT)) == operator_count + 1


def test_login_links_encode_the_user_name() -> None:
    run = run_program("dev", base_config(operators=[{"name": "ops+im@team", "access": "readonly"}]))

    (link,) = [op["loginUrl"] for op in run.stack_outputs["operators"].values()]
    assert secret_values(link) == [
        f"https://intl.cloud.tencent.com/login/subAccount/{OWNER}?type=subAccount&username=ops%2Bim%40team"
    ]


def test_credentials_are_secrets_on_the_wire_and_never_plain() -> None:
    run = run_program("dev", stack_file_config("dev"))

    outputs = run.stack_outputs
    generated = {
        value
        for user in run.of_type(USER)
        for key, value in user.state.items()
        if key in ("password", "secretId", "secretKey")
    }
    assert generated, "the mock account generated no credentials"
    assert generated <= set(secret_values(outputs))
    plain = json.dumps(without_secrets(outputs))
    assert not any(value in plain for value in generated)
    # Login links are handed over as secrets too, and only to operators with console access.
    links = {name: op["loginUrl"] for name, op in outputs["operators"].items()}
    assert links.pop("im-stats-bot") is None
    assert links and all(isinstance(link, dict) for link in links.values())
    for urn, registered in run.monitor.registered_outputs.items():
        assert not any(value in json.dumps(without_secrets(registered)) for value in generated), urn


def test_user_resources_ask_the_engine_to_encrypt_credentials() -> None:
    run = run_program("dev", stack_file_config("dev"))

    user_registrations = [r for r in run.monitor.registrations if r.type == USER]
    assert user_registrations
    for registration in user_registrations:
        assert {"password", "secretId", "secretKey"} <= set(registration.additionalSecretOutputs)


def test_access_summary_lists_every_principal() -> None:
    run = run_program("dev", stack_file_config("dev"))

    summary = {entry["principal"]: entry for entry in run.stack_outputs["access"]}
    assert summary["user:qa-lead"] == {
        "principal": "user:qa-lead",
        "managedUser": False,
        "access": "readonly",
        "policy": "QcloudIMReadOnlyAccess",
        "policyId": PRESET_CATALOGUE["QcloudIMReadOnlyAccess"],
        "expires": "2027-03-31",
    }
    bot = summary["user:im-stats-bot"]
    (custom_policy,) = run.of_type(POLICY)
    assert bot["policy"] == "im-access-dev-im-stats-bot" and bot["policyId"] == int(custom_policy.id)
    assert set(summary) == {"user:im-dev-alice", "user:im-dev-bob", "user:im-stats-bot", "user:qa-lead"}


def test_every_child_is_parented_to_its_component() -> None:
    run = run_program("dev", stack_file_config("dev"))

    for registration in run.monitor.registrations:
        if registration.type.startswith("tencentcloud:"):
            assert "im-access:index:" in registration.parent, registration.name
