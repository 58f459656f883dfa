# mdtcare developer tasks. Needs only python3.11, pip and GNU make.
# `make help` lists the targets.

PYTHON ?= python3
VENV = .venv
BIN = $(VENV)/bin
# Touched after a successful install; the venv is re-installed only when a
# requirements file is newer than this stamp.
STAMP = $(VENV)/.installed
# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-k audit -x"
PYTEST_ARGS ?=
COMPOSE ?= docker-compose

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint format migrate clean compose-check bench

help: ## List the targets
	@echo "Usage: make TARGET [PYTHON=python3.11] [PYTEST_ARGS=...]"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

venv: $(STAMP) ## Create .venv and install requirements-dev.txt (only when they changed)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		echo "warning: $(PYTHON) is not Python 3.11, which mdtcare targets; try make PYTHON=python3.11" >&2
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv --clear $(VENV); }
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	@touch $@

demo: venv ## Run the demo on http://127.0.0.1:8000 with a worker and beat (Ctrl-C stops all)
	bash scripts/demo.sh

test: venv ## Run the tests (pass pytest options in PYTEST_ARGS)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv ## Check code style with ruff (no changes made)
	@status=0; \
	echo "$(BIN)/ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "$(BIN)/ruff format --check ."; $(BIN)/ruff format --check . || status=1; \
	exit $$status

format: venv ## Sort imports and format the code with ruff
	$(BIN)/ruff check --select I --fix .
	$(BIN)/ruff format .

migrate: venv ## Apply database migrations (settings come from the environment and .env)
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput

# Not part of CI. Needs PostgreSQL (DATABASE_URL names the server; the ceiling
# database is made on it when missing). BENCH_ARGS: e.g. --quick, --network calder.
BENCH_ARGS ?=
bench: venv ## Run the benchmarks at the design ceiling on PostgreSQL (up to 30 min; BENCH_ARGS=--quick)
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
		$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean: ## Delete var/ (demo database, logs, mail) and .venv, without asking
	rm -rf var $(VENV) .pytest_cache .ruff_cache

# docker-compose needs the env_file to exist: without a .env, check against
# .env.example instead (MDTCARE_ENV_FILE is read by docker-compose.yml), with
# a stand-in for the password it leaves blank.
compose-check: ## Validate docker-compose.yml (docker-compose config -q)
	@if [ -f .env ]; then \
		$(COMPOSE) -f docker-compose.yml config -q; \
	else \
		MDTCARE_ENV_FILE=.env.example POSTGRES_PASSWORD=compose-check $(COMPOSE) --env-file .env.example -f docker-compose.yml config -q; \
	fi
	@echo "docker-compose.yml is valid"
