"""The suite's engine-run budget: every Pulumi CLI command a test starts, counted per test module.

An engine run costs about 3 s of CPU (CLI, language host, program, provider, policy pack), so the
suite's time is its number of engine runs. commands/engine.py appends one line per CLI command to
the file named by IM_ACCESS_ENGINE_RUN_LOG; this plugin points that at a file of its own in each
process (each xdist worker has one), so runs in subprocesses (`make local-up`, `python -m
commands.stack`) count too. After each test the new lines go to the test's module, with the CPU
the test used (its process and its children); at the end the controller prints one table.

Tests in modules named `*_e2e.py` are marked `engine` (`make check` runs the others); an engine
run from a test without that mark fails the session, so the fast loop stays free of them.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from commands.engine import RUN_LOG_VARIABLE

ENGINE_COMMANDS = ("preview", "up", "destroy", "refresh", "import")
ENGINE_MARK = "engine"
E2E_SUFFIX = "_e2e.py"
OUTSIDE_TESTS = "(outside any test)"
WORKER_OUTPUT_KEY = "engine_runs"


@dataclass
class ModuleCost:
    """What one test module spent: engine runs by command, other CLI commands, CPU seconds."""

    runs: dict[str, int] = field(default_factory=dict)
    engine_cpu: float = 0.0
    engine_wall: float = 0.0
    cli_calls: int = 0
    cli_cpu: float = 0.0
    cpu: float = 0.0  # the module's tests: their process and every child, engine runs included

    @property
    def engine_runs(self) -> int:
        return sum(self.runs.values())

    def add_log_line(self, line: dict[str, Any]) -> None:
        if line["command"] in ENGINE_COMMANDS:
            self.runs[line["command"]] = self.runs.get(line["command"], 0) + 1
            self.engine_cpu += line["cpu"]
            self.engine_wall += line["wall"]
        else:
            self.cli_calls += 1
            self.cli_cpu += line["cpu"]

    def merge(self, other: ModuleCost) -> None:
        for command, count in other.runs.items():
            self.runs[command] = self.runs.get(command, 0) + count
        self.engine_cpu += other.engine_cpu
        self.engine_wall += other.engine_wall
        self.cli_calls += other.cli_calls
        self.cli_cpu += other.cli_cpu
        self.cpu += other.cpu


def process_cpu() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class EngineRunBudget:
    """Per process: reads the run log after each test and adds it to the test's module."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.read_up_to = 0
        self.modules: dict[str, ModuleCost] = {}
        self.unmarked: list[str] = []  # tests without the engine mark that ran the engine

    def new_lines(self) -> list[dict[str, Any]]:
        with self.log.open("rb") as log:
            log.seek(self.read_up_to)
            text = log.read()
        complete = text[: text.rfind(b"\n") + 1]  # a line still being written waits for the next read
        self.read_up_to += len(complete)
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def account(self, module: str, cpu: float, nodeid: str | None = None, marked: bool = True) -> None:
        cost = self.modules.setdefault(module, ModuleCost())
        cost.cpu += cpu
        lines = self.new_lines()
        for line in lines:
            cost.add_log_line(line)
        if not marked and any(line["command"] in ENGINE_COMMANDS for line in lines):
            self.unmarked.append(nodeid or module)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        before = process_cpu()
        yield
        marked = item.get_closest_marker(ENGINE_MARK) is not None
        self.account(item.nodeid.split("::")[0], process_cpu() - before, item.nodeid, marked)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cpu-by-module",
        action="store_true",
        help="list every test module's CPU in the engine-run table, not only those that ran the engine",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{ENGINE_MARK}: runs the Pulumi engine (set on every test of a *{E2E_SUFFIX} module)"
    )
    handle, name = tempfile.mkstemp(prefix="engine-runs-", suffix=".jsonl")
    os.close(handle)
    os.environ[RUN_LOG_VARIABLE] = name
    budget = EngineRunBudget(Path(name))
    config.stash[BUDGET] = budget
    config.pluginmanager.register(budget, "engine-run-budget")


BUDGET = pytest.StashKey[EngineRunBudget]()
TOTALS = pytest.StashKey[dict[str, ModuleCost]]()
UNMARKED = pytest.StashKey[list[str]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("::")[0].endswith(E2E_SUFFIX):
            item.add_marker(ENGINE_MARK)


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    budget = config.stash[BUDGET]
    budget.account(OUTSIDE_TESTS, 0.0)  # whatever ran after the last test (none expected)
    modules = {name: cost for name, cost in budget.modules.items() if cost.cpu or cost.runs or cost.cli_calls}
    if is_worker(config):
        config.workeroutput[WORKER_OUTPUT_KEY] = {  # type: ignore[attr-defined]
            "modules": {name: asdict(cost) for name, cost in modules.items()},
            "unmarked": budget.unmarked,
        }
        return
    totals = config.stash.setdefault(TOTALS, {})
    for name, cost in modules.items():
        totals.setdefault(name, ModuleCost()).merge(cost)
    unmarked = config.stash.setdefault(UNMARKED, [])
    unmarked.extend(budget.unmarked)
    if unmarked and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist, in the controller: a worker's costs, added to the session's."""
    output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if output is None:
        return
    totals = node.config.stash.setdefault(TOTALS, {})
    for name, cost in output["modules"].items():
        totals.setdefault(name, ModuleCost()).merge(ModuleCost(**cost))
    node.config.stash.setdefault(UNMARKED, []).extend(output["unmarked"])


def row(label: str, cost: ModuleCost) -> str:
    return (
        f"{label:<44} {cost.engine_runs:>11} {cost.engine_cpu:>12.1f} {cost.cli_calls:>9} {cost.cli_cpu:>9.1f}"
        f" {cost.cpu:>12.1f}"
    )


def table(totals: dict[str, ModuleCost], every_module: bool = False) -> list[str]:
    """One row per module that ran the engine (or every module), then the total over every module."""
    columns = f"{'engine runs':>11} {'engine CPU s':>12} {'other CLI':>9} {'CLI CPU s':>9} {'module CPU s':>12}"
    header = f"{'module':<44} {columns}"
    rows = [header, "-" * len(header)]
    engine_modules = sorted(
        (name for name, cost in totals.items() if cost.engine_runs or every_module),
        key=lambda n: (-totals[n].engine_cpu, -totals[n].cpu),
    )
    for name in engine_modules:
        cost = totals[name]
        rows.append(row(name, cost))
    total = ModuleCost()
    for cost in totals.values():
        total.merge(cost)
    rows.append("-" * len(header))
    label = f"total ({len(totals)} modules)"
    rows.append(row(label, total))
    by_command = ", ".join(f"{command} {total.runs[command]}" for command in ENGINE_COMMANDS if command in total.runs)
    rows.append(f"engine runs by command: {by_command or 'none'}; engine wall s (summed): {total.engine_wall:.1f}")
    return rows


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if is_worker(config):
        return
    totals = config.stash.get(TOTALS, {})
    terminalreporter.write_sep("=", "engine runs per module")
    for row in table(totals, every_module=config.getoption("--cpu-by-module")):
        terminalreporter.write_line(row)
    unmarked = config.stash.get(UNMARKED, [])
    if unmarked:
        terminalreporter.write_line(
            f"engine runs from tests not marked {ENGINE_MARK!r} (move them to a *{E2E_SUFFIX} module): "
            + ", ".join(unmarked),
            red=True,
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    budget = config.stash.get(BUDGET, None)
    if budget is not None:
        budget.log.unlink(missing_ok=True)
