"""bench_furrygan_eval's resumable inversion: an interrupted evaluation continues where it
stopped and gives the same inversions as an uninterrupted one; LPIPS and the FD floor ratio."""

from __future__ import annotations

import numpy as np

from benchmarks import bench_furrygan_eval as bfe
from benchmarks import eval_common as ec
from tests.models.test_eval_harness import TINY, write_fake_dataset


def test_inversion_resumes_from_its_partial_file(tmp_path):
    gen = ec.load_furrygan(TINY)[0]
    data = write_fake_dataset(tmp_path / "portraits", count=4)
    images = ec.load_eval_samples(data, 4, gen.resolution).images
    settings = ec.InversionSettings(steps_w=2, steps_noise=1)
    whole = bfe.invert_resumable(gen, images, settings, 2, tmp_path / "a.npz", "k", None)
    # stop after the first batch (deadline already past), then continue from the file
    first = bfe.invert_resumable(gen, images[:2], settings, 2, tmp_path / "b.npz", "k", None)
    assert len(first.alpha) == 2
    rest = bfe.invert_resumable(gen, images, settings, 2, tmp_path / "b.npz", "k", None)
    assert len(rest.alpha) == 4
    np.testing.assert_allclose(rest.alpha, whole.alpha, atol=1e-6)
    np.testing.assert_allclose(rest.psnr, whole.psnr, atol=1e-4)
    # a shorter evaluation takes the first images of a longer one's file, unchanged
    head = bfe.invert_resumable(gen, images[:3], settings, 2, tmp_path / "b.npz", "k", None)
    np.testing.assert_array_equal(head.alpha, rest.alpha[:3])
    # another model or settings (another key) never reuses the file
    other = bfe.invert_resumable(gen, images[:2], settings, 2, tmp_path / "b.npz", "other", None)
    assert len(other.alpha) == 2
    lp = bfe.inversion_lpips(rest, images, gen.device)
    assert lp.shape == (4,) and np.all(lp >= 0) and np.isfinite(lp).all()
    assert float(bfe.inversion_lpips(rest, rest.images, gen.device).max()) < 1e-6
