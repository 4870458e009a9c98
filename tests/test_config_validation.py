"""Bad configuration is rejected before any resource is registered, every problem at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from im_access.config import ConfigurationError
from tests.harness import run_program

OWNER = "100012345678"
READER = {"name": "reader", "access": "readonly"}
CUSTOM = {"name": "bot", "access": "custom", "sdkAppIds": [1400000001], "actions": ["name/im:DescribeAppStatList"]}
CUSTOM_SCOPE = {key: value for key, value in CUSTOM.items() if key != "name"}
PIN = {"tencentcloud:allowedAccountIds": ["100012345678"]}
YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def assert_rejected_with(namespace: dict[str, Any], path: str, *fragments: str) -> None:
    config = {f"im-access:{key}": value for key, value in namespace.items()}
    run_holder: list[Any] = []
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", config, observe=run_holder.append)
    (run,) = run_holder
    assert run.mocks.resources == [], "a resource was registered despite bad configuration"
    assert [r.type for r in run.monitor.registrations if r.type != "pulumi:pulumi:Stack"] == []
    matching = [problem for problem in raised.value.problems if problem.startswith(path + ":")]
    assert matching, f"no problem reported at {path}: {raised.value.problems}"
    for fragment in fragments:
        assert any(fragment in problem for problem in matching), (fragment, matching)
    assert "stack 'dev'" in str(raised.value)


CASES = [
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "nickname": "x"}]},
        "im-access:operators[0].nickname",
        ["unknown key", "allowed keys: access"],
        id="unknown-operator-key",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operator": [READER]},
        "im-access:operator",
        ["unknown key", "operators"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "console": "yes"}]},
        "im-access:operators[0].console",
        ["valid boolean", "true or false"],
        id="wrong-type-bool",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": {"name": "reader"}},
        "im-access:operators",
        ["valid list"],
        id="wrong-type-list",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "name": "bad name!"}]},
        "im-access:operators[0].name",
        ["1-64 characters"],
        id="user-name-cam-refuses",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "name": "x" * 65}]},
        "im-access:operators[0].name",
        ["1-64 characters"],
        id="user-name-too-long",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "access": "admin"}]},
        "im-access:operators[0].access",
        ["'admin'", "readonly, full, custom"],
        id="unknown-access-level",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [READER, READER]},
        "im-access:operators[1]",
        ["already given IM access at im-access:operators[0]"],
        id="duplicate-operator",
    ),
    pytest.param(
        {"ownerUin": OWNER, "grants": [{"group": 7, "access": "readonly"}, {"group": 7, "access": "full"}]},
        "im-access:grants[1]",
        ["group:7 is already given"],
        id="same-group-granted-twice",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [READER], "grants": [{"user": "reader", "access": "full"}]},
        "im-access:grants[0]",
        ["user:reader is already given"],
        id="operator-also-granted",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{"name": "bot", "access": "custom"}]},
        "im-access:operators[0]",
        ["needs non-empty sdkAppIds and actions"],
        id="custom-without-scope",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**CUSTOM, "actions": ["name/cvm:RunInstances"]}]},
        "im-access:operators[0].actions[0]",
        ["name/im:<Api>"],
        id="custom-action-outside-im",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**CUSTOM, "sdkAppIds": ["abc"]}]},
        "im-access:operators[0].sdkAppIds[0]",
        ["SDKAppID"],
        id="custom-app-id-not-numeric",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "actions": ["name/im:RemoveUser"]}]},
        "im-access:operators[0]",
        ["only to access 'custom'"],
        id="scope-on-preset-level",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "expires": "31/12/2030"}]},
        "im-access:operators[0].expires",
        ["YYYY-MM-DD"],
        id="expires-bad-format",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "expires": "2030-02-30"}]},
        "im-access:operators[0].expires",
        ["YYYY-MM-DD"],
        id="expires-not-a-date",
    ),
    pytest.param(
        {"ownerUin": OWNER, "grants": [{"user": "dev", "access": "readonly", "expires": YESTERDAY}]},
        "im-access:grants[0].expires",
        ["in the past"],
        id="expires-in-the-past",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "console": False}]},
        "im-access:operators[0]",
        ["neither console nor API access"],
        id="no-way-in",
    ),
    pytest.param(
        {"ownerUin": "12ab34", "operators": [READER]},
        "im-access:ownerUin",
        ["string of digits"],
        id="owner-uin-not-numeric",
    ),
    pytest.param({"operators": [READER]}, "im-access:ownerUin", ["is required"], id="owner-uin-missing"),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "password": "Hunter2!"}]},
        "im-access:operators[0].password",
        ["never read from config"],
        id="password-in-config",
    ),
    pytest.param(
        {"ownerUin": OWNER, "grants": [{"user": "a", "group": 3, "access": "readonly"}]},
        "im-access:grants[0]",
        ["either user or group"],
        id="grant-two-principals",
    ),
    pytest.param(
        {"ownerUin": OWNER, "grants": [{"access": "readonly"}]},
        "im-access:grants[0]",
        ["either user or group"],
        id="grant-no-principal",
    ),
    pytest.param(
        {"ownerUin": OWNER, "presetPolicyIds": {"QcloudIMReadOnlyAccess": 1}},
        "im-access:presetPolicyIds",
        ["not read from stack config", "looked up by exact name"],
        id="preset-ids-in-stack-config",
    ),
    pytest.param(
        {"ownerUin": OWNER, "loginUrlTemplate": "http://intl.cloud.tencent.com/login/{ownerUin}"},
        "im-access:loginUrlTemplate",
        ["https:// link on intl.cloud.tencent.com or cloud.tencent.com"],
        id="login-template-plain-http",
    ),
    pytest.param(
        {"ownerUin": OWNER, "loginUrlTemplate": "https://login.example.net/subAccount/{ownerUin}?u={userName}"},
        "im-access:loginUrlTemplate",
        ["https:// link on intl.cloud.tencent.com"],
        id="login-template-other-host",
    ),
    pytest.param(
        {"ownerUin": OWNER, "loginUrlTemplate": "https://intl.cloud.tencent.com@login.example.net/{ownerUin}"},
        "im-access:loginUrlTemplate",
        ["https:// link on intl.cloud.tencent.com"],
        id="login-template-user-info-host",
    ),
    pytest.param(
        {"ownerUin": OWNER, "loginUrlTemplate": "https://intl.cloud.tencent.com/login/{ownerUin.__class__}"},
        "im-access:loginUrlTemplate",
        ["only the placeholders {ownerUin} and {userName}"],
        id="login-template-attribute-lookup",
    ),
    pytest.param(
        {"ownerUin": OWNER, "loginUrlTemplate": "https://intl.cloud.tencent.com/login/{ownerUin!r}{userName:>99}"},
        "im-access:loginUrlTemplate",
        ["without format specs"],
        id="login-template-conversion-and-spec",
    ),
    pytest.param(
        {"ownerUin": OWNER, "loginUrlTemplate": "https://intl.cloud.tencent.com/login/{userName}"},
        "im-access:loginUrlTemplate",
        ["must contain {ownerUin}"],
        id="login-template-without-owner",
    ),
    pytest.param(
        {"ownerUin": "\uff11\uff10\uff10\uff10\uff11\uff12\uff13\uff14"},
        "im-access:ownerUin",
        ["string of digits"],
        id="owner-uin-fullwidth-digits",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "phone": "\u0661\u0663\u0668\u0660\u0660\u0661\u0663"}]},
        "im-access:operators[0].phone",
        ["digits only"],
        id="phone-arabic-indic-digits",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "countryCode": "\uff18\uff16"}]},
        "im-access:operators[0].countryCode",
        ["1-4 digits"],
        id="country-code-fullwidth-digits",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**READER, "name": "Alice"}, {**READER, "name": "alice"}]},
        "im-access:operators[1]",
        ["already given IM access at im-access:operators[0]", "ignoring letter case"],
        id="operators-differing-only-in-case",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [READER], "grants": [{"user": "READER", "access": "readonly"}]},
        "im-access:grants[0]",
        ["user:READER is already given", "ignoring letter case"],
        id="grant-to-an-operator-in-other-case",
    ),
    pytest.param(
        {"ownerUin": OWNER, "operators": [{**CUSTOM, "name": "user-qa"}], "grants": [{**CUSTOM_SCOPE, "user": "qa"}]},
        "im-access:grants[0]",
        ["custom policy would be named 'im-access-dev-user-qa'", "im-access:operators[0]"],
        id="custom-policy-names-collide",
    ),
]


@pytest.mark.parametrize(("namespace", "path", "fragments"), CASES)
def test_bad_input_is_rejected_before_any_resource(namespace: dict[str, Any], path: str, fragments: list[str]) -> None:
    assert_rejected_with(namespace, path, *fragments)


def test_a_long_value_is_never_echoed_whole() -> None:
    namespace = {"ownerUin": "7" * 4_000 + "x" * 1_000, "operators": [{**READER, "remark": "r" * 5_000}]}
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", {**{f"im-access:{k}": v for k, v in namespace.items()}, **PIN})

    assert len(raised.value.problems) == 2
    for problem in raised.value.problems:
        assert len(problem) < 400, problem
        assert "(5002 characters)" in problem


def test_every_problem_is_listed_at_once() -> None:
    namespace = {
        "ownerUin": "not-a-uin",
        "operators": [{**READER, "access": "admin"}, {"name": "bot", "access": "custom", "console": False}],
        "grants": [{"user": "dev", "access": "readonly", "expires": YESTERDAY}],
    }
    run_holder: list[Any] = []
    with pytest.raises(ConfigurationError) as raised:
        run_program("staging", {f"im-access:{k}": v for k, v in namespace.items()}, observe=run_holder.append)

    paths = sorted(problem.split(": ", 1)[0] for problem in raised.value.problems)
    assert paths == [
        "im-access:grants[0].expires",
        "im-access:operators[0].access",
        "im-access:operators[1]",
        "im-access:operators[1]",
        "im-access:ownerUin",
        "tencentcloud:allowedAccountIds",
    ]
    assert str(raised.value).startswith("stack 'staging': the im-access configuration has 6 problems")
    assert run_holder[0].mocks.resources == []


def test_the_checked_in_stack_files_are_valid() -> None:
    from tests.harness import stack_file_config

    for stack in ("dev", "staging", "prod"):
        run = run_program(stack, stack_file_config(stack))
        assert run.mocks.resources, stack
