"""StyleGAN2's path length regularisation in the GAN trainer: the measure, and runs that use it."""

import argparse

import pytest
import torch

from latent_atelier.models.training.cli import config_from_args, configure_parser
from latent_atelier.models.training.losses import path_lengths
from latent_atelier.models.training.trainer import train
from tests.models.tiny_trainer import tiny_config


def test_path_length_of_a_linear_generator_is_its_scaled_jacobian_product() -> None:
    torch.manual_seed(0)
    rows, dim = 3, 5
    scale = torch.tensor(2.5, requires_grad=True)  # the "generator's" one weight
    fg = torch.randn(2, rows, dim, requires_grad=True)
    bg = torch.randn(2, rows, 4, requires_grad=True)
    images = scale * torch.cat([fg, bg], dim=2).unsqueeze(1)  # (2, 1, rows, dim + 4): a linear map
    noise = torch.randn(images.shape)
    lengths = path_lengths(images, [fg, bg], noise)
    y = noise / (images.shape[2] * images.shape[3]) ** 0.5
    expected = (2.5 * y[:, 0]).square().sum(2).mean(1).sqrt()
    torch.testing.assert_close(lengths.detach(), expected)
    (grad,) = torch.autograd.grad(lengths.sum(), scale)  # a penalty on it trains the weight
    torch.testing.assert_close(grad, expected.sum() / 2.5)


def test_path_length_steps_train_and_resume_bit_identically(image_dir, tmp_path) -> None:
    pl = {"pl_weight": 2.0, "pl_every": 2, "iters": 4}
    straight = train(tiny_config(image_dir, tmp_path / "a", **pl))
    assert straight.pl_mean > 0  # two path length steps (iterations 0 and 2) moved the mean
    assert straight.s.g_opt.param_groups[0]["lr"] == pytest.approx(0.002 * 2 / 3)
    plain = train(tiny_config(image_dir, tmp_path / "plain", iters=4))
    changed = any(
        not torch.equal(a, b)
        for a, b in zip(straight.s.gen.state_dict().values(), plain.s.gen.state_dict().values())
    )
    assert changed and plain.pl_mean == 0.0
    train(tiny_config(image_dir, tmp_path / "b", **(pl | {"iters": 3})))
    resumed = train(tiny_config(image_dir, tmp_path / "b", resume=True, **pl))
    assert resumed.pl_mean == straight.pl_mean
    for name in ("gen", "gen_ema", "disc"):
        a, b = getattr(straight.s, name).state_dict(), getattr(resumed.s, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name


@pytest.mark.parametrize(
    "bad", [{"pl_weight": -1.0}, {"pl_every": 0}, {"pl_batch_shrink": 0}, {"pl_decay": 0.0}]
)
def test_impossible_path_length_settings_are_refused(image_dir, tmp_path, bad) -> None:
    with pytest.raises(ValueError, match="path length regularisation needs"):
        tiny_config(image_dir, tmp_path, **bad).validate()


def test_the_cli_sets_the_path_length_weight_and_interval(tmp_path) -> None:
    p = argparse.ArgumentParser()
    configure_parser(p)
    base = ["--data", "d", "--out", str(tmp_path)]
    cfg = config_from_args(p.parse_args([*base, "--pl-weight", "2", "--pl-every", "8"]))
    assert cfg.pl_weight == 2.0 and cfg.pl_every == 8
    assert config_from_args(p.parse_args(base)).pl_weight == 0.0


def test_resuming_with_path_length_steps_added_scales_the_generators_adam(image_dir, tmp_path) -> None:
    train(tiny_config(image_dir, tmp_path, iters=2))  # started without the regularisation
    resumed = train(tiny_config(image_dir, tmp_path, resume=True, iters=3, pl_weight=2.0, pl_every=2))
    group = resumed.s.g_opt.param_groups[0]
    assert group["lr"] == pytest.approx(0.002 * 2 / 3)  # not the stored 0.002
    assert group["betas"][1] == pytest.approx(0.99 ** (2 / 3))
    assert resumed.s.g_opt.state  # the moments came back from the checkpoint
