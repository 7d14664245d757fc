# The two set-up commands of the README are `make run` and `make test`; the rest are the
# targets people reach for day to day.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# `make test` and `make bench` talk to real services (override on the command line).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jobmatch
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0
TEST_CACHE_URL ?= redis://127.0.0.1:6379/1
# The result backend lets the suite run a fanned-out round (a chord) on a real worker.
TEST_RESULT_URL ?= redis://127.0.0.1:6379/4
SERVICES_ENV := DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	REDIS_URL=$(TEST_CACHE_URL) CELERY_RESULT_BACKEND=$(TEST_RESULT_URL)

.PHONY: venv run test lint format worker seed bench services clean messages

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# The embedded default: SQLite file, Celery eager, demo data, http://127.0.0.1:8000
run: venv
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL $(PY) manage.py migrate --noinput -v0
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL $(PY) manage.py seed_demo --if-empty
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL $(PY) manage.py runserver 127.0.0.1:8000

services:
	bash .ci/ensure-services

# The whole suite against PostgreSQL and Redis.
test: venv services
	$(SERVICES_ENV) JOBMATCH_ENV=test $(PY) -m pytest

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

worker: venv
	$(PY) -m celery -A jobmatch worker --loglevel=INFO --concurrency=2

seed: venv
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo

# Benchmarks fill a scratch database (dropped and created anew) and write BENCHMARKS.md.
BENCH_DATABASE ?= jobmatch_bench
BENCH_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_DATABASE) \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/2 REDIS_URL=redis://127.0.0.1:6379/3 JOBMATCH_ENV=test

bench: venv services
	psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $(BENCH_DATABASE)" -c "CREATE DATABASE $(BENCH_DATABASE)"
	$(BENCH_ENV) $(PY) manage.py migrate --noinput -v0
	$(BENCH_ENV) $(PY) manage.py run_benchmarks --output BENCHMARKS.md
	redis-cli -n 2 flushdb >/dev/null  # tasks queued by the benchmarks, with no worker

# The Chinese catalogue of the project's own strings (locale/): update it from the code, then
# compile the .mo that is committed beside it (CI and servers need no gettext).
MESSAGES_IGNORE := --ignore=.venv --ignore=var --ignore=tests --ignore=seeds \
	--ignore=staticfiles --ignore=bench-out

messages: venv
	$(PY) manage.py makemessages -l zh_Hans $(MESSAGES_IGNORE) \
		--add-location=file --no-wrap --no-obsolete
	$(PY) manage.py compilemessages -l zh_Hans $(MESSAGES_IGNORE)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
