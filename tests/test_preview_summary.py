"""The preview summary built from engine events (as the Automation API hands them over)."""

from __future__ import annotations

from pulumi.automation import EngineEvent

from commands.preview_summary import markdown, summarise
from im_access.break_glass import parse_exceptions

STACK_URN = "urn:pulumi:dev::im-access::pulumi:pulumi:Stack::im-access-dev"
OPERATOR_URN = "urn:pulumi:dev::im-access::im-access:index:ImOperator::sneaky"
USER_URN = "urn:pulumi:dev::im-access::im-access:index:ImOperator$tencentcloud:Cam/user:User::sneaky-user"


def event(**body: object) -> EngineEvent:
    return EngineEvent.from_json({"sequence": 1, "timestamp": 1, **body})


def full_access_violation(urn: str, message: str) -> EngineEvent:
    """A mandatory violation of im-full-access-approved-stacks-only on `urn`, as the engine reports it."""
    return event(
        policyEvent={
            "resourceUrn": urn,
            "message": message,
            "color": "never",
            "policyName": "im-full-access-approved-stacks-only",
            "policyPackName": "im-access-guardrails",
            "policyPackVersion": "0.1.0",
            "policyPackVersionTag": "0.1.0",
            "enforcementLevel": "mandatory",
        }
    )


EVENTS = [
    event(preludeEvent={"config": {}}),
    event(resourcePreEvent={"metadata": {"op": "same", "urn": STACK_URN, "type": "pulumi:pulumi:Stack"}}),
    event(resourcePreEvent={"metadata": {"op": "create", "urn": OPERATOR_URN, "type": "im-access:index:ImOperator"}}),
    event(
        resourcePreEvent={
            "metadata": {
                "op": "create",
                "urn": USER_URN,
                "type": "tencentcloud:Cam/user:User",
                "new": {"inputs": {"password": "never-shown"}},
            }
        }
    ),
    full_access_violation(OPERATOR_URN, "Remove IM full access for user 'sneaky'.\n"),
    event(summaryEvent={"resourceChanges": {"create": 2}}),
]


def test_mandatory_violation_is_named_and_blocks() -> None:
    summary = summarise("dev", EVENTS)

    assert summary.blocked
    text = markdown(summary, exit_code=255)
    assert text.startswith("### Stack `dev`: blocked by a mandatory policy")
    assert "`im-full-access-approved-stacks-only`" in text and "user 'sneaky'" in text
    assert "Changes: 2 to create." in text
    assert "never-shown" not in text


def test_clean_preview_passes() -> None:
    summary = summarise("prod", EVENTS[:4])

    assert not summary.blocked
    assert markdown(summary, exit_code=0).startswith("### Stack `prod`: passes")


def test_a_localcloud_preview_says_what_it_could_not_check() -> None:
    text = markdown(summarise("dev", EVENTS), exit_code=255, against_localcloud=True)

    assert text.startswith("### Stack `dev`: blocked by a mandatory policy")
    assert "Previewed against localcloud" in text and "were not checked" in text
    assert "`im-full-access-approved-stacks-only`" in text
    assert "localcloud" not in markdown(summarise("dev", EVENTS), exit_code=255)


def test_the_break_glass_exceptions_in_force_are_listed() -> None:
    exception = {
        "stack": "dev",
        "principal": "user:sneaky",
        "access": "full",
        "approver": "security-lead@example.com",
        "reason": "INC-9",
        "added": "2026-11-25",
        "expires": "2026-11-26",
    }
    (in_force,) = parse_exceptions({"exceptions": [exception]}, ["dev"]).valid
    text = markdown(summarise("dev", EVENTS[:4]), exit_code=0, exceptions=[in_force])
    assert "Break-glass exceptions in force on this stack:\n- break-glass exception #1 for user:sneaky" in text
    assert "approved by security-lead@example.com: INC-9" in text
    assert "Break-glass" not in markdown(summarise("dev", EVENTS[:4]), exit_code=0)


def test_the_summary_says_which_api_key_rotates_and_which_expires() -> None:
    key = "urn:pulumi:dev::im-access::im-access:index:ImOperator$tencentcloud:Cam/accessKey:AccessKey::"
    events = [
        event(
            resourcePreEvent={"metadata": {"op": op, "urn": key + name, "type": "tencentcloud:Cam/accessKey:AccessKey"}}
        )
        for op, name in (
            ("create", "im-bot-key-2026-12-08"),
            ("delete", "im-bot-key-2026-09-09"),
            ("import", "im-ops-own-key"),
            ("delete", "im-app-own-key"),
            ("same", "im-web-own-key"),
        )
    ]
    text = markdown(summarise("dev", events), 0)
    assert "- im-ops: the user's own API key (from apiKey: true) is adopted; it works until its ownKeyLastDay" in text
    assert "- im-app: the user's own API key (from apiKey: true) is deleted: its ownKeyLastDay passed" in text
    assert "im-web" not in text
    assert "- im-bot: a new API key, of 2026-12-08, is created; hand it over with commands.handover" in text
    assert "- im-bot: the API key of 2026-09-09 expires: its overlap ended, this run deletes it" in text
    assert "API keys:" not in markdown(summarise("dev", EVENTS), 0)


DESCRIPTION = "Checks that IM full access exists only on approved stacks. It reads policy_pack/approvals.yaml."
LONG_MESSAGE = (
    f"{DESCRIPTION} Remove IM full access from user 'sneaky' on stack 'dev', or approve the stack in"
    " policy_pack/approvals.yaml: the preset QcloudAVCFullAccess (524252) is attached to it. " + "More detail. " * 40
)


def blocked_events() -> list[EngineEvent]:
    creates = [
        event(resourcePreEvent={"metadata": {"op": "create", "urn": f"{OPERATOR_URN}-{n}", "type": "x:y:Z"}})
        for n in range(15)
    ]
    return [*creates, full_access_violation(USER_URN, LONG_MESSAGE)]


def test_the_blocked_reason_comes_first_shortened_to_the_resource_and_the_fix() -> None:
    text = markdown(
        summarise("dev", blocked_events()),
        exit_code=255,
        descriptions={"im-full-access-approved-stacks-only": DESCRIPTION},
    )

    reason = (
        "- `tencentcloud:Cam/user:User sneaky-user`: Remove IM full access from user 'sneaky' on stack"
        " 'dev', or approve the stack in policy\\_pack/approvals.yaml (`im-full-access-approved-stacks-only`)"
    )
    assert text.split("\n")[2:4] == ["Blocked because:", reason]
    assert text.index("Blocked because:") < text.index("| operation | resource |")
    # The table keeps the whole violation, without the policy's description the engine put before it.
    row = next(line for line in text.splitlines() if line.startswith("| mandatory |"))
    assert "Remove IM full access from user" in row and "Checks that" not in row and "More detail" in row


def test_a_failed_run_says_why_first() -> None:
    failed = [
        *EVENTS[:4],
        event(
            diagnosticEvent={
                "message": "stack 'dev': the im-access configuration has 1 problem\n",
                "color": "never",
                "severity": "error",
            }
        ),
        event(diagnosticEvent={"message": "a warning", "color": "never", "severity": "warning"}),
    ]

    text = markdown(summarise("dev", failed), exit_code=1)

    assert text.split("\n")[:4] == [
        "### Stack `dev`: failed",
        "",
        "Failed because:",
        "- stack 'dev': the im-access configuration has 1 problem",
    ]
    assert text.index("Failed because:") < text.index("Changes:") and "a warning" not in text
