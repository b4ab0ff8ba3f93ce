# The two commands of the README: `make run` and `make test`.  Everything else is a step of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app portal
HOST   ?= 127.0.0.1
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: run test setup install translations extract-messages update-messages lint bench clean

# The site and the job worker (mail, search index updates, reminders) side by side; Ctrl-C
# stops both.
run: setup
	$(FLASK) jobs work & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Idempotent: migrate, load content, build the search index if it is missing.
setup: install translations
	$(FLASK) setup
	$(FLASK) jobs work --burst --no-schedule

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

translations: install
	$(BIN)/pybabel compile --statistics -d translations 2>&1 | grep -v '^compiling' || true
	@test -f translations/zh/LC_MESSAGES/messages.mo

# For developers: gather new strings into the catalogs, then translate them in the .po files.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _n:1,2 --no-location --sort-output \
		-o translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching \
		--ignore-obsolete

lint: install
	$(BIN)/ruff check .

bench: install translations
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
