"""The GAN trainer: FurryGAN and StyleGAN2 train on CPU, resume exactly, export loadable models."""

import argparse
import json
import math

import numpy as np
import pytest
import torch

from latent_atelier.models.training import augment as aug
from latent_atelier.models.training import furrygan_losses as fl
from latent_atelier.models.training.cli import config_from_args, configure_parser
from latent_atelier.models.training.config import channel_table
from latent_atelier.models.training.trainer import Trainer, train
from tests.models.tiny_trainer import tiny_config


def tiny_cli_args(data) -> list[str]:
    """The command-line options of :func:`tiny_config`'s network, without sample grids."""
    tiny = "--size 32 --batch 4 --style-dim 32 --channels 4:16,8:16,16:16,32:16 --threads 1 --sample-every 0"
    return ["--data", str(data), *tiny.split()]


def test_furrygan_training_logs_the_mask_probe_with_the_fd_and_keeps_each_probed_generator(tmp_path):
    from safetensors.torch import load_file

    from tests.models.fake_portraits import write_fake_dataset

    data = write_fake_dataset(tmp_path / "portraits", count=4)
    run = tmp_path / "run"
    cfg = tiny_config(
        data, run, iters=4, fd_every=2, fd_n=4, log_every=0, precision="float32", keep_probe_generators=True
    )
    train(cfg)
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    probes = [r for r in records if "fd_vgg16" in r]
    assert [p["iteration"] for p in probes] == [2, 4]
    assert 0.0 <= probes[0]["mask_fg_iou_parser"] <= 1.0 and "mask_miou_parser" in probes[0]
    assert probes[0]["fd_seconds"] >= 0 and probes[0]["mask_probe_seconds"] >= 0
    assert [p["generator"] for p in probes] == [
        "probes/generator_000002.safetensors",
        "probes/generator_000004.safetensors",
    ]
    last, final = (
        load_file(str(run / probes[1]["generator"])),
        load_file(str(run / "generator_ema.safetensors")),
    )
    first = load_file(str(run / probes[0]["generator"]))
    assert all(torch.equal(last[k], final[k]) for k in final)  # the last probe is the final EMA generator
    assert any(not torch.equal(first[k], final[k]) for k in final)  # the earlier one is its own state


def test_a_negative_background_participation_interval_is_refused(image_dir, tmp_path):
    with pytest.raises(ValueError, match="bg_part_every must be >= 0"):
        tiny_config(image_dir, tmp_path, bg_part_every=-1).validate()


def test_a_negative_mask_consistency_interval_is_refused(image_dir, tmp_path):
    with pytest.raises(ValueError, match="mask_reg_every must be >= 0"):
        tiny_config(image_dir, tmp_path, mask_reg_every=-1).validate()


@pytest.mark.parametrize(
    ("setting", "left_out", "kept"),
    [("mask_reg_every", "consist", "bg_part"), ("bg_part_every", "bg_part", "consist")],
)
def test_an_every_other_step_loss_set_to_0_is_left_out_of_the_steps(
    image_dir, tmp_path, setting, left_out, kept
):
    logs = []
    cfg = tiny_config(image_dir, tmp_path / "run", iters=4, **{setting: 0})
    train(cfg, lambda step, total, l: logs.append(l))
    assert len(logs) == 4 and not any(left_out in entry for entry in logs)
    assert any(kept in entry for entry in logs)  # the other every-other-step term still runs


