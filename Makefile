# Two commands do everything on a fresh Debian 12 machine (as root):
#   make sandbox   set up, start two SSH targets, deploy the sample app to them
#   make test      set up, lint, unit tests, every Molecule scenario and integration test
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
VERSION ?= c0ffee1
VAULT_PASSWORD_FILE ?= tests/vault/test-only-password.txt

.PHONY: setup sandbox sandbox-down rollback status lint unit test test-faults test-faults-subset bench bench-quick bench-rollbacks deploy-lock

setup:
	bash tests/harness/setup.sh

sandbox: setup
	$(PY) tests/harness/targets.py up --session sandbox --targets 2
	$(PY) tests/harness/images.py push
	$(BIN)/ansible-playbook deploy.yml -i inventories/sandbox -e app_version=$(VERSION) \
	  --vault-password-file $(VAULT_PASSWORD_FILE)
	@for port in 8081 8082; do \
	  printf 'sandbox: http://127.0.0.1:%s/api/v1/health/ -> ' $$port; \
	  curl -fsS -H 'Host: localhost' http://127.0.0.1:$$port/api/v1/health/ || echo "no answer"; echo; \
	done

rollback: setup
	$(BIN)/ansible-playbook rollback.yml -i inventories/sandbox $(if $(TO),-e rollback_to=$(TO)) \
	  --vault-password-file $(VAULT_PASSWORD_FILE)

status: setup
	$(BIN)/ansible-playbook status.yml -i inventories/sandbox --vault-password-file $(VAULT_PASSWORD_FILE)

sandbox-down:
	$(PY) tests/harness/targets.py down --session sandbox

# Deploy benchmarks on the sandbox targets (bench/README.md): ours against the old
# pipeline and the floor; results in bench/results/latest.{json,md,png}.
# BENCH_ARGS=--keep leaves the targets up.
bench: setup
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: setup
	$(PY) -m bench.run --quick $(BENCH_ARGS)

# Issue 7's rollback figures: medians of 5 (bench/results/rollbacks.{json,md,png}).
bench-rollbacks: setup
	$(PY) -m bench.run --rollbacks $(BENCH_ARGS)

lint:
	$(BIN)/yamllint -s .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/ansible-lint
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/zizmor --offline .github/workflows

unit:
	$(PY) -m pytest tests/unit

# The deploy jobs' hash-pinned runtime (requirements/deploy-runtime.lock.txt) from
# requirements/deploy-runtime.in, with pip-tools in a throwaway venv, against PyPI.
# LOCK_ARGS=--upgrade: the newest versions the .in allows.
deploy-lock:
	bash requirements/lock-deploy-runtime.sh $(LOCK_ARGS)

test: setup lint
	PATH=$(abspath $(BIN)):$$PATH $(PY) -m pytest tests --durations=25

# Issue 14's fault-injection campaign (tests/faults/README.md): every case, the
# table in tests/faults/results.md; the subset: five representative cases (~8 min).
test-faults: setup
	SFS_FAULTS=full SFS_FAULTS_REPORT=tests/faults/results.md \
	  PATH=$(abspath $(BIN)):$$PATH $(PY) -m pytest tests/faults

test-faults-subset: setup
	SFS_FAULTS=subset PATH=$(abspath $(BIN)):$$PATH $(PY) -m pytest tests/faults
