"""One approvals file, read by one function: the pack, the audit, the summary and the break-glass
checks all ask it, and it lists exactly the project's stacks, named one way."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from commands.audit import AuditError, run_audit
from im_access.approvals import APPROVALS_FILE, load_approvals, parse_approvals
from im_access.break_glass import parse_exceptions
from im_access.config import read_stack_file
from tests.harness import ROOT
from tests.test_break_glass import VALID as VALID_EXCEPTION

GUARDRAILS = ROOT / "policy_pack"


def test_the_approvals_list_exactly_the_project_stacks_and_approve_only_prod() -> None:
    approvals = load_approvals(GUARDRAILS)
    assert approvals.problems == ()
    assert set(approvals.stacks) == {path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml")}
    owners = {stack: read_stack_file(ROOT / f"Pulumi.{stack}.yaml")["im-access:ownerUin"] for stack in approvals.stacks}
    assert {stack: approvals.account_of(stack) for stack in approvals.stacks} == owners
    assert [stack for stack in approvals.stacks if approvals.is_approved(stack, owners[stack])] == ["prod"]
    assert not (GUARDRAILS / "config").exists(), "per-stack policy configs would be a second place for approvals"


def test_every_problem_is_listed_at_once_with_its_key_path_and_nothing_is_approved() -> None:
    approvals = parse_approvals(
        {
            "stacks": {
                "prod": {"account": "100012345678", "fullAccessApproved": True, "fullAccessPrincipal": ["group:1"]},
                "acme/im-access/dev": {"fullAccessApproved": True},
                "staging": {"account": 100012345678, "fullAccessApproved": "yes", "fullAccessPrincipals": ["user:bob"]},
                "local": {"account": "1", "fullAccessApproved": False, "reviewedCustomPolicies": ["200000001"]},
            }
        }
    )
    problems = "\n".join(approvals.problems)
    assert "stacks.prod.fullAccessPrincipal: unknown key" in problems
    assert "stacks.acme/im-access/dev: not a stack name; name a stack as in Pulumi.<stack>.yaml" in problems
    assert "stacks.staging.fullAccessApproved: required, true or false" in problems
    assert "stacks.staging.fullAccessPrincipals: a list of principals written group:<id>, uin:<uin>" in problems
    assert "stacks.local.reviewedCustomPolicies: a list of policy ids" in problems
    assert "stacks.staging.account: required, the uin of the account the stack acts on, in quotes" in problems
    assert "stacks.local.account: required" in problems
    assert len(approvals.problems) == 7
    assert not approvals.is_approved("prod", "100012345678")


def test_an_approval_holds_in_its_own_account_only() -> None:
    approvals = parse_approvals(
        {"stacks": {"prod": {"account": "100012345678", "fullAccessApproved": True, "reviewedCustomPolicies": [7]}}}
    )
    assert approvals.problems == ()
    assert approvals.is_approved("prod", "100012345678")
    assert approvals.of("prod", "100012345678").reviewed_custom_policies == {7}
    for elsewhere in ("200098765432", None, "1000123456780"):
        assert not approvals.is_approved("prod", elsewhere)
        assert approvals.of("prod", elsewhere).reviewed_custom_policies == frozenset()


def test_an_unreadable_file_approves_nothing(tmp_path: Path) -> None:
    (tmp_path / APPROVALS_FILE).write_text("stacks: {prod: {fullAccessApproved: true}")
    approvals = load_approvals(tmp_path)
    assert approvals.problems and not approvals.is_approved("prod", "100012345678")
    assert load_approvals(tmp_path / "missing").problems


def test_yaml_aliases_are_refused_before_they_are_expanded(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    (tmp_path / APPROVALS_FILE).write_text(bomb + "stacks: {prod: {fullAccessApproved: true}}\n")
    (problem,) = load_approvals(tmp_path).problems
    assert "uses a YAML alias" in problem


def test_break_glass_knows_the_stacks_of_the_approvals_and_refuses_an_approved_one() -> None:
    approvals = load_approvals(GUARDRAILS)
    exceptions = parse_exceptions(
        {"exceptions": [VALID_EXCEPTION, {**VALID_EXCEPTION, "stack": "prod"}]}, approvals.stacks, approvals
    )
    assert [e.stack for e in exceptions.valid] == ["staging"]
    (malformed,) = exceptions.malformed
    assert "stack 'prod' is approved for IM full access already" in malformed.describe()


def test_one_function_decides_and_nothing_else_reads_the_file() -> None:
    sources = {
        path.relative_to(ROOT).as_posix(): path.read_text()
        for folder in ("commands", "im_access", "policy_pack", "components")
        for path in (ROOT / folder).rglob("*.py")
    }
    readers = {name for name, text in sources.items() if re.search(r"\bload_approvals\(", text)}
    assert readers == {
        "im_access/approvals.py",
        "im_access/break_glass.py",
        "policy_pack/im_guardrails/approvals.py",
        "im_access/stack_files.py",
        "commands/stack.py",
        "commands/audit.py",
        "commands/preview_report.py",
        "commands/adopt.py",  # marks what the guardrails will refuse among the holdings it adopts
    }
    for name, text in sources.items():
        assert "approvedStacks" not in text, name
        if name != "im_access/approvals.py":
            assert 'fullAccessApproved"' not in text and 'approvals.yaml")' not in text, name
    assert yaml.safe_load((GUARDRAILS / APPROVALS_FILE).read_text())["stacks"]["prod"]["fullAccessApproved"] is True


def test_the_audit_cannot_run_on_approvals_with_a_problem(tmp_path: Path) -> None:
    (tmp_path / APPROVALS_FILE).write_text("stacks:\n  prod:\n    fullAccessAproved: true\n")
    with pytest.raises(AuditError, match=r"stacks\.prod\.fullAccessAproved: unknown key"):
        run_audit(["prod"], ROOT, dt.date(2026, 12, 1), guardrails=tmp_path)
