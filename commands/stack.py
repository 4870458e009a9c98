"""Preview, deploy or destroy one stack with the guardrails, the same way on a laptop and in CI.

    python -m commands.stack preview dev
    python -m commands.stack up prod
    python -m commands.stack preview dev --against-localcloud   (under scripts/with_localcloud.sh)
    python -m commands.stack preview dev --project ../pull-request   (another checkout's program)

Every preview and up runs the policy pack with its approvals (policy_pack/approvals.yaml), both taken
from the checkout this command belongs to, never from `--project`: a pull request's program is previewed
with the reviewed guardrails of the base branch. The engine's typed events (policy events
included) are collected through the Automation API and summarised as the Markdown a pull request
shows, written to reports/<stack>-<command>.md and printed, and as SARIF and JUnit XML
(reports/<stack>-<command>.sarif, .junit.xml); the events' summary is kept as
reports/<stack>-<command>.events.json, from which commands/preview_report.py rebuilds them in CI.
Before the engine starts, the project's stack files are checked as files: one per known stack,
none steering the provider's endpoint; then the preflight (commands/preflight.py) checks the
backend, the stack, the passphrase and the credentials, and asks STS whose they are: another account
than the stack's `ownerUin` stops the run. Each failure is one line and exit 2.

    python -m commands.stack init dev   creates the stack in the backend (make stack-init STACK=dev)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pulumi import automation as auto

from commands import cli, preflight
from commands.engine import ROOT, init_stack, open_stack, pulumi_command
from commands.escape import one_line
from commands.guarded_files import changed_guarded_files
from commands.guardrail_reports import pack_rules, write_reports
from commands.preview_report import write_events
from commands.preview_summary import Summary, markdown, summarise
from im_access import safe_yaml
from im_access.approvals import APPROVALS_FILE, load_approvals
from im_access.break_glass import BreakGlass, load_exceptions, today
from im_access.config import parse_stack_config, read_namespace, read_stack_file
from im_access.provider_config import TODAY_VARIABLE, stack_config_problems
from im_access.stack_files import StackFileError, known_stacks, project_file_problems, stack_files

COMMANDS = ("preview", "up", "destroy")
INIT = "init"  # creates the stack in the backend; runs nothing
GUARDRAILS = ROOT / "policy_pack"  # the pack and its approvals, from this checkout
LOCAL_STACK = "local"  # the stack that always runs against localcloud
# Resource operations run at once. The provider waits about 10 s after each CAM create, so a
# wide stack is bound by waiting, not by CPU: for 100 operators under CAM's rate limits,
# benchmarks/local_stack_up.py measured 258 s at the engine's default (8), 50 s at 64 and 46 s
# at 128, which doubles the requests in flight for 8%.
DEFAULT_PARALLEL = 64


@dataclass
class StackRun:
    """The outcome of one engine command: its exit code, its events' summary and its output."""

    stack: str
    command: str
    exit_code: int
    summary: Summary
    changed_files: list[str] = field(default_factory=list)  # guarded files the project changes
    exceptions: list[BreakGlass] = field(default_factory=list)  # break-glass exceptions in force
    approved: bool = False  # approved for IM full access in policy_pack/approvals.yaml
    output: list[str] = field(default_factory=list)
    identity: preflight.Identity | None = None  # whose the credentials were (the preflight's answer)

    @property
    def guardrails_changed(self) -> bool:
        return bool(self.changed_files)

    @property
    def text(self) -> str:
        return "".join(self.output)


def guardrail_args(stack: str, guardrails: Path) -> dict[str, list[str]]:
    """The policy pack, from the folder that holds it and its approvals, which must list the stack."""
    approvals = load_approvals(guardrails)
    if not approvals.problems and stack not in approvals.stacks:
        raise FileNotFoundError(f"{guardrails / APPROVALS_FILE} does not list stack {stack!r}; every stack is listed")
    return {"policy_packs": [str(guardrails)]}


def guardrails_differ(project: Path, guardrails: Path) -> list[str]:
    """The files the guardrails, the previews or the engine install execute (commands/guarded_files.py)
    that the project changes from the checkout the run uses (the one holding `guardrails`)."""
    return changed_guarded_files(project, guardrails.parent)


