"""Which generator the operations use, loaded lazily on a worker thread.

Nothing here imports torch until a model is actually needed: the window opens fast and
the first job (or "Load model...") pays for the import. The generator is loaded on the
worker thread that runs the first job, or on a loader thread for "Load model...".
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, QThread, Signal

from latent_atelier.app.qt.resources_path import resources_dir

DEMO_MODEL_NAME = "furrygan-demo.safetensors"  # the name latent_atelier.models.zoo uses
MODEL_FILTER = "Generators (*.safetensors *.pt *.pkl);;All files (*)"
RECENT_KEY = "models/recent"
MAX_RECENT = 8


class NoModelError(RuntimeError):
    """No generator is loaded and the bundled demo model is missing."""


def demo_model_path() -> Path:
    """Where the bundled demo model lives (same rule as models.zoo, without importing torch)."""
    env = os.environ.get("LATENT_ATELIER_RESOURCES")
    base = Path(env) if env else resources_dir()
    return base / "models" / DEMO_MODEL_NAME


@dataclass(frozen=True)
class ModelInfo:
    """What the UI shows of a generator."""

    name: str
    arch: str
    resolution: int
    n_latent: int
    latent_shapes: dict[str, tuple[int, int]]

    @property
    def summary(self) -> str:
        """'furrygan 256 px, 14 x (384+128)' style one-liner."""
        dims = "+".join(str(s[1]) for s in self.latent_shapes.values())
        return f"{self.arch} {self.resolution} px, W+ {self.n_latent} x {dims}"


def describe_generator(gen: Any, name: str) -> ModelInfo:
    """ModelInfo of a loaded generator."""
    arch = str(gen.architecture().get("arch", type(gen).__name__))
    shapes = {k: (int(v[0]), int(v[1])) for k, v in gen.latent_shapes().items()}
    return ModelInfo(name, arch, int(gen.resolution), int(gen.n_latent), shapes)


class _LoaderThread(QThread):
    done = Signal(object, str)  # generator | None, error message

    def __init__(self, manager: ModelManager, spec: str) -> None:
        super().__init__()  # no Qt parent: the manager keeps it referenced until it ends
        self.manager = manager
        self.spec = spec

    def run(self) -> None:
        try:
            gen = self.manager.load_now(self.spec)
        except Exception as exc:
            self.done.emit(None, f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(gen, "")


class ModelManager(QObject):
    """Holds the current generator and device; loads models off the GUI thread."""

    loading = Signal(str)  # model name
    loaded = Signal(object)  # ModelInfo
    failed = Signal(str)
    device_changed = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._lock = threading.RLock()
        self._gen: Any = None
        self._info: ModelInfo | None = None
        self._spec: str | None = None  # what to load at first use (None: the demo model)
        self._device = "auto"
        self._loader: _LoaderThread | None = None
        self._finished_loader: _LoaderThread | None = None  # freed at the next load

    # ------------------------------------------------------------------ state
    @property
    def generator(self) -> Any:
        """The loaded generator, or None."""
        return self._gen

    @property
    def info(self) -> ModelInfo | None:
        """Architecture of the loaded generator, or None."""
        return self._info

    @property
    def device(self) -> str:
        """The chosen device id ('auto', 'cpu', 'cuda:0', 'mps')."""
        return self._device

    @property
    def arch(self) -> str | None:
        """'stylegan2' / 'furrygan' of the loaded model (None when nothing is loaded)."""
        return self._info.arch if self._info else None

    def demo_available(self) -> bool:
        """True when the bundled demo model file exists."""
        return demo_model_path().exists()

    def status_text(self) -> str:
        """A short line for the status bar."""
        if self._info is not None:
            return f"Model: {self._info.name} ({self._info.summary})"
        if self._spec is not None:
            return f"Model: {Path(self._spec).name} (loads at first use)"
        if self.demo_available():
            return "Model: demo FurryGAN (loads at first use)"
        return "No model: the demo model is missing; use Model > Load model..."

    # ------------------------------------------------------------------ changes
    def set_generator(self, gen: Any, name: str = "custom") -> ModelInfo:
        """Use an already built generator (tests, scripts)."""
        info = describe_generator(gen, name)
        with self._lock:
            self._gen, self._info = gen, info
        self.loaded.emit(info)
        return info

    def set_device(self, device: str) -> None:
        """Run future jobs on ``device``; the generator moves at the next job."""
        if device != self._device:
            self._device = device
            self.device_changed.emit(device)

    def load_async(self, spec: str | os.PathLike) -> None:
        """Load a checkpoint (or 'random:...' spec) on a loader thread; emits loaded/failed."""
        if self._loader is not None:
            self.failed.emit("a model is already loading; wait for it to finish")
            return
        spec = str(spec)
        self.loading.emit(Path(spec).name)
        loader = _LoaderThread(self, spec)
        loader.done.connect(self._on_loader_done)
        self._loader = loader
        loader.start()

    def wait_loader(self, timeout_ms: int = 60000) -> bool:
        """Block until a running load ends (tests and shutdown)."""
        return self._loader.wait(timeout_ms) if self._loader is not None else True

    def _on_loader_done(self, gen: Any, error: str) -> None:
        loader, self._loader = self._loader, None
        if loader is not None:
            loader.wait()
        self._finished_loader = loader  # not freed inside its own signal
        if gen is None:
            self.failed.emit(error)
            return
        self._remember(loader.spec if loader else "")

    # ------------------------------------------------------------------ worker side
    def load_now(self, spec: str | None) -> Any:
        """Load ``spec`` (None: the demo model) on the calling thread and make it current."""
        from latent_atelier.models.devices import pick_device
        from latent_atelier.models.zoo import load_model

        if spec is None:
            path = demo_model_path()
            if not path.exists():
                raise NoModelError(
                    f"the bundled demo model {path} is missing: use Model > Load model... "
                    "to choose a generator file (.safetensors, .pt or .pkl)"
                )
            spec = str(path)
        device = pick_device(None if self._device == "auto" else self._device)
        gen = load_model(spec, device=device)
        if hasattr(gen, "requires_grad_"):
            gen.requires_grad_(False)
        name = spec if spec.startswith("random:") else Path(spec).name
        info = describe_generator(gen, name)
        with self._lock:
            self._gen, self._info, self._spec = gen, info, spec
        self.loaded.emit(info)  # queued to GUI-thread receivers
        return gen

    def generator_for_job(self) -> Any:
        """The generator on the chosen device, loading it first if needed (worker thread)."""
        with self._lock:
            gen = self._gen
            if gen is None:
                gen = self.load_now(self._spec)
            return self._on_device(gen)

    def _on_device(self, gen: Any) -> Any:
        import torch

        from latent_atelier.models.devices import pick_device

        target = pick_device(None if self._device == "auto" else self._device)
        if target.type == "cpu":  # leave one core to the GUI thread
            torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
        try:
            current = next(gen.parameters()).device
        except (StopIteration, AttributeError):
            return gen
        if current != target:
            gen = gen.to(target)
            self._gen = gen
        return gen

    # ------------------------------------------------------------------ recent
    def recent_models(self) -> list[str]:
        """Recently loaded model files, newest first (existing files only)."""
        if self.settings is None:
            return []
        value = self.settings.value(RECENT_KEY, [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if p and Path(p).exists()]

    def _remember(self, spec: str) -> None:
        if self.settings is None or not spec or spec.startswith("random:"):
            return
        items = [spec, *[p for p in self.recent_models() if p != spec]][:MAX_RECENT]
        self.settings.setValue(RECENT_KEY, items)
