"""Autosave snapshots, background writes and crash recovery after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from latent_atelier.app.document.brush import BrushSettings, StrokePainter
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, new_layer
from latent_atelier.app.document.ora import load_ora
from latent_atelier.app.document.recovery import RecoveryStore

ROOT = Path(__file__).resolve().parents[2]


def _doc() -> tuple[Document, str]:
    doc = Document.from_image(np.full((64, 64, 3), 0.5, np.float32))
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(64, 64)))
    return doc, ink.id


def _stroke(doc: Document, lid: str, y: float) -> None:
    p = StrokePainter(doc, lid, BrushSettings(size=6, color=(1, 0, 0)))
    p.press(4, y)
    p.move_to(60, y)
    p.release()


def test_snapshot_is_frozen_and_shares_unchanged_layers(tmp_path):
    doc, lid = _doc()
    store = RecoveryStore(tmp_path)
    first = store.snapshot(doc)
    _stroke(doc, lid, 10)
    assert not first.layers[1].pixels.any()  # painting after the snapshot does not leak in
    assert not first.layers[0].pixels.flags.writeable
    second = store.snapshot(doc)
    assert second.layers[0].pixels is first.layers[0].pixels  # untouched photo: no copy
    assert second.layers[1].pixels is not first.layers[1].pixels
    assert np.array_equal(second.layers[1].pixels, doc.layers[1].pixels)
    doc.undo()
    third = store.snapshot(doc)
    assert not third.layers[1].pixels.any()  # undo counts as a change too


def test_background_write_while_painting_then_recover(tmp_path):
    doc, lid = _doc()
    doc.path = tmp_path / "work.ora"
    _stroke(doc, lid, 10)
    store = RecoveryStore(tmp_path / "recovery")
    snap = store.snapshot(doc)
    expected = [lay.pixels.copy() for lay in doc.layers]
    results = []
    thread = store.write_in_background(snap, results.append)
    for y in (20, 30, 40):  # the GUI keeps painting meanwhile
        _stroke(doc, lid, y)
    thread.join(timeout=30)
    assert results == [store.ora_path]
    entry = store.latest()
    assert entry is not None and entry.source_path == str(tmp_path / "work.ora")
    back = store.load(entry)
    assert back.dirty and back.path == tmp_path / "work.ora"
    assert all(np.array_equal(a, b.pixels) for a, b in zip(expected, back.layers))
    store.discard()
    assert store.list() == []


def test_damaged_note_is_skipped(tmp_path):
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "orphan.json").write_text(json.dumps({"saved_at": 1.0}))  # no .ora beside it
    assert RecoveryStore(tmp_path).list() == []


def test_recovers_work_after_sigkill(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import numpy as np
        from latent_atelier.app.document.brush import BrushSettings, StrokePainter
        from latent_atelier.app.document.document import Document
        from latent_atelier.app.document.layers import LayerKind, new_layer
        from latent_atelier.app.document.recovery import RecoveryStore
        doc = Document.from_image(np.full((64, 64, 3), 0.5, np.float32))
        ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(64, 64)))
        p = StrokePainter(doc, ink.id, BrushSettings(size=6, color=(1, 0, 0)))
        p.press(4, 30); p.move_to(60, 30); p.release()
        store = RecoveryStore({str(tmp_path)!r})
        store.write_in_background(store.snapshot(doc)).join()
        np.save({str(tmp_path / "expected.npy")!r}, ink.pixels)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    store = RecoveryStore(tmp_path)  # the next start
    crashed = store.crashed()
    assert len(crashed) == 1 and not crashed[0].process_alive
    doc = store.load(crashed[0])
    assert [lay.name for lay in doc.layers] == ["Photo", "Ink"]
    assert np.array_equal(doc.layers[1].pixels, np.load(tmp_path / "expected.npy"))
    assert load_ora(crashed[0]).layers[1].name == "Ink"  # an entry is path-like
    store.discard()  # a clean exit also clears the left-overs it offered
    assert store.crashed() == [] and list(tmp_path.glob("*.ora")) == []
