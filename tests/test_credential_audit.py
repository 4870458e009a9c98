"""The audit's credential findings: stale-key, unmanaged-key and no-mfa, from what the account holds."""

from __future__ import annotations

import datetime as dt

from im_access.audit import Finding
from im_access.credential_audit import AccessKey, ManagedOperator, UserCredentials, credential_findings
from im_access.key_rotation import Rotation, generations

TODAY = dt.date(2026, 12, 2)
NOON = dt.time(12)
ROTATION = Rotation(90, 7)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, NOON)


def user(
    name: str,
    *keys: AccessKey,
    console: bool = False,
    login: bool = True,
    action: bool = False,
    created: dt.date = dt.date(2026, 1, 5),
) -> UserCredentials:
    return UserCredentials(name, 100020000001, console, at(created), keys, login, action)


def key(key_id: str, created: dt.date) -> AccessKey:
    return AccessKey(key_id, "Active", at(created))


def kinds(found: list[Finding]) -> list[tuple[str, str, str | None]]:
    """Kind, key (unmasked again where the test's short ids were kept whole) and stack."""
    return [(f.kind, f.policy, f.stack) for f in found]


def test_a_rotating_operators_keys_pass_until_they_outlive_their_rotation() -> None:
    alive = generations("im-bot", ROTATION, TODAY)
    keys = [key(f"AKID{i}", g.starts) for i, g in enumerate(alive)]
    operator = ManagedOperator("dev", "im-bot", True, ROTATION, False)
    assert credential_findings({"im-bot": user("im-bot", *keys)}, [operator], {}, TODAY) == []
    late = TODAY + dt.timedelta(days=200)  # no `up` ran since: the keys are stale and foreign to today's plan
    found = kinds(credential_findings({"im-bot": user("im-bot", *keys)}, [operator], {}, late))
    assert ("stale-key", "AKID0", "dev") in found and all(kind != "no-mfa" for kind, _, _ in found)


def test_a_key_without_rotation_is_stale_after_90_days() -> None:
    old = key("AKIDold", TODAY - dt.timedelta(days=91))
    recent = key("AKIDnew", TODAY - dt.timedelta(days=90))
    found = credential_findings({"alice": user("alice", old, recent)}, [], {"alice": False}, TODAY)
    assert kinds(found) == [("stale-key", "AKIDold", None)]
    assert (
        "91 days old" in found[0].fix
        and "DeleteAccessKey --TargetUin 100020000001 --AccessKeyId <AKIDold>" in found[0].fix
    )


def test_keys_a_stack_did_not_create_are_unmanaged() -> None:
    recent = TODAY - dt.timedelta(days=3)
    # No API key declared: any key is foreign.
    none = ManagedOperator("dev", "im-ui", False, None, False)
    assert kinds(credential_findings({"im-ui": user("im-ui", key("AKIDx", recent))}, [none], {}, TODAY)) == [
        ("unmanaged-key", "AKIDx", "dev")
    ]
    # apiKey: true: the user's own key (made with the user) is the stack's; another is not.
    own = ManagedOperator("dev", "im-bot", True, None, False)
    made = dt.date(2026, 11, 30)
    keys = (key("AKIDown", made), key("AKIDcons", recent))
    assert kinds(credential_findings({"im-bot": user("im-bot", *keys, created=made)}, [own], {}, TODAY)) == [
        ("unmanaged-key", "AKIDcons", "dev")
    ]
    # Rotating: a key older than the oldest generation alive (a migrated user's own key) is foreign.
    rotating = ManagedOperator("dev", "im-bot", True, ROTATION, False)
    alive = generations("im-bot", ROTATION, TODAY)
    legacy = key("AKIDlgcy", alive[0].starts - dt.timedelta(days=1))
    found = credential_findings(
        {"im-bot": user("im-bot", legacy, key("AKIDgen", alive[-1].starts))}, [rotating], {}, TODAY
    )
    assert kinds(found) == [("unmanaged-key", "AKIDlgcy", "dev")]
    # The user's own key, made with it before its keys rotated, is foreign whatever its date.
    made = alive[-1].starts
    own_key = AccessKey("AKIDown", "Active", at(made))
    later = key("AKIDgen", made + dt.timedelta(days=1))
    users = {"im-bot": user("im-bot", own_key, later, created=made)}
    assert kinds(credential_findings(users, [rotating], {}, made + dt.timedelta(days=8))) == [
        ("unmanaged-key", "AKIDown", "dev")
    ]
    # A key added by hand after the stack's is one more than the generations alive.
    by_hand = key("AKIDhand", made + dt.timedelta(days=2))
    users = {"im-bot": user("im-bot", later, by_hand)}
    assert kinds(credential_findings(users, [rotating], {}, made + dt.timedelta(days=8))) == [
        ("unmanaged-key", "AKIDhand", "dev")
    ]


