"""`latent-atelier-cli matte a.png b.png ... --out-dir out/`: a batch on local worker processes,
results per photo as each finishes, a failure summary, and a rerun that resumes."""

from __future__ import annotations

import numpy as np
from PIL import Image

from latent_atelier.app.cli import main

MATTE = [
    "--model",
    "random:furrygan:32:0:16",
    "--steps-w",
    "1",
    "--steps-noise",
    "0",
    "--source",
    "generator",
    "--workers",
    "1",
]


def _photos(folder, n: int = 3) -> list[str]:
    folder.mkdir()
    paths = []
    for i in range(n):
        pixels = np.random.default_rng(i).integers(0, 256, (40, 48, 3), dtype=np.uint8)
        path = folder / f"photo{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


def test_batch_writes_each_photo_reports_failures_and_resumes(tmp_path, capsys) -> None:
    photos = _photos(tmp_path / "photos")
    broken = tmp_path / "photos" / "broken.png"
    broken.write_bytes(b"not an image")
    out = tmp_path / "out"

    assert main(["matte", *photos, str(broken), "--out-dir", str(out), *MATTE]) == 1
    printed = capsys.readouterr().out
    assert "3 done, 0 already done (skipped), 1 failed" in printed
    assert "broken.png" in printed and "not a readable image" in printed
    for i in range(3):
        alpha = np.asarray(Image.open(out / f"photo{i}" / "alpha.png"))
        assert alpha.shape[:2] == (40, 48)
        assert (out / f"photo{i}" / ".done").is_file()
    assert not (out / "broken" / ".done").exists()

    # an interrupted batch: photo1's marker is missing, so only photo1 runs again
    (out / "photo1" / ".done").unlink()
    before = (out / "photo0" / "alpha.png").stat().st_mtime_ns
    assert main(["matte", *photos, "--out-dir", str(out), *MATTE]) == 0
    assert "1 done, 2 already done (skipped), 0 failed" in capsys.readouterr().out
    assert (out / "photo0" / "alpha.png").stat().st_mtime_ns == before
    assert (out / "photo1" / ".done").is_file()

    # other settings are another run: nothing of it is skipped
    from latent_atelier.app.remote.batch import plan_batch
    from latent_atelier.editors.registry import get_operation

    op = get_operation("matte")
    same = op.Params(steps_w=1, steps_noise=0, source="generator")
    other = op.Params(steps_w=1, steps_noise=0, source="generator", seed=5)
    assert not plan_batch(op.name, photos, same, out, "random:furrygan:32:0:16").todo
    assert len(plan_batch(op.name, photos, other, out, "random:furrygan:32:0:16").todo) == 3


def test_one_photo_runs_as_before_without_a_cluster(tmp_path, capsys) -> None:
    (photo,) = _photos(tmp_path / "photos", 1)
    out = tmp_path / "out"
    assert main(["matte", photo, "--out-dir", str(out), *MATTE]) == 0
    assert (out / "alpha.png").is_file()  # straight into --out-dir, no per-photo folder
    assert "batch:" not in capsys.readouterr().out


def test_worker_option_runs_the_photos_on_that_worker(tmp_path, capsys) -> None:
    from latent_atelier.app.remote.session import RemoteSession

    photos = _photos(tmp_path / "photos", 2)
    out = tmp_path / "out"
    with RemoteSession.local(n_workers=1) as cluster:
        address = cluster.client.scheduler.address
        args = MATTE[: MATTE.index("--workers")]  # the worker decides, not --workers
        assert main(["matte", *photos, "--out-dir", str(out), "--worker", address, *args]) == 0
    captured = capsys.readouterr()
    assert "2 done, 0 already done (skipped), 0 failed" in captured.out
    assert f"({address})" in captured.err  # the model line names the worker it ran on
    for i in range(2):
        assert (out / f"photo{i}" / "alpha.png").is_file()
