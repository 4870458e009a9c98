"""The project's own Pulumi engine, driven through the Automation API.

`make setup` (scripts/install_engine.sh) installs the pinned CLI into `.engine/pulumi-<version>`
and the provider plugin into `.engine/home`, which is the PULUMI_HOME of every run started here,
so a user's own `~/.pulumi` (credentials, backends, plugins) is never read or written.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pulumi import automation as auto

ROOT = Path(__file__).resolve().parent.parent
SETUP_COMMAND = "make setup"


def pinned_versions() -> dict[str, str]:
    """The `KEY=value` lines of engine/versions.env."""
    versions: dict[str, str] = {}
    for line in (ROOT / "engine" / "versions.env").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            versions[key.strip()] = value.strip()
    return versions


PULUMI_VERSION = pinned_versions()["PULUMI_VERSION"]
ENGINE_DIR = Path(os.environ.get("IM_ACCESS_ENGINE_DIR") or ROOT / ".engine")
PULUMI_ROOT = ENGINE_DIR / f"pulumi-{PULUMI_VERSION}"
PULUMI_HOME = ENGINE_DIR / "home"


# When set, every CLI command started here appends one JSON line to this file (the test suite's
# count of engine runs, tests/engine_runs.py); subprocesses inherit it, so runs through make count.
RUN_LOG_VARIABLE = "IM_ACCESS_ENGINE_RUN_LOG"


class EngineMissingError(RuntimeError):
    """The pinned engine is not installed; names the command that installs it."""


class StackMissingError(RuntimeError):
    """The stack does not exist in the backend; names the command that creates it."""


class _LoggedPulumiCommand(auto.PulumiCommand):
    """The CLI, with each command's name, stack, outcome, wall and CPU seconds (its whole process
    tree's: CLI, language host, program, provider, policy pack) appended to the run log."""

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: auto.OnOutput | None = None,
        on_error: auto.OnOutput | None = None,
    ) -> auto.CommandResult:
        started, cpu_before = time.monotonic(), _children_cpu()
        ok = False
        try:
            result = super().run(args, cwd, additional_env, on_output, on_error)
            ok = True
            return result
        finally:
            words = [arg for arg in args if not arg.startswith("-")]
            line = {
                "command": " ".join(words[:2] if words[:1] in (["stack"], ["config"]) else words[:1]),
                "stack": args[args.index("--stack") + 1] if "--stack" in args[:-1] else "",
                "ok": ok,
                "wall": round(time.monotonic() - started, 3),
                "cpu": round(_children_cpu() - cpu_before, 3),
            }
            with open(os.environ[RUN_LOG_VARIABLE], "a") as log:
                log.write(json.dumps(line) + "\n")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pulumi_command() -> auto.PulumiCommand:
    """The pinned CLI, or EngineMissingError naming the setup command."""
    binary = PULUMI_ROOT / "bin" / "pulumi"
    if not binary.exists():
        raise EngineMissingError(
            f"the Pulumi CLI {PULUMI_VERSION} is not installed in {PULUMI_ROOT}; run `{SETUP_COMMAND}`"
        )
    return _cli(str(PULUMI_ROOT), logged=bool(os.environ.get(RUN_LOG_VARIABLE)))


@functools.cache
def _cli(root: str, logged: bool) -> auto.PulumiCommand:
    """Made once per process: making one runs `pulumi version` (the Automation API's version check)."""
    return _LoggedPulumiCommand(root) if logged else auto.PulumiCommand(root)


def engine_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables every CLI run gets: the pinned CLI first on PATH (its language host lives beside it),
    and no plugin acquired on the way."""
    return {
        "PATH": f"{PULUMI_ROOT / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_HOME": str(PULUMI_HOME),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        **(extra or {}),
        # Only the plugins `make setup` installed and verified: a provider's pluginDownloadURL (which
        # never reaches the policy pack) or another version would fetch and run another binary.
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # ... and a pulumi-resource-tencentcloud on PATH would be preferred to the installed one.
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
    }


def _workspace(
    work_dir: Path, env: Mapping[str, str] | None, secrets_provider: str | None = None
) -> auto.LocalWorkspace:
    return auto.LocalWorkspace(
        work_dir=str(work_dir),
        pulumi_home=str(PULUMI_HOME),
        pulumi_command=pulumi_command(),
        env_vars=engine_env(env),
        secrets_provider=secrets_provider,
    )


@contextmanager
def _stack_file_kept(stack_file: Path) -> Iterator[None]:
    """The engine writes its passphrase salt into the stack file (at `stack init`, and whenever
    secrets are read while the file lacks it). The backend keeps the salt in the stack's state as
    well (its checkpoint's secrets provider, from `stack init` on), so the reviewed stack file is put
    back exactly as it was."""
    reviewed = stack_file.read_bytes() if stack_file.exists() else None
    try:
        yield
    finally:
        if reviewed is not None and stack_file.read_bytes() != reviewed:
            stack_file.write_bytes(reviewed)


@contextmanager
def open_stack(
    name: str, work_dir: Path = ROOT, env: Mapping[str, str] | None = None, create: bool = False
) -> Iterator[auto.Stack]:
    """The stack `name` of the project in `work_dir`; with `create`, made in the current backend if
    missing, else StackMissingError. The stack file is left as it was."""
    workspace = _workspace(work_dir, env)
    with _stack_file_kept(work_dir / f"Pulumi.{name}.yaml"):
        try:
            opened = auto.Stack.create_or_select(name, workspace) if create else auto.Stack.select(name, workspace)
        except auto.errors.StackNotFoundError:
            backend = workspace.env_vars.get("PULUMI_BACKEND_URL") or os.environ.get("PULUMI_BACKEND_URL")
            raise StackMissingError(
                f"stack {name!r} does not exist in {backend or 'the backend'};"
                f" create it with `make stack-init STACK={name}`"
            ) from None
        yield opened


def init_stack(name: str, work_dir: Path = ROOT, env: Mapping[str, str] | None = None) -> bool:
    """Create the stack `name` in the current backend, its secrets encrypted with the passphrase;
    False when it exists already. The stack file is left as it was."""
    workspace = _workspace(work_dir, env, secrets_provider="passphrase")
    with _stack_file_kept(work_dir / f"Pulumi.{name}.yaml"):
        try:
            auto.Stack.create(name, workspace)
        except auto.errors.StackAlreadyExistsError:
            return False
    return True
