"""Mask-guided training on a tiny model: alternation, resume, data readers, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from latent_atelier.models.mask_guided.classes import LEFT_EYE, MOUTH, RIGHT_EYE
from latent_atelier.models.mask_guided.io import load_model
from latent_atelier.models.training.mask_guided_data import open_pairs
from latent_atelier.models.training.mask_guided_train import MaskGuidedTrainConfig, MaskGuidedTrainer, train

TINY = {
    "size": 32,
    "width": 4,
    "code_dim": 8,
    "feat_channels": 4,
    "n_res": 1,
    "parser_width": 4,
    "batch": 2,
    "checkpoint_every": 0,
    "sample_every": 0,
    "threads": 1,
}


def tiny_pairs(n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = np.zeros((n, 32, 32), np.uint8)
    labels[:, 6:26, 6:26] = 1
    labels[:, 2:6, 8:24] = 2
    labels[:, 12:14, 10:13] = RIGHT_EYE
    labels[:, 12:14, 19:22] = LEFT_EYE
    labels[:, 20:22, 13:19] = MOUTH
    return images, labels


def _weights(trainer: MaskGuidedTrainer) -> dict[str, torch.Tensor]:
    out = {}
    for name, module in trainer._modules().items():
        out.update({f"{name}.{k}": v.clone() for k, v in module.state_dict().items()})
    return out


def test_paired_and_unpaired_iterations_alternate(tmp_path) -> None:
    trainer = MaskGuidedTrainer(MaskGuidedTrainConfig(out=str(tmp_path), **TINY), tiny_pairs())
    trainer.parser.requires_grad_(False)
    du0 = {k: v.clone() for k, v in trainer.d_unpaired.state_dict().items()}
    dp0 = {k: v.clone() for k, v in trainer.d_paired.state_dict().items()}
    logs = trainer.step()  # step 0: paired -> global loss, the paired discriminator learns
    assert logs["paired"] == 1.0 and "global_l1" in logs and "fm" in logs
    assert all(torch.equal(v, trainer.d_unpaired.state_dict()[k]) for k, v in du0.items())
    assert not all(torch.equal(v, trainer.d_paired.state_dict()[k]) for k, v in dp0.items())
    dp1 = {k: v.clone() for k, v in trainer.d_paired.state_dict().items()}
    logs = trainer.step()  # step 1: unpaired -> no global loss, the other discriminator learns
    assert logs["paired"] == 0.0 and "global_l1" not in logs and "parse" in logs
    assert all(torch.equal(v, trainer.d_paired.state_dict()[k]) for k, v in dp1.items())
    assert not all(torch.equal(v, trainer.d_unpaired.state_dict()[k]) for k, v in du0.items())


def test_resume_is_bit_identical(tmp_path) -> None:
    data = tiny_pairs()

    def cfg(out: str, iters: int, resume: bool = False) -> MaskGuidedTrainConfig:
        return MaskGuidedTrainConfig(
            out=str(tmp_path / out), iters=iters, parser_iters=2, resume=resume, **TINY
        )

    straight = train(cfg("a", 4), data=data)
    train(cfg("b", 2), data=data)
    resumed = train(cfg("b", 4, resume=True), data=data)
    assert resumed.s.step == straight.s.step == 4
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(FileExistsError):
        train(MaskGuidedTrainConfig(out=str(tmp_path / "b"), iters=5, **TINY), data=data)
    model = load_model(tmp_path / "a" / "mask_guided.safetensors")
    assert model.generator is not None and model.parser is not None and model.info["steps"] == 4


def test_cpu_budget_stops_the_run(tmp_path) -> None:
    cfg = MaskGuidedTrainConfig(out=str(tmp_path), iters=1000, parser_iters=1000, cpu_budget=1e-6, **TINY)
    trainer = train(cfg, data=tiny_pairs())
    assert trainer.s.step == 0 and trainer.s.parser_step == 0
    assert (tmp_path / "mask_guided.safetensors").is_file()


def test_baseline_variant_trains_the_label_to_image_generator(tmp_path) -> None:
    cfg = MaskGuidedTrainConfig(out=str(tmp_path), variant="label-to-image", iters=2, **TINY)
    trainer = train(cfg, data=tiny_pairs())
    assert trainer.parser is None and trainer.s.step == 2
    model = load_model(tmp_path / "mask_guided.safetensors")
    assert model.generator is None and model.baseline is not None


def test_celebamask_layouts_are_read_and_mapped(tmp_path) -> None:
    # CelebAMask-HQ as distributed: images and one binary mask per class
    (tmp_path / "hq" / "CelebA-HQ-img").mkdir(parents=True)
    (tmp_path / "hq" / "CelebAMask-HQ-mask-anno" / "0").mkdir(parents=True)
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(tmp_path / "hq" / "CelebA-HQ-img" / "0.jpg")
    skin = np.zeros((32, 32), np.uint8)
    skin[8:24, 8:24] = 255
    l_eye = np.zeros((32, 32), np.uint8)
    l_eye[12:14, 18:22] = 255
    Image.fromarray(skin).save(tmp_path / "hq" / "CelebAMask-HQ-mask-anno" / "0" / "00000_skin.png")
    Image.fromarray(l_eye).save(tmp_path / "hq" / "CelebAMask-HQ-mask-anno" / "0" / "00000_l_eye.png")
    pairs = open_pairs(tmp_path / "hq", 16)
    assert pairs.images.shape == (1, 16, 16, 3) and pairs.labels.shape == (1, 16, 16)
    assert set(np.unique(pairs.labels)) == {0, 1, LEFT_EYE}
    # the combined layout: images/ + labels/ holding 0..18
    (tmp_path / "pairs" / "images").mkdir(parents=True)
    (tmp_path / "pairs" / "labels").mkdir()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "pairs" / "images" / "a.png")
    lab = np.zeros((32, 32), np.uint8)
    lab[4:8, 4:8] = 13  # hair
    lab[10:12, 10:16] = 11  # upper lip
    Image.fromarray(lab).save(tmp_path / "pairs" / "labels" / "a.png")
    pairs = open_pairs(tmp_path / "pairs", 32)
    assert set(np.unique(pairs.labels)) == {0, 2, MOUTH}
    with pytest.raises(FileNotFoundError, match="CelebAMask-HQ"):
        open_pairs(tmp_path, 32)


def celeba_folder(root) -> str:
    """Three tiny (image, label map) pairs in CelebAMask-HQ's layout under ``root/pairs``."""
    pairs = root / "pairs"
    (pairs / "images").mkdir(parents=True)
    (pairs / "labels").mkdir()
    images, labels = tiny_pairs(3)
    for i in range(3):
        Image.fromarray(images[i]).save(pairs / "images" / f"{i}.png")
        celeba = np.where(labels[i] == LEFT_EYE, 4, np.where(labels[i] == 2, 13, 0)).astype(np.uint8)
        Image.fromarray(celeba).save(pairs / "labels" / f"{i}.png")
    return str(pairs)


