# SAFER — the commands a newcomer and CI use. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
PORT ?= 8000
# Production settings with dummy secrets, only to let `check --deploy` inspect them.
DEPLOY_CHECK_ENV := DJANGO_SETTINGS_MODULE=safer.settings.production \
	SECRET_KEY=deploy-check-dummy-secret-key-that-is-long-enough-to-pass-the-check-0123456789 \
	ALLOWED_HOSTS=safer.example.org DATABASE_URL=postgresql://safer@db.invalid:5432/safer \
	REDIS_URL=redis://redis.invalid:6379/0 SAFER_SITE_URL=https://safer.example.org

.PHONY: help install assets run test lint format bench e2e services-stop services-reset clean

help:
	@echo "make run    install, migrate, load demo data and serve on http://127.0.0.1:$(PORT) with a worker"
	@echo "make test   the whole test suite (embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL)"
	@echo "make lint   ruff, ruff format --check, mypy, makemigrations --check, check --deploy"
	@echo "make e2e    browser tests in headless Chromium (needs Debian's chromium package)"
	@echo "make bench  benchmarks; results in docs/performance.md"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

safer/static/build/safer.css: node_modules/.installed scripts/build-assets.mjs $(wildcard safer/static/scss/*.scss)
	npm run --silent build:css

assets: safer/static/build/safer.css

# Collected again only when a static source changed; a second `make run` skips it.
staticfiles/.collected: $(VENV)/.installed safer/static/build/safer.css $(shell find safer/static -type f -not -path 'safer/static/build/*' 2>/dev/null)
	$(PY) manage.py collectstatic --noinput --verbosity 0
	touch $@

install: $(VENV)/.installed assets

# devserver checks the database and broker first (one line if unreachable), migrates, loads the
# demo data, then runs the web server, a worker and beat until Ctrl-C.
run: install staticfiles/.collected
	PORT=$(PORT) $(PY) manage.py devserver --migrate --seed-demo

test: install staticfiles/.collected
	$(PY) -m pytest $(PYTEST_ARGS)

e2e: install
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m benchmarks.run

services-stop: $(VENV)/.installed
	$(PY) manage.py embedded stop

services-reset: $(VENV)/.installed
	$(PY) manage.py embedded reset

clean: services-stop
	rm -rf $(VENV) node_modules staticfiles safer/static/build
