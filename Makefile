# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    - create .venv if missing, install, start the app on the bundled sample
#   make test   - create .venv if missing, install tests/requirements.txt, run the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: run test lint bench samples clean

$(VENV)/.installed-run: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-run tests/requirements.txt
	$(PY) -m pip install -q -r tests/requirements.txt
	touch $@

run: $(VENV)/.installed-run
	$(PY) -m streamlit run app.py --server.port $(PORT)

# Lenient lint (syntax errors and pyflakes only); flags here, no config file. Lists only folders that exist.
RUFF := $(PY) -m ruff check --isolated --no-cache --select E9,F --line-length 200 $(wildcard core ui pages tests app.py sample_data)

test: $(VENV)/.installed-dev
	$(RUFF)
	$(PY) -m pytest -p no:cacheprovider -n 2 --dist loadfile tests

lint: $(VENV)/.installed-dev
	$(RUFF)

bench: $(VENV)/.installed-dev
	$(PY) -m pytest -p no:cacheprovider -m benchmark -s tests/benchmarks

samples: $(VENV)/.installed-run
	$(PY) sample_data/generate.py

clean:
	rm -rf $(VENV) test-artifacts
