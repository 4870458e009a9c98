"""Adoption without an account: the entries proposed for unmanaged holdings, the stack file edited in
place, the `adopted` keys validated, the ids the program imports by, and the hand-over of an adopted
operator."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from commands import handover
from commands.adopt import AdoptError, with_entries
from im_access.adoption import AccountUser, AdoptAs, Proposal, Skipped, propose
from im_access.audit import Holding
from im_access.config import ConfigurationError, parse_stack_config, read_namespace
from tests.harness import ROOT, run_program

OWNER = "100012345678"
RO, FULL = ("QcloudIMReadOnlyAccess", 600001), ("QcloudAVCFullAccess", 524252)
CAROL = AccountUser("Console-Carol", 200000000007, console=True, has_keys=True, email="c@x.io", remark="by hand")


def holding(principal: str, policy: tuple[str, int] = RO, *, preset: bool = True) -> Holding:
    return Holding(principal, policy[0], policy[1], policy == FULL, preset)


def proposed(
    *holdings: Holding, adopt_as: AdoptAs = "grant", declared: tuple[str, ...] = (), approved: bool = False
) -> tuple[list[Proposal], list[Skipped]]:
    return propose(holdings, adopt_as, {"console-carol": CAROL}, declared, stack="dev", approved=approved)


def test_a_grant_names_the_principal_its_level_and_the_attachment_to_import() -> None:
    proposals, skipped = proposed(holding("user:console-carol"), holding("group:90002"))
    assert skipped == []
    assert [(p.list_key, p.entry, p.refused) for p in proposals] == [
        ("grants", {"user": "console-carol", "access": "readonly", "adopted": {"policyId": 600001}}, None),
        ("grants", {"group": 90002, "access": "readonly", "adopted": {"policyId": 600001}}, None),
    ]


def test_an_operator_declares_the_user_as_cam_describes_it_so_the_import_matches() -> None:
    proposals, _ = proposed(holding("user:console-carol"), holding("group:90002"), adopt_as="operator")
    assert proposals[0].list_key == "operators"
    assert proposals[0].entry == {
        "name": "Console-Carol",  # CAM's spelling
        "access": "readonly",
        "console": True,
        "apiKey": True,
        "email": "c@x.io",
        "remark": "by hand",
        "adopted": {"uin": "200000000007", "policyId": 600001},
    }
    assert proposals[1].list_key == "grants"  # a group is never an operator


def test_what_cannot_be_adopted_is_left_with_the_reason() -> None:
    custom = holding("user:console-carol", ("console-im-remove", 700123), preset=False)
    admin = holding("user:bob", ("AdministratorAccess", 1))
    role = holding("role:ci")
    declared = holding("user:qa-lead")
    twice = [holding("user:dan"), holding("user:dan", FULL)]
    proposals, skipped = proposed(custom, admin, role, declared, *twice, declared=("USER:QA-LEAD",))
    assert [p.entry.get("user") for p in proposals] == ["dan"]
    reasons = {(s.holding.principal, s.holding.policy): s.reason for s in skipped}
    assert "not the preset of an im-access level" in reasons[("user:console-carol", "console-im-remove")]
    assert "not the preset of an im-access level" in reasons[("user:bob", "AdministratorAccess")]
    assert "neither an operator nor a grant" in reasons[("role:ci", RO[0])]
    assert "has an entry for user:qa-lead already" in reasons[("user:qa-lead", RO[0])]
    assert "one per principal" in reasons[("user:dan", FULL[0])]


def test_an_operator_needs_the_user_and_some_access_of_its_own() -> None:
    nothing = AccountUser("ghost-login", 200000000009, console=False, has_keys=False)
    users = {"ghost-login": nothing}
    holdings = [holding("user:ghost-login"), holding("user:gone")]
    proposals, skipped = propose(holdings, "operator", users, (), stack="dev", approved=False)
    assert proposals == []
    assert [s.reason for s in skipped] == [
        "the user has neither console access nor an API key: adopt it as a grant",
        "CAM no longer lists the user",
    ]


def test_full_access_off_an_approved_stack_is_proposed_as_found_and_marked() -> None:
    (off,), _ = proposed(holding("user:erin", FULL))
    (on,), _ = proposed(holding("user:erin", FULL), approved=True)
    assert off.entry["access"] == "full" and off.refused and "guardrails refuse it on dev" in off.refused
    assert on.refused is None


def test_the_stack_file_keeps_its_comments_order_and_quoting_and_only_gains_lines() -> None:
    original = (ROOT / "Pulumi.dev.yaml").read_text()
    proposals = (
        proposed(holding("user:console-carol"), adopt_as="operator")[0] + proposed(holding("user:erin", FULL))[0]
    )

    edited = with_entries(original, proposals, "Pulumi.dev.yaml")

    diff = list(difflib.ndiff(original.splitlines(), edited.splitlines()))
    assert [line for line in diff if line.startswith("- ")] == []
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert "    - name: Console-Carol" in added
    assert any("adopted: {uin: '200000000007', policyId: 600001}  # imported as it is" in line for line in added)
    assert any(line.startswith("    - user: erin  # IM full access off an approved stack") for line in added)
    config = yaml.safe_load(edited)["config"]
    parse_stack_config("dev", read_namespace(config), allow_past_expiry=True)  # valid as written
    assert config["im-access:operators"][-1]["adopted"] == {"uin": "200000000007", "policyId": 600001}


def test_a_stack_file_without_the_list_gets_one_and_a_list_that_is_not_one_stops_it() -> None:
    (grant,), _ = proposed(holding("group:90002"))
    edited = with_entries('config:\n  im-access:ownerUin: "100012345678"\n', [grant], "Pulumi.x.yaml")
    assert yaml.safe_load(edited)["config"] == {
        "im-access:ownerUin": "100012345678",
        "im-access:grants": [{"group": 90002, "access": "readonly", "adopted": {"policyId": 600001}}],
    }
    assert '"100012345678"' in edited  # the quoting as it was
    with pytest.raises(AdoptError, match="im-access:grants must be a list"):
        with_entries("config:\n  im-access:grants: none\n", [grant], "Pulumi.x.yaml")


def _problems(**namespace: Any) -> list[str]:
    with pytest.raises(ConfigurationError) as raised:
        parse_stack_config("dev", {"ownerUin": OWNER, **namespace})
    return raised.value.problems


def test_adopted_keys_are_validated_with_their_key_path_all_at_once() -> None:
    problems = _problems(
        operators=[
            {"name": "a", "access": "readonly", "adopted": {"policyId": 600001}},
            {
                "name": "b",
                "access": "readonly",
                "apiKey": {"rotateDays": 30},
                "adopted": {"uin": "2000001", "policyId": 1},
            },
            {"name": "c", "access": "readonly", "adopted": {"uin": "x1", "policyId": 0}},
        ],
        grants=[
            {"user": "d", "access": "custom", "sdkAppIds": [1], "actions": ["name/im:A"], "adopted": {"policyId": 5}},
            {"group": 7, "access": "readonly", "adopted": {"policyId": 5, "uin": "2000001"}},
        ],
    )
    text = "\n".join(problems)
    assert "im-access:operators[0].adopted.uin: is required; allowed: the sub-user's uin" in text
    assert "im-access:operators[1].adopted: an adopted operator keeps its own keys" in text
    assert "im-access:operators[2].adopted.uin:" in text and "im-access:operators[2].adopted.policyId:" in text
    assert "im-access:grants[0].adopted: only a preset's attachment can be adopted" in text
    assert "im-access:grants[1].adopted.uin: unknown key; allowed keys: policyId" in text


def _registration(run: Any, name: str) -> Any:
    return run.wire_registration(name)


def test_the_program_imports_an_adopted_operator_and_grants_by_the_providers_ids() -> None:
    adopted = {"uin": "200000000007", "policyId": 600001}
    operator = {"name": "console-carol", "access": "readonly", "remark": "by hand", "adopted": adopted}
    grants = [
        {"user": "console-dave", "access": "readonly", "adopted": {"policyId": 600001}},
        {"group": 90002, "access": "full", "adopted": {"policyId": 524252}},
    ]
    config = {
        "im-access:ownerUin": OWNER,
        "tencentcloud:allowedAccountIds": [OWNER],
        "im-access:operators": [operator, {"name": "new-fred", "access": "readonly"}],
        "im-access:grants": grants,
    }
    run = run_program("dev", config)

    imports = {r.name: r.importId for r in run.monitor.registrations if r.importId}
    assert imports == {
        "console-carol-user": "console-carol",
        "console-carol-im-access": "console-carol#600001",
        "console-carol-mfa": "200000000007",
        "grant-user-console-dave-im-access": "console-dave#600001",
        "grant-group-90002-im-access": "90002#524252",
    }
    user = next(r for r in run.mocks.resources if r.name == "console-carol-user")
    # What the provider's import reads back, so nothing differs: its defaults where CAM says nothing.
    assert {k: user.inputs.get(k) for k in ("needResetPassword", "useApi", "forceDelete", "remark")} == {
        "needResetPassword": True,
        "useApi": True,
        "forceDelete": False,
        "remark": "by hand",
    }
    assert list(_registration(run, "console-carol-mfa").ignoreChanges) == ["loginFlag", "actionFlag"]
    assert not _registration(run, "new-fred-user").importId
    operators = run.stack_outputs["operators"]
    assert operators["console-carol"]["adopted"] is True and operators["console-carol"]["password"] is None
    assert operators["new-fred"]["adopted"] is False


def test_an_adopted_operator_has_nothing_to_hand_over_and_the_list_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "operators.json"
    adopted = {"userName": "console-carol", "loginUrl": "https://example.test/1", "password": None, "adopted": True}
    created = {"userName": "new-fred", "loginUrl": "https://example.test/2", "password": "Pw-1!", "adopted": False}
    outputs.write_text(json.dumps({"console-carol": adopted, "new-fred": created}))
    out = tmp_path / "carol.csv"
    args = ["--stack", "dev", "--outputs-file", str(outputs)]

    assert handover.main([*args, "--operator", "console-carol", "--out", str(out), "--plaintext"]) == 2
    assert "was adopted (`make adopt`): it kept the password and keys it had" in capsys.readouterr().err
    assert not out.exists()
    assert handover.main([*args, "--list"]) == 0
    listed = capsys.readouterr().out
    assert "console-carol: https://example.test/1 (adopted: keeps its own password and keys" in listed
    assert "new-fred: https://example.test/2\n" in listed
