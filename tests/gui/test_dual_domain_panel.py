"""The dual-domain operation from the Operations dock: a second model file, a painted part."""

from __future__ import annotations

from latent_atelier.app.document.layers import LayerKind
from tests.gui.conftest import TINY_CHANNELS, drag, install_tiny_operations, line


def test_dual_domain_runs_from_the_panel_with_a_typed_model_path_and_a_painted_part(qtbot, window, tmp_path):
    from latent_atelier.models.checkpoints import save_generator
    from latent_atelier.models.zoo import random_generator

    ops = install_tiny_operations(window)
    second = tmp_path / "second.safetensors"
    gen2 = random_generator("stylegan2", 32, 1, style_dim=32, n_mlp=2, channels=TINY_CHANNELS)
    save_generator(gen2, second)
    doc = window.document
    window.actions_.add_mask.trigger()
    drag(window, line(180, 250, 330, 250))  # the part, painted on the mask layer
    assert doc.active_layer.pixels.max() > 0
    page = ops.panel.select("dual-domain")
    page.form.set_values({"steps": 2, "count": 2})
    ops.refresh_pickers()
    assert page.pickers.choices()["part_mask"] == doc.active_id
    qtbot.keyClicks(page.pickers.pickers["second_model"].edit, str(second))
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        assert ops.run_current() is not None
    result = blocker.args[1]
    assert result is not None and len(result.outputs["result"]) == 2
    strip = ops.panel.pending_strip.strip
    assert strip.count() == 2
    shown = [lay for lay in doc.layers if lay.pending]
    assert len(shown) == 1 and shown[0].kind == LayerKind.BACKGROUND
    assert shown[0].pixels.shape[:2] == (doc.height, doc.width)


def test_an_incompatible_second_model_is_a_message_not_a_crash(qtbot, window, tmp_path):
    from latent_atelier.models.checkpoints import save_generator
    from latent_atelier.models.zoo import random_generator

    ops = install_tiny_operations(window)
    other = tmp_path / "furry.safetensors"
    save_generator(random_generator("furrygan", 32, 1, style_dim=32, channels=TINY_CHANNELS), other)
    window.actions_.add_mask.trigger()
    drag(window, line(180, 250, 330, 250))
    page = ops.panel.select("dual-domain")
    page.form.set_values({"steps": 2})
    ops.refresh_pickers()
    qtbot.keyClicks(page.pickers.pickers["second_model"].edit, str(other))
    with qtbot.waitSignal(ops.runner.failed, timeout=120_000) as blocker:
        assert ops.run_current() is not None
    assert "cannot share a latent" in blocker.args[1]
    assert not [lay for lay in window.document.layers if lay.pending]


def test_parser_parts_chosen_in_the_panel_give_a_face_part_mask(qtbot, window):
    from PySide6.QtCore import Qt

    from latent_atelier.models.zoo import load_model
    from latent_atelier.resources import resources_dir

    models = resources_dir() / "models"
    ops = window.operations
    ops.discover_now()
    ops.manager.set_generator(load_model(str(models / "furrygan-demo.safetensors"), "cpu").eval(), "demo")
    page = ops.panel.select("dual-domain")
    page.form.set_values({"steps": 2, "variant": "code"})
    parts = page.form.editors["parts"]
    parts.setFocus()
    qtbot.keyClick(parts, Qt.Key.Key_Down)  # segmenter -> parser, as a person picks it
    assert parts.currentData() == "parser"
    ops.refresh_pickers()
    qtbot.keyClicks(page.pickers.pickers["second_model"].edit, str(models / "furrygan-big-ears.safetensors"))
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        assert ops.run_current() is not None
    result = blocker.args[1]
    part = result.outputs["part_source"][0]
    assert 0.01 < (part > 0.5).mean() < 0.25  # the face's eyes, nose and mouth, not the image
    assert (result.outputs["part_target"][0] == part).all()
    assert len([lay for lay in window.document.layers if lay.pending]) == 1


def _run_with_typed_part_weight(qtbot, window, ops, second, weight: str, mask_id: str):
    from PySide6.QtCore import Qt

    page = ops.panel.select("dual-domain")
    page.form.set_values({"steps": 15, "count": 1, "variant": "code", "lr": 0.05})
    field = page.form.editors["part_weight"]
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, weight)
    qtbot.keyClick(field, Qt.Key.Key_Tab)
    assert abs(field.value() - float(weight)) < 1e-6
    ops.refresh_pickers()
    assert page.pickers.choices()["part_mask"] == mask_id  # the painted part, both times
    edit = page.pickers.pickers["second_model"].edit
    edit.clear()
    qtbot.keyClicks(edit, str(second))
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        assert ops.run_current() is not None
    return blocker.args[1]


def _tiny_ops_with_a_second_model_and_a_painted_part(window, tmp_path):
    """Tiny operations, a second (StyleGAN2) model file, and a part painted on a new mask layer."""
    from latent_atelier.models.checkpoints import save_generator
    from latent_atelier.models.zoo import random_generator

    ops = install_tiny_operations(window)
    second = tmp_path / "second.safetensors"
    gen2 = random_generator("stylegan2", 32, 1, style_dim=32, n_mlp=2, channels=TINY_CHANNELS)
    save_generator(gen2, second)
    window.actions_.add_mask.trigger()
    drag(window, line(180, 250, 330, 250))
    return ops, second


def test_a_part_weight_typed_in_the_panel_brings_more_of_the_part(qtbot, window, tmp_path):
    ops, second = _tiny_ops_with_a_second_model_and_a_painted_part(window, tmp_path)
    mask_id = window.document.active_id
    plain = _run_with_typed_part_weight(qtbot, window, ops, second, "1", mask_id)
    strong = _run_with_typed_part_weight(qtbot, window, ops, second, "40", mask_id)
    assert strong.metrics["psnr_in"] > plain.metrics["psnr_in"] + 0.3


def test_starting_from_the_latent_picked_in_the_panel_keeps_the_target(qtbot, window, tmp_path):
    import numpy as np
    from PySide6.QtCore import Qt

    ops, second = _tiny_ops_with_a_second_model_and_a_painted_part(window, tmp_path)
    page = ops.panel.select("dual-domain")
    page.form.set_values({"steps": 0, "variant": "code"})
    start = page.form.editors["start"]
    start.setFocus()
    qtbot.keyClick(start, Qt.Key.Key_Down)  # default -> latent, as a person picks it
    assert start.currentData() == "latent"
    ops.refresh_pickers()
    qtbot.keyClicks(page.pickers.pickers["second_model"].edit, str(second))
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        assert ops.run_current() is not None
    out = blocker.args[1].outputs
    # no step taken: the result is the target generator's own image of the latent
    assert np.abs(out["result"][0] - out["target"][0]).max() < 1e-3