def test_a_users_own_key_adopted_by_rotation_is_the_stacks_until_its_last_day() -> None:
    alive = generations("im-bot", ROTATION, TODAY)
    made = alive[0].starts - dt.timedelta(days=1)  # before the oldest generation alive
    own_key, new = key("AKIDown", made), key("AKIDgen", alive[-1].starts)
    users = {"im-bot": user("im-bot", own_key, new, created=made)}
    adopted = ManagedOperator("dev", "im-bot", True, ROTATION, False, own_key_last_day=TODAY)
    assert kinds(credential_findings(users, [adopted], {}, TODAY)) == []
    after = TODAY + dt.timedelta(days=1)  # no `up` deleted it
    assert ("unmanaged-key", "AKIDown", "dev") in kinds(credential_findings(users, [adopted], {}, after))
    # Only the key made with the user is adopted: another old key stays foreign.
    by_hand = key("AKIDhand", made)
    users = {"im-bot": user("im-bot", by_hand, new, created=made - dt.timedelta(days=3))}
    assert kinds(credential_findings(users, [adopted], {}, TODAY)) == [("unmanaged-key", "AKIDhand", "dev")]
    # An adopted key that is old is stale, and the fix says the stack deletes it after its last day.
    ancient = key("AKIDold", dt.date(2025, 1, 6))
    users = {"im-bot": user("im-bot", ancient, new, created=dt.date(2025, 1, 6))}
    (stale,) = credential_findings(users, [adopted], {}, TODAY)
    assert (stale.kind, stale.policy) == ("stale-key", "AKIDold")
    assert f"the first `make up` after its ownKeyLastDay ({TODAY}) deletes it" in stale.fix


def test_console_users_with_im_access_need_login_protection_and_full_access_operation_protection() -> None:
    users = {
        "carol": user("carol", console=True, login=False),
        "dave": user("dave", console=True, login=True, action=False),
        "erin": user("erin", console=False, login=False),
        "opted": user("opted", console=True, login=False),
    }
    opted = ManagedOperator("dev", "opted", False, None, True)
    found = kinds(credential_findings(users, [opted], {"carol": False, "dave": True, "erin": False}, TODAY))
    assert found == [("no-mfa", "login protection", None), ("no-mfa", "operation protection", None)]


def test_a_whole_secret_id_is_never_in_a_finding() -> None:
    secret_id = "AKIDq8w7e6r5t4y3u2i1o0pAsDfGhJkL9zXc"
    stale = key(secret_id, TODAY - dt.timedelta(days=200))
    (found,) = credential_findings({"alice": user("alice", stale)}, [], {"alice": False}, TODAY)
    assert found.policy == "AKID…9zXc"
    assert secret_id not in found.fix and "ListAccessKeys --TargetUin 100020000001" in found.fix


def test_one_audit_lists_a_users_keys_once_however_many_reads_need_them() -> None:
    from commands.cam_account import PacedReader

    class Client:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def call_json(self, action: str, params: dict[str, object]) -> dict[str, object]:
            self.calls.append(action)
            return {"Response": {"AccessKeys": [{"AccessKeyId": "AKID1"}], "TotalNum": 1}}

    client = Client()
    reader = PacedReader(client, sleep=lambda _: None)
    first = reader.call("ListAccessKeys", TargetUin=1)
    first["AccessKeys"] = []  # a caller's change does not reach the next one
    assert reader.call("ListAccessKeys", TargetUin=1)["AccessKeys"] == [{"AccessKeyId": "AKID1"}]
    reader.call("ListAccessKeys", TargetUin=2)
    reader.call("ListPolicies", Page=1)
    reader.call("ListPolicies", Page=1)  # the holdings read and the reach read share their pages
    reader.call("DescribeSubAccounts", FilterSubAccountUin=[1])
    reader.call("DescribeSubAccounts", FilterSubAccountUin=[1])  # not remembered: asked twice
    twice = ["DescribeSubAccounts", "DescribeSubAccounts"]
    assert client.calls == ["ListAccessKeys", "ListAccessKeys", "ListPolicies", *twice]
