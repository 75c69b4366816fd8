#!/usr/bin/env bash
# `pip install .` (not editable) into a fresh venv, then use it from another directory:
# the CLI draws a sample with the bundled demo model (package data) and the editor opens
# offscreen on the bundled sample photo. Proves the wheel carries resources/ and that the
# one import root (latent_atelier.*) works without the checkout on sys.path.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON=${PYTHON:-python3}
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" -m venv "$WORK/venv"
PIP="$WORK/venv/bin/python -m pip"
$PIP install -q -c "$REPO/requirements/lock.txt" "torch==2.13.0"
$PIP install -q -c "$REPO/requirements/lock.txt" "$REPO"
cd "$WORK"   # away from the checkout: nothing may be imported from it
"$WORK/venv/bin/latent-atelier-cli" sample --n 1 --out "$WORK/sample.png"
test -s "$WORK/sample.png"
QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$WORK/config" XDG_STATE_HOME="$WORK/state" "$WORK/venv/bin/python" - <<'PY'
import sys
from PySide6.QtCore import QTimer
import latent_atelier.app.qt.main as main_module
assert "/work" not in main_module.__file__ or "venv" in main_module.__file__, main_module.__file__
app, window = main_module.build_window([])
QTimer.singleShot(500, app.quit)
app.exec()
layers = [layer.name for layer in window.document.layers] if window.document else []
print("installed editor opened offscreen with layers:", layers)
sys.exit(0 if layers else 1)
PY
echo "installed-package check passed"
