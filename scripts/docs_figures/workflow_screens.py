"""Screenshots of the whole workflow on the sample photo (run under xvfb-run).

``xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python scripts/docs_figures/workflow_screens.py
docs/screenshots``.

load -> place -> embed -> paint segments -> segment edit -> inpaint -> matte -> drop a
background -> export. Uses the demo model when resources/models/furrygan-demo.safetensors
exists, else a random FurryGAN (the images are then noise-like, the workflow the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_driver import GuiDriver

gui = GuiDriver(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"), "workflow_")
from latent_atelier.app.document.brush import BrushSettings, StrokePainter  # noqa: E402
from latent_atelier.app.qt.placement.geometry import SquareBox  # noqa: E402
from latent_atelier.app.qt.resources_path import resources_dir  # noqa: E402

window, ops, doc = gui.window, gui.ops, gui.doc


def paint(layer_id: str, points, size: float, label: int = 1) -> None:
    painter = StrokePainter(doc, layer_id, BrushSettings(size=size, hardness=0.9, label=label))
    painter.press(*points[0])
    for p in points[1:]:
        painter.move_to(*p)
    painter.release()


gui.shot("1_load")

# place: the square the model sees, on the face
ops.panel.place_button.setChecked(True)
ops.overlay.box = SquareBox(150.0, 30.0, 220.0)
ops.overlay.update()
gui.shot("2_place")
ops.panel.place_button.setChecked(False)

# embed, with the live preview at the placement, then the pending result
gui.run("embed", {"steps_w": 60, "steps_noise": 60}, mid_shot="3_embed_running")
gui.shot("3_embed_result")
ops.pending.accept()

# paint segments: hair (1) and face (2) on a label layer (on top, to be seen)
doc.set_active(doc.layers[-1].id)
window.add_layer("labels")
labels = doc.active_layer
labels.palette.rename(1, "Hair")
labels.palette.add("Face")
paint(labels.id, [(200, 70), (260, 50), (320, 70)], 40, label=1)
paint(labels.id, [(230, 140), (260, 160), (290, 140), (260, 190)], 50, label=2)
window.layers_dock.refresh()
gui.shot("4_segments_painted")
doc.set_active(doc.layers[0].id)
gui.run("segments", {"steps_w": 40})
gui.shot("5_segments_result")
ops.pending.accept()

# edit one segment (SeFa direction) from the segment latents
doc.set_active(doc.layers[0].id)
gui.run("edit-segment", {"segment": 1, "alpha": 4.0, "steps_w": 20})
gui.shot("5b_segment_edit")
ops.pending.accept()

# inpaint a hole
doc.set_active(doc.layers[-1].id)
window.add_layer("mask")
hole = doc.active_layer
paint(hole.id, [(235, 150), (285, 150)], 30)
doc.set_active(doc.layers[0].id)
gui.run("inpaint", {"variants": 3, "steps_w": 20, "steps_noise": 40})
gui.shot("6_inpaint_variants")
ops.pending.accept()

# matte, then a background dropped under the cut-out
doc.set_active(doc.layers[0].id)
gui.run("matte", {"steps_w": 40, "steps_noise": 40})
gui.shot("7_matte")
ops.pending.accept()
window.drop_files([str(resources_dir() / "samples" / "coffee.png")])
ops.panel.move_bg_button.setChecked(True)
gui.shot("8_background")
ops.panel.move_bg_button.setChecked(False)
paths = ops.compositing.export_to(gui.tmp / "export")
print("exported", [p.name for p in paths])
gui.shot("9_export")
gui.close()