TINY_GENERATOR_FLAGS = ["--mg-width", "4", "--mg-code-dim", "8", "--mg-feat-channels", "4", "--mg-n-res", "1"]


def test_cli_trains_and_refuses_bad_settings(tmp_path, capsys) -> None:
    from latent_atelier.app.cli import main

    pairs = celeba_folder(tmp_path)
    out = tmp_path / "run"
    args = [
        "train",
        "--arch",
        "mask-guided",
        "--data",
        pairs,
        "--out",
        str(out),
        "--size",
        "32",
        "--batch",
        "2",
        "--iters",
        "2",
        *TINY_GENERATOR_FLAGS,
        "--mg-parser-iters",
        "1",
        "--threads",
        "1",
    ]
    assert main(args) == 0
    assert (out / "mask_guided.safetensors").is_file()
    assert main([*args[:-2], "--batch", "1"]) == 2
    assert "batch must be at least 2" in capsys.readouterr().err


def test_frozen_parser_can_come_from_a_model_file(tmp_path) -> None:
    from latent_atelier.models.mask_guided.config import MaskGuidedConfig
    from latent_atelier.models.mask_guided.io import MaskGuidedModel, save_model
    from latent_atelier.models.mask_guided.networks import FaceParser, MaskGuidedGenerator

    torch.manual_seed(3)
    save_model(
        tmp_path / "p4.safetensors",
        MaskGuidedModel(MaskGuidedConfig(size=32, parser_width=4), parser=FaceParser(4), info={"miou": 0.5}),
    )
    save_model(
        tmp_path / "p6.safetensors",
        MaskGuidedModel(MaskGuidedConfig(size=32, parser_width=6), parser=FaceParser(6)),
    )
    stored = load_model(tmp_path / "p4.safetensors").parser.state_dict()
    data = tiny_pairs()

    def cfg(iters: int, parser: str, resume: bool = False) -> MaskGuidedTrainConfig:
        return MaskGuidedTrainConfig(
            out=str(tmp_path / "run"), iters=iters, parser_iters=50, parser_from=parser, resume=resume, **TINY
        )

    trainer = train(cfg(2, str(tmp_path / "p4.safetensors")), data=data)
    assert trainer.s.parser_step == 50  # no pre-training step ran
    assert all(torch.equal(v, trainer.parser.state_dict()[k]) for k, v in stored.items())
    info = load_model(tmp_path / "run" / "mask_guided.safetensors").info
    assert info["parser_from"] == "p4.safetensors" and info["parser_miou"] == 0.5
    resumed = train(cfg(3, str(tmp_path / "p4.safetensors"), resume=True), data=data)
    assert resumed.s.step == 3 and all(
        torch.equal(v, resumed.parser.state_dict()[k]) for k, v in stored.items()
    )
    whole = MaskGuidedModel(
        MaskGuidedConfig(size=32, width=4, code_dim=8, feat_channels=4, n_res=1, parser_width=4),
        parser=FaceParser(4),
        info={"steps": 9, "parser_miou": 0.7},
    )
    whole.generator = MaskGuidedGenerator(whole.config)
    save_model(tmp_path / "whole.safetensors", whole)
    notes = MaskGuidedTrainer(cfg(2, ""), data).use_parser_from(str(tmp_path / "whole.safetensors"))
    assert notes == {
        "parser_from": "whole.safetensors",
        "parser_miou": 0.7,
        "parser_copied_from": "whole.safetensors",
    }
    with pytest.raises(ValueError, match="width 6 at 32 px; this run needs width 4"):
        other = MaskGuidedTrainConfig(
            out=str(tmp_path / "other"), iters=1, parser_from=str(tmp_path / "p6.safetensors"), **TINY
        )
        train(other, data=data)


