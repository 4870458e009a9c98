# The same targets run on a laptop and in CI. Every engine run uses the project's own Pulumi
# (.engine/, installed by `make setup`), never the user's ~/.pulumi.
.PHONY: setup lock test lint bench preview preview-localcloud preview-report up destroy stack-init local-up audit adopt review ci-credentials
PYTHON := .venv/bin/python

setup:
	bash scripts/setup.sh

# Re-pins requirements.txt and requirements-dev.txt (exact versions, sha256 hashes) from the .in
# files, keeping the current pins where they still fit. Review the diff like code.
lock:
	.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links --output-file requirements.txt requirements.in
	.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links --output-file requirements-dev.txt requirements-dev.in

# The suite on several workers: the end-to-end tests mostly wait on the engine and the provider,
# so more workers than cores pay off. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 4
test:
	$(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint:
	.venv/bin/ruff check .
	.venv/bin/mypy

bench:
	$(PYTHON) -m benchmarks.policy_pack_analyze
	$(PYTHON) -m benchmarks.program_build
	$(PYTHON) -m benchmarks.localcloud_requests
	$(PYTHON) -m benchmarks.local_stack_up
	$(PYTHON) -m benchmarks.audit_requests
	$(PYTHON) -m benchmarks.preflight_identity
	$(PYTHON) -m benchmarks.adopt_requests --short

# Preview or deploy one stack with this checkout's guardrails, e.g. make preview STACK=dev.
# PROJECT=DIR runs another checkout's program and stack files (a pull request's) instead.
PROJECT ?= .
preview up destroy:
	$(PYTHON) -m commands.stack $@ $(STACK) --project $(PROJECT)

# Create a cloud stack in the configured backend (PULUMI_BACKEND_URL), once, before its first
# preview: make stack-init STACK=dev. The reviewed stack file is left byte for byte as it was.
stack-init:
	$(PYTHON) -m commands.stack init $(STACK) --project $(PROJECT)

# Preview one stack against localcloud instead of the cloud: for runs without cloud secrets.
preview-localcloud:
	bash scripts/with_localcloud.sh $(PYTHON) -m commands.stack preview $(STACK) --project $(PROJECT) --against-localcloud

# Rebuild a pull request's preview reports and comment from its event logs, never running its code:
# make preview-report EVENTS=DIR PROJECT=DIR OUT=DIR [AGAINST_LOCALCLOUD=1] (see SECURITY.md).
preview-report:
	$(PYTHON) -m commands.preview_report --events "$(EVENTS)" --project "$(PROJECT)" --out "$(OUT)" $(if $(AGAINST_LOCALCLOUD),--against-localcloud)

# In a GitHub Actions job with `id-token: write`: a CAM role's temporary credentials from the job's
# OIDC token, set for the job's later steps (no long-lived key; see SECURITY.md):
# make ci-credentials ROLE_ARN=qcs::cam::uin/<uin>:roleName/<role> PROVIDER_ID=<OIDC provider name>
ci-credentials:
	$(PYTHON) -m commands.ci_credentials --role-arn "$(ROLE_ARN)" --provider-id "$(PROVIDER_ID)"

# The main job with no cloud account: localcloud plus pulumi up --stack local (see README).
local-up:
	bash scripts/local_up.sh

# Who really holds IM access, against what the stacks declare: make audit STACK=dev [FORMAT=json].
# Without STACK, every cloud stack; STACK=local goes through localcloud. make turns the audit's
# exit code 1 (drift) into 2: scripts and CI run `.venv/bin/python -m commands.audit` directly.
FORMAT ?= table
audit:
	@$(if $(filter local,$(STACK)),bash scripts/with_localcloud.sh) $(PYTHON) -m commands.audit $(if $(STACK),--stack $(STACK)) --format $(FORMAT)

# Bring what the account already holds under code: every IM holding the audit reports as unmanaged
# becomes an entry of Pulumi.<stack>.yaml that imports it (the next preview shows `import` only):
# make adopt STACK=dev [AS=operator|grant] (default grant); STACK=local goes through localcloud.
# AS is one of make's own variables (the assembler, `as`): only a value given to make counts.
ADOPT_AS := $(if $(filter command line environment,$(origin AS)),$(AS),grant)
adopt:
	@$(if $(filter local,$(STACK)),bash scripts/with_localcloud.sh) $(PYTHON) -m commands.adopt --stack "$(STACK)" --as "$(ADOPT_AS)"

# Access review evidence: reports/access-review-<date>.html and .csv, one row per holding of IM
# access with its declaration, last change and pull request, approver, expiry and last use.
# make review [STACK=dev]; STACK=local goes through localcloud. UNUSED_DAYS (default 90).
UNUSED_DAYS ?= 90
review:
	@$(if $(filter local,$(STACK)),bash scripts/with_localcloud.sh) $(PYTHON) -m commands.review $(if $(STACK),--stack $(STACK)) --unused-days $(UNUSED_DAYS)
