"""Growing a trained generator into a wider one that draws the same images."""

from __future__ import annotations

import pytest
import torch

from latent_atelier.models.furrygan import FurryGAN
from latent_atelier.models.stylegan2 import StyleGAN2Generator
from latent_atelier.models.training.cli import config_from_args, configure_parser
from latent_atelier.models.training.trainer import train
from latent_atelier.models.training.widen import check_widenable, widen_into
from tests.models.tiny_trainer import TINY, tiny_config

WIDE = {r: 2 * c for r, c in TINY.items()}


def _trained_like(gen: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """``gen`` with every weight, bias and noise strength drawn at random (no zeros left)."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in gen.parameters():
            p.copy_(torch.randn(p.shape, generator=rng) * 0.5 + (1.0 if p.ndim == 1 else 0.0))
    return gen


@pytest.mark.parametrize("arch", ["furrygan", "stylegan2"])
def test_the_widened_generator_draws_the_same_images_and_masks(arch):
    build = FurryGAN if arch == "furrygan" else StyleGAN2Generator
    narrow = _trained_like(build(32, style_dim=32, channels=TINY)).eval()
    wide = build(32, style_dim=32, channels=WIDE).eval()
    widen_into(narrow, wide)
    latent = narrow.random_latent(5, batch=3)
    with torch.no_grad():
        a = narrow.synthesize(latent, return_alpha=True)
        b = wide.synthesize(latent, return_alpha=True)
    assert a.image.abs().mean() > 0.05  # a real drawing, not a flat image
    torch.testing.assert_close(b.image, a.image, atol=1e-5, rtol=1e-4)
    if arch == "furrygan":
        torch.testing.assert_close(b.alpha, a.alpha, atol=1e-5, rtol=1e-4)
    # the new channels are alive (random rows, bias-1 modulation), only disconnected
    conv = wide.convs[0].conv if arch == "stylegan2" else wide.convs_fg[0].conv
    assert conv.weight[0, conv.out_channel - 1].abs().sum() > 0
    assert torch.all(conv.modulation.bias[-4:] == 1.0)


def test_a_widened_generator_trains_its_new_channels_in():
    narrow = _trained_like(FurryGAN(32, style_dim=32, channels=TINY))
    wide = FurryGAN(32, style_dim=32, channels=WIDE)
    widen_into(narrow, wide)
    out = wide.synthesize(narrow.random_latent(1, batch=2)).image
    out.square().mean().backward()
    conv = wide.convs_fg[1].conv
    old_in = narrow.convs_fg[1].conv.in_channel
    assert conv.weight.grad[:, :, old_in:].abs().sum() > 0  # the zero columns get a gradient


def test_widening_refuses_a_narrower_target_or_another_shape():
    narrow = FurryGAN(32, style_dim=32, channels=TINY)
    with pytest.raises(ValueError, match="at least the old one's"):
        widen_into(FurryGAN(32, style_dim=32, channels=WIDE), narrow)
    other = FurryGAN(32, style_dim=64, channels=WIDE)
    with pytest.raises(ValueError, match="style_dim: 32 -> 64"):
        check_widenable(narrow.architecture(), other.architecture())


def test_train_init_widen_starts_from_the_narrow_export_and_resumes(image_dir, tmp_path):
    from latent_atelier.models.checkpoints import load_generator

    train(tiny_config(image_dir, tmp_path / "narrow", iters=2))
    exported = tmp_path / "narrow" / "generator_ema.safetensors"
    parser = configure_parser_for_test()
    argv = ["--arch", "furrygan", "--data", str(image_dir), "--out", str(tmp_path / "wide"), "--size", "32"]
    argv += ["--init-generator", str(exported), "--init-widen", "--channels", "4:32,8:32,16:32,32:32"]
    args = parser.parse_args(argv)
    assert config_from_args(args).init_widen
    cfg = tiny_config(
        image_dir,
        tmp_path / "wide",
        iters=4,
        channels=WIDE,
        init_generator=str(exported),
        init_widen=True,
        init_step=2,  # the export's own step
        d_warmup=2,
    )
    wide = train(cfg)
    narrow = load_generator(exported)
    narrow.gamma = wide.s.gen.gamma  # the fine-mask weight is a schedule value, not a weight
    latent = narrow.random_latent(2, batch=2)
    with torch.no_grad():  # after a D-only warm-up G still draws the narrow export's images
        torch.testing.assert_close(
            wide.s.gen.synthesize(latent).image, narrow.synthesize(latent).image, atol=1e-5, rtol=1e-4
        )
    resumed = train(tiny_config(image_dir, tmp_path / "wide", iters=6, channels=WIDE, resume=True))
    assert resumed.s.step == 6
    with pytest.raises(ValueError, match="--init-widen"):
        train(tiny_config(image_dir, tmp_path / "plain", channels=WIDE, init_generator=str(exported)))
    with pytest.raises(ValueError, match="give --init-generator"):
        train(tiny_config(image_dir, tmp_path / "none", init_widen=True))


def configure_parser_for_test():
    import argparse

    parser = argparse.ArgumentParser()
    configure_parser(parser)
    return parser
