# Two commands on a fresh machine:  make demo   and   make test
# Both create .venv with Python 3.10 on first use. 'make demo' installs the package alone (Lava,
# numpy, numba...: what the demo imports); 'make test' adds the extras the tests need (lava-dl with
# torch for the netx export, nir, pytest, nbclient), several GB more. Each kind of install has its
# stamp, named by pyproject.toml's checksum: demo then test installs the extras once; test then
# demo installs nothing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYPROJECT_SUM := $(shell cksum < pyproject.toml | cut -d' ' -f1)
BASE_STAMP := $(VENV)/.installed-base-$(PYPROJECT_SUM)
FULL_STAMP := $(VENV)/.installed-full-$(PYPROJECT_SUM)
DEMO_ARGS ?= --epochs 2
PYTEST_ARGS ?=
TUTORIALS ?=
# free disk the full install needs (GB); the install peaked near 8 GB here
NEED_GB ?= 8

.PHONY: setup setup-demo demo test tutorials clean-venv
setup: $(FULL_STAMP)
setup-demo: $(BASE_STAMP)

define make_venv
	@if [ ! -x $(PY) ]; then \
	    py="$$(scripts/find_python310.sh)" || exit 1; \
	    echo "creating $(VENV) with $$py"; \
	    "$$py" -m venv $(VENV) || { echo "error: '$$py -m venv' failed (Debian: apt install python3.10-venv)"; exit 1; }; \
	    $(PY) -m pip install --upgrade --quiet pip || exit 1; \
	fi
endef

# the package alone; nothing to do where the full install of this pyproject.toml is there
$(BASE_STAMP): pyproject.toml
	$(make_venv)
	@if [ -e $(FULL_STAMP) ]; then touch $@; else \
	    echo "installing lava-ssnnbp into $(VENV) (what 'make demo' needs; 'make test' adds the test extras)"; \
	    rm -f $(VENV)/.installed-* && $(PY) -m pip install --quiet -e . && touch $@; fi

# everything: the package with its extras (dl: lava-dl and torch, nir; dev: pytest, notebooks)
$(FULL_STAMP): pyproject.toml
	$(make_venv)
	@free_gb=$$(df -Pk $(VENV) | awk 'NR==2 {print int($$4 / 1048576)}'); \
	if [ "$(NEED_GB)" -gt 0 ] && [ "$$free_gb" -lt "$(NEED_GB)" ]; then \
	    echo "error: the full install needs about $(NEED_GB) GB free (torch with its CUDA libraries: 5.9 GB in $(VENV), and pip's downloads), $$free_gb GB free where $(VENV) is; free some, or NEED_GB=0 to try anyway"; exit 1; fi
	@echo "installing lava-ssnnbp with the extras dl and dev into $(VENV) (lava-dl pulls torch: several GB)"
	@rm -f $(VENV)/.installed-*
	$(PY) -m pip install --quiet -e '.[dl,dev]'
	@touch $(BASE_STAMP) $@

# on-chip learning: the replay rule in fixed point, per sample, in the engine; then Lava == engine
demo: $(BASE_STAMP)
	$(PY) -m lava_ssnnbp.demo $(DEMO_ARGS) --overwrite

# the notebooks with their outputs: built from tutorials/src and executed (make tutorials TUTORIALS=07
# for one); 07 trains on full MNIST ($$SSNNBP_DATA, see ssnnbp info)
tutorials: $(FULL_STAMP)
	$(PY) tutorials/_build.py --execute $(TUTORIALS)

test: $(FULL_STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
