"""Recovery of an interrupted `up` without an engine: what each pending create is looked up by, what
is imported, cleared or made again, and which locks count as left by a killed run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from commands import preflight
from commands.cam_account import AccountReadError
from im_access.recovery import GROUP_ATTACHMENT, MFA_FLAG, POLICY, USER, USER_ATTACHMENT, pending_creates

PROVIDER = "urn:pulumi:dev::im-access::pulumi:providers:tencentcloud::default::a1b2"
OPERATOR = "urn:pulumi:dev::im-access::im-access:index:ImOperator"


class FakeCam:
    """CAM as the preflight's reader sees it: users, attachments, policies; records every call."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.user_policies: dict[int, list[int]] = {}
        self.group_policies: dict[int, list[int]] = {}
        self.policies: dict[str, int] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def add_user(self, name: str, uin: int, *, login: str = "", keys: tuple[str, ...] = ()) -> None:
        self.users[name] = {"Name": name, "Uin": uin, "RecentlyLoginTime": login, "keys": list(keys)}

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        self.calls.append((action, params))
        by_uin = {user["Uin"]: user for user in self.users.values()}
        if action == "GetUser":
            if params["Name"] not in self.users:
                raise AccountReadError(
                    "GetUser failed: ResourceNotFound.UserNotExist: no", "ResourceNotFound.UserNotExist"
                )
            return dict(self.users[params["Name"]])
        if action == "ListAccessKeys":
            return {"AccessKeys": [{"AccessKeyId": key} for key in by_uin[params["TargetUin"]]["keys"]]}
        if action == "GetSecurityLastUsed":
            return {"SecretIdLastUsedRows": [{"SecretId": key, "LastUsedDate": ""} for key in params["SecretIdList"]]}
        if action == "DescribeSafeAuthFlagColl":
            if params["SubUin"] not in by_uin:
                raise AccountReadError("DescribeSafeAuthFlagColl failed: UserNotExist", "InvalidParameter.UserNotExist")
            return {"LoginFlag": {}, "ActionFlag": {}}
        if action == "DeleteUser":
            del self.users[params["Name"]]
            return {}
        raise AssertionError(f"unexpected {action}")

    def pages(self, action: str, list_key: str, **params: Any) -> Iterator[dict[str, Any]]:
        self.calls.append((action, params))
        if action == "ListPolicies":
            yield from ({"PolicyName": n, "PolicyId": i} for n, i in self.policies.items() if params["Keyword"] in n)
        elif action == "ListAttachedUserPolicies":
            yield from ({"PolicyId": p} for p in self.user_policies.get(params["TargetUin"], []))
        elif action == "ListAttachedGroupPolicies":
            yield from ({"PolicyId": p} for p in self.group_policies.get(params["TargetGroupId"], []))


def creating(resource_name: str, type_: str, parent: str, /, **inputs: Any) -> dict[str, Any]:
    """A pending create as `pulumi stack export` writes it (a child of an ImOperator, or of another)."""
    under = f"{OPERATOR}$" if parent.startswith(OPERATOR) else "urn:pulumi:dev::im-access::"
    urn = f"{under}{type_}::{resource_name}"
    resource = {"urn": urn, "type": type_, "inputs": inputs, "parent": parent, "provider": PROVIDER}
    return {"type": "creating", "resource": resource}


def recover(
    cam: FakeCam, *operations: dict[str, Any]
) -> tuple[preflight.Recovery | None, list[str], list[dict[str, Any]]]:
    cleared: list[str] = []
    imported: list[dict[str, Any]] = []
    deployment = {"pending_operations": list(operations)}
    recovery = preflight.recover_pending_creates(
        deployment, cam, lambda: cleared.append("clear"), lambda document: imported.append(document)
    )
    return recovery, cleared, imported


def test_nothing_pending_runs_nothing() -> None:
    cam = FakeCam()
    updating = {"type": "updating", "resource": {"urn": "u", "type": USER}}
    assert recover(cam, updating) == (None, [], [])
    assert cam.calls == []


def test_what_exists_is_imported_where_the_program_declares_it_and_the_rest_cleared() -> None:
    cam = FakeCam()
    cam.add_user("qa-lead", 200001)
    cam.user_policies[200001] = [600001]
    cam.group_policies[90001] = []
    cam.policies = {"im-access-dev-bot": 300007, "im-access-dev-bot-old": 300001}
    operations = [
        creating("grant-qa-im-access", USER_ATTACHMENT, "urn:grant-qa", userName="qa-lead", policyId="600001"),
        creating("grant-g-im-access", GROUP_ATTACHMENT, "urn:grant-g", groupId="90001", policyId="600001"),
        creating("bot-policy", POLICY, "urn:bot", name="im-access-dev-bot"),
        creating("gone-im-access", USER_ATTACHMENT, "urn:gone", userName="gone", policyId="600001"),
        creating("alice-mfa", MFA_FLAG, "urn:alice", opUin=200001),
    ]

    recovery, cleared, imported = recover(cam, *operations)

    assert recovery is not None and cleared == ["clear"]  # every pending create dropped first
    assert [(p.name, found) for p, found in recovery.imported] == [
        ("grant-qa-im-access", "qa-lead#600001"),
        ("bot-policy", "300007"),  # the exact name, not the one it is a prefix of
        ("alice-mfa", "200001"),
    ]
    assert [p.name for p in recovery.cleared] == ["grant-g-im-access", "gone-im-access"]
    (document,) = imported
    assert document["resources"][0] == {
        "type": USER_ATTACHMENT,
        "name": "grant-qa-im-access",
        "id": "qa-lead#600001",
        "parent": "parent0",
        "provider": "provider0",
    }
    assert document["nameTable"]["parent0"] == "urn:grant-qa"
    assert document["nameTable"]["provider0"] == PROVIDER.rpartition("::")[0]
    assert any("grant-g-im-access" in line and "CAM never made it, cleared" in line for line in recovery.lines())


