"""FurryGAN generator: official key layout, synthesis, latents, save/load."""

import math

import pytest
import torch

from latent_atelier.models.furrygan import FurryGAN, official_config
from latent_atelier.models.generator import Generator

TINY = {4: 32, 8: 32, 16: 32, 32: 16}


def tiny(**kw) -> FurryGAN:
    torch.manual_seed(3)
    args = {"size": 32, "style_dim": 32, "channels": TINY} | kw
    return FurryGAN(**args).eval()


def official_keys(size: int = 256, style_dim: int = 512, cm: int = 2, ratio=(3, 1), n_mlp: int = 2) -> dict:
    """Key -> shape of the official FurryGAN Generator.state_dict(), written from its layout."""
    widths = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * cm, 128: 128 * cm, 256: 64 * cm}
    parts = sum(ratio)
    keys: dict[str, tuple] = {}
    for g, r in (("fg", ratio[0]), ("bg", ratio[1])):
        sd = style_dim // parts * r
        w = {res: c // parts * r for res, c in widths.items()}
        for i in range(1, n_mlp + 1):
            keys[f"style_{g}.{i}.weight"] = (sd, sd)
            keys[f"style_{g}.{i}.bias"] = (sd,)

        def styled(prefix, cin, cout, k=3, up=False, sd=sd):
            keys[f"{prefix}.conv.weight"] = (1, cout, cin, k, k)
            keys[f"{prefix}.conv.modulation.weight"] = (cin, sd)
            keys[f"{prefix}.conv.modulation.bias"] = (cin,)
            if up:
                keys[f"{prefix}.conv.blur.kernel"] = (4, 4)
            keys[f"{prefix}.noise.weight"] = (1,)
            keys[f"{prefix}.activate.bias"] = (cout,)

        keys[f"input_{g}.input"] = (1, w[4], 4, 4)
        styled(f"conv1_{g}", w[4], w[4])
        cin, n = w[4], 0
        for i in range(3, int(math.log2(size)) + 1):
            cout = w[2**i]
            styled(f"convs_{g}.{n}", cin, cout, up=True)
            styled(f"convs_{g}.{n + 1}", cout, cout)
            cin, n = cout, n + 2
        keys[f"to_{g}.conv.weight"] = (1, 3, cin, 1, 1)
        keys[f"to_{g}.conv.modulation.weight"] = (cin, sd)
        keys[f"to_{g}.conv.modulation.bias"] = (cin,)
        keys[f"to_{g}.bias"] = (1, 3, 1, 1)
        keys[f"to_{g}.upsample.kernel"] = (4, 4)
        if g == "fg":
            styled("pre_m", cin, 32, k=1)
            styled("refine_m", cin, 32, k=1)
    for layer in range((int(math.log2(size)) - 2) * 2 + 1):
        res = 2 ** ((layer + 5) // 2)
        keys[f"noises.noise_{layer}"] = (1, 1, res, res)
    return keys


def test_official_layout_loads_strictly():
    expected = official_keys()
    torch.manual_seed(0)
    state = {k: torch.randn(shape) for k, shape in expected.items()}
    gen = FurryGAN.from_official_state_dict(state)
    assert gen.resolution == 256 and gen.n_latent == 14
    assert gen.ch_ratio == (3, 1) and gen.n_mlp == 2
    assert {k: tuple(v.shape) for k, v in gen.state_dict().items()} == expected
    assert torch.equal(gen.state_dict()["convs_fg.3.conv.weight"], state["convs_fg.3.conv.weight"])
    assert gen.latent_shapes() == {"fg": (14, 384), "bg": (14, 128)}


def test_official_config_rejects_other_dicts():
    with pytest.raises(ValueError, match="not an official FurryGAN"):
        official_config({"input.input": torch.zeros(1, 512, 4, 4)})


def test_official_pt_through_checkpoints(tmp_path):
    from latent_atelier.models.checkpoints import load_generator

    gen = tiny()
    path = tmp_path / "official.pt"
    torch.save({"g_ema": gen.state_dict()}, path)
    loaded = load_generator(path)
    assert isinstance(loaded, FurryGAN)
    for k, v in gen.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k


def test_protocol_and_shapes():
    gen = tiny()
    assert isinstance(gen, Generator)
    assert gen.latent_groups == ("fg", "bg")
    assert gen.n_latent == 2 * 5 - 2
    # shared block noise plus the two full-size mask-head maps
    blocks = [(4, 4), (8, 8), (8, 8), (16, 16), (16, 16), (32, 32), (32, 32)]
    assert gen.noise_shapes[: gen.num_layers] == blocks
    assert gen.noise_shapes[gen.num_layers :] == [(32, 32), (32, 32)]
    assert gen.z_dim() == 24 and gen.style_dim_bg == 8
    assert gen.channels_fg[4] == 24 and gen.channels_bg[4] == 8


def test_synthesis_is_deterministic_and_composites():
    gen = tiny(gamma=0.7)
    lat = gen.random_latent(5, batch=2)
    with torch.no_grad():
        a = gen.synthesize(lat, return_alpha=True)
        b = gen.synthesize(lat.clone(), return_alpha=True)
    assert torch.equal(a.image, b.image) and torch.equal(a.alpha, b.alpha)
    assert a.image.shape == (2, 3, 32, 32) and a.alpha.shape == (2, 1, 32, 32)
    assert float(a.alpha.min()) >= 0 and float(a.alpha.max()) <= 1
    torch.testing.assert_close(a.image, a.alpha * a.fg + (1 - a.alpha) * a.bg)
    torch.testing.assert_close(a.alpha, torch.clamp(a.coarse + 0.7 * a.fine, 0, 1))
    for m in (a.coarse, a.fine):  # per-sample min-max normalised
        flat = m.flatten(1)
        torch.testing.assert_close(flat.min(1).values, torch.zeros(2), atol=1e-5, rtol=0)
        torch.testing.assert_close(flat.max(1).values, torch.ones(2), atol=1e-5, rtol=0)
    assert float(a.fg.abs().max()) <= 1 and float(a.bg.abs().max()) <= 1  # tanh outputs


def test_mask_head_noise_is_an_input():
    gen = tiny()
    with torch.no_grad():
        gen.pre_m.noise.weight.fill_(5.0)
        lat = gen.random_latent(1)
        base = gen.synthesize(lat, return_alpha=True).coarse
        lat.noise[gen.num_layers] = torch.randn_like(lat.noise[gen.num_layers])
        changed = gen.synthesize(lat, return_alpha=True).coarse
    assert not torch.allclose(base, changed)


def test_mapping_uses_leading_part_of_z_for_background():
    gen = tiny()
    z = torch.randn(3, gen.z_dim())
    z2 = z.clone()
    z2[:, gen.style_dim_bg :] += 1.0
    with torch.no_grad():
        w, w2 = gen.mapping(z), gen.mapping(z2)
    assert torch.equal(w["bg"], w2["bg"]) and not torch.equal(w["fg"], w2["fg"])


def test_hooks_see_and_replace_layers():
    gen = tiny()
    lat = gen.random_latent(2)
    seen = {}

    def record(t):
        seen["pre_m"] = tuple(t.shape)

    hooks = {"pre_m": record, "alpha": lambda t: torch.ones_like(t)}
    with torch.no_grad():
        out = gen.synthesize(lat, return_alpha=True, hooks=hooks)
    assert seen["pre_m"] == (1, 1, 32, 32)
    torch.testing.assert_close(out.image, out.fg)  # alpha forced to 1
    with pytest.raises(KeyError, match="unknown layer"):
        gen.synthesize(lat, hooks={"nope": lambda t: None})


def test_mean_latent_and_truncation():
    gen = tiny()
    mean = gen.mean_latent(256)
    assert mean.w["fg"].shape == (1, gen.n_latent, gen.z_dim())
    lat = gen.random_latent(4, truncation=0.0)
    torch.testing.assert_close(lat.w["bg"][0, 0], gen.mean_w()["bg"])


def test_safetensors_round_trip_bit_identical(tmp_path):
    from latent_atelier.models.checkpoints import build_generator, load_generator, save_generator

    gen = tiny(gamma=0.25)
    path = tmp_path / "furry.safetensors"
    save_generator(gen, path)
    loaded = load_generator(path)
    assert isinstance(loaded, FurryGAN) and loaded.gamma == 0.25
    assert loaded.architecture() == gen.architecture()
    for k, v in gen.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    lat = gen.random_latent(9)
    with torch.no_grad():
        assert torch.equal(gen(lat), loaded(lat))
    assert isinstance(build_generator(gen.architecture()), FurryGAN)


def test_bad_settings_explain_themselves():
    with pytest.raises(ValueError, match="power of two"):
        FurryGAN(48)
    with pytest.raises(ValueError, match="no channel width"):
        FurryGAN(2048, style_dim=32)
    with pytest.raises(ValueError, match="ch_ratio"):
        FurryGAN(32, style_dim=32, channels=TINY, ch_ratio=(3, 0))
