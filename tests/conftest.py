"""The policy pack as the engine runs it, shared by the protocol tests that use it unchanged: a
module that needs another pack folder, environment or preview mode defines its own fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.analyzer_client import PolicyPackProcess

# The engine-run budget (its table ends every run) and the `engine` mark `make check` leaves out;
# pytester runs it in a suite of its own (tests/test_engine_runs.py).
pytest_plugins = ["tests.engine_runs", "pytester"]


@pytest.fixture(scope="module")
def dev_pack() -> Iterator[PolicyPackProcess]:
    """dev, not approved for IM full access, in a preview."""
    with PolicyPackProcess("dev") as pack:
        pack.configure({})
        yield pack


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[PolicyPackProcess]:
    """prod, approved for IM full access in policy_pack/approvals.yaml, at `pulumi up`."""
    with PolicyPackProcess("prod", dry_run=False) as pack:
        pack.configure({})
        yield pack
