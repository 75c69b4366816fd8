"""Drive the real main window for documentation screenshots (run under xvfb-run).

One :class:`GuiDriver` opens the editor on the sample photo with the demo model (or a
random FurryGAN when the checkout has no demo model), runs operations to completion while
pumping the event loop, and saves window grabs. It runs on a fresh state of its own (settings,
preferences, recovery folder in a temporary folder): nothing the user left behind, such as
a recovery file, can raise a question that would wait for an answer.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class GuiDriver:
    """The main window on the sample photo, and helpers to run operations and take shots."""

    def __init__(self, out: Path, prefix: str, size: tuple[int, int] = (1440, 900)) -> None:
        self.app = QApplication.instance() or QApplication([sys.argv[0]])
        from latent_atelier.app.document.preferences import Preferences
        from latent_atelier.app.document.recovery import RecoveryStore
        from latent_atelier.app.qt.main_window import MainWindow
        from latent_atelier.app.qt.models.model_manager import demo_model_path
        from latent_atelier.app.qt.resources_path import sample_photo

        self.out, self.prefix = out, prefix
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp())
        self.tmp = tmp
        os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")  # a fresh state folder
        os.environ["XDG_STATE_HOME"] = str(tmp / "state")
        self.window = MainWindow(
            Preferences(),
            RecoveryStore(tmp / "rec"),
            settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
        )
        self.window.resize(*size)
        self.window.show()
        self.ops = self.window.operations
        self.window.open_path(sample_photo())
        self.ops.discover_now()
        if demo_model_path().exists():
            self.model = "demo FurryGAN"
            self.ops.manager.load_now(None)
        else:
            from latent_atelier.models.zoo import random_generator

            self.model = "random FurryGAN 64 px (no demo model in this checkout)"
            gen = random_generator(
                "furrygan", 64, 3, style_dim=64, n_mlp=2, channels={4: 64, 8: 64, 16: 64, 32: 48, 64: 32}
            )
            self.ops.manager.set_generator(gen, "random FurryGAN 64px")
        print("model:", self.model)

    @property
    def doc(self):
        """The open document."""
        return self.window.document

    def pump(self, seconds: float = 0.3) -> None:
        """Let Qt process events for ``seconds``."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            self.app.processEvents()
            time.sleep(0.01)

    def shot(self, name: str) -> Path:
        """Save a grab of the window as ``<out>/<prefix><name>.png``."""
        self.pump(0.4)
        path = self.out / f"{self.prefix}{name}.png"
        self.window.grab().save(str(path))
        print("wrote", path)
        return path

    def run(self, name: str, values: dict, choose: dict | None = None, mid_shot: str | None = None) -> float:
        """Run operation ``name`` with form ``values`` and picker choices (slot -> layer id);
        optionally take ``mid_shot`` when the first live preview shows. Returns seconds."""
        ops = self.ops
        page = ops.panel.select(name)
        page.form.set_values(values)
        page.pickers.refill(self.doc)
        for slot, layer_id in (choose or {}).items():
            picker = page.pickers.pickers[slot]
            picker.setCurrentIndex(picker.findData(layer_id))
        self.pump(0.1)
        done: list = []
        failed: list = []
        ops.runner.idle.connect(lambda: done.append(1))
        ops.runner.failed.connect(lambda _j, m, d: failed.append((m, d)))
        t0 = time.monotonic()
        ops.run_current()
        shot_taken = mid_shot is None
        while not done:
            self.app.processEvents()
            time.sleep(0.01)
            if not shot_taken and ops.overlay.has_preview:
                self.pump(0.5)
                self.shot(mid_shot)  # type: ignore[arg-type]
                shot_taken = True
        seconds = time.monotonic() - t0
        ops.runner.idle.disconnect()
        ops.runner.failed.disconnect()
        if failed:
            print("FAILED", name, failed[0][0], failed[0][1][-800:])
        self.pump(0.3)
        return seconds

    def close(self) -> None:
        """Close the window without asking to save."""
        self.window.document.dirty = False
        self.window.close()
