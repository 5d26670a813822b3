# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := var/.demo-loaded

.PHONY: run test install lint format check serve worker beat demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

HOST ?= 127.0.0.1
PORT ?= 8000

## run: serve http://$(HOST):$(PORT)/ with a Celery worker and beat beside it (Ctrl-C stops
## all); the port is checked before installing, then install, migrate, load the demo once.
run:
	@$(PYTHON) digest/core/ports.py --host $(HOST) --port $(PORT)
	@echo "make run: will serve http://$(HOST):$(PORT)/ with a worker and beat once installed and migrated."
	@$(MAKE) --no-print-directory install
	$(BIN)/python manage.py migrate --no-input
	@mkdir -p var
	@if [ ! -f $(DEMO_STAMP) ]; then \
		SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(BIN)/python manage.py demo && touch $(DEMO_STAMP); \
	else \
		echo "Demo already loaded (make demo reloads it and prints the login again)."; \
	fi
	$(BIN)/python manage.py run --host $(HOST) --port $(PORT)

## test: install what the tests need, then run them
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(STAMP)
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layers.py

worker: $(STAMP)
	$(BIN)/celery -A digest worker --pool=prefork --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A digest beat --loglevel=INFO

demo: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo

clean:
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles test-artifacts
