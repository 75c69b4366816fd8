"""The model manager: lazy demo model, Load model on a thread, recent models, devices."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from latent_atelier.app.qt.models.device_widget import ModelStatusWidget
from latent_atelier.app.qt.models.model_manager import ModelManager, NoModelError, demo_model_path

TINY = {4: 32, 8: 32, 16: 32, 32: 32}


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "models.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    from latent_atelier.models.checkpoints import save_generator
    from latent_atelier.models.zoo import random_generator

    path = tmp_path / "tiny-furry.safetensors"
    save_generator(random_generator("furrygan", 32, 0, style_dim=32, n_mlp=2, channels=TINY), path)
    return path


def test_load_model_runs_on_a_thread_and_shows_the_architecture(qtbot, settings, checkpoint):
    manager = ModelManager(settings)
    widget = ModelStatusWidget(manager)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(manager.loaded, timeout=60_000) as blocker:
        manager.load_async(checkpoint)
    info = blocker.args[0]
    assert (info.arch, info.resolution, info.n_latent) == ("furrygan", 32, 8)
    assert info.latent_shapes == {"fg": (8, 24), "bg": (8, 8)}
    assert "furrygan 32 px" in widget.model_label.toolTip()
    manager.wait_loader()
    qtbot.waitUntil(lambda: manager.recent_models() == [str(checkpoint)], timeout=5_000)
    assert manager.generator is not None
    assert manager.generator_for_job() is manager.generator  # no reload at the next job
    assert widget.device_combo.count() >= 2  # "auto" plus at least the CPU
    assert "cpu" in [widget.device_combo.itemData(i) for i in range(widget.device_combo.count())]


def test_a_bad_model_file_is_a_message_and_keeps_the_old_model(qtbot, settings, tmp_path):
    from latent_atelier.models.zoo import random_generator

    manager = ModelManager(settings)
    manager.set_generator(random_generator("stylegan2", 32, 0, style_dim=32, n_mlp=2, channels=TINY), "old")
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    with qtbot.waitSignal(manager.failed, timeout=30_000) as blocker:
        manager.load_async(bad)
    assert blocker.args[0]
    assert manager.info is not None and manager.info.name == "old"
    assert manager.recent_models() == []


def test_missing_demo_model_says_so_and_offers_load_model(monkeypatch, tmp_path, settings):
    monkeypatch.setenv("LATENT_ATELIER_RESOURCES", str(tmp_path / "no-resources"))
    manager = ModelManager(settings)
    assert not demo_model_path().exists()
    assert "missing" in manager.status_text() and "Load model" in manager.status_text()
    with pytest.raises(NoModelError, match="Load model"):
        manager.generator_for_job()


def test_demo_model_is_loaded_at_first_use_not_before(monkeypatch, tmp_path, settings, checkpoint):
    resources = tmp_path / "res"
    (resources / "models").mkdir(parents=True)
    checkpoint.rename(resources / "models" / "furrygan-demo.safetensors")
    monkeypatch.setenv("LATENT_ATELIER_RESOURCES", str(resources))
    manager = ModelManager(settings)
    assert manager.generator is None and "loads at first use" in manager.status_text()
    gen = manager.generator_for_job()  # what the worker thread calls
    assert gen is manager.generator and manager.arch == "furrygan"


def test_choosing_a_device_moves_the_generator_at_the_next_job(qtbot, settings):
    from latent_atelier.models.zoo import random_generator

    manager = ModelManager(settings)
    manager.set_generator(random_generator("stylegan2", 32, 0, style_dim=32, n_mlp=2, channels=TINY), "tiny")
    with qtbot.waitSignal(manager.device_changed):
        manager.set_device("cpu")
    gen = manager.generator_for_job()
    assert next(gen.parameters()).device.type == "cpu"
