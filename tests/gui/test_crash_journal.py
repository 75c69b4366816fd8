"""SIGKILL the running app at random moments while it paints: every stroke that had
finished comes back at the next start (the stroke journal), not only the autosaved ones.

The driver paints at once after opening, so early kills come before the first autosave is
written: the journal then replays onto the opened file itself."""

from __future__ import annotations

import random
import time
from pathlib import Path

from tests.gui.app_process import recovery_folder, sigkill, start_app
from tests.gui.conftest import SAMPLE

TRIALS = 5
STROKES = 16

# The real application (build_window), the default 60 s autosave period, strokes painted
# with mouse events on the canvas; "DONE i" once stroke i's mouse release has returned.
DRIVER = f"""
import sys, time
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from latent_atelier.app.qt.main import build_window

app, w = build_window([sys.argv[1]])
w.add_layer("paint")  # at once: the first autosave is not written yet
w.brush_settings.color = (1.0, 0.0, 1.0)
c = w.canvas
def at(x, y):
    p = c.doc_to_widget(x, y)
    return QPoint(round(p.x()), round(p.y()))
print("READY", w.autosave.interval_s, flush=True)
for i in range({STROKES}):
    y = 40 + 16 * i
    QTest.mousePress(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(60, y))
    for k in range(1, 9):
        QTest.mouseMove(c, at(60 + 30 * k, y))
    QTest.mouseRelease(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(300, y))
    print("DONE", i, flush=True)
    app.processEvents()
    time.sleep(0.02)
app.exec()
"""


def _trial(tmp: Path, kill_after: int, delay_s: float) -> tuple[int, Path]:
    """Run the driver, kill it ``delay_s`` after stroke ``kill_after`` finished; returns the
    last stroke known finished and the recovery folder."""
    proc = start_app(DRIVER, tmp, str(SAMPLE))
    done = -1
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("READY"):
                assert float(line.split()[1]) == 60.0  # the default period: no timer autosave
            if line.startswith("DONE"):
                done = int(line.split()[1])
                if done >= kill_after:
                    break
            if not line and proc.poll() is not None:
                raise AssertionError(proc.stderr.read()[-3000:])
        time.sleep(delay_s)
    finally:
        sigkill(proc)
    return done, recovery_folder(tmp)


def test_repeated_sigkill_loses_no_finished_stroke(tmp_path) -> None:
    from latent_atelier.app.document.recovery import RecoveryStore

    rng = random.Random(21)
    lost_counts = []
    before_first_autosave: list[bool] = []
    for trial in range(TRIALS):
        kill_after = rng.randrange(0, 3) if trial < 2 else rng.randrange(0, STROKES - 4)
        done, recovery = _trial(tmp_path / f"t{trial}", kill_after, rng.uniform(0.0, 0.05))
        store = RecoveryStore(recovery)
        before_first_autosave.append(not list(recovery.glob("*.ora")))
        crashed = store.crashed()
        assert len(crashed) == 1, (trial, sorted(p.name for p in recovery.iterdir()))
        doc = store.load(crashed[0])
        paint = doc.layers[1].pixels
        present = [i for i in range(STROKES) if paint[40 + 16 * i, 180, 3] > 0.9]
        finished = list(range(done + 1))
        missing = sorted(set(finished) - set(present))
        lost_counts.append(len(missing))
        assert not missing, f"trial {trial}: strokes {missing} of {finished} lost ({store.replayed})"
        assert present == list(range(len(present)))  # nothing but whole strokes, in order
    print("strokes lost per kill:", lost_counts, "killed before the first autosave:", before_first_autosave)
