"""The pure-PyTorch StyleGAN2 building blocks: filtering, activations, modulated convs."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latent_atelier.models.layers import (
    Blur,
    ConvLayer,
    Downsample,
    EqualConv2d,
    EqualLinear,
    FusedLeakyReLU,
    ModulatedConv2d,
    NoiseInjection,
    PixelNorm,
    ResBlock,
    StyledConv,
    ToRGB,
    Upsample,
    fused_leaky_relu,
    make_kernel,
    upfirdn2d,
)


def reference_upfirdn(x: np.ndarray, k: np.ndarray, up: int, down: int, pad: tuple[int, int]):
    """Textbook definition, one output pixel at a time (true convolution with k)."""
    h, w = x.shape
    z = np.zeros((h * up, w * up))
    z[::up, ::up] = x
    p0, p1 = pad
    z = np.pad(z, ((p0, p1), (p0, p1)))
    kh, kw = k.shape
    oh, ow = z.shape[0] - kh + 1, z.shape[1] - kw + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = (z[i : i + kh, j : j + kw] * k[::-1, ::-1]).sum()
    return out[::down, ::down]


@pytest.mark.parametrize(
    ("up", "down", "pad"), [(2, 1, (2, 1)), (1, 2, (1, 1)), (1, 1, (1, 2)), (2, 1, (1, 1))]
)
def test_upfirdn2d_matches_textbook_definition(up, down, pad):
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64)
    k = torch.tensor([[1.0, 2, 3, 1], [0, 1, 2, 1], [1, 1, 1, 1], [2, 0, 1, 3]], dtype=torch.float64)
    got = upfirdn2d(x, k, up=up, down=down, pad=pad)[0, 0].numpy()
    want = reference_upfirdn(x[0, 0].numpy(), k.numpy(), up, down, pad)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_upfirdn2d_negative_pad_crops():
    x = torch.randn(2, 3, 8, 8)
    k = make_kernel([1, 3, 3, 1])
    full = upfirdn2d(x, k, pad=(2, 2))
    cropped = upfirdn2d(x, k, pad=(-1, 0))
    assert torch.allclose(full[:, :, 3:-2, 3:-2], cropped, atol=1e-6)


def test_kernel_is_normalised_outer_product():
    k = make_kernel([1, 3, 3, 1])
    assert k.shape == (4, 4)
    assert math.isclose(float(k.sum()), 1.0, rel_tol=1e-6)
    assert torch.allclose(k, k.T)


def test_upsample_and_downsample_keep_constant_images_constant():
    x = torch.full((1, 2, 8, 8), 0.7)
    up = Upsample()(x)
    down = Downsample()(x)
    assert up.shape == (1, 2, 16, 16)
    assert down.shape == (1, 2, 4, 4)
    assert torch.allclose(up[:, :, 2:-2, 2:-2], torch.full_like(up[:, :, 2:-2, 2:-2], 0.7))
    assert torch.allclose(down[:, :, 1:-1, 1:-1], torch.full_like(down[:, :, 1:-1, 1:-1], 0.7))


def test_blur_keeps_size_and_has_kernel_buffer():
    blur = Blur([1, 3, 3, 1], pad=(2, 1))
    assert "kernel" in blur.state_dict()
    assert blur(torch.randn(1, 1, 9, 9)).shape == (1, 1, 9, 9)


def test_upfirdn2d_supports_double_backward():
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    k = make_kernel([1, 3, 3, 1]).double()
    assert torch.autograd.gradgradcheck(lambda t: upfirdn2d(t, k, up=2, pad=(2, 1)), (x,))
    assert torch.autograd.gradgradcheck(lambda t: upfirdn2d(t, k, down=2, pad=(1, 1)), (x,))


def test_r1_penalty_backpropagates_through_resblock():
    block = ResBlock(3, 4)
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    score = block(x).sum()
    (grad,) = torch.autograd.grad(score, x, create_graph=True)
    grad.pow(2).sum().backward()
    assert block.conv1[0].weight.grad is not None
    assert block.conv1[0].weight.grad.abs().sum() > 0


def test_fused_leaky_relu_values():
    x = torch.tensor([[-1.0, 2.0]])
    bias = torch.tensor([0.5, -0.5])
    out = fused_leaky_relu(x, bias)
    want = torch.tensor([[-0.5 * 0.2, 1.5]]) * math.sqrt(2)
    assert torch.allclose(out, want)
    act = FusedLeakyReLU(2)
    assert torch.allclose(act(torch.tensor([[-1.0, 1.0]])), torch.tensor([[-0.2, 1.0]]) * 2**0.5)


def test_pixel_norm_gives_unit_rms():
    out = PixelNorm()(torch.randn(4, 16) * 5)
    assert torch.allclose(out.pow(2).mean(1), torch.ones(4), atol=1e-4)


def test_equal_linear_scales_weight_and_bias_by_lr_mul():
    lin = EqualLinear(8, 4, lr_mul=0.01)
    with torch.no_grad():
        lin.bias.fill_(3.0)
    x = torch.randn(2, 8)
    want = F.linear(x, lin.weight * 0.01 / math.sqrt(8), lin.bias * 0.01)
    assert torch.allclose(lin(x), want, atol=1e-6)
    act = EqualLinear(8, 4, activation="fused_lrelu")
    assert (act(x) >= -0.2 * math.sqrt(2) * act(x).abs().max()).all()
    assert set(act.state_dict()) == {"weight", "bias"}


def test_equal_linear_with_activation_compiles_to_the_same_values():
    # torch.compile rewrites add(bias, matmul, alpha) into an addmm without alpha
    # (pytorch/pytorch#167313); the compiled path must still give the eager values
    torch.manual_seed(0)
    layer = EqualLinear(64, 16, activation="fused_lrelu")
    x = torch.randn(4, 64)
    torch.testing.assert_close(torch.compile(layer)(x), layer(x), atol=1e-5, rtol=1e-5)


def test_equal_conv_uses_he_scale():
    conv = EqualConv2d(3, 5, 3, padding=1)
    x = torch.randn(1, 3, 6, 6)
    want = F.conv2d(x, conv.weight / math.sqrt(27), conv.bias, padding=1)
    assert torch.allclose(conv(x), want, atol=1e-6)


@pytest.mark.parametrize("mode", ["plain", "upsample", "downsample"])
def test_modulated_conv_grouped_equals_input_scaled(mode):
    conv = ModulatedConv2d(4, 6, 3, 8, upsample=mode == "upsample", downsample=mode == "downsample")
    x, style = torch.randn(3, 4, 8, 8), torch.randn(3, 8)
    grouped = conv(x, style)
    conv.fused = False
    scaled = conv(x, style)
    want_size = {"plain": 8, "upsample": 16, "downsample": 4}[mode]
    assert grouped.shape == (3, 6, want_size, want_size)
    assert torch.allclose(grouped, scaled, atol=1e-5)


def test_demodulation_ignores_style_scale():
    conv = ModulatedConv2d(4, 6, 3, 8)
    x, style = torch.randn(2, 4, 8, 8), torch.randn(2, 8)
    before = conv(x, style)
    with torch.no_grad():
        conv.modulation.weight.mul_(3.0)
        conv.modulation.bias.mul_(3.0)
    assert torch.allclose(conv(x, style), before, atol=1e-5)
    conv.demodulate = False
    assert not torch.allclose(conv(x, style), before, atol=1e-3)


def test_noise_must_be_given():
    inject = NoiseInjection()
    with pytest.raises(ValueError, match="explicit noise"):
        inject(torch.zeros(1, 2, 4, 4), None)
    with pytest.raises(ValueError, match="noise map"):
        inject(torch.zeros(1, 2, 4, 4), torch.zeros(1, 1, 8, 8))
    with torch.no_grad():
        inject.weight.fill_(2.0)
    out = inject(torch.zeros(1, 2, 4, 4), torch.ones(1, 1, 4, 4))
    assert torch.allclose(out, torch.full((1, 2, 4, 4), 2.0))


def test_rosinality_parameter_names():
    styled = StyledConv(4, 6, 3, 8, upsample=True)
    assert set(styled.state_dict()) == {
        "conv.weight",
        "conv.blur.kernel",
        "conv.modulation.weight",
        "conv.modulation.bias",
        "noise.weight",
        "activate.bias",
    }
    assert set(ToRGB(6, 8).state_dict()) == {
        "bias",
        "upsample.kernel",
        "conv.weight",
        "conv.modulation.weight",
        "conv.modulation.bias",
    }
    assert set(ConvLayer(3, 4, 3, downsample=True).state_dict()) == {
        "0.kernel",
        "1.weight",
        "2.bias",
    }
    assert set(ConvLayer(3, 4, 1, downsample=True, activate=False, bias=False).state_dict()) == {
        "0.kernel",
        "1.weight",
    }


def test_to_rgb_adds_upsampled_skip():
    rgb = ToRGB(4, 8)
    x, style = torch.randn(1, 4, 8, 8), torch.randn(1, 8)
    skip = torch.randn(1, 3, 4, 4)
    assert torch.allclose(rgb(x, style, skip) - rgb(x, style), rgb.upsample(skip), atol=1e-6)


# -- the discriminator built from these blocks ----------------------------------------
def rosinality_discriminator_keys(size: int, cm: int = 2) -> dict:
    """Key -> shape of rosinality's Discriminator.state_dict(), written from its layout."""
    widths = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * cm, 128: 128 * cm, 256: 64 * cm}
    keys = {"convs.0.0.weight": (widths[size], 3, 1, 1), "convs.0.1.bias": (widths[size],)}
    cin, n, res = widths[size], 1, size
    while res > 4:
        cout = widths[res // 2]
        keys[f"convs.{n}.conv1.0.weight"] = (cin, cin, 3, 3)
        keys[f"convs.{n}.conv1.1.bias"] = (cin,)
        keys[f"convs.{n}.conv2.0.kernel"] = (4, 4)
        keys[f"convs.{n}.conv2.1.weight"] = (cout, cin, 3, 3)
        keys[f"convs.{n}.conv2.2.bias"] = (cout,)
        keys[f"convs.{n}.skip.0.kernel"] = (4, 4)
        keys[f"convs.{n}.skip.1.weight"] = (cout, cin, 1, 1)
        cin, n, res = cout, n + 1, res // 2
    keys["final_conv.0.weight"] = (512, cin + 1, 3, 3)
    keys["final_conv.1.bias"] = (512,)
    keys["final_linear.0.weight"] = (512, 512 * 16)
    keys["final_linear.0.bias"] = (512,)
    keys["final_linear.1.weight"] = (1, 512)
    keys["final_linear.1.bias"] = (1,)
    return keys


def test_discriminator_matches_rosinality_layout():
    from latent_atelier.models.discriminator import Discriminator

    with torch.device("meta"):
        disc = Discriminator(256)
    assert {k: tuple(v.shape) for k, v in disc.state_dict().items()} == (rosinality_discriminator_keys(256))


def test_discriminator_logits_features_and_r1():
    from latent_atelier.models.discriminator import Discriminator

    torch.manual_seed(0)
    disc = Discriminator(32, channels={4: 4, 8: 4, 16: 4, 32: 4})
    x = torch.randn(3, 3, 32, 32, requires_grad=True)  # 3 is not a multiple of the group 4
    logits, feats = disc.forward_features(x)
    assert logits.shape == (3, 1)
    assert sorted(feats) == [4, 8, 16, 32]
    assert feats[16].shape == (3, 4, 16, 16)
    assert torch.equal(disc(x), logits)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    grad.square().sum().backward()
    assert disc.final_linear[1].weight.grad.abs().sum() > 0
    # the std-dev channel couples samples of a group: changing one moves the other's logit
    pair = torch.randn(2, 3, 32, 32)
    other = pair.clone()
    other[1] += 1.0
    assert not torch.allclose(disc(pair)[0], disc(other)[0])