def test_an_operators_unused_user_is_made_again_and_a_used_one_imported() -> None:
    cam = FakeCam()
    cam.add_user("im-dev-alice", 200010, keys=("AKIDnew",))
    cam.add_user("im-dev-bob", 200011, login="2026-12-05 10:00:00")
    alice = creating("im-dev-alice-user", USER, OPERATOR + "::im-dev-alice", name="im-dev-alice", consoleLogin=True)
    bob = creating("im-dev-bob-user", USER, OPERATOR + "::im-dev-bob", name="im-dev-bob", consoleLogin=True)

    recovery, _, imported = recover(cam, alice, bob)

    assert recovery is not None
    assert [p.operator for p in recovery.remade] == ["im-dev-alice"]
    assert ("DeleteUser", {"Name": "im-dev-alice", "Force": 1}) in cam.calls and "im-dev-alice" not in cam.users
    assert [p.name for p, _ in recovery.imported] == ["im-dev-bob-user"]
    assert recovery.imported_without_password == ["im-dev-bob"]
    assert [r["id"] for r in imported[0]["resources"]] == ["im-dev-bob"]
    text = "\n".join(recovery.lines())
    assert "unused, it was deleted, and this up makes it again with a new password" in text
    assert "operator im-dev-bob: its user was used since the interrupted run and is imported" in text


def test_only_cams_code_says_not_made_never_the_words_of_its_message() -> None:
    class Denied(FakeCam):
        def call(self, action: str, **params: Any) -> dict[str, Any]:
            message = f"{action} failed: AuthFailure.UnauthorizedOperation: policy NotFound, user NotExist"
            raise AccountReadError(message, "AuthFailure.UnauthorizedOperation")

    with pytest.raises(AccountReadError, match="UnauthorizedOperation"):
        recover(Denied(), creating("im-dev-alice-user", USER, "urn:alice", name="im-dev-alice"))


def test_a_type_the_preflight_cannot_look_up_stops_it_and_names_the_manual_step() -> None:
    operation = creating("x", "tencentcloud:Cvm/instance:Instance", "urn:x")
    with pytest.raises(preflight.PreflightError, match="--import-pending-creates or --clear-pending-creates"):
        recover(FakeCam(), operation)


def test_pending_creates_reads_only_creates_with_their_parent_and_provider() -> None:
    (found,) = pending_creates({"pending_operations": [creating("bot-policy", POLICY, "urn:bot", name="p")]})
    assert (found.parent, found.provider, found.inputs) == ("urn:bot", PROVIDER, {"name": "p"})


LOCKED = "error: the stack is currently locked by 1 lock(s). ... .json: created by root@{host} (pid {pid}) at 2026"


def test_a_lock_is_stale_only_when_its_holder_on_this_machine_is_gone() -> None:
    def dead(pid: int) -> bool:
        return False

    def alive(pid: int) -> bool:
        return True

    assert preflight.stale_lock_holders(LOCKED.format(host="vm", pid=4242), "vm", dead) == ["root@vm (pid 4242)"]
    assert preflight.stale_lock_holders(LOCKED.format(host="vm", pid=4242), "vm", alive) == []
    assert preflight.stale_lock_holders(LOCKED.format(host="ci-runner-7", pid=4242), "vm", dead) == []
    assert preflight.stale_lock_holders("error: something else", "vm", dead) == []


class FakeWorkspace:
    work_dir, env_vars = "/project", {"PULUMI_HOME": "/home"}

    def __init__(self) -> None:
        self.runs: list[list[str]] = []
        self.pulumi_command = self

    def run(self, args: list[str], *_: Any) -> None:
        self.runs.append(args)


class FakeStack:
    def __init__(self) -> None:
        self.workspace = FakeWorkspace()


def locked(host: str, pid: int) -> auto.errors.ConcurrentUpdateError:
    return auto.errors.ConcurrentUpdateError(CommandResult("", LOCKED.format(host=host, pid=pid), 255))


def test_a_lock_a_killed_run_left_is_removed_and_the_command_runs_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight.socket, "gethostname", lambda: "vm")
    attempts: list[int] = []

    def up() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise locked("vm", 2**22 + 7)  # above any pid this machine hands out: a process that is gone
        return "updated"

    opened, said = FakeStack(), list[str]()
    assert preflight.with_stale_lock_cleared(up, opened, "dev", said.append) == "updated"
    assert opened.workspace.runs == [["cancel", "--yes", "--color", "never", "--stack", "dev"]]
    assert said == [f"preflight: the stack was locked by root@vm (pid {2**22 + 7}), which no longer runs: unlocked"]


def test_a_lock_a_live_process_or_another_machine_holds_stops_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight.socket, "gethostname", lambda: "vm")
    for error in (locked("vm", os.getpid()), locked("ci-runner-7", 2**22 + 7)):

        def up(error: Exception = error) -> str:
            raise error

        opened = FakeStack()
        with pytest.raises(auto.errors.ConcurrentUpdateError):
            preflight.with_stale_lock_cleared(up, opened, "dev", print)
        assert opened.workspace.runs == []
