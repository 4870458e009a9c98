# The same targets run on a laptop and in CI.
.PHONY: setup test lint bench preview preview-localcloud up local-up

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
	.venv/bin/python -m benchmarks.localcloud_requests

# Preview or deploy one stack with the guardrails; needs the pulumi CLI. e.g. make preview STACK=dev
preview:
	bash scripts/pulumi_stack.sh preview $(STACK)

up:
	bash scripts/pulumi_stack.sh up $(STACK)

# Preview one stack against localcloud instead of the cloud: for runs without cloud secrets.
preview-localcloud:
	bash scripts/with_localcloud.sh bash scripts/pulumi_stack.sh preview-localcloud $(STACK)

# The main job with no cloud account: localcloud plus pulumi up --stack local (see README).
local-up:
	bash scripts/local_up.sh
