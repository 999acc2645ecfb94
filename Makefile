# weir — the two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= demo

.PHONY: demo test lint editors install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# A real (non-editable) install, as a user gets it.
$(VENV)/.installed: $(BIN)/python pyproject.toml $(shell find daemon lsp project-template -type f -not -path '*/__pycache__/*' 2>/dev/null)
	$(BIN)/pip install --quiet ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	rm -rf $(DEMO)
	$(BIN)/weir init $(DEMO)
	cd $(DEMO) && ../$(BIN)/weir flow
	cd $(DEMO) && ../$(BIN)/weir build --all
	cd $(DEMO) && ../$(BIN)/weir status

test: install lint editors
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Real clients for the real tests: Debian's chromium for the Flow page (Playwright drives it; its
# own browser download cannot work offline) and Neovim, a second LSP client no one here wrote.
editors:
	@command -v chromium >/dev/null 2>&1 && command -v nvim >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium neovim >/dev/null)

# Types and lint are part of the tests: mypy over the package, ruff over package and tests.
lint: install
	$(BIN)/python -m ruff check daemon lsp tests tools bench
	$(BIN)/python -m mypy daemon/weir lsp/weir_lsp

bench: install
	$(BIN)/python bench/bench_build.py

clean:
	rm -rf $(VENV) $(DEMO) build dist *.egg-info
