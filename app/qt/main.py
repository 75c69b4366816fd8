"""Entry point: ``latent-atelier [FILE]`` (or ``python -m latent_atelier.app.qt.main [FILE]``).

Opens FILE (a photo or an .ora project) or the bundled sample portrait, and offers to
restore autosaved work when the last session did not close normally. A scripted start
(``--quit-after-start``) never waits on that question: it autosaves into a throwaway folder
and leaves the real recovery files for the next interactive start. Nothing here imports
torch: the generator stack loads lazily when an operation first needs it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from latent_atelier.app.qt.app_setup import create_application
from latent_atelier.app.qt.main_window import MainWindow
from latent_atelier.app.qt.resources_path import sample_photo


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options (Qt's own options such as -platform are passed through)."""
    parser = argparse.ArgumentParser(prog="latent-atelier", description="Latent Atelier editor")
    parser.add_argument("file", nargs="?", help="a photo (PNG, JPEG, TIFF, WebP, BMP) or .ora")
    parser.add_argument("--no-sample", action="store_true", help="start without the sample photo")
    parser.add_argument(
        "--quit-after-start",
        action="store_true",
        help="quit as soon as the window is shown (a start-up check)",
    )
    args, _qt_args = parser.parse_known_args(argv)
    return args


def build_window(argv: list[str] | None = None) -> tuple[QApplication, MainWindow]:
    """Create the application and the shown main window with its first document."""
    from latent_atelier.app.document.preferences import Preferences, recovery_dir
    from latent_atelier.app.document.recovery import RecoveryStore

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    app = create_application([sys.argv[0], *argv])
    preferences = Preferences.load()
    scripted = args.quit_after_start  # nobody is there to answer a question
    store_dir = Path(tempfile.mkdtemp(prefix="latent-atelier-")) if scripted else recovery_dir()
    window = MainWindow(preferences, RecoveryStore(store_dir))
    window.show()
    if not scripted and window.offer_recovery():
        return app, window
    start = Path(args.file) if args.file else (None if args.no_sample else sample_photo())
    if start is not None:
        window.open_path(start)
    return app, window


def main(argv: list[str] | None = None) -> int:
    """Run the editor until its window closes; returns the exit status."""
    app, window = build_window(argv)
    if parse_args(list(sys.argv[1:] if argv is None else argv)).quit_after_start:
        app.processEvents()
        print(f"window shown: {window.windowTitle()}", flush=True)
        window.close()
        shutil.rmtree(window.autosave.store.directory, ignore_errors=True)  # the throwaway one
        return 0
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
