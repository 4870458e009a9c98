"""The engine-run budget (tests/engine_runs.py) on suites of its own, run as `make test` runs the
suite: each engine run is counted in its module, in the test process or in a subprocess, on
several workers, and one started by a test outside a `*_e2e.py` module fails the session."""

from __future__ import annotations

import re

import pytest

from tests.localcloud_process import ROOT

# A real CLI command that fails at once (no project in the folder): an engine run for a second of CPU.
ENGINE_RUN = """
import os
import subprocess
import sys

from commands import engine

def run_engine(command="preview"):
    env = engine.engine_env({"PULUMI_BACKEND_URL": "file://" + os.getcwd(), "PULUMI_CONFIG_PASSPHRASE": "x"})
    try:
        engine.pulumi_command().run([command, "--stack", "nowhere"], os.getcwd(), env)
    except Exception as error:
        assert "Pulumi.yaml" in str(error), error

def run_engine_in_a_subprocess(command):
    paths = os.pathsep.join([os.getcwd(), os.environ["PYTHONPATH"]])
    code = f"import engine_helpers; engine_helpers.run_engine({command!r})"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": paths})
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(engine_helpers=ENGINE_RUN)
    return pytester


def table_row(output: str, label: str) -> list[str]:
    """The figures of the table's row for `label` (runs, engine CPU, other CLI, CLI CPU, module CPU)."""
    figures = r"\s+(\d+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)$"
    pattern = re.compile("^" + re.escape(label) + figures, re.MULTILINE)
    (row,) = [list(match.groups()) for match in pattern.finditer(output)]
    return row


def test_runs_are_counted_per_module_in_the_test_process_and_in_subprocesses_on_several_workers(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        test_first_e2e="""
from engine_helpers import run_engine

def test_one():
    run_engine()

def test_two():
    run_engine()
""",
        test_second_e2e="""
from engine_helpers import run_engine_in_a_subprocess

def test_through_a_subprocess():
    run_engine_in_a_subprocess("up")
""",
        test_quiet="""
def test_no_engine():
    pass
""",
    )
    result = suite.runpytest_subprocess("-p", "tests.engine_runs", "-n", "2")

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    output = result.stdout.str()
    assert "engine runs per module" in output
    assert table_row(output, "test_first_e2e.py")[0] == "2"
    assert table_row(output, "test_second_e2e.py")[0] == "1"
    assert not [line for line in output.splitlines() if line.startswith("test_quiet.py")]  # no engine run: no row
    assert table_row(output, "total (3 modules)")[0] == "3"
    assert "engine runs by command: preview 2, up 1;" in output
    cpu = float(table_row(output, "total (3 modules)")[1])
    assert cpu > 0, "the engine's CPU, its children's, is measured"


def test_an_engine_run_from_a_test_outside_an_e2e_module_fails_the_session(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_fast="""
from engine_helpers import run_engine

def test_sneaks_an_engine_run():
    run_engine()
"""
    )
    result = suite.runpytest_subprocess("-p", "tests.engine_runs")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)  # the test itself passed: the session fails for it
    output = result.stdout.str()
    assert re.search(r"engine runs from tests not marked 'engine'.*test_fast.py::test_sneaks_an_engine_run", output)


def test_make_check_leaves_out_the_tests_of_e2e_modules_and_every_module_can_be_listed(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(test_a_e2e="def test_engine(): pass", test_b="def test_fast(): pass")
    result = suite.runpytest_subprocess("-p", "tests.engine_runs", "-m", "not engine", "--cpu-by-module")
    result.assert_outcomes(passed=1, deselected=1)
    assert result.ret == pytest.ExitCode.OK
    assert table_row(result.stdout.str(), "test_b.py")[0] == "0"  # listed, with no engine run