def test_tiny_furrygan_trains_with_bounded_masks(image_dir, tmp_path):
    from latent_atelier.models.checkpoints import load_generator

    logs = []
    policy = "color,translation,cutout"
    cfg = tiny_config(image_dir, tmp_path / "run", iters=24, sample_every=12, augment=policy)
    trainer = train(cfg, lambda step, total, l: logs.append(l))
    assert len(logs) == 24 and trainer.s.step == 24
    for entry in logs:
        assert all(math.isfinite(v) for v in entry.values()), entry
    assert {"mask_pred", "consist", "m_coarse", "m_fine", "bg_part", "r1"} <= set().union(*logs)
    # the area hinge keeps the coarse mask from collapsing; it never fills the whole image
    late = logs[-10:]
    assert min(e["coarse_mean"] for e in late) > 0.15
    assert max(e["alpha_mean"] for e in late) < 0.98
    assert trainer.s.gen.gamma == 1.0  # fine mask fully faded in after fine_fade_in steps
    assert (tmp_path / "run" / "samples" / "step_000024.png").is_file()
    gen = load_generator(tmp_path / "run" / "generator_ema.safetensors")
    out = gen.synthesize(gen.random_latent(0), return_alpha=True)
    assert out.alpha is not None and torch.isfinite(out.image).all()


def test_resume_matches_an_uninterrupted_run(image_dir, tmp_path):
    straight = train(tiny_config(image_dir, tmp_path / "a", iters=4))
    train(tiny_config(image_dir, tmp_path / "b", iters=2))
    with pytest.raises(FileExistsError, match="resume"):
        train(tiny_config(image_dir, tmp_path / "b", iters=4))
    resumed = train(tiny_config(image_dir, tmp_path / "b", iters=4, resume=True))
    assert resumed.s.step == 4
    for name in ("gen", "gen_ema", "disc"):
        a, b = getattr(straight.s, name).state_dict(), getattr(resumed.s, name).state_dict()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{name}.{k}"
    sa, sb = straight.s.g_opt.state_dict()["state"], resumed.s.g_opt.state_dict()["state"]
    assert all(torch.equal(sa[i]["exp_avg"], sb[i]["exp_avg"]) for i in sa)
    assert torch.equal(straight.s.rng.get_state(), resumed.s.rng.get_state())


def test_resume_refuses_another_architecture(image_dir, tmp_path):
    train(tiny_config(image_dir, tmp_path / "c", iters=1))
    with pytest.raises(ValueError, match="different architecture"):
        Trainer(tiny_config(image_dir, tmp_path / "c", style_dim=64, resume=True)).load_checkpoint()


def test_tiny_stylegan2_trains(image_dir, tmp_path):
    from latent_atelier.models.checkpoints import load_generator
    from latent_atelier.models.stylegan2 import StyleGAN2Generator

    logs = []
    cfg = tiny_config(image_dir, tmp_path / "sg", arch="stylegan2", iters=6, n_mlp=2, save_fp16=True)
    train(cfg, lambda step, total, l: logs.append(l))
    assert all(math.isfinite(v) for e in logs for v in e.values())
    assert "r1" in logs[0] and "mask_pred" not in logs[0]
    gen = load_generator(tmp_path / "sg" / "generator_ema.safetensors")
    assert isinstance(gen, StyleGAN2Generator) and gen.resolution == 32


def test_masks_follow_their_images_under_augmentation():
    gen = torch.Generator().manual_seed(1)
    p = aug.sample_params(("color", "translation", "cutout"), 3, 32, gen)
    mask = torch.rand(3, 1, 32, 32)
    image = mask.repeat(1, 3, 1, 1)
    moved = aug.apply(image, p, photometric=False)
    torch.testing.assert_close(moved[:, :1], aug.apply(mask, p, photometric=False))
    assert not torch.equal(aug.apply(image, p), moved)  # colour changes images only
    small = aug.apply(torch.ones(3, 1, 16, 16), p, photometric=False)
    assert small.shape == (3, 1, 16, 16)
    with pytest.raises(ValueError, match="unknown augmentation"):
        aug.parse_policy("color,zoom")


