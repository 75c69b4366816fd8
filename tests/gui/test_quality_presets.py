"""Quality presets (draft / standard / best) with the estimated time shown before Run, a
draft default on the CPU, and the note that the demo model is out of a photo's domain."""

from __future__ import annotations

import pytest

from latent_atelier.app.quality_presets import (
    BEST,
    CUSTOM,
    DRAFT,
    STANDARD,
    estimate,
    format_duration,
    preset_of,
    preset_values,
)
from latent_atelier.editors.operation import param_specs
from tests.gui.conftest import run_embed


def embed_specs(ops):  # type: ignore[no-untyped-def]
    return param_specs(ops.panel.pages["embed"].op_cls.Params)


def test_presets_cap_each_phase_and_best_is_the_operations_default(ops) -> None:
    specs = embed_specs(ops)
    assert preset_values(specs, DRAFT) == {"steps_w": 100, "steps_noise": 100}
    assert preset_values(specs, STANDARD) == {"steps_w": 300, "steps_noise": 300}
    assert preset_values(specs, BEST) == {"steps_w": 1000, "steps_noise": 1000}
    assert preset_of(specs, {"steps_w": 300, "steps_noise": 300}) == STANDARD
    assert preset_of(specs, {"steps_w": 7, "steps_noise": 300}) == CUSTOM


def test_estimates_and_durations_read_well() -> None:
    assert format_duration(0.2) == "under a second"
    assert format_duration(40) == "about 40 s"
    assert format_duration(600) == "about 10 min"
    assert format_duration(5400) == "about 1 h 30 min"
    measured = estimate(200, 0.5, 64, True)
    assert (measured.seconds, measured.measured) == (100.0, True)
    guess = estimate(200, None, 128, True)
    assert not guess.measured and guess.seconds == pytest.approx(4 * estimate(200, None, 64, True).seconds)
    assert "guess" in guess.text()


def test_the_cpu_starts_on_draft_and_the_estimate_shows_before_run(qtbot, ops) -> None:
    page = ops.panel.select("embed")
    quality = page.quality
    assert quality.isVisibleTo(page)
    assert quality.combo.currentData() == DRAFT  # the tests run on the CPU
    assert (page.form.values()["steps_w"], page.form.values()["steps_noise"]) == (100, 100)
    assert quality.estimate_label.text().startswith("200 steps on the CPU: ")
    assert "guess" in quality.estimate_label.text()
    quality.combo.activated.emit(quality.combo.findData(BEST))  # the user picks Best
    assert (page.form.values()["steps_w"], page.form.values()["steps_noise"]) == (1000, 1000)
    assert quality.estimate_label.text().startswith("2000 steps")
    page.form.editors["steps_w"].setValue(7)  # a hand-made count
    assert quality.combo.currentData() == CUSTOM
    run_embed(qtbot, ops, steps_w=3, steps_noise=3)
    text = quality.estimate_label.text()
    assert text.startswith("6 steps on the CPU: ") and "measured on this machine" in text
    assert ops.speeds.rate("embed", "tiny", ops.manager.device) > 0


def test_operations_without_steps_have_no_quality_row(ops) -> None:
    page = ops.panel.pages["composite"]
    assert not page.quality.applies and not page.quality.isVisibleTo(page)


def test_the_demo_model_says_it_is_out_of_a_photos_domain(make_window) -> None:
    from latent_atelier.app.qt.models.model_manager import demo_model_path

    window = make_window()
    ops = window.operations
    note = ops.panel.domain_note
    if not demo_model_path().exists():
        pytest.skip("no demo model in this checkout")
    assert ops.uses_demo_model() and note.isVisibleTo(ops.panel)
    assert "cartoon portraits" in note.text() and "Load model" in note.text()
    from tests.gui.conftest import tiny_generator

    ops.manager.set_generator(tiny_generator(), "tiny")
    assert not note.isVisibleTo(ops.panel)
