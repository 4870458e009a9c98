"""Hand an operator's credentials over as the CAM console does: one CSV file, readable by its owner only.

    python -m commands.handover --stack dev --operator im-dev-alice     (make handover STACK=dev OPERATOR=...)

reads the stack's secret outputs through the project's engine and writes
`credentials/<stack>-<operator>.credentials.csv` with mode 0600. Nothing secret is printed.
An operator with an age recipient (`ageRecipient`) gets only the file sealed for it,
`...credentials.csv.age`, encrypted in memory first; with a PGP key (`apiKey.pgpKey`) the SecretKey
is only ever the provider's PGP message. A file that would hold a password or SecretKey in plain
text is written only with `--plaintext`. `--list` prints every operator's login link instead.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from commands import cli, preflight
from commands.engine import ROOT, EngineMissingError, open_stack, pulumi_command
from commands.sealed import SealError, seal
from commands.stack import GUARDRAILS, LOCAL_STACK, check_local_route, check_stack_files, plain_http

COLUMNS = ("User name", "Password", "SecretId", "SecretKey", "Login link")
OUTPUT_KEYS = ("userName", "password", "secretId", "secretKey", "loginUrl")
# Written after the console's columns, only for operators that have them (rotating keys, PGP).
EXTRA_COLUMNS = {
    "previousKeyLastDay": "Previous key works until",
    "nextKey": "Next key on",
    "encryptedSecretKey": "SecretKey encrypted for the PGP key (base64)",
}
PLAINTEXT_SECRETS = ("password", "secretKey")


class HandoverError(Exception):
    pass


def read_stack_operators(stack: str, work_dir: Path = ROOT) -> Mapping[str, Any]:
    """The stack's `operators` output, secrets decrypted in memory, through the project's engine,
    after the preflight: the credentials must be the stack's account's (printed on stderr)."""
    env = dict(os.environ)
    config = check_stack_files(stack, work_dir, GUARDRAILS)
    check_local_route(stack, env, False, fix=f"`make handover STACK={stack} OPERATOR=<name>`")
    try:
        pulumi_command()  # the engine first: nothing below can run without it
        preflight.check_backend(env, work_dir)
        with open_stack(stack, work_dir) as opened:
            preflight.check_passphrase(env)
            identity = preflight.check_identity(
                stack, config, env, plain_http=plain_http(config, False), via_localcloud=stack == LOCAL_STACK
            )
            print(identity.line(stack), file=sys.stderr)
            outputs = opened.outputs()
    except EngineMissingError as error:
        raise HandoverError(str(error)) from None
    except auto.errors.CommandError as error:
        raise HandoverError(f"the outputs of stack {stack!r} cannot be read: {error}") from None
    if "operators" not in outputs:
        raise HandoverError(f"stack {stack!r} has no `operators` output; run `make up STACK={stack}` first")
    return dict(outputs["operators"].value)


def read_outputs_file(path: Path) -> Mapping[str, Any]:
    """The `operators` output saved as JSON (`pulumi stack output operators --json --show-secrets`)."""
    try:
        operators = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise HandoverError(f"{path} is not JSON: {str(error)[:200]}") from None
    if not isinstance(operators, dict):
        raise HandoverError(f"{path} must hold a JSON object of operators by user name")
    return operators


def credentials_csv(operator: Mapping[str, Any]) -> str:
    extra = [key for key in EXTRA_COLUMNS if operator.get(key)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*COLUMNS, *(EXTRA_COLUMNS[key] for key in extra)])
    writer.writerow(["" if operator.get(key) is None else str(operator[key]) for key in (*OUTPUT_KEYS, *extra)])
    return buffer.getvalue()


def write_private(path: Path, content: str | bytes, *, overwrite: bool = False) -> None:
    """Create `path` readable and writable by its owner only; the mode is set when the file is created."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise HandoverError(f"{path} exists already; pass --force to replace it") from None
    os.fchmod(descriptor, 0o600)  # in case the file existed with wider permissions
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content.encode() if isinstance(content, str) else content)