def test_translation_is_differentiable():
    gen = torch.Generator().manual_seed(2)
    p = aug.sample_params(("translation",), 2, 16, gen)
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    aug.apply(x, p).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_mask_loss_schedules_and_bounds():
    w = fl.MaskLossWeights(binarization_decay=100, fine_fade_in=50)
    assert fl.binarization_weight(0, w) == 5.0 and fl.binarization_weight(100, w) == 0.5
    assert fl.binarization_weight(50, w) == pytest.approx(2.75)
    assert fl.fine_mask_gamma(0, w) == 0.0 and fl.fine_mask_gamma(25, w) == 0.5
    assert fl.fine_mask_gamma(500, w) == 1.0
    binary_big = torch.zeros(2, 1, 8, 8)
    binary_big[..., :, :4] = 1  # area 0.5 >= phi1, binary
    assert float(fl.coarse_mask_loss(binary_big, 200, w)) == 0.0
    empty = torch.zeros(2, 1, 8, 8)
    assert float(fl.coarse_mask_loss(empty, 200, w)) == pytest.approx(5 * 0.35)
    assert float(fl.fine_mask_loss(binary_big, binary_big, w)) == 0.0
    assert float(fl.fine_mask_loss(torch.ones(2, 1, 8, 8), binary_big, w)) == pytest.approx(5 * (0.5 - 0.01))


@pytest.mark.parametrize("mask_only", [False, True])
def test_background_participation_trains_the_mask_and_optionally_the_background(mask_only, tmp_path):
    torch.manual_seed(0)
    fg, bg = torch.rand(2, 3, 8, 8, requires_grad=True), torch.rand(2, 3, 8, 8, requires_grad=True)
    alpha = torch.rand(2, 1, 8, 8, requires_grad=True)
    loss = fl.background_participation_loss(fg, bg, alpha, mask_only=mask_only)
    torch.testing.assert_close(loss, (alpha * (fg - bg)).square().mean())  # the value is the same
    loss.backward()
    assert fg.grad is None or not fg.grad.any()  # the foreground is never pulled
    assert alpha.grad is not None and alpha.grad.abs().sum() > 0
    assert (bg.grad is not None and bg.grad.abs().sum() > 0) is not mask_only
    p = argparse.ArgumentParser()
    configure_parser(p)
    args = ["--data", "d", "--out", str(tmp_path), *(["--bg-part-mask-only"] if mask_only else [])]
    assert config_from_args(p.parse_args(args)).bg_part_mask_only is mask_only


def test_cli_builds_the_config(tmp_path):
    p = argparse.ArgumentParser()
    configure_parser(p)
    args = p.parse_args(
        [
            "--data",
            "d",
            "--out",
            str(tmp_path),
            "--size",
            "64",
            "--max-channels",
            "128",
            "--channels-scale",
            "0.5",
            "--fine-fade-in",
            "300",
            "--resume",
            "--modconv",
            "grouped",
            "--compile",
            "--bg-part-every",
            "0",
            "--mask-reg-every",
            "4",
            "--keep-probe-generators",
        ]
    )
    cfg = config_from_args(args)
    assert cfg.bg_part_every == 0 and cfg.mask_reg_every == 4 and cfg.keep_probe_generators
    assert cfg.size == 64 and cfg.max_channels == 128 and cfg.channel_scale == 0.5
    assert cfg.fine_fade_in == 300 and cfg.resume
    assert cfg.modconv == "grouped" and cfg.compile_passes
    assert channel_table(64, 0.5, 128) == {4: 128, 8: 128, 16: 128, 32: 128, 64: 128}
    assert channel_table(128, 0.25)[128] == 64


def test_portrait_dataset_adapter(tmp_path):
    import json

    from latent_atelier.models.training.data import PortraitImages, open_training_data

    rng = np.random.default_rng(3)
    np.save(tmp_path / "images_00000.npy", rng.integers(0, 255, (3, 64, 64, 3), dtype=np.uint8))
    np.save(tmp_path / "alpha_00000.npy", np.zeros((3, 64, 64), np.uint8))
    np.save(tmp_path / "labels_00000.npy", np.zeros((3, 64, 64), np.uint8))
    meta = {
        "format": "latent-atelier-portraits",
        "size": 64,
        "split": "train",
        "id_start": 0,
        "shard_counts": [3],
        "count": 3,
    }
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    data = open_training_data(tmp_path, 32)
    assert isinstance(data, PortraitImages) and len(data) == 3
    x = data[1]
    assert x.shape == (3, 32, 32) and float(x.min()) >= -1 and float(x.max()) <= 1
    with pytest.raises(FileNotFoundError, match="no such data folder"):
        open_training_data(tmp_path / "missing", 32)


