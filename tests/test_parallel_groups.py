"""`make test` runs on several workers (pytest-xdist, --dist loadgroup); the modules that share one
deployed stack are kept on one worker by their xdist_group mark. That grouping lives in
pytest-xdist and broke silently once with a pytest upgrade: this checks that it still holds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GROUPED_MODULE = """
import pytest

pytestmark = pytest.mark.xdist_group("one-stack")


@pytest.mark.parametrize("step", range(8))
def test_step(step):
    pass


@pytest.mark.parametrize("other", range(8))
@pytest.mark.xdist_group("elsewhere")
def test_other(other):
    pass
"""


def test_an_xdist_group_runs_on_one_worker_in_order(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(GROUPED_MODULE)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "3", "--dist", "loadgroup", "-v"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.findall(r"\[(gw\d+)\] .*PASSED test_grouped\.py::test_(step|other)\[(\d+)\]", result.stdout)
    assert len(ran) == 16, result.stdout
    steps = [(worker, int(index)) for worker, name, index in ran if name == "step"]
    assert len({worker for worker, _ in steps}) == 1, f"one group ran on several workers: {steps}"
    assert [index for _, index in steps] == list(range(8)), "a group's tests ran out of order"
