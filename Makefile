# One task runner for people and CI: `.ci/run` calls `make test` and `make lint`.
# uv is installed into the user's Python with pip when missing and always run as
# `python3 -m uv`, so a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
UV := $(PYTHON) -m uv

.PHONY: setup check test lint browser bench

setup:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --locked --quiet

check: setup
	@$(UV) run --locked monitor check

# The status page test drives Debian's Chromium; install it when we can (root + apt).
browser:
	@command -v chromium >/dev/null 2>&1 || [ ! -x /usr/bin/apt-get ] || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: setup browser
	@$(UV) run --locked pytest

lint: setup
	@$(UV) run --locked ruff check .
	@$(UV) run --locked ruff format --check .
	@$(UV) run --locked mypy

bench: setup
	@$(UV) run --locked python bench/run.py
