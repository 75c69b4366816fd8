"""Which generator the operations use, loaded lazily on a worker thread.

Nothing here imports torch until a model is actually needed: the window opens fast and
the first job (or "Load model...") pays for the import. The generator is loaded on the
worker thread that runs the first job, or on a loader thread for "Load model...".

A load on the loader thread can be cancelled (:meth:`ModelManager.cancel_load`): its result
is dropped, a new load may start at once, and the app can quit while it still runs (the
loader is a :class:`~latent_atelier.app.qt.worker_thread.WorkerThread`, a daemon thread).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from latent_atelier.app.qt.resources_path import resources_dir
from latent_atelier.app.qt.worker_thread import WorkerThread

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


class ModelManager(QObject):
    """Holds the current generator and device; loads models off the GUI thread."""

    loading = Signal(str)  # model name
    loaded = Signal(object)  # ModelInfo
    failed = Signal(str)
    device_changed = Signal(str)
    compute_changed = Signal(str)  # e.g. "2 threads, bf16 (auto)", emitted as a job starts

    def __init__(self, settings: QSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._lock = threading.RLock()
        self._gen: Any = None
        self._info: ModelInfo | None = None
        self._spec: str | None = None  # what to load at first use (None: the demo model)
        self._device = "auto"
        self._preferences: Any = None  # threads (0: every core) and precision, read at each job
        self._loader: WorkerThread | None = None
        self._loader_spec = ""

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
    def spec(self) -> str | None:
        """What the current model was loaded from (path or ``random:`` spec; None = demo)."""
        return self._spec

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

    def follow_preferences(self, preferences: Any) -> None:
        """Take CPU threads (``threads``, 0: every core) and the search ``precision`` from this
        Preferences object at every job (so an edit in the dialog applies to the next job)."""
        self._preferences = preferences

    @property
    def _threads(self) -> int:
        return int(getattr(self._preferences, "threads", 0) or 0)

    @property
    def _precision(self) -> str:
        return str(getattr(self._preferences, "precision", "auto") or "auto")

    @property
    def compute_threads(self) -> int:
        """The threads the next job runs with (the preference, or every core), without torch."""
        if self._threads:
            return self._threads
        from latent_atelier.models.cpu_threads import default_threads

        try:
            return default_threads()
        except ValueError:  # a bad $LATENT_ATELIER_THREADS: the job reports it
            return 1

    def set_device(self, device: str) -> None:
        """Run future jobs on ``device``; the generator moves at the next job."""
        if device != self._device:
            self._device = device
            self.device_changed.emit(device)

    def load_async(self, spec: str | os.PathLike) -> None:
        """Load a checkpoint (or 'random:...' spec) on a loader thread; emits loaded/failed.

        A load still running is cancelled first (its result will be dropped).
        """
        self.cancel_load()
        spec = str(spec)
        self.loading.emit(Path(spec).name)
        loader = WorkerThread(
            lambda: self._load(spec),
            "model-loader",
            on_result=lambda loaded: self._on_loaded(loader, spec, *loaded),
            on_error=lambda exc: self._on_load_failed(loader, exc),
            owner=self,
        )
        self._loader, self._loader_spec = loader, spec
        loader.start()

    @property
    def is_loading(self) -> bool:
        """True while a load started by :meth:`load_async` runs and was not cancelled."""
        return self._loader is not None

    def cancel_load(self) -> bool:
        """Drop the running load's result (the thread ends on its own); True if one ran."""
        loader, self._loader = self._loader, None
        if loader is None:
            return False
        self.failed.emit(f"loading {Path(self._loader_spec).name} was cancelled")
        return True

    def wait_loader(self, timeout_ms: int = 60000) -> bool:
        """Block until a running load ends (tests and shutdown); False on a timeout."""
        loader = self._loader
        return True if loader is None else loader.wait(timeout_ms)

    def shutdown(self, timeout_ms: int = 2000) -> None:
        """Closing: cancel a running load and give it a moment; a stuck one is left behind
        (a daemon thread does not keep the process alive)."""
        loader = self._loader
        self.cancel_load()
        if loader is not None:
            loader.wait(timeout_ms)

    def _on_loaded(self, loader: WorkerThread, spec: str, gen: Any, info: ModelInfo) -> None:
        if loader is not self._loader:
            return  # a cancelled or superseded load: its result is dropped
        self._loader = None
        self._install(gen, info, spec)
        self._remember(spec)

    def _on_load_failed(self, loader: WorkerThread, exc: BaseException) -> None:
        if loader is self._loader:  # not a cancelled or superseded load
            self._loader = None
            self.failed.emit(f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ worker side
    def load_now(self, spec: str | None) -> Any:
        """Load ``spec`` (None: the demo model) on the calling thread and make it current."""
        gen, info = self._load(spec)
        self._install(gen, info, self._resolve(spec))
        return gen

    def _install(self, gen: Any, info: ModelInfo, spec: str) -> None:
        with self._lock:
            self._gen, self._info, self._spec = gen, info, spec
        self.loaded.emit(info)  # queued to GUI-thread receivers

    def _resolve(self, spec: str | None) -> str:
        return str(demo_model_path()) if spec is None else spec

    def _load(self, spec: str | None) -> tuple[Any, ModelInfo]:
        """Build the generator of ``spec`` (None: the demo model); changes no state."""
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
        return gen, describe_generator(gen, name)

    def generator_for_job(self) -> Any:
        """The generator on the chosen device, loading it first if needed (worker thread)."""
        with self._lock:
            gen = self._gen
            if gen is None:
                gen = self.load_now(self._spec)
            return self._on_device(gen)

    def _on_device(self, gen: Any) -> Any:
        from latent_atelier.models.devices import pick_device, set_compute_policy

        target = pick_device(None if self._device == "auto" else self._device)
        # every core by default: idle OpenMP threads sleep (models/__init__.py), so the GUI
        # thread still gets its turn (benchmarks/bench_gui_responsiveness.py)
        policy = set_compute_policy(self._threads or None, self._precision)
        try:
            self.compute_changed.emit(policy.describe(target, gen))
        except Exception as exc:  # e.g. bf16 asked for where there is none: the job says it
            self.compute_changed.emit(str(exc).split(";")[0])
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
