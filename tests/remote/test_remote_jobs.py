"""Operations on a Dask worker over loopback: same result as local, previews, cancel, a killed
worker. One local cluster (one worker process) is started for this file and stopped after it."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from latent_atelier.app.remote.session import RemoteSession, RemoteWorkerLost
from latent_atelier.editors.operation import Cancelled, Progress
from latent_atelier.editors.registry import get_operation

MODEL = "random:stylegan2:32:0:16"  # a tiny StyleGAN2 (16 channels), built from its seed


@pytest.fixture(scope="module")
def session():
    with RemoteSession.local(n_workers=1) as s:
        yield s


def _photo() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, (32, 32, 3)).astype(np.float32)


def test_remote_embed_equals_local_embed_and_previews_arrive(session) -> None:
    from latent_atelier.models.zoo import load_model

    op = get_operation("embed")
    params = op.Params(steps_w=2, steps_noise=0, seed=3)
    local = op.run(load_model(MODEL, "cpu"), {"photo": _photo()}, params, Progress())
    previews, steps = [], []

    def on_step(i, n, preview, metrics):
        steps.append((i, n))
        if preview is not None:
            previews.append(preview)

    remote = session.run("embed", {"photo": _photo()}, params, Progress(on_step), spec=MODEL)
    # same seed, same model: the same numbers up to float32 summation order (the worker runs
    # torch with one thread)
    np.testing.assert_allclose(remote.outputs["result"], local.outputs["result"], atol=1e-5)
    for key, w in local.outputs["latent"].w.items():
        np.testing.assert_allclose(remote.outputs["latent"].w[key].numpy(), w.numpy(), atol=1e-5)
    assert steps[-1] == (2, 2)
    assert previews and previews[0].shape == (32, 32, 3) and previews[0].dtype == np.float32
    assert session.where.startswith("cpu on ")
    # the model stays loaded on the worker: asking again finds the same process's cache
    assert session.model_info(MODEL)["resolution"] == 32


def test_a_checkpoint_travels_once_and_stays_loaded_on_the_worker(session, tmp_path) -> None:
    from latent_atelier.models.checkpoints import save_generator
    from latent_atelier.models.zoo import load_model

    path = tmp_path / "tiny.safetensors"
    save_generator(load_model(MODEL, "cpu"), path)
    sent: list[object] = []
    scatter = session.client.scatter
    session.client.scatter = lambda data, **kw: sent.append(data) or scatter(data, **kw)
    try:
        first = session.model_info(path)
        op = get_operation("embed")
        params = op.Params(steps_w=1, steps_noise=0)
        from_file = session.run("embed", {"photo": _photo()}, params, Progress(), spec=path)
        from_spec = session.run("embed", {"photo": _photo()}, params, Progress(), spec=MODEL)
    finally:
        session.client.scatter = scatter
    assert [type(d) for d in sent] == [bytes]  # the file's bytes went over once, not per job
    assert first["arch"] == "stylegan2" and first["resolution"] == 32
    np.testing.assert_allclose(from_file.outputs["result"], from_spec.outputs["result"], atol=1e-6)

    def cached_keys():
        from latent_atelier.app.remote import worker_tasks

        return [key for key, _device in worker_tasks._models]

    (keys,) = session.client.run(cached_keys).values()
    assert any(key.startswith("bytes:") and len(key) == len("bytes:") + 64 for key in keys)


def test_cancel_stops_the_job_within_a_step_and_changes_nothing(session) -> None:
    photo = _photo()
    before = photo.copy()
    seen: list[int] = []

    def on_step(i, n, preview, metrics):
        seen.append(i)
        if i >= 2:
            progress.cancel()

    progress = Progress(on_step)
    with pytest.raises(Cancelled):
        session.run(
            "embed",
            {"photo": photo},
            get_operation("embed").Params(steps_w=5000, steps_noise=0),
            progress,
            spec=MODEL,
        )
    assert 2 <= max(seen) < 100  # stopped long before its 5000 steps
    assert np.array_equal(photo, before)
    # the worker is free again at once: a short job runs next
    out = session.run(
        "embed",
        {"photo": photo},
        get_operation("embed").Params(steps_w=1, steps_noise=0),
        Progress(),
        spec=MODEL,
    )
    assert out.outputs["result"].shape == (32, 32, 3)


def test_a_killed_worker_gives_a_clear_error_and_the_session_keeps_working(session) -> None:
    pids = session.client.run(os.getpid)
    pid = next(iter(pids.values()))
    killed = threading.Event()

    def on_step(i, n, preview, metrics):
        if not killed.is_set():
            killed.set()
            os.kill(pid, signal.SIGKILL)

    with pytest.raises(RemoteWorkerLost, match="stopped during the job"):
        session.run(
            "embed",
            {"photo": _photo()},
            get_operation("embed").Params(steps_w=5000, steps_noise=0),
            Progress(on_step),
            spec=MODEL,
        )
    session.client.wait_for_workers(1, timeout=120)  # the nanny starts a fresh worker
    assert session.model_info(MODEL)["pid"] != pid
