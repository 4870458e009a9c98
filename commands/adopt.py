"""Adopt what an account already holds: every IM holding the audit reports as unmanaged in a stack's
account becomes a proposed entry of `Pulumi.<stack>.yaml` that imports it.

    python -m commands.adopt --stack dev                  as grants (the default): users and groups stay outside
    python -m commands.adopt --stack dev --as operator    sub-users as operators the stack owns from now on

The account is read as the audit reads it (commands/audit.py, read-only), then, for operators, each
sub-user's details and keys (ListUsers, ListAccessKeys), so that the entry declares the user as it
is. Each entry carries `adopted:` with the ids Pulumi imports by: the next `make preview` shows
`import` for every cloud resource, and `make up` changes nothing in the account (no password reset,
no new key, no policy attached or detached). An adopted operator keeps its password, keys and MFA
flags. A holding the guardrails refuse on the stack (IM full access off an approved stack) is
written as found, with a comment; the preview then shows the guardrail's finding.

The stack file is edited in place, its comments, order and quoting kept, and only once the new
configuration validates. Exit 0 when the file was written or nothing was left to adopt, 2 when the
adoption could not run; then the file is unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from commands import cli, escape, preflight
from commands.audit import AuditError, audit_accounts, stack_files
from commands.cam_account import AccountReadError, PacedReader, client_for, endpoint_for
from commands.engine import ROOT
from commands.stack import GUARDRAILS
from im_access import safe_yaml
from im_access.adoption import ADOPT_AS, AccountUser, AdoptAs, Proposal, Skipped, propose
from im_access.approvals import load_approvals
from im_access.audit import Holding
from im_access.break_glass import today
from im_access.config import (
    NAMESPACE,
    ConfigurationError,
    parse_stack_config,
    read_namespace,
    read_stack_file,
)
from im_access.contract import user_principal
from im_access.provider_config import localcloud_route

ADOPTED_NOTE = "imported as it is by `make adopt`: nothing is created or changed"


class AdoptError(RuntimeError):
    """The adoption could not run; the message says why. The stack file is unchanged."""


@dataclass
class Adopted:
    """What one run proposed and wrote."""

    stack: str
    path: Path
    proposals: list[Proposal]
    skipped: list[Skipped]


def read_users(reader: PacedReader, names: Iterable[str]) -> dict[str, AccountUser]:
    """The named sub-users as CAM describes them (casefolded names as keys): one ListUsers, then
    ListAccessKeys for each named user that exists."""
    wanted = {name.casefold() for name in names}
    found: dict[str, AccountUser] = {}
    for user in reader.call("ListUsers").get("Data") or []:
        key = str(user["Name"]).casefold()
        if key not in wanted:
            continue
        uin = int(user["Uin"])
        keys = reader.call("ListAccessKeys", TargetUin=uin).get("AccessKeys") or []
        found[key] = AccountUser(
            name=str(user["Name"]),
            uin=uin,
            console=int(user.get("ConsoleLogin") or 0) == 1,
            has_keys=bool(keys),
            email=str(user.get("Email") or ""),
            phone=str(user.get("PhoneNum") or ""),
            country_code=str(user.get("CountryCode") or ""),
            remark=str(user.get("Remark") or ""),
        )
    return found


def _reader(stack: str, stack_config: dict[str, Any]) -> PacedReader:
    """A CAM reader acting as the audit's does: the stack's account, over the stack's route."""
    via_localcloud = localcloud_route(os.environ)
    _, protocol = endpoint_for(stack_config, via_localcloud=via_localcloud)
    _, acting_env = preflight.acting_identity(
        stack, stack_config, os.environ, plain_http=protocol == "http", via_localcloud=via_localcloud
    )
    # No wait for CAM's lag: the audit's read before this one waited it out.
    return PacedReader(client_for(stack_config, acting_env, via_localcloud=via_localcloud))


def _round_trip() -> YAML:
    yaml = YAML()  # round-trip: comments, key order and quoting are kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long value onto a second line
    yaml.indent(mapping=2, sequence=4, offset=2)  # the stack files' own layout
    return yaml


def with_entries(text: str, proposals: Sequence[Proposal], name: str) -> str:
    """The stack file's text with each proposal appended to its list, everything else as it was."""
    yaml = _round_trip()
    try:
        document = yaml.load(text)
    except YAMLError as error:
        raise AdoptError(f"{name} cannot be read: {escape.one_line(error)[:300]}") from None
    if document is None:
        document = CommentedMap()
    config = document.get("config") if isinstance(document, CommentedMap) else None
    if config is None and isinstance(document, CommentedMap):
        config = document["config"] = CommentedMap()
    if not isinstance(config, CommentedMap):
        raise AdoptError(f"{name}: `config` must be a mapping of keys to values")
    for proposal in proposals:
        key = f"{NAMESPACE}:{proposal.list_key}"
        entries = config.get(key)
        if entries is None:
            entries = config[key] = CommentedSeq()
        if not isinstance(entries, CommentedSeq):
            raise AdoptError(f"{name}: {key} must be a list of entries to append to (allowed: a YAML list)")
        entries.append(_entry(proposal))
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _entry(proposal: Proposal) -> CommentedMap:
    entry = CommentedMap()
    for key, value in proposal.entry.items():
        if isinstance(value, dict):
            value = CommentedMap(value)
            value.fa.set_flow_style()  # adopted: {uin: ..., policyId: ...} on one line
        entry[key] = value
    entry.yaml_add_eol_comment(ADOPTED_NOTE, "adopted")
    if proposal.refused:
        entry.yaml_add_eol_comment(proposal.refused, next(iter(proposal.entry)))
    return entry


