"""End to end without the engine: the real program under mocks, every registration sent to the running pack."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format

from tests.analyzer_client import AnalyzerResource, PolicyPackProcess, mandatory
from tests.harness import ProgramRun, run_program, stack_file_config

FULL_ACCESS = "im-full-access-approved-stacks-only"


def analyzer_resources(run: ProgramRun) -> list[AnalyzerResource]:
    """Each resource the program registered, as the engine would describe it to an analyzer."""
    resources = []
    for request in run.monitor.registrations:
        if request.type == "pulumi:pulumi:Stack":
            continue
        resources.append(
            AnalyzerResource(
                type=request.type,
                name=request.name,
                properties=json_format.MessageToDict(request.object),
                parent=request.parent,
                urn=run.monitor.urns[id(request)],
                property_dependencies={key: list(deps.urns) for key, deps in request.propertyDependencies.items()},
            )
        )
    return resources


def check(stack: str, config: dict[str, Any]) -> list[Any]:
    run = run_program(stack, config)
    with PolicyPackProcess(stack, dry_run=False) as pack:
        pack.configure({})
        return mandatory(pack.analyze_all(analyzer_resources(run)))


def with_operator(stack: str, operator: dict[str, Any]) -> dict[str, Any]:
    config = stack_file_config(stack)
    config["im-access:operators"] = [*config["im-access:operators"], operator]
    return config


def test_checked_in_dev_staging_and_local_stacks_pass_the_guardrails() -> None:
    assert check("dev", stack_file_config("dev")) == []
    assert check("staging", stack_file_config("staging")) == []
    assert check("local", stack_file_config("local")) == []


def test_full_access_operator_is_blocked_on_the_local_stack() -> None:
    found = check("local", with_operator("local", {"name": "local-admin", "access": "full"}))
    assert {d.policy for d in found} == {FULL_ACCESS}


def test_full_access_operator_is_blocked_on_dev() -> None:
    found = check("dev", with_operator("dev", {"name": "sneaky-admin", "access": "full"}))

    assert {d.policy for d in found} == {FULL_ACCESS}
    messages = " ".join(d.message for d in found)
    assert "user 'sneaky-admin'" in messages and "'dev'" in messages
    # Blocked both as a component and as the raw preset attachment beneath it.
    assert len(found) == 2


@pytest.mark.parametrize("actions", [["name/im:*"], [f"name/im:{initial}*" for initial in "ACDEORSU"]])
def test_custom_operator_allowing_all_of_im_is_blocked_on_dev(actions: list[str]) -> None:
    wide = {
        "name": "wide-bot",
        "access": "custom",
        "console": False,
        "apiKey": True,
        "sdkAppIds": [1400000001],
        "actions": actions,
    }
    found = check("dev", with_operator("dev", wide))

    assert {d.policy for d in found} == {FULL_ACCESS, "im-full-access-across-the-stack"}


def test_full_access_operator_is_allowed_on_prod() -> None:
    config = stack_file_config("prod")
    assert any(op["access"] == "full" for op in config["im-access:operators"])
    assert check("prod", config) == []
