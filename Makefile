# Rapport: `make demo` runs the nightly job on demo data, `make test` runs the tests.
# Both create the virtualenv on first use; nothing else needs installing by hand.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export RAPPORT_WAREHOUSE ?= $(CURDIR)/warehouse/rapport.duckdb
export DAGSTER_HOME ?= $(CURDIR)/dagster_home
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml

.PHONY: install prepare demo test browser dev replay lint format lock clean
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e ".[dev]"
	touch $@

# dagster-dbt loads the dbt manifest; rebuild it whenever a model, macro or seed changes.
$(MANIFEST): $(VENV)/.installed $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt parse --profiles-dir . --quiet
	touch $@

prepare: $(MANIFEST)

demo: prepare
	$(BIN)/rapport demo

test: prepare browser
	$(BIN)/pytest

# The nightly report is tested in a real browser: Debian's chromium (a system package; as root,
# or with password-less sudo, it is installed here on first use).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "make: installing Debian's chromium for the report's browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium >/dev/null; } || { echo "make: the tests need chromium: sudo apt-get install chromium" >&2; exit 1; }; }

# Dagster UI on http://127.0.0.1:3000; `make dev PORT=3001` for another port, HOST=0.0.0.0 to
# listen on every interface (only make's arguments move it, not a PORT or HOST in the
# environment). Run `make replay` in another terminal for demo sources.
HOST := 127.0.0.1
PORT := 3000
dev: prepare
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -h $(HOST) -p $(PORT)

replay: install
	$(BIN)/rapport replay

lint: install
	$(BIN)/ruff check analytics ingestion orchestration tests benchmarks

format: install
	$(BIN)/ruff format analytics ingestion orchestration tests benchmarks

# Re-pin every package after changing pyproject.toml's ranges (needs a fresh venv).
lock:
	rm -rf /tmp/rapport-lock && $(PYTHON) -m venv /tmp/rapport-lock
	/tmp/rapport-lock/bin/pip install --quiet ".[dev]"
	/tmp/rapport-lock/bin/pip freeze --exclude-editable | grep -v '^rapport' > /tmp/rapport-constraints
	{ head -n 2 requirements/constraints.txt; cat /tmp/rapport-constraints; } > requirements/constraints.txt

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs
