# weir — the two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= demo

.PHONY: demo test lint editors r java install clean bench vscode-test vscode-package

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip

SOURCES := pyproject.toml constraints.txt $(shell find daemon lsp project-template -type f -not -path '*/__pycache__/*' 2>/dev/null)

# A real (non-editable) install, as a user gets it: weir alone for the demo, with the test
# tools (pytest, mypy, ruff, playwright, moto…) for the tests. constraints.txt pins the tested
# versions so every machine resolves the same, working set; -qq keeps pip to its errors.
$(VENV)/.installed-weir: $(BIN)/python $(SOURCES)
	$(BIN)/pip install -qq -c constraints.txt .
	touch $@

$(VENV)/.installed: $(BIN)/python $(SOURCES)
	$(BIN)/pip install -qq -c constraints.txt ".[test]"
	touch $@ $(VENV)/.installed-weir

install: $(VENV)/.installed

demo: $(VENV)/.installed-weir r
	rm -rf $(DEMO)
	$(BIN)/weir init $(DEMO)
	cd $(DEMO) && ../$(BIN)/weir flow
	cd $(DEMO) && ../$(BIN)/weir build --all
	cd $(DEMO) && ../$(BIN)/weir status

test: install lint editors r java vscode-test
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Real clients for the real tests: Debian's chromium for the Flow page (Playwright drives it; its
# own browser download cannot work offline) and Neovim, a second LSP client no one here wrote.
editors:
	@command -v chromium >/dev/null 2>&1 && command -v nvim >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium neovim >/dev/null)

# R, for R recipes (the example has one): Debian's r-base-core. weir needs no R package; a
# recipe may use Debian's r-cran-* ones (jsonlite and data.table here, for the tests).
r:
	@Rscript -e 'quit(status = !requireNamespace("data.table", quietly = TRUE))' >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-base-core r-cran-jsonlite r-cran-data.table >/dev/null)

# Java, for PySpark recipes (the weir[spark] extra the tests install; Spark 4 needs Java 17+).
java:
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null)

# Types and lint are part of the tests: mypy over the package, ruff over package and tests.
lint: install
	$(BIN)/python -m ruff check daemon lsp tests tools bench
	$(BIN)/python -m mypy daemon/weir lsp/weir_lsp

bench: install
	$(BIN)/python bench/bench_build.py

# The VS Code extension (vscode-extension/): type check and unit tests (vitest), then the
# packaged .vsix end to end in real VS Code (code-server) driven by chromium. npm packages come
# from the committed lockfile; Debian packages and code-server are installed once by
# e2e/setup.sh and cached under ~/.cache/weir-test/ (see docs/vscode.md, "Testing").
EXT := vscode-extension

$(EXT)/node_modules/.installed: $(EXT)/package.json $(EXT)/package-lock.json
	cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

vscode-package: $(EXT)/node_modules/.installed
	cd $(EXT) && npm run --silent package

vscode-test: install vscode-package
	cd $(EXT) && npm run --silent typecheck && npx vitest run
	cd $(EXT) && WEIR_PYTHON=$(abspath $(BIN)/python) node e2e/run.mjs

clean:
	rm -rf $(VENV) $(DEMO) build dist *.egg-info
	rm -rf $(EXT)/node_modules $(EXT)/dist $(EXT)/*.vsix $(EXT)/e2e/artifacts