def localcloud_config_file(stack: str, work_dir: Path, reports: Path) -> str:
    """A copy of the stack's config that speaks plain HTTP, so the provider's requests reach localcloud
    through HTTP_PROXY. The stack file itself is never written."""
    config = safe_yaml.load((work_dir / f"Pulumi.{stack}.yaml").read_text(), f"Pulumi.{stack}.yaml") or {}
    config.setdefault("config", {})["tencentcloud:protocol"] = "HTTP"
    path = reports / f"Pulumi.{stack}.localcloud.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def check_stack_files(stack: str, work_dir: Path, guardrails: Path) -> dict[str, object]:
    """One file per known stack, and no stack file that steers the provider's endpoint: checked on the
    files themselves before the engine starts, as a pull request's program might not check them.
    Returns the stack's flat config."""
    if problems := project_file_problems(work_dir):
        raise StackFileError(problems)
    files = stack_files(work_dir, known_stacks(guardrails))
    if stack not in files:
        raise StackFileError([f"there is no Pulumi.{stack}.yaml; stacks: {', '.join(files) or 'none'}"])
    config = read_stack_file(files[stack])
    # Judged as the file says, whatever route this run takes: only the local stack's file may ask for
    # plain HTTP (a run through localcloud adds it to a copy, never to the file).
    problems = stack_config_problems(stack, config, {})
    if problems:
        raise StackFileError([f"Pulumi.{stack}.yaml: " + "; ".join(problems)])
    return config


def check_config(stack: str, config: Mapping[str, object], env: Mapping[str, str]) -> None:
    """The stack's im-access values, every problem at once (ConfigurationError), before the engine
    starts. On a rehearsal's date (IM_ACCESS_TODAY) the dates are left to the program, which runs
    on that date; otherwise this is the program's own check, on the same real date."""
    parse_stack_config(stack, read_namespace(config), allow_past_expiry=TODAY_VARIABLE in env)


def check_local_route(stack: str, env: Mapping[str, str], against_localcloud: bool, fix: str = "") -> None:
    """The local stack, and any run against localcloud, only on localcloud's route (its proxy and its
    own file backend): anywhere else the engine would create the stack in a cloud backend first.
    `fix` is the command that takes that route (by default the preview's)."""
    if not (against_localcloud or stack == LOCAL_STACK):
        return
    backend = env.get("PULUMI_BACKEND_URL", "")
    if env.get("HTTP_PROXY") and backend.startswith("file://"):
        return
    where = f"the backend {one_line(backend)[:200]}" if backend else "no backend"
    fix = fix or f"`make preview-localcloud STACK={stack}`" + (" or `make local-up`" if stack == LOCAL_STACK else "")
    raise preflight.PreflightError(
        f"stack {stack!r} runs only through localcloud, and this run has {where}"
        f"{'' if env.get('HTTP_PROXY') else ' and no HTTP_PROXY'}; nothing was created or read: run {fix}"
        " (scripts/with_localcloud.sh sets both)"
    )


def plain_http(config: Mapping[str, object], against_localcloud: bool) -> bool:
    """Whether the provider's requests (and so the preflight's) go in plain HTTP, to localcloud."""
    return against_localcloud or str(config.get("tencentcloud:protocol", "")).upper() == "HTTP"


def create_stack(stack_name: str, *, work_dir: Path = ROOT, guardrails: Path = GUARDRAILS) -> str:
    """`make stack-init`: the stack in the configured backend, its stack file left byte for byte as
    reviewed (the backend keeps the passphrase salt). What it did, as one line."""
    env = dict(os.environ)
    check_config(stack_name, check_stack_files(stack_name, work_dir, guardrails), env)
    pulumi_command()
    preflight.check_backend(env, work_dir)
    preflight.check_passphrase(env)
    created = init_stack(stack_name, work_dir)
    backend = env.get("PULUMI_BACKEND_URL") or "the configured backend"
    if not created:
        return f"stack: {stack_name!r} exists already in {backend}; nothing changed"
    return f"stack: created {stack_name!r} in {backend}; Pulumi.{stack_name}.yaml is unchanged"