def test_learning_rate_decays_linearly_to_zero_and_resumes_bit_identically(tmp_path) -> None:
    data = tiny_pairs()

    def cfg(out: str, resume: bool = False) -> MaskGuidedTrainConfig:
        return MaskGuidedTrainConfig(
            out=str(tmp_path / out), iters=6, parser_iters=1, lr=1e-3, lr_decay_from=2, resume=resume, **TINY
        )

    trainer = MaskGuidedTrainer(cfg("probe"), data)
    rates = []
    for step in range(7):
        trainer.s.step = step
        rates.append(trainer.gan_lr())
    assert rates == pytest.approx([1e-3, 1e-3, 1e-3, 7.5e-4, 5e-4, 2.5e-4, 0.0])
    straight = train(cfg("a"), data=data)
    assert straight.g_opt.param_groups[0]["lr"] == pytest.approx(2.5e-4)  # the last step's rate
    killed = MaskGuidedTrainer(cfg("b"), data)  # the same plan, stopped after 3 GAN steps
    killed.parser_step()
    killed.parser.requires_grad_(False).eval()
    for _ in range(3):
        killed.step()
    killed.save_checkpoint()
    resumed = train(cfg("b", resume=True), data=data)
    a, b = _weights(straight), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="lr_decay_from"):
        MaskGuidedTrainConfig(iters=5, lr_decay_from=5).validate()


def test_readme_training_example_reuses_the_bundled_parser(tmp_path) -> None:
    """The README's ``train --arch mask-guided ... --mg-parser <bundled model>``."""
    from latent_atelier.app.cli import main
    from latent_atelier.resources import resources_dir

    bundled = resources_dir() / "models" / "mask-guided-64.safetensors"
    out = tmp_path / "run"
    args = ["train", "--arch", "mask-guided", "--data", celeba_folder(tmp_path), "--out", str(out)]
    args += ["--size", "64", "--batch", "2", "--iters", "1", "--threads", "1", "--mg-parser", str(bundled)]
    assert main(args + TINY_GENERATOR_FLAGS) == 0
    trained = load_model(out / "mask_guided.safetensors")
    shipped = load_model(bundled).parser.state_dict()
    assert all(torch.equal(v, trained.parser.state_dict()[k]) for k, v in shipped.items())
    assert trained.info["parser_copied_from"] == bundled.name and trained.info["parser_miou"] > 0.85
