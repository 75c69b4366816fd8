"""Screenshots of cutting out the astronaut in the GUI: automatic, then with rough strokes.

Run under a real screen: ``xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python
scripts/docs_figures/matte_strokes_screens.py docs/screenshots``. Loads the sample photo and
the demo model, runs ``matte``, then puts the strokes of :mod:`benchmarks.sample_strokes`
on two mask layers ("fg strokes", "bg strokes") and runs ``matte`` again with them; the
second run reuses the photo's stored latent (no embedding).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_driver import GuiDriver

gui = GuiDriver(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"), "matte_strokes_")
from benchmarks.sample_strokes import stroke_masks  # noqa: E402
from latent_atelier.app.document.layers import LayerKind  # noqa: E402

window, doc = gui.window, gui.doc


def mask_layer(name: str, pixels) -> str:
    """A new mask layer named ``name`` holding ``pixels`` (one undo step)."""
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


seconds = gui.run("matte", {"steps_w": 150, "steps_noise": 100})
print(f"automatic matte: {seconds:.1f} s")
gui.shot("1_automatic")
gui.ops.pending.accept()

fg, bg = stroke_masks("astronaut", doc.layers[0].pixels.shape)
doc.set_active(doc.layers[-1].id)
fg_id = mask_layer("fg strokes", fg)
bg_id = mask_layer("bg strokes", bg)
window.layers_dock.refresh()
for layer in doc.layers:  # hide the first cut-out so the strokes show on the photo
    if layer.kind in (LayerKind.MATTE, LayerKind.RESULT):
        doc.set_layer_props(layer.id, visible=False)
gui.shot("2_strokes")
doc.set_active(doc.layers[0].id)
seconds = gui.run("matte", {"steps_w": 150, "steps_noise": 100}, {"fg_mask": fg_id, "bg_mask": bg_id})
print(f"matte with strokes, reusing the latent: {seconds:.1f} s")
gui.shot("3_with_strokes")
gui.close()
