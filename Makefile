# make demo: set up .venv (if missing) and run the main job.
# make test: set up .venv (if missing) and run the whole test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,examples,bench]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m jaxact demo --out demo-output

test: $(STAMP)
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(PY) benchmarks/activations.py
	$(PY) benchmarks/training_step.py
	$(PY) benchmarks/monitor_overhead.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis demo-output
