"""Summarise a run's engine events as Markdown: planned changes and policy violations.

`pulumi preview --json` leaves policy violations out; the engine's event stream has them as
policy events. Secrets never appear: only resource URNs, operations and policy messages are read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pulumi.automation import EngineEvent

from commands import escape
from im_access.break_glass import BreakGlass

MAX_ERRORS, MAX_ERROR = 5, 1_000  # the engine's errors kept: enough to say why, not a whole log
STACK_TYPE = "pulumi:pulumi:Stack"
SHORT_REASON = 160  # characters of a blocked reason above the changes


@dataclass
class Summary:
    stack: str
    changes: list[tuple[str, str]] = field(default_factory=list)  # operation, urn
    violations: list[tuple[str, str, str, str]] = field(default_factory=list)  # level, policy, urn, message
    errors: list[str] = field(default_factory=list)  # the engine's error diagnostics: why a run failed

    @property
    def blocked(self) -> bool:
        return any(level == "mandatory" for level, *_ in self.violations)


def summarise(stack: str, events: Iterable[EngineEvent]) -> Summary:
    summary = Summary(stack)
    for event in events:
        if event.resource_pre_event is not None:
            metadata = event.resource_pre_event.metadata
            operation = str(getattr(metadata.op, "value", metadata.op) or "")
            # The stack itself counts, as the engine's own "Resources:" line counts it; providers do not.
            counted = metadata.type == STACK_TYPE or not metadata.type.startswith("pulumi:")
            if operation and operation != "same" and counted:
                summary.changes.append((operation, metadata.urn))
        elif event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
            error = escape.one_line(event.diagnostic_event.message)[:MAX_ERROR]
            if error and error not in summary.errors and len(summary.errors) < MAX_ERRORS:
                summary.errors.append(error)
        elif event.policy_event is not None:
            policy = event.policy_event
            message = " ".join(str(policy.message).split())
            summary.violations.append(
                (policy.enforcement_level, policy.policy_name, policy.resource_urn or "", message)
            )
    return summary


ACCESS_KEY = "tencentcloud:Cam/accessKey:AccessKey"
_KEY_NAME = re.compile(r"^(?P<operator>.+)-key-(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})$")
_OWN_KEY_NAME = re.compile(r"^(?P<operator>.+)-own-key$")


def _own_key_note(operation: str, operator: str) -> str | None:
    """The user's own key (from `apiKey: true`), adopted when rotation starts and deleted after ownKeyLastDay."""
    own_key = f"{operator}: the user's own API key (from apiKey: true)"
    if operation == "import":
        return f"{own_key} is adopted; it works until its ownKeyLastDay"
    if operation == "delete":
        return f"{own_key} is deleted: its ownKeyLastDay passed, or the stack no longer rotates the operator's keys"
    return None


def key_notes(changes: Sequence[tuple[str, str]]) -> list[str]:
    """What a run does to rotating API keys, read from their resource names (`<operator>-key-<day>`,
    and `<operator>-own-key` for the user's own key)."""
    notes: list[str] = []
    for operation, urn in changes:
        parts = urn.split("::")
        if len(parts) < 2 or not parts[-2].endswith(ACCESS_KEY):
            continue
        if (own := _OWN_KEY_NAME.match(parts[-1])) and (note := _own_key_note(operation, own["operator"])):
            notes.append(note)
        match = _KEY_NAME.match(parts[-1])
        if match is None:
            continue
        operator, day = match["operator"], match["day"]
        if operation == "create":
            notes.append(f"{operator}: a new API key, of {day}, is created; hand it over with commands.handover")
        elif operation == "delete":
            notes.append(f"{operator}: the API key of {day} expires: its overlap ended, this run deletes it")
        elif operation in ("replace", "create-replacement"):
            notes.append(f"{operator}: the API key of {day} is replaced at once (its pgpKey changed), with no overlap")
    return notes


def _short(urn: str) -> str:
    parts = urn.split("::")
    return f"{parts[-2].split('$')[-1]} {parts[-1]}" if len(parts) >= 2 else urn or "(stack)"


def violation_text(message: str, description: str) -> str:
    """The violation itself: the engine puts the policy's description before it."""
    flat_description = " ".join(description.split())
    if flat_description and message.startswith(flat_description):
        return message[len(flat_description) :].strip() or message
    return message


