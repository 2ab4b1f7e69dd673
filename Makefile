# Two entry points: `make demo` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

demo: $(STAMP)
	$(PY) -m nn

test: $(STAMP)
	$(PY) -m pytest --nbmake --nbmake-kernel=python3 tests notebooks

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

clean:
	rm -rf $(VENV) build dist .pytest_cache
