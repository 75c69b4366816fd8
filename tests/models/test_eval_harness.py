"""The evaluation harnesses' plumbing on a tiny random FurryGAN and a 3-sample fake dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import linalg

from benchmarks import bench_furrygan_eval, bench_mask_limits, bench_matting_eval
from benchmarks import eval_common as ec
from tests.models.fake_portraits import DATA_SIZE, fake_sample, write_fake_dataset

TINY = "random:furrygan:32:0:32"


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory) -> Path:
    return write_fake_dataset(tmp_path_factory.mktemp("eval") / "portraits")


@pytest.fixture(scope="module")
def tiny_furrygan():
    return ec.load_furrygan(TINY)[0]


def test_a_training_checkpoint_folder_loads_with_its_architecture(tiny_furrygan, tmp_path):
    import torch
    from safetensors.torch import save_file

    folder = tmp_path / "run" / "checkpoint"
    folder.mkdir(parents=True)
    state = {k: v.contiguous() for k, v in tiny_furrygan.state_dict().items()}
    save_file(state, str(folder / "g_ema.safetensors"))
    arch = tiny_furrygan.architecture()
    (folder / "state.json").write_text(json.dumps({"step": 250, "architecture": arch}))
    gen, ident = ec.load_furrygan(str(folder))
    assert ident["step"] == 250 and len(ident["sha256_16"]) == 16
    lat = tiny_furrygan.random_latent(3)
    with torch.no_grad():
        a = gen.synthesize(lat, return_alpha=True).alpha
        b = tiny_furrygan.synthesize(lat, return_alpha=True).alpha
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="not a FurryGAN"):
        ec.load_furrygan("random:stylegan2:16:0:16")


def test_eval_samples_are_resized_to_the_model(fake_data):
    s = ec.load_eval_samples(fake_data, 2, 32)
    assert s.images.shape == (2, 32, 32, 3) and s.alpha.shape == (2, 32, 32)
    assert s.images_full.shape == (2, DATA_SIZE, DATA_SIZE, 3)
    assert s.alpha.min() >= 0.0 and s.alpha.max() <= 1.0
    # area resizing keeps the figure's coverage
    assert abs(s.alpha.mean() - s.alpha_full.mean()) < 0.02
    with pytest.raises(ValueError, match="at most 3"):
        ec.load_eval_samples(fake_data, 4, 32)


def test_frechet_distance_matches_the_sqrtm_formula():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(400, 6))
    b = rng.normal(size=(400, 6)) @ np.diag([0.5, 1, 2, 1, 3, 1]) + 0.7
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real)
    assert ec.frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)
    assert abs(ec.frechet_distance(a, a)) < 1e-8
    # fewer samples than dimensions (singular covariances) still gives a finite distance
    few = ec.frechet_distance(rng.normal(size=(3, 16)), rng.normal(size=(3, 16)) + 1)
    assert np.isfinite(few) and few > 0


def test_segmentation_table_scores_perfect_and_inverted_masks():
    gt = np.zeros((2, 8, 8), np.float32)
    gt[:, 2:6, 2:6] = 1.0
    perfect = ec.segmentation_table(gt, gt)
    assert perfect["mean_over_images"]["miou"] == 1.0
    inverted = ec.segmentation_table(1.0 - gt, gt)
    assert inverted["pooled_pixels"]["iou_fg"] == 0.0
    assert inverted["mean_over_images"]["accuracy"] == 0.0


def test_batched_inversion_improves_on_the_mean_latent(tiny_furrygan, fake_data):
    gen = tiny_furrygan
    images = ec.load_eval_samples(fake_data, 2, gen.resolution).images
    settings = ec.InversionSettings(steps_w=8, steps_noise=6, lr_w=0.05)
    inv = ec.invert_batch(gen, images, settings)
    assert inv.images.shape == images.shape and inv.alpha.shape == (2, 32, 32)
    zero = ec.invert_batch(gen, images, ec.InversionSettings(steps_w=0, steps_noise=0))
    assert (inv.psnr_w > zero.psnr).all()
    assert (inv.psnr > inv.psnr_w).all()
    # mask-head noise maps (the last two) stay fixed unless asked for
    n = len(gen.noise_shapes)
    assert ec._noise_choice(gen, False) == [True] * (n - 2) + [False, False]
    assert all(ec._noise_choice(gen, True))
    with pytest.raises(ValueError, match="needs"):
        ec.invert_batch(gen, images[:, :16, :16], settings)


def test_inversions_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    arr = {k: rng.random((2, 4, 4)).astype(np.float32) for k in ("alpha", "coarse", "alpha_w")}
    inv = ec.Inversions(
        images=rng.random((2, 4, 4, 3)),
        psnr_w=np.ones(2),
        psnr=np.ones(2) * 2,
        seconds=1.5,
        model="x#abc",
        start=3,
        **arr,
    )
    inv.save(tmp_path / "inv.npz")
    back = ec.Inversions.load(tmp_path / "inv.npz")
    assert back.model == "x#abc" and back.start == 3 and back.seconds == 1.5
    np.testing.assert_array_equal(back.alpha, inv.alpha)


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04 truncated"])
def test_a_broken_inversions_file_is_refused_with_what_to_do(tmp_path, content):
    bad = tmp_path / "inv.npz"
    bad.write_bytes(content)
    with pytest.raises(ValueError, match=r"is not saved inversions.*--save-inversions"):
        ec.Inversions.load(bad)


def test_each_evaluation_name_saves_its_own_inversions_by_default():
    """Two evaluations under different --name no longer overwrite each other's inversions; the
    default name keeps the file bench_matting_eval reads by default."""
    a = bench_furrygan_eval.parse_args(["--name", "probe_a"]).save_inversions
    b = bench_furrygan_eval.parse_args(["--name", "probe_b"]).save_inversions
    assert Path(a).name == "probe_a_inversions.npz" and a != b
    default = bench_furrygan_eval.parse_args([]).save_inversions
    assert default == bench_matting_eval.parse_args([]).inversions
    assert bench_furrygan_eval.parse_args(["--save-inversions", ""]).save_inversions == ""


def test_benchmarks_run_end_to_end(fake_data, tmp_path, monkeypatch):
    import benchmarks.common as common

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    inv_path = tmp_path / "inv.npz"
    figs = tmp_path / "figs"
    out = bench_furrygan_eval.main(
        [
            "--model",
            TINY,
            "--data",
            str(fake_data),
            "--n",
            "3",
            "--batch",
            "2",
            "--steps-w",
            "2",
            "--steps-noise",
            "1",
            "--fd-n",
            "3",
            "--figures",
            str(figs),
            "--save-inversions",
            str(inv_path),
        ]
    )
    saved = json.loads((tmp_path / "results" / "furrygan_eval.json").read_text())
    assert saved["figures"]["checkpoint"]["spec"] == TINY
    scores = out["segmentation"]["mean_over_images"]
    assert set(bench_furrygan_eval.GOAL) <= set(scores)
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    fd = out["frechet_vgg16"]
    assert fd["generated_vs_heldout"] > 0 and np.isfinite(fd["train_vs_heldout_reference"])
    masks = out["generated_masks_vs_parser"]
    assert masks["n_samples"] == 3 and 0.0 <= masks["mask_fg_iou_parser"] <= 1.0
    assert 0.0 <= masks["parser_person_iou_on_heldout"] <= 1.0
    limits = out["what_limits_the_mask"]
    assert set(limits["alpha_recall_by_band"]) == {"top", "middle", "bottom"}
    assert limits["alpha_vs_truth_iou_fg"] == pytest.approx(scores["iou_fg"])
    for name in ("demo_samples.png", "demo_alpha.png", "demo_inversions.png"):
        assert (figs / name).stat().st_size > 0
    # the same figures again from the saved inversions alone
    again = bench_mask_limits.main([str(inv_path), "--data", str(fake_data), "--name", "limits"])
    assert again["n"] == 3
    assert again["alpha_vs_truth_iou_fg"] == pytest.approx(limits["alpha_vs_truth_iou_fg"])

    res = bench_matting_eval.main(
        [
            "--model",
            TINY,
            "--data",
            str(fake_data),
            "--n",
            "2",
            "--inversions",
            str(inv_path),
            "--photos",
        ]
    )
    assert res["inversion"]["reused_from"] == str(inv_path)
    split = res["synthetic_split"]
    assert set(split["methods"]) == set(bench_matting_eval.METHODS)
    # the oracle trimap leaves only a thin band to solve: near-perfect on a clean disc
    assert split["methods"]["oracle_trimap"]["iou_fg"] > 0.9
    assert split["methods"]["oracle_trimap"]["sad"] < split["methods"]["coarse_threshold"]["sad"]
    assert isinstance(split["refinement_improves_every_error"], bool)


def test_photo_figure_runs_matte_and_composite(tiny_furrygan, tmp_path, monkeypatch):
    from latent_atelier.app.document.image_read import read_image
    from latent_atelier.app.document.image_write import write_image

    rng = np.random.default_rng(0)
    samples = tmp_path / "samples"
    samples.mkdir()
    write_image(samples / "face.png", fake_sample(rng, 40)[0].astype(np.float32) / 255)
    write_image(samples / "bg.png", rng.random((30, 50, 3)).astype(np.float32))
    monkeypatch.setattr(bench_matting_eval, "SAMPLES", samples)
    monkeypatch.setattr(bench_matting_eval, "NEW_BACKGROUND", samples / "bg.png")
    info = bench_matting_eval.photo_figure(tiny_furrygan, "face", 2, 1, tmp_path, height=40)
    fig = read_image(info["file"]).pixels
    assert fig.shape[:2] == (40, 200)  # five 40 px square panels side by side
    assert 0.0 <= info["alpha_area"] <= 1.0


def test_training_speed_comes_from_the_run_log(tmp_path):
    run = tmp_path / "runs" / "demo"
    run.mkdir(parents=True)
    assert bench_furrygan_eval.training_speed(run) is None
    (run / "config.json").write_text(json.dumps({"batch": 8}))
    bars = "".join(f"train:  {i}/100 [00:0{i}<01:00, 2.00s/it, d=0.7]" for i in range(1, 6))
    run.with_suffix(".log").write_text(bars + "train: 6/100 [00:07<00:30, 4.00it/s]")
    speed = bench_furrygan_eval.training_speed(run)
    assert speed["images_per_s"] == pytest.approx(4.0)  # median of 0.5 it/s x5 and 4 it/s, x 8
    (run / "stats.jsonl").write_text('{"step": 1, "images_per_s": 12.5}\n{"step": 2}\n')
    assert bench_furrygan_eval.training_speed(run)["images_per_s"] == 12.5
