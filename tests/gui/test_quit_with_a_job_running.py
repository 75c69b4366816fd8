"""Closing the app while a job runs: the job is cancelled, the process exits 0 at once and
nothing aborts (the job's worker thread is no QThread that Qt would kill)."""

from __future__ import annotations

import time

from tests.gui.app_process import run_app

DRIVER = """
import time
from PySide6.QtCore import QTimer
from latent_atelier.app.qt.main import build_window
from tests.gui.conftest import install_tiny_operations

app, w = build_window([])
ops = install_tiny_operations(w)
page = ops.panel.select("embed")
page.form.set_values({"steps_w": 5000, "steps_noise": 5000})
steps = []
ops.runner.progressed.connect(lambda _j, s, *_r: steps.append(s))
job = ops.run_current()
def close_when_running():
    if not steps:
        QTimer.singleShot(50, close_when_running)
        return
    print("RUNNING", steps[-1], flush=True)
    w.close()  # the test's answer to "a job is running": stop it and close
    app.quit()
close_when_running()
t0 = time.monotonic()
app.exec()
print("QUIT", round(time.monotonic() - t0, 2), "busy", ops.runner.busy, flush=True)
"""


def test_closing_with_a_job_running_cancels_it_and_exits_cleanly(tmp_path) -> None:
    driver = "from PySide6.QtWidgets import QMessageBox\n" + (
        "QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Close)\n"
    )
    t0 = time.monotonic()
    proc = run_app(driver + DRIVER, tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RUNNING" in proc.stdout and "QUIT" in proc.stdout, proc.stdout
    assert "Destroyed while thread" not in proc.stderr and "Aborted" not in proc.stderr
    quit_s = float(proc.stdout.split("QUIT")[1].split()[0])
    assert quit_s < 30, proc.stdout  # cancelled within a step, not run to its end
    assert time.monotonic() - t0 < 300
