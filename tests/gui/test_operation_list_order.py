"""The operation list reads like the README's table: grouped, with headings that cannot be
chosen; every registered operation is listed once."""

from __future__ import annotations

from PySide6.QtCore import Qt

from latent_atelier.app.qt.operations.grouping import GROUPS, OTHER, grouped


def test_grouped_keeps_the_table_order_and_puts_unknown_ones_last() -> None:
    names = ["matte", "zz-new", "embed", "align", "inpaint", "segments"]
    assert grouped(names) == [
        ("Reconstruct and edit", ["embed", "segments"]),
        ("Image2StyleGAN++ edits", ["inpaint"]),
        ("Cut out and composite", ["matte"]),
        ("Faces", ["align"]),
        (OTHER, ["zz-new"]),
    ]


def test_the_dock_lists_groups_with_headings_that_cannot_be_chosen(ops) -> None:
    combo = ops.panel.op_combo
    rows = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    headings = [text for text, data in rows if data is None]
    expected = [title for title, names in GROUPS if set(names) & set(ops.available)]
    assert headings[: len(expected)] == expected
    listed = [data for _t, data in rows if data is not None]
    assert sorted(listed) == sorted(ops.available) and len(listed) == len(set(listed))
    order = [listed.index(name) for name in ("embed", "inpaint", "matte", "align")]
    assert order == sorted(order)
    model = combo.model()
    for i, (_text, data) in enumerate(rows):
        selectable = bool(model.flags(model.index(i, 0)) & Qt.ItemFlag.ItemIsSelectable)
        assert selectable == (data is not None)
    assert combo.currentData() == "embed"
