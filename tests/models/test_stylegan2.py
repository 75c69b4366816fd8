"""StyleGAN2Generator: rosinality layout, synthesis, latents, hooks."""

import json
import math

import pytest
import torch

from latent_atelier.models.generator import Generator
from latent_atelier.models.stylegan2 import StyleGAN2Generator

TINY = {4: 16, 8: 16, 16: 16, 32: 16}


def tiny(**kw) -> StyleGAN2Generator:
    torch.manual_seed(1)
    args = {"size": 32, "style_dim": 32, "n_mlp": 2, "channels": TINY} | kw
    return StyleGAN2Generator(**args).eval()


def rosinality_keys(size: int, n_mlp: int, style_dim: int = 512, cm: int = 2) -> dict:
    """Key -> shape of rosinality's Generator.state_dict(), written from its layout."""
    widths = {r: 512 if r <= 32 else 2**14 * cm // r for r in (2**i for i in range(2, 11))}
    keys: dict[str, tuple] = {}
    for i in range(1, n_mlp + 1):
        keys[f"style.{i}.weight"] = (style_dim, style_dim)
        keys[f"style.{i}.bias"] = (style_dim,)

    def modconv(prefix: str, cin: int, cout: int, k: int) -> None:
        keys[f"{prefix}.conv.weight"] = (1, cout, cin, k, k)
        keys[f"{prefix}.conv.modulation.weight"] = (cin, style_dim)
        keys[f"{prefix}.conv.modulation.bias"] = (cin,)

    def styled(prefix: str, cin: int, cout: int, up: bool) -> None:
        modconv(prefix, cin, cout, 3)
        if up:
            keys[f"{prefix}.conv.blur.kernel"] = (4, 4)
        keys[f"{prefix}.noise.weight"] = (1,)
        keys[f"{prefix}.activate.bias"] = (cout,)

    def to_rgb(prefix: str, cin: int, up: bool) -> None:
        modconv(prefix, cin, 3, 1)
        keys[f"{prefix}.bias"] = (1, 3, 1, 1)
        if up:
            keys[f"{prefix}.upsample.kernel"] = (4, 4)

    keys["input.input"] = (1, widths[4], 4, 4)
    styled("conv1", widths[4], widths[4], up=False)
    to_rgb("to_rgb1", widths[4], up=False)
    log_size = int(math.log2(size))
    cin = widths[4]
    for n, i in enumerate(range(3, log_size + 1)):
        cout = widths[2**i]
        styled(f"convs.{2 * n}", cin, cout, up=True)
        styled(f"convs.{2 * n + 1}", cout, cout, up=False)
        to_rgb(f"to_rgbs.{n}", cout, up=True)
        cin = cout
    for layer in range((log_size - 2) * 2 + 1):
        res = 2 ** ((layer + 5) // 2)
        keys[f"noises.noise_{layer}"] = (1, 1, res, res)
    return keys


@pytest.mark.parametrize(("size", "n_mlp"), [(256, 2), (256, 8), (1024, 2), (1024, 8)])
def test_state_dict_matches_rosinality_and_loads_strictly(size, n_mlp):
    want = rosinality_keys(size, n_mlp)
    with torch.device("meta"):
        gen = StyleGAN2Generator(size, n_mlp=n_mlp)
        fake = {k: torch.empty(shape) for k, shape in want.items()}
    got = {k: tuple(v.shape) for k, v in gen.state_dict().items()}
    assert got == want
    gen.load_state_dict(fake, strict=True, assign=True)
    assert gen.n_latent == 2 * int(math.log2(size)) - 2


def test_strict_load_copies_values_at_256():
    gen = StyleGAN2Generator(256, n_mlp=2)
    torch.manual_seed(5)
    weights = {k: torch.randn(shape) for k, shape in rosinality_keys(256, 2).items()}
    gen.load_state_dict(weights, strict=True)
    for key in ("style.2.weight", "convs.11.conv.weight", "noises.noise_12", "to_rgbs.5.bias"):
        assert torch.equal(gen.state_dict()[key], weights[key])
    missing = dict(weights)
    missing.pop("convs.3.noise.weight")
    with pytest.raises(RuntimeError, match=r"convs\.3\.noise\.weight"):
        gen.load_state_dict(missing, strict=True)


def test_implements_generator_protocol_and_shapes():
    gen = tiny()
    assert isinstance(gen, Generator)
    assert gen.arch == "stylegan2"
    assert gen.resolution == 32
    assert gen.n_latent == 8
    assert gen.latent_groups == ("w",)
    assert gen.latent_shapes() == {"w": (8, 32)}
    assert gen.z_dim() == 32
    assert gen.noise_shapes == [(4, 4), (8, 8), (8, 8), (16, 16), (16, 16), (32, 32), (32, 32)]
    assert gen.layer_names[:4] == ("input", "conv1", "to_rgb1", "convs.0")
    assert gen.layer_names[-1] == "to_rgbs.2"
    assert gen.mapping(torch.randn(3, 32))["w"].shape == (3, 32)
    lat = gen.random_latent(0, batch=3)
    lat.validate(gen)
    image = gen.synthesize(lat).image
    assert image.shape == (3, 3, 32, 32)
    assert image.dtype == torch.float32
    assert torch.isfinite(image).all()
    assert image.std() > 0.01


def test_synthesis_is_a_pure_function_of_the_latent():
    gen = tiny()
    a = gen.synthesize(gen.random_latent(7)).image
    b = gen.synthesize(gen.random_latent(7)).image
    assert torch.equal(a, b)
    assert not torch.equal(a, gen.synthesize(gen.random_latent(8)).image)
    lat = gen.random_latent(7)
    lat.noise[3] = torch.randn_like(lat.noise[3])
    with torch.no_grad():
        gen.convs[2].noise.weight.fill_(0.5)
    assert not torch.equal(gen.synthesize(lat).image, gen.synthesize(gen.random_latent(7)).image)


def test_batch_equals_separate_calls():
    gen = tiny()
    lat = gen.random_latent(3, batch=2)
    both = gen.synthesize(lat).image
    one = gen.synthesize(lat.select(0)).image
    two = gen.synthesize(lat.select(1)).image
    assert torch.allclose(both, torch.cat([one, two]), atol=1e-5)


def test_hooks_read_and_replace_layer_outputs():
    gen = tiny()
    lat = gen.random_latent(1)
    base = gen.synthesize(lat).image
    seen = {}

    def record(name):
        def fn(t):
            seen[name] = t.shape

        return fn

    same = gen.synthesize(lat, hooks={n: record(n) for n in gen.layer_names}).image
    assert torch.equal(same, base)
    assert seen["convs.1"] == (1, 16, 8, 8)
    assert seen["to_rgbs.0"] == (1, 3, 8, 8)
    assert set(seen) == set(gen.layer_names)
    zeroed = gen.synthesize(lat, hooks={"convs.2": torch.zeros_like}).image
    assert not torch.allclose(zeroed, base, atol=1e-3)
    last = gen.synthesize(lat, hooks={"to_rgbs.2": lambda t: t * 0 + 0.25}).image
    assert torch.equal(last, torch.full_like(last, 0.25))
    with pytest.raises(KeyError, match="unknown layer"):
        gen.synthesize(lat, hooks={"convs.99": torch.zeros_like})


def test_mean_latent_is_cached_seeded_and_used_for_truncation():
    gen = tiny()
    mean = gen.mean_latent(512)
    again = gen.mean_latent(512)
    assert torch.equal(mean.w["w"], again.w["w"])
    assert mean.w["w"].shape == (1, 8, 32)
    assert all(torch.count_nonzero(n) == 0 for n in mean.noise)
    assert torch.allclose(mean.w["w"][0, 0], mean.w["w"][0, -1])
    truncated = gen.random_latent(4, truncation=0.0)
    assert torch.allclose(truncated.w["w"][0, 0], gen.mean_w()["w"], atol=1e-6)
    half = gen.random_latent(4, truncation=0.5).w["w"]
    full = gen.random_latent(4).w["w"]
    assert torch.allclose(half, gen.mean_w()["w"] + 0.5 * (full - gen.mean_w()["w"]), atol=1e-5)
    with torch.no_grad():  # new mapping weights invalidate the cached estimate
        gen.style[1].bias.add_(10.0)
    assert not torch.allclose(gen.mean_latent(512).w["w"], mean.w["w"])
    gen.set_mean_w(torch.ones(32))
    assert torch.equal(gen.mean_latent().w["w"], torch.ones(1, 8, 32))


def test_gradients_reach_w_and_noise():
    gen = tiny()
    lat = gen.random_latent(2).requires_grad_()
    gen.synthesize(lat).image.square().mean().backward()
    assert lat.w["w"].grad.abs().sum() > 0
    with torch.no_grad():
        gen.conv1.noise.weight.fill_(1.0)
    lat = gen.random_latent(2).requires_grad_()
    gen.synthesize(lat).image.square().mean().backward()
    assert lat.noise[0].grad.abs().sum() > 0


def test_architecture_is_json_and_rebuilds_the_model():
    gen = tiny()
    config = json.loads(json.dumps(gen.architecture()))
    assert config["arch"] == "stylegan2"
    assert config["size"] == 32 and config["n_mlp"] == 2
    twin = StyleGAN2Generator.from_architecture(config).eval()
    twin.load_state_dict(gen.state_dict(), strict=True)
    lat = gen.random_latent(9)
    assert torch.equal(twin.synthesize(lat).image, gen.synthesize(lat).image)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="power of two"):
        StyleGAN2Generator(48)
    with pytest.raises(ValueError, match="channel width"):
        StyleGAN2Generator(2048, style_dim=8, n_mlp=1)