def test_cli_run_trains_and_reports_bad_settings(image_dir, tmp_path, capsys):
    from latent_atelier.models.training.cli import main

    out = tmp_path / "cli"
    common = [*tiny_cli_args(image_dir), "--out", str(out)]
    assert main([*common, "--iters", "2"]) == 0
    assert (out / "generator_ema.safetensors").is_file()
    assert main([*common, "--iters", "3"]) == 2  # has a checkpoint but no --resume
    assert "--resume" in capsys.readouterr().err
    assert main([*common, "--iters", "3", "--resume"]) == 0
    assert main([*common, "--size", "48", "--iters", "1"]) == 2
    capsys.readouterr()
    assert main([*common, "--iters", "4", "--resume", "--keep-probe-generators"]) == 2  # no --fd-every
    assert "give fd_every > 0" in capsys.readouterr().err


def test_center_prior_prefers_a_centred_mask_and_fades_out():
    from latent_atelier.models.training import furrygan_losses as fl

    centred = torch.zeros(2, 1, 32, 32)
    centred[..., 8:24, 8:24] = 1.0
    inverted = 1.0 - centred
    assert fl.center_prior_loss(centred) < fl.center_prior_loss(inverted)
    assert float(fl.center_prior_loss(centred)) == 0.0
    ring = centred.clone()
    ring[..., 12:20, 12:20] = 0.0  # the face left to the background branch
    assert float(fl.center_prior_loss(ring)) > 0.0
    assert float(fl.center_prior_loss(ring, core=False)) == 0.0  # the older, centre-only prior
    assert fl.center_prior_weight(0, 2.0, 100) == 2.0
    assert fl.center_prior_weight(50, 2.0, 100) == 1.0
    assert fl.center_prior_weight(100, 2.0, 100) == 0.0
    assert fl.center_prior_weight(10, 0.0, 100) == 0.0  # off by default: the paper's losses only


# -- throughput recipe, campaign machinery ---------------------------------------------
def _tensors(folder):
    from safetensors.torch import load_file

    return {name: load_file(str(folder / f"{name}.safetensors")) for name in ("g", "g_ema", "d")}


def _same_weights(a, b) -> None:
    for name in a:
        for k in a[name]:
            assert torch.equal(a[name][k], b[name][k]), f"{name}.{k}"


