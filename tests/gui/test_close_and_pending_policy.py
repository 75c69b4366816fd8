"""Closing the window while a job runs, and what happens to a result still waiting for Accept."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import run_embed


def _answer(monkeypatch, button: QMessageBox.StandardButton) -> list[str]:
    """Make every QMessageBox.question return ``button``; returns the titles asked."""
    asked: list[str] = []

    def question(_parent, title, *_args, **_kwargs):
        asked.append(title)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def _start_long_embed(qtbot, ops):
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 5000, "steps_noise": 5000})
    steps: list[int] = []
    ops.runner.progressed.connect(lambda _j, s, *_rest: steps.append(s))
    job = ops.run_current()
    assert job is not None
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=120_000)
    return job


def test_cancelling_the_close_keeps_the_running_job(qtbot, window, ops, monkeypatch):
    window.document.dirty = False
    _start_long_embed(qtbot, ops)
    cancelled: list = []
    ops.runner.cancelled.connect(cancelled.append)
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    assert not window.close()
    assert asked == ["A job is running"]
    qtbot.wait(200)
    assert ops.runner.busy and not cancelled  # the job goes on
    assert window.isVisible()
    _answer(monkeypatch, QMessageBox.StandardButton.Close)
    assert window.close()
    qtbot.waitUntil(lambda: bool(cancelled) and not ops.runner.busy, timeout=10_000)


def test_a_close_refused_at_the_save_prompt_also_keeps_the_job(qtbot, window, ops, monkeypatch):
    window.document.dirty = True
    _start_long_embed(qtbot, ops)
    cancelled: list = []
    ops.runner.cancelled.connect(cancelled.append)
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Close)  # "stop the job": yes
    monkeypatch.setattr(window, "maybe_save_changes", lambda: False)  # ...but cancel at save
    assert not window.close()
    assert asked == ["A job is running"]
    qtbot.wait(200)
    assert ops.runner.busy and not cancelled
    ops.runner.cancel_all()
    ops.runner.wait(10_000)


def _add_hole(window) -> None:
    doc = window.document
    window.add_layer("mask")
    hole = doc.active_layer
    hole.pixels[doc.height // 3 : doc.height // 2, doc.width // 3 : doc.width // 2] = 1.0
    doc.set_active(doc.layers[0].id)


def _run_inpaint(qtbot, ops):
    page = ops.panel.select("inpaint")
    page.form.set_values({"variants": 1, "steps_w": 2, "steps_noise": 2})
    ops.refresh_pickers()
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000):
        assert ops.run_current() is not None


def test_a_waiting_result_of_another_operation_is_kept_not_lost(qtbot, window, ops):
    doc = window.document
    _add_hole(window)
    run_embed(qtbot, ops)
    assert ops.pending.active and ops.pending.proposal.title == "Embed photo"
    labels_before = doc.history.labels()
    _run_inpaint(qtbot, ops)
    # the embedding was accepted as its own undo step; the fill now waits
    assert doc.history.labels()[len(labels_before) :] == ["Embed photo"]
    assert ops.pending.active and ops.pending.proposal.title != "Embed photo"
    assert any(lay.latent is not None and not lay.pending for lay in doc.layers)
    doc.undo()
    assert "Embed photo" not in doc.history.labels()[: doc.history.index]


def test_running_the_same_operation_again_replaces_its_waiting_result(qtbot, window, ops):
    doc = window.document
    run_embed(qtbot, ops)
    first = [lay for lay in doc.layers if lay.pending]
    labels = doc.history.labels()
    run_embed(qtbot, ops, steps_w=3)
    second = [lay for lay in doc.layers if lay.pending]
    assert doc.history.labels() == labels  # nothing was accepted behind the user's back
    assert len(second) == len(first) == 1
    assert second[0] is not first[0]
    assert all(lay is not first[0] for lay in doc.layers)


@pytest.fixture(autouse=True)
def _no_leftover_jobs(ops):
    yield
    ops.runner.cancel_all()
    ops.runner.wait(10_000)
