"""Every benchmark `make bench` runs, in its short mode (`--short`: few resources, one round), so a
change of contract that breaks one fails here rather than at the next measurement. The figures of a
short run mean nothing and are not checked; that it runs to its ratios is.

The engine's benchmark (local_stack_up) runs in tests/test_benchmark_local_stack_up_e2e.py."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.localcloud_process import ROOT

ENGINE_BENCHMARK = "benchmarks.local_stack_up"
RATIO = re.compile(r"\d+\.\d+x")


def bench_modules() -> list[str]:
    """The modules `make bench` runs, in its order."""
    recipe = re.split(r"\nbench:[^\n]*\n", (ROOT / "Makefile").read_text(), maxsplit=1)[1].split("\n\n", 1)[0]
    return re.findall(r"-m (benchmarks\.\w+)", recipe)


def run_short(module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, "--short"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_make_bench_runs_every_benchmark_in_the_folder() -> None:
    scripts = [path for path in (ROOT / "benchmarks").glob("*.py") if "def main(" in path.read_text()]
    folder = {f"benchmarks.{path.stem}" for path in scripts}
    folder.discard("benchmarks.fixed_answer_server")  # the baseline server localcloud_requests starts
    # Ten minutes of killed `up`s, run by hand for the README's table; tests/test_recovery_e2e.py kills one.
    folder.discard("benchmarks.recovery_kill_points")
    assert set(bench_modules()) == folder


@pytest.mark.parametrize("module", [m for m in bench_modules() if m != ENGINE_BENCHMARK])
def test_each_benchmark_runs_in_its_short_mode_to_its_ratios(module: str) -> None:
    result = run_short(module)
    assert result.returncode == 0, result.stderr[-3000:]
    assert RATIO.search(result.stdout), result.stdout


def test_an_unknown_option_is_refused_with_the_allowed_one() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.program_build", "--quick"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "unrecognized arguments: --quick" in result.stderr and "--short" in result.stderr
