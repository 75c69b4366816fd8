"""What the last cut-out was made from: its notes in full and a toggle for its trimap overlay.

Under Run, after a ``matte`` run: the run's notes (the generator judged out of its domain,
no person found, an empty cut-out) in full, and a check box that shows the trimap it used
(white: subject, grey: left to the solver, black: background) as an overlay on the canvas,
so the artist sees why the edge fell where it did and where strokes would help.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from latent_atelier.app.document.layers import Layer

if TYPE_CHECKING:
    from latent_atelier.app.qt.operations.controller import OperationsController

MATTE = "matte"


class MatteView(QWidget):
    """The notes and the trimap toggle of the last ``matte`` run (hidden until one ran)."""

    def __init__(self, controller: OperationsController) -> None:
        super().__init__()
        self.setObjectName("matte_view")
        self.controller = controller
        self.notes = QLabel("")
        self.notes.setObjectName("matte_notes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #d08030;")
        self.show_trimap = QCheckBox("Show the trimap it used")
        self.show_trimap.setObjectName("show_trimap")
        self.show_trimap.setToolTip(
            "White: subject, grey: solved by closed-form matting, "
            "black: background. Paint fg / bg strokes where it is wrong."
        )
        self.show_trimap.toggled.connect(self._on_toggled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.notes)
        layout.addWidget(self.show_trimap)
        self.setVisible(False)
        controller.runner.finished.connect(self._on_finished)

    def _on_finished(self, job: Any, result: Any) -> None:
        if getattr(job.operation, "name", "") != MATTE:
            return
        self.show_trimap.setEnabled(True)
        text = "; ".join(result.notes)
        self.notes.setText(f"{text[:1].upper()}{text[1:]}." if text else "")
        self.notes.setVisible(bool(text))
        self.show_trimap.blockSignals(True)
        self.show_trimap.setChecked(False)
        self.show_trimap.blockSignals(False)
        self.setVisible(True)

    def trimap_layer(self) -> Layer | None:
        """The newest trimap layer a ``matte`` run made (pending or accepted), if any."""
        return self._newest("trimap")

    def _newest(self, output: str) -> Layer | None:
        doc = self.controller.document
        if doc is None:
            return None
        for layer in reversed(doc.layers):
            op = layer.operation or {}
            if op.get("name") == MATTE and op.get("output") == output:
                return layer
        return None

    def _show(self, layer: Layer | None, on: bool) -> None:
        doc = self.controller.document
        if layer is None or doc is None or layer.visible == on:
            return
        if layer.pending:  # not in the history yet: a plain change, as Discard expects
            layer.visible = on
        else:
            doc.set_layer_props(layer.id, visible=on)

    def _on_toggled(self, on: bool) -> None:
        """The trimap shown (its cut-out's foreground, drawn above it, hidden meanwhile)."""
        layer = self.trimap_layer()
        if layer is None:
            self.show_trimap.setEnabled(False)
            return
        self._show(self._newest("foreground"), not on)
        self._show(layer, on)
        self.controller.window.canvas.invalidate_all()


def install_matte_view(controller: OperationsController) -> MatteView:
    """Put the view under the pending result in the operations panel's footer."""
    view = MatteView(controller)
    strip = controller.panel.pending_strip
    footer = strip.parentWidget().layout()
    footer.insertWidget(footer.indexOf(strip) + 1, view)
    return view
