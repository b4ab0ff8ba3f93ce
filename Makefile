# The two commands of the README: `make run` and `make test`.  Everything else is a step of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app portal
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test setup install install-test translations extract-messages update-messages lock \
	lint bench clean

# The site and the job worker (mail, search index updates, reminders) side by side; Ctrl-C
# stops both.
run: setup
	$(FLASK) jobs work & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-test translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Idempotent: migrate, load content, build the search index if it is missing, run the jobs
# that are due.
setup: install translations
	$(FLASK) setup

# Dependencies come from the lock files in requirements/ (exact versions with hashes, made by
# `make lock`): runtime.txt for the site, test.txt adds the test tools.  uv installs them (a
# pinned uv, itself installed into the virtualenv by pip); the project itself is installed
# editable, without dependencies.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
UV_PIP := $(UV) pip install --quiet --compile-bytecode --python $(BIN)/python

install: $(VENV)/.runtime
install-test: $(VENV)/.test

# The virtualenv without pip of its own (creating one with pip takes seconds): the system's
# pip puts uv into it, and uv does the rest.
$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check \
		uv==$(UV_VERSION) 2>&1 | grep -v "^WARNING: Location" || true
	@test -x $(UV)

# From uv's cache first (no index requests: the lock already says what to install), from
# the index when something is not cached yet.
$(VENV)/.runtime: requirements/runtime.txt pyproject.toml | $(UV)
	$(UV_PIP) --offline --require-hashes -r requirements/runtime.txt 2>/dev/null \
		|| $(UV_PIP) --require-hashes -r requirements/runtime.txt
	$(UV_PIP) --offline --no-deps -e . 2>/dev/null || $(UV_PIP) --no-deps -e .
	touch $@

$(VENV)/.test: requirements/test.txt $(VENV)/.runtime
	$(UV_PIP) --offline --require-hashes -r requirements/test.txt 2>/dev/null \
		|| $(UV_PIP) --require-hashes -r requirements/test.txt
	touch $@

# Refresh the lock files after changing the dependencies in pyproject.toml (the test lock is
# kept to the runtime lock's versions).
lock: | $(UV)
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 --upgrade \
		-o requirements/runtime.txt pyproject.toml
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 --extra test \
		-c requirements/runtime.txt -o requirements/test.txt pyproject.toml

# Compiled only when a catalog changed.
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
translations: $(COMPILED)

$(COMPILED) &: $(CATALOGS) | $(VENV)/.runtime
	$(BIN)/pybabel -q compile -d translations

# For developers: gather new strings into the catalogs, then translate them in the .po files.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _n:1,2 --no-location --sort-output \
		-o translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching \
		--ignore-obsolete

lint: install-test
	$(BIN)/ruff check .

bench: install-test translations
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
