"""Screenshots of the whole workflow on the sample photo (run under xvfb-run).

``xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python scripts/docs_figures/workflow_screens.py
docs/screenshots``.

load -> place -> embed -> paint segments -> segment edit -> inpaint -> matte -> drop a
background -> export. Uses the demo model when resources/models/furrygan-demo.safetensors
exists, else a random FurryGAN (the images are then noise-like, the workflow the same).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
OUT.mkdir(parents=True, exist_ok=True)

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

app = QApplication([sys.argv[0]])
from app.document.brush import BrushSettings, StrokePainter  # noqa: E402
from app.document.preferences import Preferences  # noqa: E402
from app.document.recovery import RecoveryStore  # noqa: E402
from app.qt.main_window import MainWindow  # noqa: E402
from app.qt.models.model_manager import demo_model_path  # noqa: E402
from app.qt.placement.geometry import SquareBox  # noqa: E402
from app.qt.resources_path import resources_dir, sample_photo  # noqa: E402

tmp = Path(tempfile.mkdtemp())
window = MainWindow(Preferences(), RecoveryStore(tmp / "rec"),
                    settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
window.resize(1440, 900)
window.show()
ops = window.operations
window.open_path(sample_photo())
ops.discover_now()
if demo_model_path().exists():
    MODEL = "demo FurryGAN"
    ops.manager.load_now(None)
else:
    from models.zoo import random_generator

    MODEL = "random FurryGAN 64 px (no demo model in this checkout)"
    gen = random_generator("furrygan", 64, 3, style_dim=64, n_mlp=2,
                           channels={4: 64, 8: 64, 16: 64, 32: 48, 64: 32})
    ops.manager.set_generator(gen, "random FurryGAN 64px")
print("model:", MODEL)


def pump(seconds: float = 0.3) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        app.processEvents()
        time.sleep(0.01)


def shot(name: str) -> None:
    pump(0.4)
    path = OUT / f"workflow_{name}.png"
    window.grab().save(str(path))
    print("wrote", path)


def run(name: str, values: dict, mid_shot: str | None = None) -> None:
    page = ops.panel.select(name)
    page.form.set_values(values)
    pump(0.1)
    done: list = []
    ops.runner.idle.connect(lambda: done.append(1))
    failed: list = []
    ops.runner.failed.connect(lambda _j, m, d: failed.append((m, d)))
    ops.run_current()
    shot_taken = mid_shot is None
    while not done:
        app.processEvents()
        time.sleep(0.01)
        if not shot_taken and ops.overlay.has_preview:
            pump(0.5)
            shot(mid_shot)
            shot_taken = True
    ops.runner.idle.disconnect()
    ops.runner.failed.disconnect()
    if failed:
        print("FAILED", name, failed[0][0], failed[0][1][-800:])
    pump(0.3)


def paint(layer_id: str, points, size: float, label: int = 1, value=None) -> None:
    settings = BrushSettings(size=size, hardness=0.9, label=label)
    painter = StrokePainter(window.document, layer_id, settings)
    painter.press(*points[0])
    for p in points[1:]:
        painter.move_to(*p)
    painter.release()


doc = window.document
shot("1_load")

# place: the square the model sees, on the face
ops.panel.place_button.setChecked(True)
ops.overlay.box = SquareBox(150.0, 30.0, 220.0)
ops.overlay.update()
shot("2_place")
ops.panel.place_button.setChecked(False)

# embed, with the live preview at the placement, then the pending result
run("embed", {"steps_w": 60, "steps_noise": 60}, mid_shot="3_embed_running")
shot("3_embed_result")
ops.pending.accept()

# paint segments: hair (1) and face (2) on a label layer (on top, to be seen)
window.document.set_active(doc.layers[-1].id)
window.add_layer("labels")
labels = window.document.active_layer
labels.palette.rename(1, "Hair")
labels.palette.add("Face")
paint(labels.id, [(200, 70), (260, 50), (320, 70)], 40, label=1)
paint(labels.id, [(230, 140), (260, 160), (290, 140), (260, 190)], 50, label=2)
window.layers_dock.refresh()
shot("4_segments_painted")
window.document.set_active(doc.layers[0].id)
run("segments", {"steps_w": 40})
shot("5_segments_result")
ops.pending.accept()

# edit one segment (SeFa direction) from the segment latents
window.document.set_active(doc.layers[0].id)
run("edit-segment", {"segment": 1, "alpha": 4.0, "steps_w": 20})
shot("5b_segment_edit")
ops.pending.accept()

# inpaint a hole
window.document.set_active(doc.layers[-1].id)
window.add_layer("mask")
hole = window.document.active_layer
paint(hole.id, [(235, 150), (285, 150)], 30)
window.document.set_active(doc.layers[0].id)
run("inpaint", {"variants": 3, "steps_w": 20, "steps_noise": 40})
shot("6_inpaint_variants")
ops.pending.accept()

# matte, then a background dropped under the cut-out
window.document.set_active(doc.layers[0].id)
run("matte", {"steps_w": 40, "steps_noise": 40})
shot("7_matte")
ops.pending.accept()
window.drop_files([str(resources_dir() / "samples" / "coffee.png")])
ops.panel.move_bg_button.setChecked(True)
shot("8_background")
ops.panel.move_bg_button.setChecked(False)
paths = ops.compositing.export_to(tmp / "export")
print("exported", [p.name for p in paths])
shot("9_export")
window.document.dirty = False
window.close()
