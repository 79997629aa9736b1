# One task runner for people and CI: `.ci/run` calls `make test` and `make lint`.
# uv is installed into the user's Python with pip when missing and always run as
# `python3 -m uv`, so a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
UV := $(PYTHON) -m uv
# Bytecode compiled at install: a venv without it costs every run ~0.5 s of CPU compiling
# (more where the environment forbids writing .pyc files next to the sources).
export UV_COMPILE_BYTECODE := 1

.PHONY: setup check test lint system-deps browser postgres redis bench fetch-history messages

setup:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --locked --quiet

check: setup
	@$(UV) run --locked monitor check

# Tests need Debian packages: Chromium (the status page test), PostgreSQL (the store tests
# run on it too), tmux (screens of the CLI in a real terminal) and Redis (the fleet's Celery
# broker). Install the missing ones when we can (root + apt), in one apt-get call after one
# index update; a no-op once there.
SYSTEM_PKGS = $(if $(shell command -v chromium),,chromium) \
	$(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) \
	$(if $(shell command -v tmux),,tmux) \
	$(if $(shell command -v redis-server),,redis-server)

system-deps:
	@[ -z "$(strip $(SYSTEM_PKGS))" ] || [ ! -x /usr/bin/apt-get ] || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq $(SYSTEM_PKGS) >/dev/null; }

browser postgres redis: system-deps

test: setup system-deps
	@$(UV) run --locked pytest

lint: setup
	@$(UV) run --locked ruff check .
	@$(UV) run --locked ruff format --check .
	@$(UV) run --locked mypy
	@$(UV) run --locked lint-imports --no-cache
	@$(UV) run --locked vulture monitor vulture_whitelist.py --min-confidence 60

# Translations (README "Languages"): extract the messages of monitor/ and templates/ into
# monitor/locale/monitor.pot, merge them into every language's .po (a new message arrives
# untranslated; tests/reports/test_locale.py fails until it is translated), fill English
# from the messages, and compile the .mo files, which are committed so that an install
# needs no build step. Settings: [tool.babel.*] in pyproject.toml. After a merge conflict in
# monitor/locale/, resolve the .po files (text), take either .mo and run `make messages`.
messages: setup
	@$(UV) run --locked --quiet pybabel -q extract
	@$(UV) run --locked --quiet pybabel -q update --ignore-pot-creation-date
	@$(UV) run --locked --quiet python scripts/english_catalog.py
	@$(UV) run --locked --quiet pybabel -q compile --statistics

bench: setup
	@$(UV) run --locked python bench/run.py

# The nightly keeps the history on the branch monitor-data (see README): bring it to
# db/monitor.sqlite to run `monitor fix`, `history` or `status` on a laptop. A local
# database is never replaced unless FORCE=1.
fetch-history:
	@if [ -e db/monitor.sqlite ] && [ "$(FORCE)" != 1 ]; then \
		echo "db/monitor.sqlite exists: not replacing it (make fetch-history FORCE=1 to do so)" >&2; \
		exit 1; fi
	@bash .github/scripts/data-branch.sh restore db/monitor.sqlite
