# Two set-up commands (see README): `make app` starts the editor, `make test` runs everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: app test lint bench clean-venv lock check-install bundle

$(STAMP): pyproject.toml setup.py requirements/lock.txt requirements/nodeps.txt requirements/faces.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c requirements/lock.txt "torch==2.13.0"
	$(PY) -m pip install -q -c requirements/lock.txt -e ".[dev,remote]"
	$(PY) -m pip install -q --no-deps -r requirements/nodeps.txt
	$(PY) -m pip install -q --no-deps -r requirements/faces.txt  # the optional 'faces' extra
	touch $(STAMP)

app: $(STAMP)
	$(PY) scripts/check_xcb.py  # Qt's Linux desktop libraries; prints the apt-get line if any is missing
	$(VENV)/bin/latent-atelier resources/samples/astronaut.png

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	VENV=$(VENV) bash scripts/ci/typecheck.sh
	QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 $(PY) -m pytest -q  # the suite at one thread, as in the README

bench: $(STAMP)
	$(PY) -m benchmarks.run

clean-venv:
	rm -rf $(VENV)

# Refresh the pinned versions (requirements/lock.txt) from pyproject.toml's ranges.
lock: $(STAMP)
	$(PY) -m pip install -q pip-tools
	$(VENV)/bin/pip-compile -q --extra dev --extra remote --strip-extras --no-emit-index-url --no-emit-find-links \
	    --allow-unsafe -o requirements/lock.txt pyproject.toml requirements/lock.in

# `pip install .` (not editable) into a fresh venv; the CLI and the editor run from elsewhere.
check-install:
	PYTHON=$(PYTHON) bash scripts/ci/check_installed_package.sh

# A PyInstaller one-folder bundle in dist/latent-atelier/ (the editor and the CLI), built from
# a staged copy of the sources, then smoke-tested offscreen (start; a 2-step embed by its CLI).
bundle: $(STAMP)
	$(PY) -m pip install -q -c requirements/lock.txt -e ".[build]"
	$(PY) packaging/stage_sources.py build/bundle-src
	PYTHONPATH=build/bundle-src nice -n 10 $(VENV)/bin/pyinstaller --noconfirm --log-level WARN \
	    --distpath dist --workpath build/pyinstaller packaging/latent-atelier.spec
	$(PY) packaging/smoke_test_bundle.py dist/latent-atelier
