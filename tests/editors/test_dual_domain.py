"""Dual-Domain Synthesis: loss terms, compatibility, the optimisation and the operation (tiny models)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import torch

from latent_atelier.editors.dual_domain.compat import IncompatibleGenerators, check_compatible, frozen
from latent_atelier.editors.dual_domain.dds import (
    DDSSettings,
    dual_domain_synthesis,
    lr_factor,
    paired_inputs,
)
from latent_atelier.editors.dual_domain.losses import (
    MaskedPerceptual,
    crossover_loss,
    masked_mse,
    naive_crossover,
)
from latent_atelier.editors.operation import Cancelled, OperationError, Progress

WIDTHS = {4: 16, 8: 16, 16: 16, 32: 16}


def tiny(arch: str = "furrygan", size: int = 16, seed: int = 0):
    from latent_atelier.models.zoo import random_generator

    widths = {k: v for k, v in WIDTHS.items() if k <= size}
    return random_generator(
        arch, size, seed, style_dim=16, channels=widths, **({"n_mlp": 2} if arch == "stylegan2" else {})
    )


def left_mask(b: int, size: int, cols: int) -> torch.Tensor:
    m = torch.zeros(b, 1, size, size)
    m[..., :cols] = 1.0
    return m


def test_masked_mse_gives_no_gradient_outside_the_mask():
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    m = left_mask(2, 16, 5)
    masked_mse(x, torch.zeros_like(x), m).sum().backward()
    assert x.grad[..., 5:].abs().max() == 0
    assert x.grad[..., :5].abs().min() > 0


def test_inside_perceptual_term_ignores_outside_pixels():
    from latent_atelier.models.perceptual import get_vgg

    y = torch.rand(1, 3, 64, 64) * 2 - 1
    m = left_mask(1, 64, 8)
    strict = MaskedPerceptual(get_vgg("cpu"), mask_images=True)
    x = (torch.rand(1, 3, 64, 64) * 2 - 1).requires_grad_(True)
    strict(x, y, m).sum().backward()
    assert x.grad[..., 8:].abs().max() == 0  # masked images: nothing outside reaches the loss
    assert x.grad[..., :8].abs().sum() > 0
    paper = MaskedPerceptual(get_vgg("cpu"))  # features masked only (paper and code)
    x2 = x.detach().clone().requires_grad_(True)
    paper(x2, y, m).sum().backward()
    assert x2.grad[..., 8:20].abs().sum() > 0  # the receptive field reaches over the border
    assert x2.grad[..., 56:].abs().max() == 0  # but not across the image


def test_crossover_terms_route_each_generator_to_its_region():
    xs, xt = torch.ones(1, 3, 8, 8), -torch.ones(1, 3, 8, 8)
    ys, yt = left_mask(1, 8, 3), left_mask(1, 8, 4)
    xc = naive_crossover(xs, xt, ys, yt)
    assert torch.all(xc[..., :3] == 1) and torch.all(xc[..., 3] == 0) and torch.all(xc[..., 4:] == -1)
    img_s = torch.zeros(1, 3, 8, 8, requires_grad=True)
    img_t = torch.zeros(1, 3, 8, 8, requires_grad=True)
    crossover_loss(img_s, img_t, xc, ys, yt).sum().backward()
    assert img_s.grad[..., 3:].abs().max() == 0 and img_s.grad[..., :3].abs().min() > 0
    assert img_t.grad[..., :4].abs().max() == 0 and img_t.grad[..., 4:].abs().min() > 0


def test_incompatible_pairs_are_refused_with_a_clear_message():
    fur = tiny("furrygan", 16)
    check_compatible(fur, tiny("furrygan", 16, seed=3))
    with pytest.raises(IncompatibleGenerators, match=r"different architectures.*adapt-from"):
        check_compatible(fur, tiny("stylegan2", 16))
    with pytest.raises(IncompatibleGenerators, match="different resolutions"):
        check_compatible(fur, tiny("furrygan", 32))
    assert issubclass(IncompatibleGenerators, OperationError)


def test_settings_refuse_unknown_variants():
    with pytest.raises(ValueError, match="variant"):
        DDSSettings(variant="mine")
    with pytest.raises(ValueError, match="space"):
        DDSSettings(space="s")
    with pytest.raises(ValueError, match="part_weight"):
        DDSSettings(part_weight=-1.0)
    with pytest.raises(ValueError, match="part_weight"):
        DDSSettings(part_weight=float("nan"))
    with pytest.raises(ValueError, match="start"):
        DDSSettings(start="here")
    with pytest.raises(ValueError, match="lr_rampdown"):
        DDSSettings(lr_rampdown=1.5)
    with pytest.raises(ValueError, match="needs space='w\\+'"):
        DDSSettings(space="z", start="latent")


def test_the_rate_ramps_down_over_the_last_steps_only():
    s = DDSSettings(steps=100, lr_rampdown=0.25)
    rates = [lr_factor(i, s) for i in range(100)]
    assert rates[:76] == [1.0] * 76  # constant until the last quarter
    assert all(a > b for a, b in pairwise(rates[75:]))  # then falling
    assert rates[-1] < 0.01
    assert [lr_factor(i, DDSSettings(steps=100)) for i in (0, 99)] == [1.0, 1.0]  # the paper's


def test_a_ramped_down_rate_settles_the_search():
    gs, gt = tiny(seed=1), tiny(seed=2)
    inputs = paired_inputs(gs, gt, gt.random_latent(5, batch=2), left_mask(2, 16, 4), left_mask(2, 16, 4))
    last_moves = {}
    with frozen(gs, gt):
        for ramp in (0.0, 0.5):
            settings = DDSSettings(variant="code", space="w+", steps=40, lr=0.1, lr_rampdown=ramp)
            losses = dual_domain_synthesis(gs, gt, inputs, settings).losses
            last_moves[ramp] = float(np.abs(np.diff(losses[-6:])).max())
    assert last_moves[0.5] < 0.5 * last_moves[0.0]  # the loss stops moving as the rate falls


def test_starting_from_the_latent_begins_at_the_target_and_keeps_more_of_it():
    gs, gt = tiny(seed=1), tiny(seed=2)
    lat = gt.random_latent(5, batch=2)
    inputs = paired_inputs(gs, gt, lat, left_mask(2, 16, 4), left_mask(2, 16, 4))
    kept = {k: v.clone() for k, v in lat.w.items()}
    runs = {}
    with frozen(gs, gt):
        for start in ("default", "latent"):
            settings = DDSSettings(variant="code", space="w+", steps=0, start=start)
            runs[start, 0] = dual_domain_synthesis(gs, gt, inputs, settings)
            settings = DDSSettings(variant="code", space="w+", steps=30, lr=0.05, start=start)
            runs[start, 30] = dual_domain_synthesis(gs, gt, inputs, settings)
    assert torch.allclose(runs["latent", 0].image, inputs.x_t, atol=1e-5)  # no step: the target
    assert not torch.allclose(runs["default", 0].image, inputs.x_t, atol=1e-3)  # the mean latent's
    assert runs["latent", 30].metrics["psnr_out"].mean() > runs["default", 30].metrics["psnr_out"].mean()
    assert all(torch.equal(v, lat.w[k]) for k, v in kept.items())  # the input latent is untouched


@pytest.mark.parametrize("variant", ["code", "paper"])
def test_a_larger_part_weight_brings_more_of_the_source_part(variant):
    gs, gt = tiny(seed=1), tiny(seed=2)
    inputs = paired_inputs(gs, gt, gt.random_latent(5, batch=2), left_mask(2, 16, 4), left_mask(2, 16, 4))
    runs = {}
    with frozen(gs, gt):
        for k in (1.0, 20.0):
            settings = DDSSettings(variant=variant, space="w+", steps=40, lr=0.05, part_weight=k)
            runs[k] = dual_domain_synthesis(gs, gt, inputs, settings).metrics
    if variant == "code":  # its one generator is asked for the part directly
        assert runs[20.0]["psnr_in"].mean() > runs[1.0]["psnr_in"].mean() + 0.5
        assert runs[20.0]["psnr_out"].mean() < runs[1.0]["psnr_out"].mean()  # and pays outside
    else:  # the weight moves the latent towards the source's, so the result changes
        assert not np.allclose(runs[20.0]["psnr_in"], runs[1.0]["psnr_in"])


@pytest.mark.parametrize(("variant", "space"), [("paper", "z"), ("code", "w+")])
def test_optimisation_reduces_the_loss_and_reports_every_step(variant, space):
    gs, gt = tiny(seed=1), tiny(seed=2)
    lat = gt.random_latent(5, batch=2)
    inputs = paired_inputs(gs, gt, lat, left_mask(2, 16, 6), left_mask(2, 16, 6))
    progress = Progress()
    with frozen(gs, gt):
        out = dual_domain_synthesis(
            gs, gt, inputs, DDSSettings(variant=variant, space=space, steps=25, lr=0.05), progress
        )
    assert len(progress.history) == 25 and out.image.shape == (2, 3, 16, 16)
    assert np.mean(out.losses[-3:]) < 0.8 * out.losses[0]
    assert out.latent.batch == 2 and (out.z is not None) == (space == "z")
    assert all(p.requires_grad for p in gs.parameters())  # frozen() restored them


def test_batch_items_are_independent():
    gs, gt = tiny(seed=1), tiny(seed=2)
    lat = gt.random_latent(7, batch=2)
    m = left_mask(2, 16, 6)
    settings = DDSSettings(variant="code", space="w+", steps=4)
    both = dual_domain_synthesis(gs, gt, paired_inputs(gs, gt, lat, m, m), settings)
    one = dual_domain_synthesis(gs, gt, paired_inputs(gs, gt, lat.select(1), m[1:], m[1:]), settings)
    assert torch.allclose(both.image[1:], one.image, atol=1e-4)


def test_cancel_stops_the_run():
    gs, gt = tiny(seed=1), tiny(seed=2)
    lat = gt.random_latent(0)
    inputs = paired_inputs(gs, gt, lat, left_mask(1, 16, 6), left_mask(1, 16, 6))
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        dual_domain_synthesis(gs, gt, inputs, DDSSettings(steps=5), progress)


# -- the operation ---------------------------------------------------------------------------
@pytest.fixture
def second_model(tmp_path):
    from latent_atelier.models.checkpoints import save_generator

    path = tmp_path / "second.safetensors"
    save_generator(tiny(seed=9), path)
    return path


def test_operation_with_a_painted_mask_and_several_latents(second_model):
    from latent_atelier.editors.registry import get_operation

    op = get_operation("dual-domain")
    mask = np.zeros((16, 16), np.float32)
    mask[4:10, 3:13] = 1.0
    params = op.Params(steps=3, count=2)
    result = op.run(tiny(), {"second_model": str(second_model), "part_mask": mask}, params, Progress())
    assert len(result.outputs["result"]) == 2 and result.outputs["result"][0].shape == (16, 16, 3)
    assert len(result.outputs["crossover"]) == 2
    assert result.outputs["latent"].batch == 2
    assert {"psnr_in", "psnr_out"} <= set(result.metrics)


def test_operation_refuses_incompatible_models_and_missing_masks(tmp_path, second_model):
    from latent_atelier.editors.registry import get_operation
    from latent_atelier.models.checkpoints import save_generator

    op = get_operation("dual-domain")
    other = tmp_path / "sg2.safetensors"
    save_generator(tiny("stylegan2", 16), other)
    mask = np.ones((16, 16), np.float32)
    with pytest.raises(OperationError, match="cannot share a latent"):
        op.run(tiny(), {"second_model": str(other), "part_mask": mask}, op.Params(steps=1), Progress())
    with pytest.raises(OperationError, match="no part mask"):
        op.run(tiny(), {"second_model": str(second_model)}, op.Params(steps=1), Progress())
    with pytest.raises(OperationError, match="set the space to w\\+"):
        inputs = {"second_model": str(second_model), "part_mask": mask}
        op.run(tiny(), inputs, op.Params(steps=1, variant="paper", start="latent"), Progress())
    with pytest.raises(OperationError, match="no such file"):
        op.run(
            tiny(),
            {"second_model": str(tmp_path / "nope.pt"), "part_mask": mask},
            op.Params(steps=1),
            Progress(),
        )


def test_cli_writes_results_and_reports_bad_pairs(tmp_path, second_model, capsys):
    from PIL import Image

    from latent_atelier.app.cli import main
    from latent_atelier.models.checkpoints import save_generator

    model = tmp_path / "first.safetensors"
    save_generator(tiny(), model)
    mask = np.zeros((16, 16), np.uint8)
    mask[5:11, 4:12] = 255
    Image.fromarray(mask).save(tmp_path / "part.png")
    out = tmp_path / "out"

    def dual_domain(second) -> int:
        command = ["--model", model, "--device", "cpu", "dual-domain", second]
        options = ["--part-mask", tmp_path / "part.png", "--steps", 2, "--out-dir", out]
        return main([str(a) for a in command + options])

    assert dual_domain(second_model) == 0
    assert (out / "result_0.png").is_file() and (out / "crossover_0.png").is_file()
    other = tmp_path / "sg2.safetensors"
    save_generator(tiny("stylegan2", 16), other)
    code = dual_domain(other)
    assert code == 2 and "cannot share a latent" in capsys.readouterr().err
    assert main(["--model", str(model), "dual-domain", str(tmp_path / "missing.safetensors")]) == 2
