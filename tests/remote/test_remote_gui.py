"""The GUI's job runner with a remote worker (loopback cluster): the result comes back through
the runner's usual signals, the panel names the worker, and Cancel leaves the document alone."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.preferences import Preferences
from latent_atelier.app.qt.jobs.job import Job
from latent_atelier.app.qt.jobs.job_panel import JobPanel
from latent_atelier.app.qt.jobs.remote_target import close_sessions, remote_target_for
from latent_atelier.app.qt.jobs.runner import JobRunner
from latent_atelier.app.remote.session import RemoteSession
from latent_atelier.editors.registry import get_operation

MODEL = "random:stylegan2:32:0:16"


class _Manager:
    """What the target reads from the model manager: the model's spec and the device."""

    spec = MODEL
    device = "auto"


@pytest.fixture(scope="module")
def worker_address():
    with RemoteSession.local(n_workers=1) as cluster:
        yield cluster.client.scheduler.address
        close_sessions()  # the jobs' own connections, before their cluster goes


def _doc_state(doc: Document) -> list[tuple[str, bytes]]:
    return [(layer.id, np.asarray(layer.pixels).tobytes()) for layer in doc.layers]


def test_preference_routes_jobs_to_the_worker(worker_address, qtbot) -> None:
    assert remote_target_for(Preferences(), _Manager()) is None  # default: run here
    prefs = Preferences(worker_address=worker_address)
    prefs.validate()
    runner = JobRunner()
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    photo = np.random.default_rng(0).uniform(0, 1, (32, 32, 3)).astype(np.float32)
    op = get_operation("embed")
    job = Job(op, {"photo": photo}, op.Params(steps_w=2, steps_noise=0))
    job.remote = remote_target_for(prefs, _Manager())
    stages: list[str] = []
    runner.progressed.connect(lambda j, i, n, stage, m, eta: stages.append(stage))
    with qtbot.waitSignal(runner.finished, timeout=180_000) as done:
        runner.submit(job)
    finished_job, result = done.args
    assert finished_job is job and result.outputs["result"].shape == (32, 32, 3)
    assert job.context["where"].startswith("cpu on ")
    assert any(job.context["where"] in stage for stage in stages)


def test_cancel_button_stops_a_remote_job_and_the_document_stays_bit_identical(worker_address, qtbot) -> None:
    photo = np.random.default_rng(1).uniform(0, 1, (32, 32, 3)).astype(np.float32)
    doc = Document.from_image(photo, name="Photo")
    before = _doc_state(doc)
    runner = JobRunner()
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    op = get_operation("embed")
    layer_pixels = np.asarray(doc.layers[0].pixels)[..., :3].astype(np.float32).copy()
    job = Job(op, {"photo": layer_pixels}, op.Params(steps_w=5000, steps_noise=0), context={"doc": doc})
    job.remote = remote_target_for(Preferences(worker_address=worker_address), _Manager())
    steps: list[int] = []
    runner.progressed.connect(lambda j, i, n, stage, m, eta: steps.append(i))
    runner.submit(job)
    qtbot.waitUntil(lambda: len(steps) > 0, timeout=180_000)
    with qtbot.waitSignal(runner.cancelled, timeout=60_000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert max(steps) < 5000
    assert _doc_state(doc) == before
    assert not doc.can_undo
    runner.wait()


def test_preferences_dialog_sets_the_worker_and_a_bad_address_is_refused(qtbot, tmp_path) -> None:
    from latent_atelier.app.qt.dialogs.preferences_dialog import PreferencesDialog

    prefs = Preferences()
    dialog = PreferencesDialog(prefs)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.worker_address, "tls://gpu-box:8786")
    qtbot.keyClicks(dialog.worker_tls_dir, str(tmp_path / "certs"))
    dialog.apply()
    prefs.save(tmp_path / "prefs.json")
    saved = Preferences.load(tmp_path / "prefs.json")
    assert (saved.worker_address, saved.worker_tls_dir) == ("tls://gpu-box:8786", str(tmp_path / "certs"))
    target = remote_target_for(saved, _Manager())
    assert target is not None and target.address == "tls://gpu-box:8786"
    dialog.worker_address.clear()
    qtbot.keyClicks(dialog.worker_address, "http://gpu-box")
    dialog.apply()
    with pytest.raises(ValueError, match="tcp:// or tls://"):
        prefs.save(tmp_path / "prefs.json")