def run(
    command: str,
    stack_name: str,
    *,
    work_dir: Path = ROOT,
    guardrails: Path = GUARDRAILS,
    env: Mapping[str, str] | None = None,
    against_localcloud: bool = False,
    parallel: int | None = DEFAULT_PARALLEL,
    expect_no_changes: bool = False,
    echo: Callable[[str], object] | None = None,
) -> StackRun:
    """Run `command` on one stack of the project in `work_dir`; never raises for a failed update.

    `parallel=None` leaves the number of resource operations at once to the engine's default."""
    reports = work_dir / "reports"
    reports.mkdir(exist_ok=True)
    run_env = {**os.environ, **(env or {})}  # what the engine and the pack will see
    events: list[auto.EngineEvent] = []
    output: list[str] = []

    def on_output(line: str) -> None:
        output.append(line + "\n")
        if echo is not None:
            echo(line)

    config = check_stack_files(stack_name, work_dir, guardrails)
    check_config(stack_name, config, run_env)
    preflight.check_provider_environment(run_env)
    options: dict[str, object] = {
        "on_event": events.append,
        "on_output": on_output,
        "on_error": on_output,
        "color": "never",
    }
    if command != "destroy":
        options.update(guardrail_args(stack_name, guardrails))
    check_local_route(stack_name, run_env, against_localcloud)
    if against_localcloud:
        options["config_file"] = localcloud_config_file(stack_name, work_dir, reports)

    # Stacks against localcloud live in a throwaway local backend and are made on first use; a
    # cloud stack must exist already, so a typo never creates a new, empty stack.
    create = against_localcloud or stack_name == LOCAL_STACK
    exit_code = 0
    pulumi_command()  # the engine first (EngineMissingError names `make setup`)
    preflight.check_backend(run_env, work_dir)
    with open_stack(stack_name, work_dir, env, create=create) as stack:
        preflight.check_passphrase(run_env)
        via_localcloud = against_localcloud or stack_name == LOCAL_STACK
        identity, acting_env = preflight.acting_identity(
            stack_name,
            config,
            run_env,
            plain_http=plain_http(config, against_localcloud),
            via_localcloud=via_localcloud,
        )
        on_output(identity.line(stack_name))
        if command == "up":  # what an interrupted run left pending, looked up in CAM first
            recovery = preflight.recover_interrupted_up(
                stack,
                stack_name,
                config,
                acting_env,
                via_localcloud=via_localcloud,
                config_file=str(options.get("config_file") or "") or None,
                on_output=on_output,
            )
            for line in recovery.lines() if recovery else []:
                on_output(line)
        try:
            if command == "preview":
                stack.preview(parallel=parallel, expect_no_changes=expect_no_changes, **options)  # type: ignore[arg-type]
            elif command == "up":

                def up() -> auto.UpResult:
                    return stack.up(parallel=parallel, show_secrets=False, **options)  # type: ignore[arg-type]

                preflight.with_stale_lock_cleared(up, stack, stack_name, on_output)
            elif command == "destroy":
                stack.destroy(parallel=parallel, **options)  # type: ignore[arg-type]
            else:
                raise ValueError(f"unknown command {command!r}; allowed: {', '.join(COMMANDS)}")
        except auto.errors.CommandError:
            exit_code = 1
    summary = summarise(stack_name, events)
    if command == "destroy":
        return StackRun(stack_name, command, exit_code, summary, output=output, identity=identity)
    exceptions = load_exceptions(guardrails).for_stack(stack_name, today(run_env))
    approved = load_approvals(guardrails).is_approved(stack_name, identity.account)
    write_reports(summary, guardrails, work_dir, reports, command)
    write_events(summary, exit_code, reports, command, identity)
    return StackRun(
        stack_name,
        command,
        exit_code,
        summary,
        guardrails_differ(work_dir, guardrails),
        exceptions,
        approved,
        output,
        identity,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.stack", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=(*COMMANDS, INIT))
    parser.add_argument("stack")
    parser.add_argument("--against-localcloud", action="store_true", help="preview against localcloud's account")
    parser.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL, help="resource operations at once")
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout whose program and stacks to run")
    args = parser.parse_args(argv)
    if args.command == INIT:
        print(create_stack(args.stack, work_dir=args.project.resolve()))
        return 0
    result = run(
        args.command,
        args.stack,
        work_dir=args.project.resolve(),
        against_localcloud=args.against_localcloud,
        parallel=args.parallel,
        echo=lambda line: print(line, flush=True),
    )
    report = markdown(
        result.summary,
        result.exit_code,
        against_localcloud=args.against_localcloud,
        changed_files=result.changed_files,
        exceptions=result.exceptions,
        approved=result.approved,
        identity=result.identity.as_json() if result.identity else None,
        descriptions={rule.name: rule.description for rule in pack_rules(GUARDRAILS)},
    )
    (args.project / "reports" / f"{args.stack}-{args.command}.md").write_text(report)
    sys.stdout.write("\n" + report)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(cli.run("stack", main))
