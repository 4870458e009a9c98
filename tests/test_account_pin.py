"""Each stack acts on one account, pinned where the provider enforces it: the config check refuses a
missing or wrong pin and a role of another account before any resource; the pack refuses any
provider that is not pinned to the account the approvals name for its stack, over the analyzer
protocol; and an approval holds in its own account only, whatever route or spelling the grant takes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from commands import stack
from im_access.config import ConfigurationError
from im_access.contract import IM_OPERATOR
from tests.analyzer_client import DEFAULT_PROVIDER, AnalyzerResource, PolicyPackProcess, mandatory
from tests.harness import run_program, stack_file_config
from tests.test_policy_pack_protocol import FULL_ACCESS, LINKED, every_route

OWNER = "100012345678"
ELSEWHERE = "200098765432"
ROLE = {"roleArn": f"qcs::cam::uin/{OWNER}:roleName/im-access-deploy", "sessionName": "im-access-dev"}
PIN = "tencentcloud:allowedAccountIds"
ASSUME = "tencentcloud:assumeRole"
ENDPOINT = "im-provider-endpoint-fixed"

BAD_PINS: list[tuple[dict[str, Any], str, str]] = [
    ({PIN: None}, PIN, 'required, exactly one account: ["100012345678"]'),
    (
        {PIN: [ELSEWHERE]},
        PIN,
        'names account 200098765432, but im-access:ownerUin is 100012345678; write ["100012345678"]',
    ),
    ({PIN: [OWNER, ELSEWHERE]}, PIN, "required, exactly one account"),
    ({PIN: []}, PIN, "required, exactly one account"),
    ({PIN: OWNER}, PIN, "required, exactly one account"),  # a bare string is no list
    ({PIN: [" 100012345678"]}, PIN, "required, exactly one account"),
    ({PIN: ["\uff11\uff10\uff10012345678"]}, PIN, "required, exactly one account"),  # fullwidth digits
    (
        {ASSUME: {**ROLE, "roleArn": f"qcs::cam::uin/{ELSEWHERE}:roleName/deploy"}},
        f"{ASSUME}.roleArn",
        "a role of account 200098765432, but the stack is pinned to account 100012345678",
    ),
    (
        {ASSUME: {**ROLE, "roleArn": "qcs::cam::uin/100012345678:role/4611686018427397919"}},
        f"{ASSUME}.roleArn",
        "required",
    ),
    ({ASSUME: {**ROLE, "policy": '{"statement": []}'}}, f"{ASSUME}.policy", "unknown key; allowed: roleArn"),
    ({ASSUME: {**ROLE, "externalId": "x"}}, f"{ASSUME}.externalId", "unknown key"),
    ({ASSUME: {"roleArn": ROLE["roleArn"]}}, f"{ASSUME}.sessionName", "required"),
    ({ASSUME: {**ROLE, "sessionName": "a b"}}, f"{ASSUME}.sessionName", "required, 2-128"),
    ({ASSUME: {**ROLE, "sessionName": "im-access\n"}}, f"{ASSUME}.sessionName", "required, 2-128"),
    ({ASSUME: {**ROLE, "sessionName": "\u00e9t\u00e9"}}, f"{ASSUME}.sessionName", "required, 2-128"),
    ({ASSUME: {**ROLE, "roleArn": ROLE["roleArn"] + "\n"}}, f"{ASSUME}.roleArn", "required"),
    ({ASSUME: {**ROLE, "sessionDuration": 50000}}, f"{ASSUME}.sessionDuration", "from 1 to 43200"),
    ({ASSUME: {**ROLE, "sessionDuration": True}}, f"{ASSUME}.sessionDuration", "whole seconds"),
    ({ASSUME: "qcs::cam::uin/100012345678:roleName/x"}, ASSUME, "a mapping of roleArn, sessionName"),
]


def dev_config(**changes: Any) -> dict[str, Any]:
    config = {**stack_file_config("dev"), **changes}
    return {key: value for key, value in config.items() if value is not None}


@pytest.mark.parametrize(("changes", "path", "message"), BAD_PINS)
def test_the_config_check_refuses_a_bad_pin_before_any_resource(
    changes: dict[str, Any], path: str, message: str
) -> None:
    registered: list[Any] = []
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", dev_config(**changes), observe=registered.append)
    problems = [problem for problem in raised.value.problems if problem.startswith(path + ":")]
    assert problems and message in problems[0], raised.value.problems
    assert registered[0].mocks.resources == []


def test_every_pin_problem_is_listed_at_once() -> None:
    bad = {PIN: [ELSEWHERE], ASSUME: {"roleArn": "x", "policy": "{}", "sessionDuration": 0}}
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", dev_config(**bad))
    paths = sorted(problem.split(": ", 1)[0] for problem in raised.value.problems)
    assert paths == [PIN, f"{ASSUME}.policy", f"{ASSUME}.roleArn", f"{ASSUME}.sessionDuration", f"{ASSUME}.sessionName"]


def test_a_pinned_stack_with_a_role_of_its_own_account_runs() -> None:
    run = run_program("dev", dev_config(**{ASSUME: ROLE}))
    assert run.mocks.resources, "the program registered its resources"


def test_the_stack_command_refuses_a_bad_pin_in_the_file_before_the_engine(tmp_path: Path) -> None:
    """Judged on the file itself, as a pull request's program might not judge it."""
    from tests.checkout import checkout_copy

    project = checkout_copy(tmp_path / "project")
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": dev_config(**{PIN: [ELSEWHERE]})}))
    with pytest.raises(stack.StackFileError) as raised:
        stack.check_stack_files("dev", project, project / "policy_pack")
    assert "Pulumi.dev.yaml: tencentcloud:allowedAccountIds: names account 200098765432" in str(raised.value)


