"""Form labels read as words, not as field names."""

from __future__ import annotations

import pytest

from latent_atelier.app.qt.operations.labels import field_label


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("steps_w", "W+ steps"),
        ("lr_noise", "Noise learning rate"),
        ("steps_embed", "Embed steps"),
        ("band_px", "Band (px)"),
        ("photo2", "Photo2"),
        ("steps", "Steps"),
        ("generate_background", "Generate background"),
    ],
)
def test_field_names_become_readable_labels(name, label):
    assert field_label(name) == label


def test_the_embed_form_shows_readable_labels(ops):
    from PySide6.QtWidgets import QFormLayout, QLabel

    page = ops.panel.select("embed")
    layout = page.form.editors["steps_w"].parentWidget().layout()
    assert isinstance(layout, QFormLayout)
    labels = [layout.itemAt(i, QFormLayout.ItemRole.LabelRole) for i in range(layout.rowCount())]
    widgets = [item.widget() for item in labels if item is not None]
    texts = [w.text() for w in widgets if isinstance(w, QLabel)]
    assert "W+ steps" in texts and "Noise learning rate" in texts
    assert not any("_" in t for t in texts)
