# Practica. `make run` serves the app with its workers; `make test` runs every test.
# Without DATABASE_URL / REDIS_URL both start an embedded PostgreSQL and Redis.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup run test bench lint format system-deps vendor clean

$(STAMP): requirements/dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	touch $@

setup: $(STAMP)

run: setup
	$(BIN)/python -m practice.run

system-deps:
	bash scripts/system-deps.sh

test: setup system-deps
	DJANGO_ENV=test $(BIN)/python -m practice.embedded -- $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	DJANGO_ENV=test $(BIN)/python -m practice.embedded -- $(BIN)/python -m bench.run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the vendored front-end files from the npm registry (versions in package.json).
vendor:
	npm install --no-audit --no-fund
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/htmx.min.js
	cp node_modules/htmx.org/LICENSE static/vendor/htmx/LICENSE
	mkdir -p static/vendor/tom-select
	cp node_modules/tom-select/dist/js/tom-select.complete.min.js* static/vendor/tom-select/
	cp node_modules/tom-select/dist/css/tom-select.default.min.css* static/vendor/tom-select/
	cp node_modules/tom-select/LICENSE static/vendor/tom-select/LICENSE
	# axe-core runs only inside the browser tests, so it stays out of static/.
	cp node_modules/axe-core/axe.min.js tests/e2e/vendor/axe-core/axe.min.js
	cp node_modules/axe-core/LICENSE tests/e2e/vendor/axe-core/LICENSE
	cp node_modules/axe-core/LICENSE-3RD-PARTY.txt tests/e2e/vendor/axe-core/LICENSE-3RD-PARTY.txt

clean:
	rm -rf .run/staticfiles .run/test-artifacts .pytest_cache .mypy_cache