def provider(**props: Any) -> AnalyzerResource:
    return dataclasses.replace(DEFAULT_PROVIDER, properties={**DEFAULT_PROVIDER.properties, **props})


@pytest.mark.parametrize(
    "props",
    [
        {"allowedAccountIds": None},
        {"allowedAccountIds": f'["{OWNER}", "{ELSEWHERE}"]'},
        {"allowedAccountIds": "[]"},
        {"allowedAccountIds": '["*"]'},
        {"assumeRole": f'{{"roleArn": "qcs::cam::uin/{ELSEWHERE}:roleName/x", "sessionName": "s1"}}'},
    ],
)
def test_the_pack_refuses_a_provider_not_pinned_to_one_account(
    prod_pack: PolicyPackProcess, props: dict[str, Any]
) -> None:
    unpinned = provider(**props)
    unpinned.properties = {k: v for k, v in unpinned.properties.items() if v is not None}
    found = mandatory(prod_pack.analyze(unpinned))
    assert found and {d.policy for d in found} == {ENDPOINT}
    served = AnalyzerResource("tencentcloud:Cam/group:Group", "g", {"name": "g"}, provider=unpinned)
    assert {d.policy for d in mandatory(prod_pack.analyze(served))} == {ENDPOINT}


def test_the_pack_passes_a_provider_pinned_with_a_role_of_its_account(prod_pack: PolicyPackProcess) -> None:
    role = f'{{"roleArn": "{ROLE["roleArn"]}", "sessionName": "{ROLE["sessionName"]}"}}'
    assert prod_pack.analyze(provider(assumeRole=role)) == []
    assert prod_pack.analyze(provider(assumeRole=dict(ROLE))) == []  # as an object, too


def test_the_pack_refuses_a_provider_pinned_to_another_account_than_the_stacks(dev_pack: PolicyPackProcess) -> None:
    """Code may declare its own provider; pinned with a role to a member account the approvals do not
    name for the stack, even a read-only group there is refused, and so is all that provider serves."""
    role = f'{{"roleArn": "qcs::cam::uin/{ELSEWHERE}:roleName/deploy", "sessionName": "im-access"}}'
    member = dataclasses.replace(provider(allowedAccountIds=f'["{ELSEWHERE}"]', assumeRole=role), name="member-account")
    (on_provider,) = mandatory(dev_pack.analyze(member))
    assert on_provider.policy == ENDPOINT
    assert (
        "provider 'member-account': allowedAccountIds: names account 200098765432, but the account"
        " policy_pack/approvals.yaml names for stack 'dev' is 100012345678" in on_provider.message
    )
    group = AnalyzerResource("tencentcloud:Cam/group:Group", "readers", {"name": "readers"}, provider=member)
    assert [d.policy for d in mandatory(dev_pack.analyze(group))] == [ENDPOINT]


def test_the_pack_refuses_every_provider_of_a_stack_the_approvals_do_not_list() -> None:
    with PolicyPackProcess("sandbox") as pack:
        pack.configure({})
        (found,) = mandatory(pack.analyze(provider()))
    assert found.policy == ENDPOINT
    assert "stack 'sandbox' has no account in policy_pack/approvals.yaml; list it with its account" in found.message


def elsewhere(resource: AnalyzerResource) -> AnalyzerResource:
    """The same resource acting on another account: its provider pinned there, a component declaring it."""
    if resource.type.startswith("im-access:index:"):
        return dataclasses.replace(resource, properties={**resource.properties, "ownerUin": ELSEWHERE})
    if resource.provider is None:
        return resource
    return dataclasses.replace(resource, provider=provider(allowedAccountIds=f'["{ELSEWHERE}"]'))


def test_an_approval_holds_in_its_own_account_only(prod_pack: PolicyPackProcess) -> None:
    """prod is approved in account 100012345678: every route to full access moved to another account
    is blocked, resource by resource and across the stack, as on a stack never approved (and a
    provider pinned to an account the approvals do not name for the stack is refused on its own)."""
    # A role known only by an id could be one a pull request assumes: refused on every stack.
    assert [d.urn.rsplit("::", 1)[-1] for d in mandatory(prod_pack.analyze_all(every_route()))] == ["raw-role"]
    moved = [elsewhere(resource) for resource in every_route()]
    per_resource = {r.name: [d.policy for d in mandatory(prod_pack.analyze(r))] for r in moved}
    granting = ("oncall", "grant-group-7", "raw-user", "raw-group", "raw-role", "raw-role-name", "wide")
    for name in granting:
        resource = next(r for r in moved if r.name == name)
        assert per_resource[name] == [FULL_ACCESS] + ([ENDPOINT] if resource.provider else []), name
    stack = mandatory(prod_pack.analyze_stack(moved))
    assert {d.policy for d in stack} == {LINKED} and moved[-1].urn in {d.urn for d in stack}


def test_a_component_claiming_the_approved_account_does_not_approve_its_children(prod_pack: PolicyPackProcess) -> None:
    """A program may write any ownerUin on a component; the attachment it makes goes through the
    provider, whose pin is the account the change really lands in."""
    claims = AnalyzerResource(IM_OPERATOR, "oncall", {"access": "full", "userName": "oncall", "ownerUin": OWNER})
    attachment = AnalyzerResource(
        "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment",
        "oncall-im-access",
        {"userName": "oncall", "policyId": "524252"},
        provider=provider(allowedAccountIds=f'["{ELSEWHERE}"]'),
    )
    assert mandatory(prod_pack.analyze(claims)) == []
    assert [d.policy for d in mandatory(prod_pack.analyze(attachment))] == [FULL_ACCESS, ENDPOINT]
