# The same targets run on a laptop and in CI. Every engine run uses the project's own Pulumi
# (.engine/, installed by `make setup`), never the user's ~/.pulumi.
.PHONY: help setup lock test check lint bench preview preview-localcloud preview-report up destroy stack-init local-up handover audit adopt review ci-credentials
PYTHON := .venv/bin/python
# `make` alone prints this list; nothing runs until a target is named.
.DEFAULT_GOAL := help

# Each target with its `## ` line, as the README names them.
help:
	@echo "usage: make TARGET [VARIABLE=value ...]   (README.md has the details)"
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  %-20s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## the .venv with the hashed pins and the Pulumi engine in .engine/ (idempotent)
	bash scripts/setup.sh

# Re-pins requirements.txt and requirements-dev.txt (exact versions, sha256 hashes) from the .in
# files, keeping the current pins where they still fit. Review the diff like code.
lock: ## re-pin requirements*.txt (exact versions, sha256 hashes) from the .in files
	.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links --output-file requirements.txt requirements.in
	.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links --output-file requirements-dev.txt requirements-dev.in

# The suite on several workers: the end-to-end tests mostly wait on the engine and the provider,
# so more workers than cores pay off. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 4
test: ## every test, on TEST_WORKERS=4 workers
	$(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadgroup

# The inner loop: every test that runs no engine (those of *_e2e.py modules are marked `engine`;
# tests/engine_runs.py fails a run where another test starts one), one worker per core.
check: ## every test that runs no engine, on 2 workers: the inner loop
	$(PYTHON) -m pytest -n 2 -m "not engine"

lint: ## ruff and mypy
	.venv/bin/ruff check .
	.venv/bin/mypy

bench: ## the benchmarks, each against a baseline in the same process
	$(PYTHON) -m benchmarks.policy_pack_analyze
	$(PYTHON) -m benchmarks.program_build
	$(PYTHON) -m benchmarks.localcloud_requests
	$(PYTHON) -m benchmarks.local_stack_up
	$(PYTHON) -m benchmarks.audit_requests
	$(PYTHON) -m benchmarks.audit_reach
	$(PYTHON) -m benchmarks.preflight_identity
	$(PYTHON) -m benchmarks.adopt_requests

# Preview or deploy one stack with this checkout's guardrails, e.g. make preview STACK=dev.
# PROJECT=DIR runs another checkout's program and stack files (a pull request's) instead.
# STACK=local always goes through localcloud (scripts/with_localcloud.sh), never the cloud backend.
PROJECT ?= .
LOCAL_ROUTE = $(if $(filter local,$(STACK)),bash scripts/with_localcloud.sh)
preview: ## STACK=dev: preview with the policy pack and its approvals
up: ## STACK=dev: pulumi up with the same guardrails
destroy: ## STACK=dev: pulumi destroy
preview up destroy:
	$(LOCAL_ROUTE) $(PYTHON) -m commands.stack $@ $(STACK) --project $(PROJECT)

# Create a cloud stack in the configured backend (PULUMI_BACKEND_URL), once, before its first
# preview: make stack-init STACK=dev. The reviewed stack file is left byte for byte as it was.
stack-init: ## once per cloud stack: create STACK in PULUMI_BACKEND_URL
	$(PYTHON) -m commands.stack init $(STACK) --project $(PROJECT)

# Preview one stack against localcloud instead of the cloud: for runs without cloud secrets.
preview-localcloud: ## preview STACK against localcloud, no cloud secrets
	bash scripts/with_localcloud.sh $(PYTHON) -m commands.stack preview $(STACK) --project $(PROJECT) --against-localcloud

# Rebuild a pull request's preview reports and comment from its event logs, never running its code:
# make preview-report EVENTS=DIR PROJECT=DIR OUT=DIR [AGAINST_LOCALCLOUD=1] (see SECURITY.md).
preview-report: ## EVENTS=DIR PROJECT=DIR OUT=DIR: rebuild a pull request's reports from its event logs
	$(PYTHON) -m commands.preview_report --events "$(EVENTS)" --project "$(PROJECT)" --out "$(OUT)" $(if $(AGAINST_LOCALCLOUD),--against-localcloud)

# In a GitHub Actions job with `id-token: write`: a CAM role's temporary credentials from the job's
# OIDC token, set for the job's later steps (no long-lived key; see SECURITY.md):
# make ci-credentials ROLE_ARN=qcs::cam::uin/<uin>:roleName/<role> PROVIDER_ID=<OIDC provider name>
ci-credentials: ## ROLE_ARN=... PROVIDER_ID=...: a CAM role's temporary credentials in GitHub Actions
	$(PYTHON) -m commands.ci_credentials --role-arn "$(ROLE_ARN)" --provider-id "$(PROVIDER_ID)"

# The main job with no cloud account: localcloud plus pulumi up --stack local (see README).
local-up: ## the local stack against localcloud, no cloud account: pulumi up and the login links
	bash scripts/local_up.sh

# One operator's credentials file, as the CAM console hands it over: make handover STACK=dev
# OPERATOR=im-dev-alice [PLAINTEXT=1] [FORCE=1]. STACK=local goes through localcloud.
handover: ## STACK=dev OPERATOR=name [PLAINTEXT=1]: write one operator's credentials file (mode 600)
	@$(LOCAL_ROUTE) $(PYTHON) -m commands.handover --stack "$(STACK)" --operator "$(OPERATOR)" $(if $(PLAINTEXT),--plaintext) $(if $(FORCE),--force)

# Who really holds IM access, against what the stacks declare: make audit STACK=dev [FORMAT=json].
# Without STACK, every cloud stack; STACK=local goes through localcloud. make turns the audit's
# exit code 1 (drift) into 2: scripts and CI run `.venv/bin/python -m commands.audit` directly.
FORMAT ?= table
audit: ## [STACK=dev|local] [FORMAT=json]: who really holds IM access, against the stacks
	@$(LOCAL_ROUTE) $(PYTHON) -m commands.audit $(if $(STACK),--stack $(STACK)) --format $(FORMAT)

# Bring what the account already holds under code: every IM holding the audit reports as unmanaged
# becomes an entry of Pulumi.<stack>.yaml that imports it (the next preview shows `import` only):
# make adopt STACK=dev [AS=operator|grant] (default grant); STACK=local goes through localcloud.
# AS is one of make's own variables (the assembler, `as`): only a value given to make counts.
ADOPT_AS := $(if $(filter command line environment,$(origin AS)),$(AS),grant)
adopt: ## STACK=dev [AS=operator|grant]: propose stack entries that import the unmanaged IM holdings
	@$(LOCAL_ROUTE) $(PYTHON) -m commands.adopt --stack "$(STACK)" --as "$(ADOPT_AS)"

# Access review evidence: reports/access-review-<date>.html and .csv, one row per holding of IM
# access with its declaration, last change and pull request, approver, expiry and last use.
# make review [STACK=dev]; STACK=local goes through localcloud. UNUSED_DAYS (default 90).
UNUSED_DAYS ?= 90
review: ## [STACK=dev|local] [UNUSED_DAYS=90]: the access review report (HTML and CSV)
	@$(LOCAL_ROUTE) $(PYTHON) -m commands.review $(if $(STACK),--stack $(STACK)) --unused-days $(UNUSED_DAYS)
