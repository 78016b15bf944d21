# mirrorkeeper: the commands a developer (and .ci/run) uses.
#
#   make deps    check the system packages (tools/deps lists them); as root,
#                install the missing ones, else print the apt-get line
#   make run     create the virtualenv, install, and run the demo job
#   make serve   the web site and the mirror list daemon on loopback, until
#                Ctrl-C (after make run has written the snapshot)
#   make lint    the style check (PEP 8 and pyflakes, by ruff)
#   make check   the style check, then the whole test suite (SQLite and a
#                throwaway PostgreSQL)
#   make bench   the benchmarks; SIZE=quick (default) or a bigger size
#   make clean   remove build products; make distclean also the virtualenv
#                and the demo database under var/

PYTHON ?= python3
# make serve waits for the first of its two daemons to end (wait -n).
SHELL := /bin/bash
VENV := .venv
# Written after a successful install; pip runs again only when
# pyproject.toml is newer (or the virtualenv is gone).
STAMP := $(VENV)/.installed
SIZE ?= quick
# The suite runs on every core (pytest-xdist): each worker starts its own
# PostgreSQL and SMTP servers, and every other server a test starts listens
# on a port of its own.  PYTEST_ARGS="-n 0" runs it in one process.
PYTEST_ARGS ?= -n auto

.PHONY: deps deps-run deps-bench venv lint check run serve bench clean \
	distclean

deps:
	@tools/deps check

deps-run:
	@tools/deps run

deps-bench:
	@tools/deps bench

venv: $(STAMP)

$(VENV)/bin/python: | deps-run
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-e '.[test]'
	touch $@

# The style check (ruff, configured in pyproject.toml) comes first: it takes
# a second.
lint: venv
	$(VENV)/bin/ruff check lib tests bench cronscripts daemons

check: deps venv lint
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

run: deps-run venv
	$(VENV)/bin/mirrorkeeper demo

WEB_LISTEN ?= tcp:8000:interface=127.0.0.1
MIRRORLIST_LISTEN ?= tcp:8080:interface=127.0.0.1

# Both daemons in the foreground; Ctrl-C (or either one failing) stops both.
serve: deps-run venv
	@test -f var/mirrorlist-snapshot.json || $(VENV)/bin/mirrorkeeper demo
	@echo "make serve: the web site on $(WEB_LISTEN): http://127.0.0.1:$(word 2,$(subst :, ,$(WEB_LISTEN)))/ (/api/1/, /metrics)"
	@echo "make serve: mirror lists on $(MIRRORLIST_LISTEN): http://127.0.0.1:$(word 2,$(subst :, ,$(MIRRORLIST_LISTEN)))/mirrors.txt (/mirrors/CC.txt, /mirrorlist, /metalink, /redirect/PATH)"
	@echo "make serve: Ctrl-C stops both"
	@trap 'kill $$web $$lists 2>/dev/null; wait' INT TERM EXIT; \
	$(VENV)/bin/mirrorkeeper web --listen '$(WEB_LISTEN)' & web=$$!; \
	$(VENV)/bin/mirrorkeeper mirrorlist-server --listen '$(MIRRORLIST_LISTEN)' & lists=$$!; \
	wait -n

bench: deps-bench venv
	@if [ -f bench/__main__.py ]; then \
		$(VENV)/bin/python -m bench --size $(SIZE); \
	else \
		echo "make bench: no benchmarks yet (bench/__main__.py)"; \
	fi

clean:
	rm -rf build dist lib/*.egg-info .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d \
		-exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) var
