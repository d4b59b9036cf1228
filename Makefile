# Nameport: the two commands of the README, and a few helpers.
#   make run    set up and start the portal on the embedded default (SQLite, Redis on a socket)
#   make test   set up and run the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000
NAMEPORT_VAR_DIR ?= $(CURDIR)/var
# Two pytest-xdist workers, a test file each at a time (one browser per module stays one).
PYTEST_ARGS ?= -n 2 --dist loadfile
# The web server speaks plain HTTP on loopback: Secure-only cookies would never come back.
SECURE_COOKIES ?= 0
ALLOWED_HOSTS ?= $(HOST),localhost,127.0.0.1
SITE_URL ?= http://$(HOST):$(PORT)
# Staff TOTP is on by default; the demo turns it off so that its staff login works at once.
NAMEPORT_STAFF_OTP_REQUIRED ?= 0
# The demo customer is live: let the test payment gateway take its invoices (never in production).
NAMEPORT_TEST_GATEWAY_LIVE ?= 1
export NAMEPORT_VAR_DIR

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# A persistent secret key, generated once into the var directory, unless SECRET_KEY or
# SECRET_KEY_FILE is already given. Exported to the targets that run Django (not to the tests).
ifeq ($(strip $(SECRET_KEY)$(SECRET_KEY_FILE)),)
GENERATED_KEY_FILE := $(NAMEPORT_VAR_DIR)/secret_key
run migrate seed secret-key: export SECRET_KEY_FILE := $(GENERATED_KEY_FILE)
endif

# uv from PATH or ~/.local/bin; when missing, it is installed with pip on first use.
FIND_UV := command -v uv 2>/dev/null || { [ -x "$$HOME/.local/bin/uv" ] && echo "$$HOME/.local/bin/uv"; } || true

.PHONY: help run test lint migrate seed sync secret-key chromium

help:
	@echo "make run     install, migrate, load demo data and start Redis, web, worker and beat on http://$(HOST):$(PORT)/"
	@echo "make test    install and run the whole test suite (PYTEST_ARGS=... to pass arguments)"
	@echo "make lint    ruff check, ruff format --check, lint-imports (the layers), makemigrations --check"
	@echo "make migrate / make seed   apply migrations / load the demo data"

# --- set-up --------------------------------------------------------------------------------
sync:
	@uv="$$($(FIND_UV))"; \
	if [ -z "$$uv" ]; then \
	  echo "==> uv is not installed: installing it with pip (user install)"; \
	  if ! python3 -m pip --version >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip >/dev/null || \
	      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip >/dev/null; }; \
	  fi; \
	  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --user --quiet uv \
	    || PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet uv; \
	  uv="$$($(FIND_UV))"; \
	  [ -n "$$uv" ] || { echo "uv could not be installed; see https://docs.astral.sh/uv/" >&2; exit 1; }; \
	fi; \
	echo "==> $$uv sync --frozen"; \
	"$$uv" sync --frozen --quiet

secret-key:
	@mkdir -p "$(NAMEPORT_VAR_DIR)"
	@key="$(GENERATED_KEY_FILE)"; \
	if [ -n "$$key" ] && [ ! -s "$$key" ]; then \
	  echo "==> generating a secret key in $$key"; \
	  (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(50))' > "$$key"); \
	fi

migrate: sync secret-key
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed_demo

# --- make run ------------------------------------------------------------------------------
run: export SECURE_COOKIES := $(SECURE_COOKIES)
run: export ALLOWED_HOSTS := $(ALLOWED_HOSTS)
run: export SITE_URL := $(SITE_URL)
run: export HOST := $(HOST)
run: export PORT := $(PORT)
run: export NAMEPORT_STAFF_OTP_REQUIRED := $(NAMEPORT_STAFF_OTP_REQUIRED)
run: export NAMEPORT_TEST_GATEWAY_LIVE := $(NAMEPORT_TEST_GATEWAY_LIVE)
run: migrate
	@logins="$$($(MANAGE) seed_demo)"; \
	$(MANAGE) collectstatic --noinput -v0; \
	echo; \
	echo "=================================================================="; \
	echo " Nameport is starting on $(SITE_URL)/"; \
	echo " Admin site: $(SITE_URL)/admin/   API docs: $(SITE_URL)/api/docs/"; \
	echo "$$logins" | sed 's/^/ /'; \
	if [ "$(NAMEPORT_STAFF_OTP_REQUIRED)" = 0 ]; then \
	  echo " Staff TOTP is OFF in this demo (NAMEPORT_STAFF_OTP_REQUIRED=0; on by default)."; \
	fi; \
	if [ -z "$${CELERY_BROKER_URL:-}" ]; then \
	  echo " Broker: Redis on the unix socket $(NAMEPORT_VAR_DIR)/redis.sock (no TCP port)."; \
	fi; \
	echo " Supervised (portal/supervise.py): a process that dies is started again."; \
	echo " Stop with Ctrl-C."; \
	echo "=================================================================="; \
	echo; \
	exec $(PY) -m portal.supervise

# --- make test -----------------------------------------------------------------------------
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "==> installing Chromium for the browser tests (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium >/dev/null || \
	      { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	  else \
	    echo "==> /usr/bin/chromium is missing and we are not root: browser tests will be skipped"; \
	  fi; \
	fi

test: sync chromium
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: sync
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
