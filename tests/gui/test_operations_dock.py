"""The operations dock: forms from Params, pickers from Slots, Run/Cancel, Accept/Discard.

The ``ops`` fixture (tests/gui/conftest.py) injects a tiny random StyleGAN2 (32 px, 32
channels) into the model manager, so each job takes a second or two on a CPU.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from latent_atelier.app.document.layers import LayerKind
from latent_atelier.app.quality_presets import DRAFT, preset_values
from latent_atelier.editors.operation import param_specs
from tests.gui.conftest import run_embed


def snapshot(doc) -> tuple:
    """Everything "bit-identical" covers: layer ids/order/flags, pixel bytes, history."""
    layers = tuple(
        (
            lay.id,
            lay.name,
            lay.kind,
            lay.visible,
            lay.pending,
            lay.offset,
            hashlib.sha256(np.ascontiguousarray(lay.pixels).tobytes()).hexdigest(),
            lay.latent is None,
            lay.placement is None,
        )
        for lay in doc.layers
    )
    return layers, tuple(doc.history.labels()), doc.history.index, doc.dirty, doc.active_id


def test_every_registered_operation_gets_a_form_with_ranges_and_help(ops):
    from latent_atelier.editors.registry import all_operations

    registered = all_operations()
    assert set(ops.panel.pages) == set(registered)
    for name, cls in registered.items():
        page = ops.panel.pages[name]
        for spec in param_specs(cls.Params):
            editor = page.form.editors[spec.name]
            assert editor.toolTip() == (spec.help or spec.name)
            if spec.choices is not None:
                assert isinstance(editor, QComboBox)
                assert [editor.itemData(i) for i in range(editor.count())] == list(spec.choices)
            elif spec.type is bool:
                assert isinstance(editor, QCheckBox)
            elif spec.type is int:
                assert isinstance(editor, QSpinBox)
                if spec.high is not None:
                    assert editor.maximum() == min(int(spec.high), 2**31 - 1)
            elif spec.type is float:
                assert isinstance(editor, QDoubleSpinBox)
                if spec.low is not None:
                    assert editor.minimum() == pytest.approx(spec.low)
        # the form starts at the defaults, with the CPU's draft step counts
        draft = preset_values(param_specs(cls.Params), DRAFT)
        assert page.form.params() == dataclasses.replace(cls.Params(), **draft)
        assert set(page.pickers.pickers) == {s.name for s in cls.inputs}


def test_reset_restores_defaults_and_out_of_range_is_refused(ops):
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 7, "init": "uniform"})
    assert page.form.params().steps_w == 7
    assert page.form.params().init == "uniform"
    page.form.reset_button.click()
    assert page.form.params().steps_w == page.op_cls.Params().steps_w
    assert page.form.params().init == "mean"


def test_pickers_default_to_the_photo_and_keep_their_value(window, ops):
    page = ops.panel.select("embed")
    ops.refresh_pickers()
    assert page.pickers.choices()["photo"] == window.document.layers[0].id
    assert page.pickers.choices()["mask"] is None  # optional, and no mask is active
    window.add_layer("mask")  # the new mask becomes the active layer...
    mask = window.document.active_layer
    ops.refresh_pickers()
    assert page.pickers.choices()["mask"] is None  # ...but is not the user's pick for embed
    assert page.pickers.choices()["photo"] == window.document.layers[0].id
    picker = page.pickers.pickers["mask"]
    picker.choose(mask.id)  # what picking it in the combo box does
    window.document.set_active(window.document.layers[0].id)
    ops.refresh_pickers()
    assert page.pickers.choices()["mask"] == mask.id  # a made choice is kept


def test_embed_reports_progress_and_previews_then_cancel_changes_nothing(qtbot, window, ops):
    doc = window.document
    before = snapshot(doc)
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 400, "steps_noise": 400})
    steps: list[int] = []
    previews: list[tuple] = []
    ops.runner.progressed.connect(lambda _j, s, n, st, m, eta: steps.append(s))
    ops.runner.preview.connect(lambda _j, img: previews.append(img.shape))
    job = ops.run_current()
    assert job is not None
    qtbot.waitUntil(lambda: len(steps) >= 3 and bool(previews), timeout=120_000)
    assert ops.overlay.has_preview  # drawn on the canvas at the placement
    assert previews[0] == (32, 32, 3)
    thread = ops.runner._thread
    at_cancel = thread.progress.history[-1][0]
    with qtbot.waitSignal(ops.runner.cancelled, timeout=60_000):
        ops.panel.job_panel.cancel_button.click()
    last = thread.progress.history[-1][0]
    assert last <= at_cancel + 1  # stopped within one optimisation step
    assert last < 400
    qtbot.waitUntil(lambda: not ops.runner.busy, timeout=10_000)
    assert not ops.overlay.has_preview
    assert not ops.pending.active
    assert snapshot(doc) == before


def test_result_is_pending_then_accept_is_one_undo_step(qtbot, window, ops):
    doc = window.document
    photo = doc.layers[0]
    before = snapshot(doc)
    jobs: list = []
    ops.runner.started.connect(jobs.append)
    result = run_embed(qtbot, ops)
    assert "latent" in result.outputs
    assert not np.shares_memory(jobs[0].inputs["photo"], photo.pixels)  # copied before the job
    assert ops.pending.active and ops.panel.pending_strip.isVisible()
    pending = [lay for lay in doc.layers if lay.pending]
    assert len(pending) == 1 and pending[0].kind == LayerKind.RESULT
    assert doc.history.labels() == list(before[1])  # pending adds no history
    steps_before = doc.history.index
    ops.panel.pending_strip.accept_button.click()
    assert doc.history.index == steps_before + 1
    assert doc.history.labels()[-1] == "Embed photo"
    added = doc.layers[-1]
    assert not added.pending and not added.locked
    assert added.latent is not None and added.placement is not None
    assert photo.latent is not None  # stored on the photo too: projects keep it
    assert np.allclose(added.pixels, result.outputs["result"])
    doc.undo()
    assert snapshot(doc)[0] == before[0]  # the same layers, pixels and stored values
    assert doc.history.index == before[2]
    assert photo.latent is None
    doc.redo()
    assert doc.layers[-1] is added and photo.latent is not None


def test_discard_leaves_the_document_exactly_as_before(qtbot, window, ops):
    doc = window.document
    before = snapshot(doc)
    run_embed(qtbot, ops)
    assert any(lay.pending for lay in doc.layers)
    ops.panel.pending_strip.discard_button.click()
    assert not ops.pending.active
    assert snapshot(doc) == before


def test_latents_persist_in_the_project_and_feed_later_operations(qtbot, tmp_path, window, ops):
    from latent_atelier.app.document.ora import load_ora

    run_embed(qtbot, ops)
    ops.pending.accept()
    path = tmp_path / "embedded.ora"
    assert window.save_to(path)
    assert window.open_path(path)
    photo = window.document.layers[0]
    assert photo.latent is not None and photo.placement is not None
    reopened = load_ora(path)
    assert reopened.layers[0].latent is not None
    # a latent slot now defaults to the stored one: no re-inversion needed
    page = ops.panel.select("generate-background")
    ops.refresh_pickers()
    assert page.pickers.choices()["latent"] is not None


def test_a_missing_required_input_is_a_clear_message_not_a_job(window, ops):
    page = ops.panel.select("composite")  # needs a foreground cut-out
    ops.refresh_pickers()
    page.pickers.pickers["foreground"].clear()
    job = ops.run_current()
    assert job is None
    assert ops.last_error is not None and "foreground" in ops.last_error[0]
    assert not ops.runner.busy


def test_a_project_saved_with_a_pending_result_reopens_with_ordinary_layers(qtbot, tmp_path, window, ops):
    run_embed(qtbot, ops)
    path = tmp_path / "pending.ora"
    assert window.save_to(path)  # saved while the result still waits
    assert window.open_path(path)
    assert len(window.document.layers) == 2
    assert not any(lay.pending or lay.locked for lay in window.document.layers)
    assert not ops.pending.active


def test_mask_pickers_follow_the_names_of_the_users_masks(window, ops):
    doc = window.document
    page = ops.panel.select("matte")
    ids = {}
    for name in ("fg strokes", "BG-strokes"):
        window.add_layer("mask")
        doc.set_layer_props(doc.active_id, name=name)
        ids[name] = doc.active_id
    ops.refresh_pickers()  # "BG-strokes" is the active layer
    choices = page.pickers.choices()
    assert choices["fg_mask"] == ids["fg strokes"]
    assert choices["bg_mask"] == ids["BG-strokes"]
    assert choices["unknown_mask"] is None  # the active mask is meant for another slot
    window.add_layer("mask")  # an unnamed one, active: no slot takes it by itself
    ops.refresh_pickers()
    assert page.pickers.choices()["unknown_mask"] is None
    doc.set_layer_props(doc.active_id, name="unsure bits")  # named for a slot: taken there
    ops.refresh_pickers()
    assert page.pickers.choices()["unknown_mask"] == doc.active_id
    assert page.pickers.choices()["fg_mask"] == ids["fg strokes"]
