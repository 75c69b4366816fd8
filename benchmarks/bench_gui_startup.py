"""Time to open the main window (offscreen, in a fresh process) and whether torch got imported.

Target (issue 7): the window is up in < 2 s and ``torch`` is not imported at start. The
baseline, measured in the same run, is a bare PySide6 process showing an empty QWidget, so
``ratio_vs_bare_qt`` says how much our own start-up adds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import write_result

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 2.0

APP_SCRIPT = """
import time; t0 = time.perf_counter()
import json, sys
from latent_atelier.app.qt.main import build_window
app, w = build_window(sys.argv[1:])
app.processEvents()
print(json.dumps({"in_process_s": time.perf_counter() - t0, "torch": "torch" in sys.modules,
                  "visible": w.isVisible(), "layers": len(w.document.layers) if w.document else 0}))
"""

BARE_QT_SCRIPT = """
import time; t0 = time.perf_counter()
import json, sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1]); w = QMainWindow(); w.show(); app.processEvents()
print(json.dumps({"in_process_s": time.perf_counter() - t0, "torch": "torch" in sys.modules,
                  "visible": w.isVisible(), "layers": 0}))
"""


def _run(script: str, args: list[str], env: dict[str, str]) -> dict:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0  # includes interpreter start and exit
    return result


def _summary(runs: list[dict], key: str) -> dict[str, float]:
    values = [r[key] for r in runs]
    return {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values)}


def main(argv: list[str] | None = None) -> int:
    """Run the app start-up ``repeat`` times (argv[0], default 5) and write the JSON."""
    argv = list(sys.argv[1:] if argv is None else argv)
    repeat = int(argv[0]) if argv else 5
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.update(
            QT_QPA_PLATFORM="offscreen",
            XDG_CONFIG_HOME=f"{tmp}/config",
            XDG_STATE_HOME=f"{tmp}/state",
            PYTHONPATH=str(REPO),
        )
        sample = str(REPO / "resources" / "samples" / "astronaut.png")
        _run(APP_SCRIPT, [sample], env)  # warm the file cache once
        bare = [_run(BARE_QT_SCRIPT, [], env) for _ in range(repeat)]
        with_sample = [_run(APP_SCRIPT, [sample], env) for _ in range(repeat)]
        empty = [_run(APP_SCRIPT, ["--no-sample"], env) for _ in range(repeat)]
    app_median = statistics.median(r["in_process_s"] for r in with_sample)
    bare_median = statistics.median(r["in_process_s"] for r in bare)
    figures = {
        "repeat": repeat,
        "window_with_sample_photo": _summary(with_sample, "in_process_s"),
        "window_with_sample_photo_process": _summary(with_sample, "process_s"),
        "window_empty": _summary(empty, "in_process_s"),
        "bare_qt_window": _summary(bare, "in_process_s"),
        "ratio_vs_bare_qt": app_median / bare_median,
        "torch_imported_at_start": any(r["torch"] for r in with_sample + empty),
        "target_s": TARGET_S,
        "meets_target": app_median < TARGET_S and not any(r["torch"] for r in with_sample),
    }
    write_result("gui_startup", figures)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
