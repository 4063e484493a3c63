# Two entry points that work on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
# Cached bytecode keeps the CLI's and the job supervisor's start-up fast.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo lab test install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# The CLI demo, then the demo notebook run top to bottom by a real kernel on two simulated GPUs;
# the executed notebook is kept in demo-run/ (open it with `make lab`).
demo: $(STAMP)
	$(BIN)/python -m jupyter_artifacts.demo
	JUPYTER_ARTIFACTS_GPUS=$${JUPYTER_ARTIFACTS_GPUS:-fake:2} $(BIN)/python notebooks/run_demo.py --keep demo-run

lab: $(STAMP)
	mkdir -p demo-run && cp -n notebooks/demo.ipynb demo-run/
	JUPYTER_ARTIFACTS_GPUS=$${JUPYTER_ARTIFACTS_GPUS:-fake:2} $(BIN)/jupyter lab --ServerApp.root_dir=demo-run demo.ipynb

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

# All eight benchmarks run; the target fails if any missed its target.
bench: $(STAMP)
	status=0; for b in store api jobs manifest shared torch_save ray files; do $(BIN)/python benchmarks/bench_$$b.py || status=1; done; exit $$status

clean:
	rm -rf $(VENV) build dist

# Debian's Chromium for the browser tests (tests/browser); Playwright never downloads a browser.
.PHONY: browser-deps
browser-deps:
	@test -x /usr/bin/chromium || command -v chromium >/dev/null 2>&1 || \
		{ if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }
