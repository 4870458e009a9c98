"""How every command people run ends: an expected error is one line naming the fix, exit 2 (a bad
configuration: a heading line, then one line per problem); anything else is a fault of the command
itself, shown with its traceback, exit 2 as well.

    if __name__ == "__main__":
        sys.exit(cli.run("stack", main))
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

import yaml
from pulumi import automation as auto

from commands.engine import EngineMissingError, StackMissingError
from commands.escape import one_line
from commands.preflight import PreflightError
from im_access.config import ConfigurationError
from im_access.safe_yaml import UnsafeYamlError
from im_access.stack_files import StackFileError

# What a person can fix: a missing step, a missing or unreadable file, a bad value or stack file.
EXPECTED: tuple[type[BaseException], ...] = (
    PreflightError,
    EngineMissingError,
    StackMissingError,
    auto.errors.CommandError,
    OSError,
    ConfigurationError,
    StackFileError,
    UnsafeYamlError,
    yaml.YAMLError,
)
MAX_MESSAGE = 1_000


def engine_error(error: auto.errors.CommandError) -> str:
    """The engine's own `error:` line from a failed CLI run, not the whole command and its output."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    errors = [line.split("error: ", 1)[1] for line in lines if "error: " in line]  # `stderr: error: ...`
    return errors[-1] if errors else (lines[-1] if lines else "no output")


def message(error: BaseException) -> str:
    if isinstance(error, ConfigurationError):
        # Every problem at once, one line each, so each names its key and can be read and fixed.
        heading = one_line(str(error).splitlines()[0])[:MAX_MESSAGE]
        return "\n".join([heading, *(f"  - {one_line(problem)[:MAX_MESSAGE]}" for problem in error.problems)])
    if isinstance(error, auto.errors.CommandError):
        text = f"the Pulumi CLI failed: {engine_error(error)}"
    elif isinstance(error, OSError) and error.filename is not None:
        text = f"{error.strerror or type(error).__name__}: {error.filename}"
    else:
        text = str(error) or type(error).__name__
    return one_line(text)[:MAX_MESSAGE]


def run(prog: str, main: Callable[[], int], expected: tuple[type[BaseException], ...] = EXPECTED) -> int:
    """`main()`'s exit code; an expected error printed as `<prog>: <message>` on stderr, exit 2."""
    try:
        return main()
    except expected as error:
        print(f"{prog}: {message(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:
        traceback.print_exc()
        print(f"{prog}: an unexpected error (the traceback above); nothing after it ran", file=sys.stderr)
        return 2