@pytest.mark.parametrize("precision", ["float32", "bf16"])
def test_resume_is_bit_identical_in_both_precisions(image_dir, tmp_path, precision):
    straight = train(tiny_config(image_dir, tmp_path / "a", iters=4, precision=precision))
    assert straight.amp == (precision == "bf16")
    train(tiny_config(image_dir, tmp_path / "b", iters=2, precision=precision))
    resumed = train(tiny_config(image_dir, tmp_path / "b", iters=4, precision=precision, resume=True))
    for name in ("gen", "gen_ema", "disc"):
        a, b = getattr(straight.s, name).state_dict(), getattr(resumed.s, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_killed_run_resumes_bit_identically(image_dir, tmp_path):
    """A training process is SIGKILLed after a checkpoint; --resume then ends exactly where an
    uninterrupted run ends (weights, optimiser state, and the run log's losses)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from latent_atelier.models.training.checkpoint_folder import recover_checkpoint
    from latent_atelier.models.training.cli import main
    from latent_atelier.models.training.run_log import read_log

    common = [
        *tiny_cli_args(image_dir),
        "--fine-fade-in",
        "10",
        "--binarization-decay",
        "10",
        "--r1-every",
        "2",
        "--precision",
        "bf16",
        "--checkpoint-every",
        "2",
        "--log-every",
        "1",
    ]
    killed = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "latent_atelier.models.training.cli",
            *common,
            "--out",
            str(killed),
            "--iters",
            "100000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    state = killed / "checkpoint" / "state.json"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if json.loads(state.read_text())["step"] >= 4:
                    break
            except (FileNotFoundError, ValueError, KeyError):
                pass
            assert proc.poll() is None, "the training process ended on its own"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert recover_checkpoint(killed)
    step = json.loads(state.read_text())["step"]
    assert step >= 4
    target = step + 3
    assert main([*common, "--out", str(killed), "--iters", str(target), "--resume"]) == 0
    straight = tmp_path / "straight"
    assert main([*common, "--out", str(straight), "--iters", str(target)]) == 0
    _same_weights(_tensors(straight / "checkpoint"), _tensors(killed / "checkpoint"))
    opt_a = torch.load(straight / "checkpoint" / "optim.pt", weights_only=True)
    opt_b = torch.load(killed / "checkpoint" / "optim.pt", weights_only=True)
    for key in ("g_optim", "d_optim"):
        for i, st in opt_a[key]["state"].items():
            assert torch.equal(st["exp_avg_sq"], opt_b[key]["state"][i]["exp_avg_sq"])
    assert torch.equal(opt_a["rng"], opt_b["rng"])

    def losses(folder):
        return {r["iteration"]: r["losses"] for r in read_log(folder / "log.jsonl") if "losses" in r}

    a, b = losses(straight), losses(killed)
    assert sorted(b) == list(range(1, target + 1))  # lines after the checkpoint were dropped
    assert a == b
    events = [r["event"] for r in read_log(killed / "log.jsonl") if "event" in r]
    assert events == ["start", "resume"]


def test_start_from_an_exported_generator_with_a_fresh_discriminator(image_dir, tmp_path):
    from latent_atelier.models.checkpoints import load_generator
    from latent_atelier.models.training.run_log import read_log

    train(tiny_config(image_dir, tmp_path / "first", iters=3))
    exported = tmp_path / "first" / "generator_ema.safetensors"
    cfg = tiny_config(
        image_dir,
        tmp_path / "again",
        iters=5,
        init_generator=str(exported),
        init_step=3,
        init_images=100,  # the export's own run had another batch size
        d_warmup=2,
    )
    again = train(cfg)
    assert again.s.step == 5
    source = load_generator(exported).state_dict()
    for k, v in again.s.gen.state_dict().items():  # D-only warm-up: G still the export
        assert torch.equal(v, source[k]), k
    fresh_d = Trainer(tiny_config(image_dir, tmp_path / "x")).s.disc.state_dict()
    trained_d = again.s.disc.state_dict()
    assert any(not torch.equal(trained_d[k], fresh_d[k]) for k in fresh_d)
    event = read_log(tmp_path / "again" / "log.jsonl")[0]
    assert event["event"] == "init_from_generator" and event["iteration"] == 3
    assert event["images_shown"] == 100 and again.images_shown() == 100 + 2 * cfg.batch
    # the checkpoint remembers the warm-up and the init, so a resume continues the same way
    resumed = train(tiny_config(image_dir, tmp_path / "again", iters=7, resume=True))
    assert resumed.d_warmup_until == 5 and resumed.history[0]["event"] == "init_from_generator"
    assert resumed.images_shown() == 100 + 4 * cfg.batch  # counted on across the resume
    assert any(not torch.equal(v, source[k]) for k, v in resumed.s.gen.state_dict().items())
    with pytest.raises(ValueError, match="architecture"):
        train(tiny_config(image_dir, tmp_path / "bad", style_dim=64, init_generator=str(exported)))


def test_image_cache_is_built_once_and_rebuilt_when_the_data_change(image_dir, tmp_path):
    from latent_atelier.models.training.data import BatchSampler, CachedImages, ImageFolder, image_cache

    folder = ImageFolder(image_dir, 32)
    path = tmp_path / "cache.npy"
    arr = image_cache(folder, 32, path)
    assert arr.shape == (10, 32, 32, 3) and arr.dtype == np.uint8
    stamp = path.stat().st_mtime_ns
    image_cache(folder, 32, path)
    assert path.stat().st_mtime_ns == stamp  # reused
    cached = CachedImages(arr)
    torch.testing.assert_close(cached[3], folder[3], atol=1 / 127.5, rtol=0)
    batch = BatchSampler(cached, 4).next(torch.Generator().manual_seed(0))
    assert batch.shape == (4, 3, 32, 32) and float(batch.min()) >= -1 and float(batch.max()) <= 1
    image_cache(ImageFolder(image_dir, 32), 16, tmp_path / "small.npy")
    assert np.load(tmp_path / "small.npy", mmap_mode="r").shape[1] == 16
    with pytest.raises(ValueError, match="uint8"):
        CachedImages(np.zeros((2, 8, 8, 3), np.float32))


def test_run_log_drops_lines_after_the_checkpoint_and_skips_a_torn_line(tmp_path):
    from latent_atelier.models.training.run_log import RunLog, read_log

    log = RunLog(tmp_path)
    for i in (0, 5, 10, 15):
        log.append({"iteration": i})
    with log.path.open("a") as fh:
        fh.write('{"iteration": 20, "los')  # killed mid-write
    assert [r["iteration"] for r in read_log(log.path)] == [0, 5, 10, 15]
    assert log.truncate_after(10) == 1
    assert [r["iteration"] for r in read_log(log.path)] == [0, 5, 10]


def test_a_checkpoint_swap_cut_short_is_recovered(image_dir, tmp_path):
    from latent_atelier.models.training.checkpoint_folder import recover_checkpoint

    train(tiny_config(image_dir, tmp_path / "r", iters=2))
    ck = tmp_path / "r" / "checkpoint"
    ck.rename(tmp_path / "r" / "checkpoint.old")  # killed between the two renames
    (tmp_path / "r" / "checkpoint.tmp").mkdir()
    assert recover_checkpoint(tmp_path / "r") and (ck / "state.json").is_file()
    assert train(tiny_config(image_dir, tmp_path / "r", iters=3, resume=True)).s.step == 3


def test_frechet_distance_and_the_fd_probe(tmp_path):
    from latent_atelier.models.training.fd_probe import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + 1.0) == pytest.approx(8.0, rel=1e-6)  # mean shift only
    assert frechet_distance(a, rng.normal(size=(300, 8)) * 2) > 1.0
    with pytest.raises(ValueError, match="feature sets"):
        frechet_distance(a, a[:, :4])


def test_the_best_fd_probe_keeps_its_generator(image_dir, tmp_path):
    from latent_atelier.models.checkpoints import load_generator
    from latent_atelier.models.training.trainer import BEST_FD_NAME, keep_best_fd

    trainer = Trainer(tiny_config(image_dir, tmp_path / "run"))
    trainer.out.mkdir(parents=True, exist_ok=True)
    assert keep_best_fd(trainer, 50.0)
    first = load_generator(trainer.out / BEST_FD_NAME).state_dict()
    with torch.no_grad():
        for p in trainer.s.gen_ema.parameters():
            p.add_(1.0)  # a later, different generator
    assert not keep_best_fd(trainer, 60.0)  # worse: the file keeps the earlier one
    kept = load_generator(trainer.out / BEST_FD_NAME).state_dict()
    assert all(torch.equal(kept[k], first[k]) for k in first)
    assert keep_best_fd(trainer, 40.0)  # better: replaced, and the record says so
    record = json.loads((trainer.out / "generator_best_fd.json").read_text())
    assert record["fd_vgg16"] == 40.0 and record["iteration"] == trainer.s.step
    kept = load_generator(trainer.out / BEST_FD_NAME).state_dict()
    assert any(not torch.equal(kept[k], first[k]) for k in first)


# dynamo reads .grad of non-leaf tensors while it traces (a warning; an error under pytest)
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")
def test_compiled_passes_train_like_the_eager_ones(image_dir, tmp_path):
    """``--compile``: the first step's losses equal eager's (float32), R1 steps run (they
    keep the eager D for the double backward), and a few steps stay finite."""
    small = {"size": 16, "channels": {4: 16, 8: 16, 16: 16}, "precision": "float32"}  # a short compile
    eager = Trainer(tiny_config(image_dir, tmp_path / "e", **small))
    compiled = Trainer(tiny_config(image_dir, tmp_path / "c", compile_passes=True, **small))
    assert compiled.passes.compiled and not eager.passes.compiled
    first = [t.step() for t in (eager, compiled)]  # step 0 is an R1 step (r1_every 2)
    assert "r1" in first[1]
    for key in ("d", "r1", "g", "m_coarse", "alpha_mean"):
        assert first[1][key] == pytest.approx(first[0][key], rel=1e-4, abs=1e-6), key
    for _ in range(3):
        assert all(math.isfinite(v) for v in compiled.step().values())


@pytest.mark.parametrize("mode", ["grouped", "input-scaled"])
def test_modconv_setting_reaches_the_training_generator(image_dir, tmp_path, mode):
    from latent_atelier.models.layers import ModulatedConv2d

    trainer = Trainer(tiny_config(image_dir, tmp_path, modconv=mode))
    convs = [m for m in trainer.s.gen.modules() if isinstance(m, ModulatedConv2d)]
    assert convs and all(m.fused == (mode == "grouped") for m in convs)
    with pytest.raises(ValueError, match="modconv must be"):
        tiny_config(image_dir, tmp_path, modconv="winograd").validate()


def test_compile_without_a_cxx_compiler_says_what_to_do(image_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CXX", "")
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ValueError, match="C\\+\\+ compiler"):
        Trainer(tiny_config(image_dir, tmp_path, compile_passes=True))


def test_compiled_passes_on_sleeping_threads_get_a_note():
    from latent_atelier.models.training.passes import wait_policy_note

    assert "OMP_WAIT_POLICY=ACTIVE" in wait_policy_note(True, 2, "passive")
    assert wait_policy_note(True, 1, "PASSIVE") is None  # one thread: nothing to wake
    assert wait_policy_note(True, 2, "ACTIVE") is None
    assert wait_policy_note(False, 2, "PASSIVE") is None


@pytest.mark.parametrize("damaged", ["optim.pt", "d.safetensors"])
def test_a_damaged_checkpoint_file_is_named_with_what_to_do(image_dir, tmp_path, damaged):
    run = tmp_path / "run"
    train(tiny_config(image_dir, run, iters=2))
    file = run / "checkpoint" / damaged
    file.write_bytes(file.read_bytes()[:100])  # a truncated copy
    with pytest.raises(ValueError, match=f"{damaged} cannot be read.*restore the folder from a copy"):
        train(tiny_config(image_dir, run, iters=3, resume=True))


def test_a_wider_discriminator_trains_and_its_run_resumes_only_with_that_width(image_dir, tmp_path):
    trainer = train(tiny_config(image_dir, tmp_path, iters=2, d_width_scale=2.0))
    backbone = trainer.s.disc.backbone
    assert set(backbone.channels.values()) == {32}  # twice the generator's 16
    assert all(w == 16 for w in trainer.s.gen.architecture()["channels"].values())
    with pytest.raises(ValueError, match="--d-width-scale 2"):
        train(tiny_config(image_dir, tmp_path, iters=3, resume=True))
    resumed = train(tiny_config(image_dir, tmp_path, iters=3, resume=True, d_width_scale=2.0))
    assert resumed.s.step == 3
    with pytest.raises(ValueError, match="d_width_scale"):
        tiny_config(image_dir, tmp_path, d_width_scale=0.0).validate()
    p = argparse.ArgumentParser()
    configure_parser(p)
    cfg = config_from_args(p.parse_args(["--data", "d", "--out", str(tmp_path), "--d-width-scale", "2"]))
    assert cfg.d_width_scale == 2.0
