"""The benchmarks' command line: `--short` runs one with few resources and one round.

A short run measures nothing worth reading; it shows the benchmark still runs against the code as
it is, so a contract change that breaks one fails the suite (tests/test_benchmarks*.py)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

SHORT = "--short"


def is_short(description: str, argv: Sequence[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=description.split("\n")[0])
    parser.add_argument(SHORT, action="store_true", help="few resources, one round: checks that it runs")
    return bool(parser.parse_args(argv).short)
