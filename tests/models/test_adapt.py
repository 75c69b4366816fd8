"""Few-shot adaptation (cross-domain correspondence) on tiny random generators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latent_atelier.models.training import adapt_losses as al
from latent_atelier.models.training.adapt import AdaptConfig, Adapter, adapt, trainable_parameters
from latent_atelier.models.training.patch_discriminator import PatchDiscriminator

WIDTHS = {4: 16, 8: 16, 16: 16}


def tiny_furrygan(seed: int = 0):
    from latent_atelier.models.zoo import random_generator

    return random_generator("furrygan", 16, seed, style_dim=16, channels=WIDTHS)


def write_shots(folder: Path, n: int = 5) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        img = np.full((16, 16, 3), 230, np.uint8)
        img[4 + i % 3 : 12, 5:11] = rng.integers(0, 60, 3)  # a dark blob on paper
        Image.fromarray(img).save(folder / f"shot_{i}.png")
    return folder


def config(tmp_path: Path, **kw) -> AdaptConfig:
    base = dict(
        source="tiny",
        shots=str(write_shots(tmp_path / "shots")),
        out=str(tmp_path / "run"),
        iters=3,
        batch=3,
        d_width=16,
        checkpoint_every=0,
        sample_every=0,
        threads=1,
        device="cpu",
        save_fp16=False,
    )
    base.update(kw)
    return AdaptConfig(**base)


def test_distance_consistency_is_zero_for_equal_features_and_positive_otherwise():
    a = {"l": torch.randn(4, 8, 3, 3)}
    assert float(al.distance_consistency_loss(a, {"l": a["l"].clone()})) == pytest.approx(0.0, abs=1e-7)
    b = {"l": torch.randn(4, 8, 3, 3, requires_grad=True)}
    loss = al.distance_consistency_loss(a, b)
    assert float(loss.detach()) > 0
    loss.backward()
    assert b["l"].grad.abs().sum() > 0


def test_distance_consistency_ignores_scale_and_needs_three_latents():
    a = torch.randn(5, 6)
    assert float(al.distance_consistency_loss({"x": a}, {"x": 3.0 * a})) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="at least 3"):
        al.similarity_logits(torch.randn(2, 4))


def test_similarity_logits_leave_out_self():
    f = torch.eye(4)
    sims = al.similarity_logits(f)
    assert sims.shape == (4, 3)
    assert torch.allclose(sims, torch.zeros(4, 3))  # orthogonal items: no self-similarity of 1


def test_patch_discriminator_levels():
    d = PatchDiscriminator(16, channels=WIDTHS, patch_resolutions=(8, 4))
    x = torch.randn(2, 3, 16, 16)
    assert d(x).shape == (2, 1)
    assert d(x, 8).shape == (2, 64)
    assert d(x, 4).shape == (2, 16)
    with pytest.raises(ValueError, match="choose 0"):
        d(x, 2)
    with pytest.raises(ValueError, match="below 16"):
        PatchDiscriminator(16, channels=WIDTHS, patch_resolutions=(16,))


def test_adaptation_steps_change_only_the_trainable_weights(tmp_path):
    src = tiny_furrygan()
    before_src = {k: v.clone() for k, v in src.state_dict().items()}
    ad = Adapter(config(tmp_path), source=src)
    start = {k: v.clone() for k, v in ad.s.gen.state_dict().items()}
    for _ in range(3):
        logs = ad.step()
    assert {"g", "d", "cdc", "mask"} <= set(logs)
    after = ad.s.gen.state_dict()
    frozen = [k for k in after if k.startswith(("style_fg.", "style_bg.", "pre_m.", "refine_m."))]
    assert frozen and all(torch.equal(after[k], start[k]) for k in frozen)
    trainable = {id(p) for p in trainable_parameters(ad.s.gen)}
    named = dict(ad.s.gen.named_parameters())
    changed = [k for k, p in named.items() if id(p) in trainable and not torch.equal(p, start[k])]
    assert len(changed) > 10
    assert all(torch.equal(src.state_dict()[k], v) for k, v in before_src.items())  # source frozen


def test_adaptation_resumes_exactly_and_exports(tmp_path):
    straight = adapt(config(tmp_path / "a", iters=4), source=tiny_furrygan())
    first = adapt(config(tmp_path / "b", iters=2), source=tiny_furrygan())
    assert first.s.step == 2
    resumed = adapt(config(tmp_path / "b", iters=4, resume=True), source=tiny_furrygan())
    assert resumed.s.step == 4
    for (k, v), w in zip(straight.s.gen.state_dict().items(), resumed.s.gen.state_dict().values()):
        assert torch.equal(v, w), k
    from latent_atelier.models.zoo import load_model

    gen = load_model(str(tmp_path / "b" / "run" / "generator_ema.safetensors"))
    assert gen.architecture() == tiny_furrygan().architecture()
    with pytest.raises(FileExistsError, match="--resume"):
        adapt(config(tmp_path / "b", iters=5), source=tiny_furrygan())


def test_adapt_config_refuses_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="at least 3"):
        AdaptConfig(source="x", shots="y", batch=2).validate()
    with pytest.raises(ValueError, match="--shots"):
        AdaptConfig(source="x").validate()
    with pytest.raises(ValueError, match="adapt-from"):
        AdaptConfig(shots="y").validate()


def test_train_cli_adapts_and_refuses_missing_data(tmp_path, capsys):
    from latent_atelier.app.cli import main
    from latent_atelier.models.checkpoints import save_generator

    model = tmp_path / "tiny.safetensors"
    save_generator(tiny_furrygan(), model)
    shots = write_shots(tmp_path / "shots")
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--adapt-from",
            str(model),
            "--shots",
            str(shots),
            "--out",
            str(out),
            "--iters",
            "2",
            "--batch",
            "3",
            "--threads",
            "1",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    assert (out / "generator_ema.safetensors").is_file()
    assert main(["train", "--out", str(tmp_path / "other")]) == 2
    assert "--data is required" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--adapt-from",
                str(model),
                "--shots",
                str(tmp_path / "none"),
                "--out",
                str(tmp_path / "x"),
                "--iters",
                "1",
                "--batch",
                "3",
            ]
        )
        == 2
    )


def test_train_options_reach_the_adaptation_settings():
    """Every ``train`` option with a field of the same name in AdaptConfig is passed on."""
    import argparse

    from latent_atelier.models.training.adapt_cli import config_from_args
    from latent_atelier.models.training.cli import configure_parser

    p = argparse.ArgumentParser()
    configure_parser(p)
    given = {"--adapt-from": "m", "--data": "d", "--out": "o", "--iters": "7", "--batch": "5"}
    given |= {"--r1-every": "4", "--cdc-weight": "10"}
    argv = [*(part for pair in given.items() for part in pair), "--fp16"]
    cfg = config_from_args(p.parse_args(argv))
    assert (cfg.source, cfg.shots, cfg.out, cfg.iters, cfg.batch) == ("m", "d", "o", 7, 5)
    assert (cfg.r1_every, cfg.cdc_weight, cfg.save_fp16, cfg.augment) == (4, 10.0, True, "color,translation")