def hand_over(
    operators: Mapping[str, Any], name: str, path: Path, *, overwrite: bool = False, plaintext: bool = False
) -> Path:
    """Write the operator's file at `path`, or sealed for its age recipient at `path` + `.age`.
    Without a recipient, a password or SecretKey goes to disk only when `plaintext` allows it."""
    if name not in operators:
        known = ", ".join(sorted(operators)) or "none"
        raise HandoverError(f"operator {name!r} is not in this stack's outputs; operators: {known}")
    operator = operators[name]
    if operator.get("adopted"):
        raise HandoverError(
            f"operator {name!r} was adopted (`make adopt`): it kept the password and keys it had, so there is"
            " nothing to hand over"
        )
    content = credentials_csv(operator)
    recipient = operator.get("ageRecipient")
    if recipient:
        try:
            sealed = seal(content, str(recipient))
        except SealError as error:
            raise HandoverError(str(error)) from None
        path = path.with_name(path.name + ".age")
        write_private(path, sealed, overwrite=overwrite)
        return path
    exposed = [key for key in PLAINTEXT_SECRETS if operator.get(key)]
    if exposed and not plaintext:
        raise HandoverError(
            f"operator {name!r} has no recipient key, so its {' and '.join(exposed)} would be written in plain"
            " text; set ageRecipient (or apiKey.pgpKey) for it in the stack file and run `make up`,"
            " or pass --plaintext (PLAINTEXT=1 for make handover)"
        )
    write_private(path, content, overwrite=overwrite)
    return path


def login_links(operators: Mapping[str, Any], stack: str) -> str:
    """Each operator's user name and login link, and where its secrets are; no secret itself. An
    adopted operator is told apart: it has no password or key to hand over."""
    lines = [
        f"{name}: {operator.get('loginUrl') or '(no console access)'}"
        + (" (adopted: keeps its own password and keys, nothing to hand over)" if operator.get("adopted") else "")
        for name, operator in sorted(operators.items())
    ]
    if operators:
        lines.append(
            f"Passwords and API keys are secrets in the encrypted stack state of `{stack}`; write one operator's"
            f" credentials file with: {handover_command(stack, *min(operators.items()))}"
        )
    return "\n".join(lines)


def handover_command(stack: str, name: str, operator: Mapping[str, Any]) -> str:
    """The make target that hands `name` over, as it runs from the checkout (the local stack through
    localcloud); PLAINTEXT=1 where no recipient key would seal the file."""
    sealed = operator.get("ageRecipient") or not any(operator.get(key) for key in PLAINTEXT_SECRETS)
    return f"make handover STACK={stack} OPERATOR={name}" + ("" if sealed else " PLAINTEXT=1")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.handover", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True)
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--operator", help="the operator's user name")
    chosen.add_argument("--list", action="store_true", help="print every operator's login link instead")
    parser.add_argument(
        "--out", type=Path, help="file to write (default credentials/<stack>-<operator>.credentials.csv)"
    )
    parser.add_argument(
        "--outputs-file", type=Path, help="read the operators output from this JSON file instead of the Pulumi CLI"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument(
        "--plaintext", action="store_true", help="write a password or SecretKey in plain text (no recipient key)"
    )
    args = parser.parse_args(argv)
    try:
        operators = read_outputs_file(args.outputs_file) if args.outputs_file else read_stack_operators(args.stack)
        if args.list:
            print(login_links(operators, args.stack))
            return 0
        path = args.out or Path("credentials") / f"{args.stack}-{args.operator}.credentials.csv"
        path = hand_over(operators, args.operator, path, overwrite=args.force, plaintext=args.plaintext)
    except HandoverError as error:
        print(f"handover: {error}", file=sys.stderr)
        return 2
    if path.suffix == ".age":
        print(f"handover: wrote {path} (mode 600), sealed for the operator's age key: only it can open the file.")
    else:
        print(f"handover: wrote {path} (mode 600). Send it over a private channel, then delete it.")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run("handover", main))
