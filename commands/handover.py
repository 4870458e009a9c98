"""Hand an operator's credentials over as the CAM console does: one CSV file, readable by its owner only.

    python -m commands.handover --stack dev --operator im-dev-alice

reads the stack's secret outputs through the project's engine and writes
`credentials/<stack>-<operator>.credentials.csv` with mode 0600. Nothing secret is printed.
`--list` prints every operator's login link instead.
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
from commands.stack import GUARDRAILS, LOCAL_STACK, check_stack_files, plain_http

COLUMNS = ("User name", "Password", "SecretId", "SecretKey", "Login link")
OUTPUT_KEYS = ("userName", "password", "secretId", "secretKey", "loginUrl")


class HandoverError(Exception):
    pass


def read_stack_operators(stack: str, work_dir: Path = ROOT) -> Mapping[str, Any]:
    """The stack's `operators` output, secrets decrypted in memory, through the project's engine,
    after the preflight: the credentials must be the stack's account's (printed on stderr)."""
    env = dict(os.environ)
    config = check_stack_files(stack, work_dir, GUARDRAILS)
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
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(["" if operator.get(key) is None else str(operator[key]) for key in OUTPUT_KEYS])
    return buffer.getvalue()


def write_private(path: Path, content: str, *, overwrite: bool = False) -> None:
    """Create `path` readable and writable by its owner only; the mode is set when the file is created."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise HandoverError(f"{path} exists already; pass --force to replace it") from None
    os.fchmod(descriptor, 0o600)  # in case the file existed with wider permissions
    with os.fdopen(descriptor, "w", newline="") as handle:
        handle.write(content)


def hand_over(operators: Mapping[str, Any], name: str, path: Path, *, overwrite: bool = False) -> Path:
    if name not in operators:
        known = ", ".join(sorted(operators)) or "none"
        raise HandoverError(f"operator {name!r} is not in this stack's outputs; operators: {known}")
    write_private(path, credentials_csv(operators[name]), overwrite=overwrite)
    return path


def login_links(operators: Mapping[str, Any], stack: str) -> str:
    """Each operator's user name and login link, and where its secrets are; no secret itself."""
    lines = [
        f"{name}: {operator.get('loginUrl') or '(no console access)'}" for name, operator in sorted(operators.items())
    ]
    lines.append(
        f"Passwords and API keys are secrets in the encrypted stack state of `{stack}`; write one operator's"
        f" credentials file with: python -m commands.handover --stack {stack} --operator <name>"
        + (" (through scripts/with_localcloud.sh, which points at the local state)" if stack == LOCAL_STACK else "")
    )
    return "\n".join(lines)


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
    args = parser.parse_args(argv)
    try:
        operators = read_outputs_file(args.outputs_file) if args.outputs_file else read_stack_operators(args.stack)
        if args.list:
            print(login_links(operators, args.stack))
            return 0
        path = args.out or Path("credentials") / f"{args.stack}-{args.operator}.credentials.csv"
        hand_over(operators, args.operator, path, overwrite=args.force)
    except HandoverError as error:
        print(f"handover: {error}", file=sys.stderr)
        return 1
    print(f"handover: wrote {path} (mode 600). Send it over a private channel, then delete it.")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run("handover", main))
