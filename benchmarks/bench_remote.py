"""Remote workers and batches (Dask distributed, loopback): what parallel workers buy and what a
remote job costs over a local one.

* ``batch``: ``--photos`` small photos (crops of the bundled sample photos, 64 px) matted as a
  batch with 1 and then 2 local worker processes (tiny random FurryGAN, ``--steps`` W+ steps,
  the generator's alpha as the source): the cluster's start-up, the warm-up (every worker
  imports torch, loads the model and mattes one photo, all at once), the batch's wall time on
  the warm workers, and the ratio 1 worker / 2 workers.
* ``embed_overhead``: a 2-step embed of a 32 px photo run locally (model already loaded) and on
  a warm loopback worker (model cached there): median seconds of ``--repeat`` runs each,
  interleaved, and the difference. The worker runs torch with one thread (Dask's default for
  worker processes), the local run with the process's default.

Run: ``.venv/bin/python -m benchmarks.bench_remote [--photos 32] [--steps 2]``
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import count_options, report
from latent_atelier.app.remote.batch import plan_batch, run_batch
from latent_atelier.app.remote.session import RemoteSession
from latent_atelier.editors.operation import Progress
from latent_atelier.editors.registry import get_operation

MATTE_MODEL = "random:furrygan:32:0:16"
EMBED_MODEL = "random:stylegan2:32:0:16"


def sample_photos(count: int, size: int = 64) -> list[np.ndarray]:
    """``count`` crops of the bundled sample photos, resized to ``size`` px."""
    import cv2

    from latent_atelier.app.cli_io import read_photo
    from latent_atelier.resources import resources_dir

    sources = sorted((resources_dir() / "samples").glob("*.png"))
    rng = np.random.default_rng(0)
    photos = []
    for i in range(count):
        image = read_photo(sources[i % len(sources)])
        h, w = image.shape[:2]
        side = int(min(h, w) * rng.uniform(0.5, 0.9))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = image[y : y + side, x : x + side]
        photos.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))
    return photos


def _warm_up(photo: np.ndarray, steps: int) -> None:
    """On a worker: import torch, load the model into the worker's cache, run one matte."""
    from latent_atelier.app.remote.worker_tasks import ModelRef, cached_model

    op = get_operation("matte")
    gen, _device = cached_model(ModelRef("random", MATTE_MODEL), None)
    op.run(gen, {"photo": photo}, op.Params(steps_w=steps, steps_noise=0, source="generator"), Progress())


def time_batch(photos: list[np.ndarray], workers: int, steps: int) -> dict:
    """One batch with ``workers`` local workers; outputs go to a temporary folder."""
    op = get_operation("matte")
    params = op.Params(steps_w=steps, steps_noise=0, source="generator")
    folder = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    try:
        files = []
        for i, photo in enumerate(photos):
            path = folder / "in" / f"photo{i:02d}.npy"
            path.parent.mkdir(exist_ok=True)
            np.save(path, photo)
            files.append(path)
        t0 = time.perf_counter()
        with RemoteSession.local(n_workers=workers) as session:
            started = time.perf_counter() - t0
            t0 = time.perf_counter()
            session.client.run(_warm_up, photos[0], steps)  # every worker, at once
            warm_up = time.perf_counter() - t0
            plan = plan_batch(op.name, files, params, folder / "out", MATTE_MODEL)
            t1 = time.perf_counter()
            report = run_batch(
                op,
                plan,
                lambda p: {"photo": np.load(p)},
                lambda result, out: [],
                session,
                model=MATTE_MODEL,
                show_bar=False,
            )
            seconds = time.perf_counter() - t1
        return {
            "workers": workers,
            "photos": len(photos),
            "cluster_start_s": started,
            "warm_up_s": warm_up,
            "batch_s": seconds,
            "per_photo_s": seconds / len(photos),
            "done": len(report.done),
            "failed": len(report.failed),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def embed_overhead(repeat: int) -> dict:
    """Median seconds of a 2-step embed, local and on a warm loopback worker."""
    from latent_atelier.models.zoo import load_model

    op = get_operation("embed")
    params = op.Params(steps_w=2, steps_noise=0)
    photo = np.random.default_rng(0).uniform(0, 1, (32, 32, 3)).astype(np.float32)
    gen = load_model(EMBED_MODEL, "cpu")
    op.run(gen, {"photo": photo}, params, Progress())  # warm: VGG weights, first-call costs
    local, remote = [], []
    with RemoteSession.local(n_workers=1) as session:
        session.run("embed", {"photo": photo}, params, Progress(), spec=EMBED_MODEL)  # warm
        for _ in range(repeat):  # interleaved, so a change in the machine's load hits both
            t0 = time.perf_counter()
            op.run(gen, {"photo": photo}, params, Progress())
            local.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            session.run("embed", {"photo": photo}, params, Progress(), spec=EMBED_MODEL)
            remote.append(time.perf_counter() - t0)
    lm, rm = statistics.median(local), statistics.median(remote)
    return {
        "steps": 2,
        "local_median_s": lm,
        "remote_median_s": rm,
        "overhead_s": rm - lm,
        "remote_over_local": rm / lm,
        "repeat": repeat,
    }


def main(argv: list[str] | None = None) -> dict:
    args = count_options(__doc__, argv, photos=32, steps=2, repeat=5)
    photos = sample_photos(args.photos)
    one = time_batch(photos, 1, args.steps)
    two = time_batch(photos, 2, args.steps)
    figures = {
        "batch": {
            "model": MATTE_MODEL,
            "steps_w": args.steps,
            "one_worker": one,
            "two_workers": two,
            "speedup_two_over_one": one["batch_s"] / two["batch_s"],
        },
        "embed_overhead": embed_overhead(args.repeat),
    }
    return report("remote", figures)


if __name__ == "__main__":
    main()
