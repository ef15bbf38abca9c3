# Two commands on a fresh machine:  make demo   and   make test
# Both create .venv with Python 3.10 and install the package with all extras on first use.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO_ARGS ?= --epochs 2
PYTEST_ARGS ?=
TUTORIALS ?=

.PHONY: setup demo test tutorials clean-venv
setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then \
	    py="$$(scripts/find_python310.sh)" || exit 1; \
	    echo "creating $(VENV) with $$py"; \
	    "$$py" -m venv $(VENV) || { echo "error: '$$py -m venv' failed (Debian: apt install python3.10-venv)"; exit 1; }; \
	fi
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e '.[dl,dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# on-chip learning: the replay rule in fixed point, per sample, in the engine; then Lava == engine
demo: $(STAMP)
	$(PY) -m lava_ssnnbp.demo $(DEMO_ARGS) --overwrite

# the notebooks with their outputs: built from tutorials/src and executed (make tutorials TUTORIALS=07
# for one); 07 trains on full MNIST ($$SSNNBP_DATA, see ssnnbp info)
tutorials: $(STAMP)
	$(PY) tutorials/_build.py --execute $(TUTORIALS)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
