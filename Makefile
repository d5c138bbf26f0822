# 12345 Hub — the two commands a new machine needs are `make demo` and `make test`.
# Every target is idempotent: finished steps are skipped on the next run (stamp files).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
VENV_DB  := .venv-db
PY       := $(VENV)/bin/python
HUB_STAMP := $(VENV)/.installed
DB_STAMP  := $(VENV_DB)/.installed
APT_PACKAGES := chromium fonts-wqy-microhei espeak-ng sox
PYTEST_ARGS ?=

.PHONY: help demo serve test deps venv venv-db lint format bench clean rasa

help:
	@echo "make demo    set up and run the hub with demo data (prints URLs and logins)"
	@echo "make test    set up and run the whole test suite"
	@echo "make lint    ruff check + format check"
	@echo "make bench   run the benchmarks (tables in bench/RESULTS.md)"
	@echo "make rasa    build the optional Rasa sidecar venv (.venv-rasa, Python 3.10)"

demo: venv venv-db
	$(VENV)/bin/hub demo

serve: venv venv-db
	$(VENV)/bin/hub serve

test: deps venv venv-db
	$(PY) -m pytest $(PYTEST_ARGS)

venv: $(HUB_STAMP)
venv-db: $(DB_STAMP)

# Main runtime (Python 3.11). torch is pinned first to the CPU wheel on disk: anything that
# pulls torch later (sentence-transformers) must not fetch a multi-GB CUDA build.
$(HUB_STAMP): requirements/hub.txt requirements/constraints.txt pyproject.toml
	@py=$$(scripts/find-python 3.11) || exit 1; \
	  [ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements/hub.txt -c requirements/constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

# Embedded database (Python 3.13): mongoeco's wire server needs pymongo beside it, or it
# closes every connection at the first `hello`.
$(DB_STAMP): requirements/db.txt requirements/db-constraints.txt
	@py=$$(scripts/find-python 3.13) || exit 1; \
	  [ -x $(VENV_DB)/bin/python ] || $$py -m venv $(VENV_DB)
	$(VENV_DB)/bin/python -m pip install -q --upgrade pip
	$(VENV_DB)/bin/python -m pip install -q -r requirements/db.txt -c requirements/db-constraints.txt
	@touch $@

# System packages the tests need: a browser with a CJK font, speech synthesis, sound tools.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Each script prints its table and rewrites its own section of bench/RESULTS.md.
# nlu_vs_rasa runs only when the Rasa venv exists (make rasa).
bench: venv venv-db
	$(PY) -m bench.db_growth
	$(PY) -m bench.cases
	$(PY) -m bench.acd
	$(PY) -m bench.kb_scale
	$(PY) -m bench.webchat
	@if [ -x .venv-rasa/bin/rasa ]; then $(PY) -m bench.nlu_vs_rasa; \
	else echo "bench.nlu_vs_rasa skipped: run make rasa first"; fi

# The optional Rasa sidecar venv.
# Rasa 3.6 needs Python 3.10 (pyenv's 3.10.x or python3.10 on PATH, found by scripts/find-python)
# and its own venv: it pins numpy 1.23 / tensorflow 2.12, which cannot share .venv.
# pip is held at < 24.1 (verified with 24.0): pip 24.1 dropped legacy version strings that old
# dependency trees such as Rasa 3.6's may still carry.
# nlu/rasa/constraints.txt holds the exact set that installed, trained and served here (pip check
# clean); rasa==3.6.21 alone resolves the same way today. ≈ 150 s and 2.7 GB on first build.
VENV_RASA  ?= .venv-rasa
RASA_STAMP := $(VENV_RASA)/.installed

rasa: $(RASA_STAMP)

$(RASA_STAMP): nlu/rasa/requirements.txt nlu/rasa/constraints.txt
	@py=$$(scripts/find-python 3.10) || { echo "error: 'make rasa' needs Python 3.10 (e.g. 'pyenv install 3.10')" >&2; exit 1; }; \
	  [ -x $(VENV_RASA)/bin/python ] || $$py -m venv $(VENV_RASA)
	@echo "正在安装 Rasa 3.6（首次约 150 秒、2.7 GB，pip 安静运行）…"
	$(VENV_RASA)/bin/python -m pip install -q --upgrade "pip<24.1"
	$(VENV_RASA)/bin/python -m pip install -q -r nlu/rasa/requirements.txt -c nlu/rasa/constraints.txt
	SQLALCHEMY_SILENCE_UBER_WARNING=1 $(VENV_RASA)/bin/rasa --version >/dev/null
	@touch $@

clean:
	rm -rf $(VENV) $(VENV_DB) .venv-rasa var .pytest_cache .ruff_cache
