# The same targets run on a laptop and in CI.
.PHONY: setup test lint bench

setup:
	bash scripts/setup.sh

test:
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/mypy

bench:
	.venv/bin/python -m benchmarks.policy_pack_analyze
	.venv/bin/python -m benchmarks.program_build
