"""The operations dock: forms built from the registry, jobs, pending results.

``install_operations(window)`` is the one call the main window makes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

if TYPE_CHECKING:
    from latent_atelier.app.qt.main_window import MainWindow
    from latent_atelier.app.qt.operations.controller import OperationsController

DISCOVERY_DELAY_MS = 300  # after the window is up: finding operations imports torch


def install_operations(window: MainWindow) -> OperationsController:
    """Replace the placeholder dock content, add the Model menu and status-bar widgets.

    Follows the window's document by wrapping ``window.set_document``; the operations
    are discovered on a worker thread shortly after the event loop starts, so opening
    the window never imports torch. Returns the controller (also ``window.operations``).
    """
    from latent_atelier.app.qt.compositing.controller import CompositingController
    from latent_atelier.app.qt.operations.controller import OperationsController

    controller = OperationsController(window)
    window.operations_dock.set_content(controller.panel)
    window.status.addPermanentWidget(controller.status_widget)
    controller.install_menus()
    controller.compositing = CompositingController(controller)  # type: ignore[attr-defined]

    original_set_document = window.set_document

    def set_document(document, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_set_document(document, *args, **kwargs)
        controller.set_document(document, window.signals)

    window.set_document = set_document  # type: ignore[method-assign]
    controller.set_document(window.document, window.signals)
    window.operations = controller  # type: ignore[attr-defined]
    timer = QTimer(controller)  # dies with the window, unlike a bare singleShot
    timer.setSingleShot(True)
    timer.timeout.connect(controller.discover_async)
    timer.start(DISCOVERY_DELAY_MS)
    window.close_checks.append(controller.confirm_close)  # "a job is running: stop it?"
    window.closing.connect(controller.shutdown)  # a confirmed close: cancel jobs, wait
    return controller
