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

# `make run` serves as production does (gunicorn, DEBUG off); `make dev` is the developers' server.
PILOT_SETTINGS := DJANGO_SETTINGS_MODULE=safer.settings.pilot
SOAK_DURATION ?= 600
# make bench BENCH_SCALE=1000000 BENCH_SHAPE=national: the bench data multiplied to that many
# referrals in a database of its own (benchmarks/data/scale.py); empty: the county build (3,000).
BENCH_SCALE ?=
BENCH_SHAPE ?= county
BENCH_ARGS = $(if $(BENCH_SCALE),--scale $(BENCH_SCALE) --shape $(BENCH_SHAPE))

.PHONY: help install assets run dev test lint format bench soak e2e backup restore services-stop services-reset clean

help:
	@echo "make run    install, migrate, load demo data and serve on http://127.0.0.1:$(PORT) as production"
	@echo "            does (gunicorn, DEBUG off) with a worker and beat: to try or pilot SAFER"
	@echo "make dev    the same with Django's autoreloading development server (DEBUG on)"
	@echo "make test   the whole test suite (embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL)"
	@echo "make lint   ruff, ruff format --check, mypy, makemigrations --check, check --deploy"
	@echo "make e2e    browser tests in headless Chromium (needs Debian's chromium package)"
	@echo "make bench  benchmarks, then the soak (make soak); results in docs/performance.md"
	@echo "            BENCH_SCALE=1000000 BENCH_SHAPE=county|national: at a million referrals"
	@echo "make soak   20 signed-in demo users against the make run stack for SOAK_DURATION seconds"
	@echo "make backup   the database and private files into one archive in var/backups (BACKUP_DIR=)"
	@echo "make restore  ARCHIVE=… into an empty database (RESTORE_ARGS=--force / --database-url …)"

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

# Collected again only when a static source changed; a second `make run` skips it. Collected with
# the hashed storage `make run` serves (staticfiles/staticfiles.json is its manifest).
staticfiles/.collected-hashed: $(VENV)/.installed safer/static/build/safer.css $(shell find safer/static -type f -not -path 'safer/static/build/*' 2>/dev/null)
	$(PILOT_SETTINGS) $(PY) manage.py collectstatic --noinput --verbosity 0
	touch $@

install: $(VENV)/.installed assets

# serve (gunicorn) and devserver (runserver) check the database and broker first (one line if
# unreachable), migrate, load the demo data, then run the web server, a worker and beat until
# Ctrl-C, which stops them all and the embedded PostgreSQL and Redis.
run: install staticfiles/.collected-hashed
	PORT=$(PORT) $(PILOT_SETTINGS) $(PY) manage.py serve --migrate --seed-demo

dev: install
	PORT=$(PORT) $(PY) manage.py devserver --migrate --seed-demo

test: install staticfiles/.collected-hashed
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

bench: install staticfiles/.collected-hashed
	$(PY) -m benchmarks.run $(BENCH_ARGS)
	$(PY) -m benchmarks.submissions $(BENCH_ARGS)
	$(PY) -m benchmarks.soak --duration $(SOAK_DURATION)
	$(PY) -m benchmarks.http_load $(if $(BENCH_SCALE),--database test_safer_bench_$(BENCH_SCALE)_$(BENCH_SHAPE) --in-place)

soak: install staticfiles/.collected-hashed
	$(PY) -m benchmarks.soak --duration $(SOAK_DURATION)

# One archive (database dump, private files, manifest with counts and SHA-256), mode 0600.
BACKUP_DIR ?= var/backups
backup: $(VENV)/.installed
	$(PY) manage.py backup --output $(BACKUP_DIR)

# Refuses a database that already has tables unless RESTORE_ARGS=--force; checks the counts.
restore: $(VENV)/.installed
	@test -n "$(ARCHIVE)" || { echo "usage: make restore ARCHIVE=var/backups/safer-backup-….tar"; exit 2; }
	$(PY) manage.py restore "$(ARCHIVE)" $(RESTORE_ARGS)

services-stop: $(VENV)/.installed
	$(PY) manage.py embedded stop

services-reset: $(VENV)/.installed
	$(PY) manage.py embedded reset

clean: services-stop
	rm -rf $(VENV) node_modules staticfiles safer/static/build
