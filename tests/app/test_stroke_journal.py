"""The stroke journal: strokes, undo/redo and new blank layers replay exactly onto the last
autosave; a torn last record is dropped; other changes ask for an autosave."""

from __future__ import annotations

import numpy as np

from latent_atelier.app.document.brush import BrushSettings, StrokePainter
from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind, new_layer
from latent_atelier.app.document.recovery import RecoveryStore
from latent_atelier.app.document.stroke_journal import JournalRecorder, StrokeJournal, replay


def _stroke(doc: Document, layer_id: str, y: float, color=(1.0, 0.0, 0.0)) -> None:
    painter = StrokePainter(doc, layer_id, BrushSettings(size=6, color=color))
    painter.press(20, y)
    for x in range(30, 280, 10):
        painter.move_to(x, y)
    painter.release()


def _crashed_copy(store_dir) -> Document:
    """What the next start recovers (the session 'died': a new store reads its files)."""
    entry = RecoveryStore(store_dir).list()[0]
    return RecoveryStore(store_dir).load(entry)


def test_strokes_undo_redo_and_new_layers_replay_exactly(tmp_path):
    doc = Document.from_image(np.full((300, 300, 3), 0.5, np.float32))
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(300, 300)))
    store = RecoveryStore(tmp_path, session_id="999999999-dead")
    others: list[int] = []
    recorder = JournalRecorder(doc, store.record, lambda: others.append(1), store.record_layer)
    _stroke(doc, ink.id, 20)
    store.write(store.snapshot(doc))  # the last autosave
    _stroke(doc, ink.id, 50)
    _stroke(doc, ink.id, 80)
    doc.undo()
    _stroke(doc, ink.id, 110, (0.0, 1.0, 0.0))
    doc.undo()
    doc.redo()
    mask = doc.add_layer(new_layer(LayerKind.MASK, "Mask", size=(300, 300)))  # journaled, blank
    _stroke(doc, ink.id, 140)
    recorder.detach()
    assert others == []  # everything above went to the journal
    got = _crashed_copy(tmp_path)
    assert [lay.id for lay in got.layers] == [lay.id for lay in doc.layers]
    assert got.layer(mask.id).kind == LayerKind.MASK and not got.layer(mask.id).pixels.any()
    for lay in doc.layers:
        assert np.array_equal(got.layer(lay.id).pixels, lay.pixels), lay.name
    assert got.dirty


def test_other_changes_ask_for_an_autosave(tmp_path):
    doc = Document.from_image(np.zeros((64, 64, 3), np.float32))
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(64, 64)))
    others: list[int] = []
    recorder = JournalRecorder(doc, lambda *a: None, lambda: others.append(1), lambda *a: None)
    doc.set_layer_props(ink.id, opacity=0.5)
    doc.remove_layer(ink.id)
    painted = doc.add_layer(new_layer(LayerKind.PAINT, "Full", pixels=np.ones((64, 64, 4), np.float32)))
    recorder.detach()
    assert len(others) == 3 and painted is not None  # props, removal, a non-blank layer


def test_a_torn_last_record_is_dropped(tmp_path):
    doc = Document.from_image(np.zeros((64, 64, 3), np.float32))
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(64, 64)))
    journal = StrokeJournal(tmp_path / "j.journal")
    journal.append(ink.id, 0, 0, np.ones((8, 8, 4), np.float32))
    journal.append(ink.id, 8, 8, np.ones((8, 8, 4), np.float32))
    journal.close()
    data = (tmp_path / "j.journal").read_bytes()
    (tmp_path / "j.journal").write_bytes(data[:-10])  # the crash cut the second record
    assert replay(tmp_path / "j.journal", doc) == (1, 0)  # the whole first record only
    assert doc.layers[1].pixels[:8, :8].all() and not doc.layers[1].pixels[8:].any()
    forged = tmp_path / "f.journal"
    bad = bytearray(data)
    bad[-1] ^= 0xFF  # a CRC mismatch on the last record
    forged.write_bytes(bytes(bad))
    fresh = Document.from_image(np.zeros((64, 64, 3), np.float32))
    fresh.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(64, 64), id=ink.id))
    assert replay(forged, fresh) == (1, 0)


def test_journals_go_once_the_autosave_holds_them(tmp_path):
    doc = Document.from_image(np.zeros((64, 64, 3), np.float32))
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(64, 64)))
    store = RecoveryStore(tmp_path)
    JournalRecorder(doc, store.record, lambda: None, store.record_layer)
    _stroke(doc, ink.id, 20)
    assert len(list(tmp_path.glob("*.journal"))) == 1
    store.write(store.snapshot(doc))
    assert list(tmp_path.glob("*.journal")) == []  # the autosave holds that stroke
    _stroke(doc, ink.id, 40)
    assert len(list(tmp_path.glob("*.journal"))) == 1
    store.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_stroke_is_replayed_whole_or_not_at_all(tmp_path):
    doc = Document.from_image(np.zeros((300, 300, 3), np.float32))
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(300, 300)))
    tiles: list = []
    recorder = JournalRecorder(doc, lambda lid, t: tiles.append((lid, t)), lambda: None)
    _stroke(doc, ink.id, 150)  # 20..280 px wide: several 128 px tiles, one record
    recorder.detach()
    assert len(tiles) == 1 and len(tiles[0][1]) >= 2
    journal = StrokeJournal(tmp_path / "s.journal")
    journal.append_tiles(*tiles[0])
    journal.close()
    data = (tmp_path / "s.journal").read_bytes()
    (tmp_path / "s.journal").write_bytes(data[: len(data) // 2])  # killed while writing it
    fresh = Document.from_image(np.zeros((300, 300, 3), np.float32))
    fresh.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(300, 300), id=ink.id))
    assert replay(tmp_path / "s.journal", fresh) == (0, 0)
    assert not fresh.layers[1].pixels.any()  # no half stroke
    (tmp_path / "s.journal").write_bytes(data)
    assert replay(tmp_path / "s.journal", fresh) == (1, 0)
    assert np.array_equal(fresh.layers[1].pixels, doc.layers[1].pixels)


def test_before_the_first_autosave_the_opened_image_is_the_base(tmp_path):
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((64, 96, 3), 90, np.uint8)).save(photo)
    from latent_atelier.app.document.image_read import read_image

    doc = Document.from_image(read_image(photo).pixels)
    store = RecoveryStore(tmp_path / "rec", session_id="999999999-dead")
    opened = [lay.id for lay in doc.layers]
    JournalRecorder(doc, store.record, lambda: None, store.record_layer)
    ink = doc.add_layer(new_layer(LayerKind.PAINT, "Ink", size=(96, 64)))
    store.note_source(photo, opened)  # what the app does at its first journal record
    _stroke(doc, ink.id, 30)
    assert not store.ora_path.exists()  # the process "dies" before any autosave
    entries = RecoveryStore(tmp_path / "rec").list()  # (crashed() would also want its pid gone)
    assert len(entries) == 1 and entries[0].source_path == str(photo)
    got = RecoveryStore(tmp_path / "rec").load(entries[0])
    assert [lay.id for lay in got.layers] == [lay.id for lay in doc.layers]
    for lay in doc.layers:
        assert np.array_equal(got.layer(lay.id).pixels, lay.pixels), lay.name
