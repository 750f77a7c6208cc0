# The README's two commands: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PY ?= python3
UV := $(PY) -m uv
BIN := .venv/bin
export UV_PYTHON_DOWNLOADS := never
export NCP_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Every import package of the workspace, for mypy --strict.
PACKAGES := $(sort $(notdir $(wildcard packages/*/src/* services/*/src/*)))

.PHONY: setup system-deps run test lint typecheck pytest bench load dashboard fmt images test-containers

setup:
	@$(PY) -m uv --version >/dev/null 2>&1 || $(PY) -m pip install -q "uv==0.13.8"
	@$(UV) sync --frozen --all-packages --quiet

system-deps:
	@bash scripts/ensure-system-deps.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy $(addprefix -p ,$(PACKAGES))

pytest: setup system-deps
	$(BIN)/pytest

# All three run even when one fails, so one CI log shows every problem.
test: setup
	@rc=0; $(MAKE) --no-print-directory lint || rc=1; $(MAKE) --no-print-directory typecheck || rc=1; \
	  $(MAKE) --no-print-directory pytest || rc=1; exit $$rc

run: setup
	@bash scripts/ensure-system-deps.sh runtime
	@bash deploy/dev/run.sh

# Benchmarks are commands, not tests: every benchmark, then one table of ratios to floors measured in the same
# run (docs/performance.md). Non-zero when any request fails. BENCH_ARGS="--only elmo signer" or "--full".
bench: setup system-deps
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

# The load test alone (make bench runs it too): locust, 200 students, one then two gateways, on PostgreSQL.
load: setup
	$(BIN)/python scripts/bench.py --only load

# docs/dashboard.png: the Grafana dashboard's own queries against a real Prometheus after a few hundred flows
# (deploy/README.md, "Dashboard"). Not part of `make test`.
dashboard: setup
	@bash scripts/ensure-system-deps.sh dashboard
	$(BIN)/python scripts/dashboard-snapshot.py $(DASHBOARD_ARGS)

fmt: setup
	$(BIN)/ruff check --fix . ; $(BIN)/ruff format .

# Every image docker-compose.yml names, with docker or podman (ENGINE=...). PYTHON_IMAGE=... picks the base;
# BASE=debian builds it first from Debian packages (deploy/docker/base-from-debian.sh), for air-gapped builders.
images: setup
	@PY=$(BIN)/python bash scripts/build-images.sh

# The images from Debian packages alone, the compose stack in its own network namespace, one import through
# the demo client with its signature checked, then each container restarted in turn (root, podman).
test-containers: setup
	@bash scripts/test-containers.sh
