"""Screenshots of cutting out the astronaut in the GUI: automatic, then with rough strokes.

Run under a real screen: ``xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python
scripts/docs_figures/matte_strokes_screens.py docs/screenshots``. Loads the sample photo and
the demo model, runs ``matte``, then paints the strokes of
:mod:`benchmarks.sample_strokes` on two mask layers ("fg strokes", "bg strokes") and runs
``matte`` again with them; the second run reuses the photo's stored latent (no embedding).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
OUT.mkdir(parents=True, exist_ok=True)
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

app = QApplication([sys.argv[0]])
from app.document.layers import LayerKind  # noqa: E402
from app.document.preferences import Preferences  # noqa: E402
from app.document.recovery import RecoveryStore  # noqa: E402
from app.qt.main_window import MainWindow  # noqa: E402
from app.qt.resources_path import sample_photo  # noqa: E402
from benchmarks.sample_strokes import stroke_masks  # noqa: E402

tmp = Path(tempfile.mkdtemp())
window = MainWindow(Preferences(), RecoveryStore(tmp / "rec"),
                    settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
window.resize(1440, 900)
window.show()
ops = window.operations
window.open_path(sample_photo())
ops.discover_now()
ops.manager.load_now(None)
doc = window.document


def pump(seconds: float = 0.3) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        app.processEvents()
        time.sleep(0.01)


def shot(name: str) -> None:
    pump(0.5)
    path = OUT / f"matte_strokes_{name}.png"
    window.grab().save(str(path))
    print("wrote", path)


def run(name: str, values: dict, choose: dict | None = None) -> float:
    page = ops.panel.select(name)
    page.form.set_values(values)
    page.pickers.refill(doc)
    for slot, layer_id in (choose or {}).items():
        picker = page.pickers.pickers[slot]
        picker.setCurrentIndex(picker.findData(layer_id))
    pump(0.1)
    done: list = []
    ops.runner.idle.connect(lambda: done.append(1))
    t0 = time.monotonic()
    ops.run_current()
    while not done:
        app.processEvents()
        time.sleep(0.01)
    ops.runner.idle.disconnect()
    pump(0.3)
    return time.monotonic() - t0


def mask_layer(name: str, pixels) -> str:
    window.add_layer("mask")
    layer = doc.active_layer
    doc.set_layer_props(layer.id, name=name)
    edit = doc.begin_edit(layer.id, f"paint {name}")
    h, w = pixels.shape
    edit.before_change((0, 0, w, h))
    layer.pixels[:h, :w, ...] = pixels.reshape(layer.pixels[:h, :w, ...].shape)
    edit.notify((0, 0, w, h))
    edit.commit()
    return layer.id


seconds = run("matte", {"steps_w": 150, "steps_noise": 100})
print(f"automatic matte: {seconds:.1f} s")
shot("1_automatic")
ops.pending.accept()

fg, bg = stroke_masks("astronaut", doc.layers[0].pixels.shape)
doc.set_active(doc.layers[-1].id)
fg_id = mask_layer("fg strokes", fg)
bg_id = mask_layer("bg strokes", bg)
window.layers_dock.refresh()
for layer in doc.layers:  # hide the first cut-out so the strokes show on the photo
    if layer.kind in (LayerKind.MATTE, LayerKind.RESULT):
        doc.set_layer_props(layer.id, visible=False)
shot("2_strokes")
doc.set_active(doc.layers[0].id)
seconds = run("matte", {"steps_w": 150, "steps_noise": 100},
              {"fg_mask": fg_id, "bg_mask": bg_id})
print(f"matte with strokes, reusing the latent: {seconds:.1f} s")
shot("3_with_strokes")
window.document.dirty = False
window.close()
