# Two set-up commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv (if absent) and installs the pinned dependencies into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VIDEO ?=
SPEED ?= 1

.PHONY: demo test lint typecheck pytest bench clean venv system-deps

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (found %s)" % sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
ifeq ($(VIDEO),)
	$(BIN)/exhibit demo --speed $(SPEED)
else
	$(BIN)/exhibit demo --video "$(VIDEO)"
endif

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy exhibit firmware_bridge calibration tests

# Programs the tests use as real peers (MQTT broker, browser); see tools/system-deps.sh.
system-deps:
	@tools/system-deps.sh

pytest: $(STAMP) system-deps
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/exhibit bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
