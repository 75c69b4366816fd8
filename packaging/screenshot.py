"""Take docs/screenshots/main-window.png: the sample photo, a paint stroke, two segments.

Run under a virtual X server: ``xvfb-run -a python packaging/screenshot.py`` (or offscreen
with ``QT_QPA_PLATFORM=offscreen``). Settings and recovery files go to a temporary folder.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots" / "main-window.png"


def _stroke(doc, layer_id: str, settings, points) -> None:  # type: ignore[no-untyped-def]
    from latent_atelier.app.document.brush import StrokePainter

    painter = StrokePainter(doc, layer_id, settings)
    painter.press(*points[0])
    for p in points[1:]:
        painter.move_to(*p)
    painter.release()


def main(argv: list[str] | None = None) -> int:
    """Build the scene, wait for it to paint, save the window grab."""
    tmp = tempfile.mkdtemp(prefix="la-shot-")
    os.environ["XDG_CONFIG_HOME"] = f"{tmp}/config"
    os.environ["XDG_STATE_HOME"] = f"{tmp}/state"
    sys.path.insert(0, str(ROOT))
    import copy

    from PySide6.QtCore import QTimer

    from latent_atelier.app.document.brush import lasso_fill
    from latent_atelier.app.qt.main import build_window

    app, w = build_window([str(ROOT / "resources" / "samples" / "astronaut.png")])
    w.resize(1400, 900)
    doc = w.document
    w.add_layer("paint")
    paint = copy.copy(w.brush_settings)
    paint.color, paint.size = (0.15, 0.85, 0.95), 9.0
    wave = [(120 + 6 * i, 470 - 40 * math.sin(i / 6)) for i in range(50)]
    _stroke(doc, doc.active_layer.id, paint, wave)
    w.add_layer("labels")
    palette = w.layers_dock.palette
    hair = palette.add_segment("hair")
    palette.rename_segment(1, "face")
    layer_id = doc.active_layer.id
    face = [(232 + 40 * math.cos(t / 8), 118 + 52 * math.sin(t / 8)) for t in range(51)]
    lasso_fill(doc, layer_id, face, 1)
    outer = [(230 + 80 * math.cos(a / 10), 122 + 96 * math.sin(a / 10)) for a in range(31, 64)]
    inner = [(232 + 40 * math.cos(a / 10), 118 + 52 * math.sin(a / 10)) for a in range(63, 30, -1)]
    lasso_fill(doc, layer_id, [*outer, *inner], hair)  # a crescent around the top of the face
    palette.select_segment(hair)
    w.canvas.fit()

    def grab() -> None:
        if not w.isVisible():
            return  # already taken
        OUT.parent.mkdir(parents=True, exist_ok=True)
        w.grab().save(str(OUT))
        print(OUT)
        w.document.dirty = False  # nothing to save: close without the question
        w.close()
        app.quit()

    # grab once the operations panel has found the operations (imports torch: slow on a busy
    # machine), and a moment later so it has painted; at the latest after two minutes
    w.operations.operations_ready.connect(lambda: QTimer.singleShot(1500, grab))
    QTimer.singleShot(120_000, grab)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
