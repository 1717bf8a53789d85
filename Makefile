# servicechain — two commands on a fresh machine: `make report` and `make test`.
# Everything installs into .venv from requirements.lock (exact pins).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := data/demo
JOBS   ?= 2

.PHONY: setup data report test lab bench clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name servicechain --display-name "servicechain (.venv)" >/dev/null
	@touch $(STAMP)

# The demo organisation with known truth (data/demo/truth.json); only generated when missing.
$(DEMO)/truth.json: | $(STAMP)
	$(BIN)/servicechain demo-data --out $(DEMO)

data: $(DEMO)/truth.json

report: $(STAMP) $(DEMO)/truth.json
	$(BIN)/servicechain run --data $(DEMO) --quarter latest --out reports --jobs $(JOBS) --force

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadgroup

# JupyterLab from the project root on the project kernel; saving a suite notebook strips its outputs and keeps
# its parameters (jupyter_server_config.py). Your own notebooks go in scratch/ (git-ignored, never run by
# `servicechain run`). Extra options: make lab LAB_ARGS="--no-browser --allow-root --port 8899"
LAB_ARGS ?=
lab: $(STAMP) $(DEMO)/truth.json
	@mkdir -p scratch
	$(BIN)/jupyter lab --config=jupyter_server_config.py $(LAB_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmark.py --sizes 3000 100000 1000000 --out BENCHMARKS.md

clean:
	rm -rf $(VENV) reports/20* $(DEMO)