def short_reason(message: str) -> str:
    """A violation's first clause, where the messages name the resource and the fix ("Remove ... from
    user 'x' on stack 'dev': <why>"), at most SHORT_REASON characters, cut between words."""
    cut = min((i for i in (message.find(": "), message.find(". "), message.find("; ")) if i > 0), default=len(message))
    reason = message[:cut].rstrip(".")
    if len(reason) > SHORT_REASON:
        reason = reason[: SHORT_REASON - 1].rsplit(" ", 1)[0] + "…"
    return reason


AGAINST_LOCALCLOUD = (
    "> Previewed against localcloud, an empty stand-in account, because this run has no cloud secrets."
    " The guardrails checked every resource, but changes are shown against an empty stack, and the real"
    " account's state, preset policy ids and existing users and groups were not checked."
)


GUARDRAILS_CHANGED = (
    "> This change edits the guardrails: files the policy pack, the preview command or the engine install"
    " execute or read (commands/guarded_files.py). It was previewed with the base branch's; its own take"
    " effect only once reviewed and merged."
)
SHOWN_FILES = 20


def _changed_files_note(changed_files: Sequence[str]) -> list[str]:
    shown = ", ".join(escape.markdown(name, code=True) for name in changed_files[:SHOWN_FILES])
    more = f" and {len(changed_files) - SHOWN_FILES} more" if len(changed_files) > SHOWN_FILES else ""
    return [GUARDRAILS_CHANGED, f"> Changed: {shown}{more}.", ""]


def markdown(
    summary: Summary,
    exit_code: int,
    *,
    against_localcloud: bool = False,
    guardrails_changed: bool = False,
    changed_files: Sequence[str] = (),
    exceptions: Sequence[BreakGlass] = (),
    approved: bool = False,
    identity: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> str:
    """The summary as Markdown; every name, URN and message in it goes through `escape.markdown`.
    Why a run is blocked or failed comes first, above the changes. `descriptions` (policy name to its
    description) lets each violation be shown without the description the engine puts before it."""
    verdict = "blocked by a mandatory policy" if summary.blocked else ("failed" if exit_code else "passes")
    operations = Counter(op for op, _ in summary.changes)
    counts = ", ".join(f"{count} to {escape.markdown(op)}" for op, count in sorted(operations.items()))
    violations = [
        (level, policy, urn, violation_text(message, (descriptions or {}).get(policy, "")))
        for level, policy, urn, message in summary.violations
    ]
    lines = [f"### Stack {escape.markdown(summary.stack, code=True)}: {verdict}", ""]
    if summary.blocked:
        lines += ["Blocked because:"]
        lines += [
            f"- {escape.markdown(_short(urn), code=True)}: {escape.markdown(short_reason(message))}"
            f" ({escape.markdown(policy, code=True)})"
            for level, policy, urn, message in violations
            if level == "mandatory"
        ] + [""]
    elif exit_code and summary.errors:
        lines += ["Failed because:"] + [f"- {escape.markdown(error)}" for error in summary.errors] + [""]
    elif exit_code:
        lines += ["Failed: the engine reported no error of its own; the run's log says why.", ""]
    if changed_files:
        lines += _changed_files_note(changed_files)
    elif guardrails_changed:
        lines += [GUARDRAILS_CHANGED, ""]
    lines += [AGAINST_LOCALCLOUD, ""] if against_localcloud else []
    if identity:
        # Whose the credentials were, as the preflight's STS call answered before the engine started.
        account, caller = (
            escape.markdown(identity["account"], code=True),
            escape.markdown(identity["caller"], code=True),
        )
        lines += [f"Acting on account {account} as caller {caller} (preflight).", ""]
    approval = "approved" if approved else "not approved"
    lines += [f"IM full access is {approval} on this stack (policy_pack/approvals.yaml).", ""]
    if exceptions:
        lines += ["Break-glass exceptions in force on this stack:"]
        lines += [f"- {escape.markdown(exception.describe())}" for exception in exceptions] + [""]
    lines += [f"Changes: {counts or 'no changes'}."]
    if summary.changes:
        lines += ["", "| operation | resource |", "|---|---|"]
        lines += [
            f"| {escape.markdown(op)} | {escape.markdown(_short(urn), code=True)} |" for op, urn in summary.changes
        ]
    if notes := key_notes(summary.changes):
        lines += ["", "API keys:"] + [f"- {escape.markdown(note)}" for note in notes]
    if violations:
        lines += ["", "| level | policy | resource | message |", "|---|---|---|---|"]
        lines += [
            f"| {escape.markdown(level)} | {escape.markdown(policy, code=True)} |"
            f" {escape.markdown(_short(urn), code=True)} | {escape.markdown(message)} |"
            for level, policy, urn, message in violations
        ]
    return "\n".join(lines) + "\n"
