"""Opening a hostile project or image in the app: an error is shown, the open document
stays as it was, and painting goes on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog

from tests.gui.conftest import drag, line

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
from forge import zero_png
from hostile_projects import build_hostile_projects


def test_hostile_projects_show_an_error_and_keep_the_document(window, errors, tmp_path, monkeypatch):
    files = build_hostile_projects(tmp_path)
    big = tmp_path / "big16.png"
    big.write_bytes(zero_png(9000, 9000, 16, 2))
    doc = window.document
    before = [(lay.id, lay.pixels.copy()) for lay in doc.layers]
    chosen: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_a, **_k: (chosen[-1], "")))
    for path in [*files.values(), big]:
        chosen.append(str(path))
        window.actions_.open.trigger()  # File > Open..., the dialog answering with the file
        assert errors and errors[-1][0] == "Could not open file", path
        assert path.name in errors[-1][1]
        assert window.document is doc
    assert len(errors) == len(files) + 1
    for (lid, px), lay in zip(before, doc.layers, strict=True):
        assert lay.id == lid and np.array_equal(lay.pixels, px)
    window.add_layer("paint")  # the app still works: a stroke lands on the document
    drag(window, line(40, 40, 200, 40))
    assert doc.layers[-1].pixels[40, 120, 3] > 0.5


def test_a_hostile_image_dropped_on_the_document_is_an_error(window, errors, tmp_path):
    big = tmp_path / "huge.png"
    big.write_bytes(zero_png(30000, 30000, 8, 6))
    n = len(window.document.layers)
    window.drop_files([str(big)])
    assert errors[-1][0] == "Could not add image" and "larger than the limit" in errors[-1][1]
    assert len(window.document.layers) == n