def _validated(stack: str, text: str, name: str) -> None:
    """The new file must be a stack file whose configuration validates, or nothing is written."""
    document = safe_yaml.load(text, name) or {}
    try:
        parse_stack_config(stack, read_namespace(dict(document.get("config") or {})), allow_past_expiry=True)
    except ConfigurationError as error:
        raise AdoptError(f"{name} would not validate with the adopted entries, so it is unchanged: {error}") from None


def _write_in_place(path: Path, text: str) -> None:
    """Replace the file at once (a reader never sees half of it), keeping its permissions."""
    partial = path.with_name(f".{path.name}.adopt")
    partial.write_text(text)
    os.chmod(partial, path.stat().st_mode & 0o777)
    os.replace(partial, path)


def adopt(stack: str, adopt_as: AdoptAs, project: Path, day: dt.date, guardrails: Path = GUARDRAILS) -> Adopted:
    """Read the stack's account, propose an entry for each unmanaged IM holding, and write them into
    the stack file when there are any."""
    try:
        files = stack_files(project, guardrails)
        if stack not in files:
            raise AdoptError(f"there is no Pulumi.{stack}.yaml in {project}; stacks: {', '.join(files) or 'none'}")
        path = files[stack]
        stack_config = read_stack_file(path)
        declared = parse_stack_config(stack, read_namespace(stack_config), allow_past_expiry=True)
        accounts, _ = audit_accounts([stack], project, day, guardrails, command="adopt")
    except (AuditError, ConfigurationError) as error:
        raise AdoptError(str(error)) from None
    account = accounts[0]
    unmanaged_keys = {(f.principal.casefold(), f.policy.casefold()) for f in account.findings if f.kind == "unmanaged"}
    unmanaged: list[Holding] = [holding for holding in account.holdings if holding.key in unmanaged_keys]
    users: dict[str, AccountUser] = {}
    user_names = [h.principal.partition(":")[2] for h in unmanaged if h.principal.startswith("user:")]
    if adopt_as == "operator" and user_names:
        try:
            users = read_users(_reader(stack, stack_config), user_names)
        except AccountReadError as error:
            raise AdoptError(str(error)) from None
    here = [user_principal(entry.name) for entry in declared.operators] + [e.principal for e in declared.grants]
    approved = load_approvals(guardrails).is_approved(stack, account.owner_uin)
    proposals, skipped = propose(unmanaged, adopt_as, users, here, stack=stack, approved=approved)
    if proposals:
        text = with_entries(path.read_text(), proposals, path.name)
        _validated(stack, text, path.name)
        _write_in_place(path, text)
    return Adopted(stack, path, proposals, skipped)


def report(adopted: Adopted) -> str:
    """One line per holding: where it went, or why it was left; then what to do next."""
    lines = []
    for proposal in adopted.proposals:
        holding = proposal.holding
        entry = ", ".join(f"{key}: {value}" for key, value in proposal.entry.items() if key != "adopted")
        line = (
            f"adopt: {holding.principal} holds {holding.policy} ({holding.policy_id}):"
            f" added to {NAMESPACE}:{proposal.list_key} as {{{entry}}}, imported as it is"
        )
        if proposal.refused:
            line += f"; {proposal.refused}"
        lines.append(escape.one_line(line))
    for skip in adopted.skipped:
        holding = skip.holding
        lines.append(escape.one_line(f"adopt: {holding.principal} holds {holding.policy}: not adopted: {skip.reason}"))
    if adopted.proposals:
        count = len(adopted.proposals)
        lines.append(
            f"adopt: wrote {adopted.path.name} ({count} entr{'y' if count == 1 else 'ies'} added); review the diff,"
            f" then `make preview STACK={adopted.stack}` shows each as an import and `make up` takes it under code"
        )
    else:
        lines.append(f"adopt: nothing to adopt; {adopted.path.name} is unchanged")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.adopt", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True, help="the stack whose account is read and whose file is edited")
    parser.add_argument(
        "--as",
        dest="adopt_as",
        choices=ADOPT_AS,
        default="grant",
        help="operator: the stack owns the sub-user from now on; grant (default): only its IM access",
    )
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout whose stack file is edited")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=today(), help="YYYY-MM-DD (default: today)")
    args = parser.parse_args(argv)
    try:
        adopted = adopt(args.stack, args.adopt_as, args.project, args.today)
    except AdoptError as error:
        print(f"adopt: could not adopt for stack {args.stack}: {escape.one_line(error)}", file=sys.stderr)
        return 2
    sys.stdout.write(report(adopted))
    return 0


if __name__ == "__main__":
    sys.exit(cli.run("adopt", main, (*cli.EXPECTED, AdoptError)))
