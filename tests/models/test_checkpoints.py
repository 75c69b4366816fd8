"""Checkpoint formats: our safetensors, rosinality .pt, stylegan2-ada .pkl; hostile files."""

import argparse
import io
import os
import pickle
import re
import sys
import types
from collections import OrderedDict

import pytest
import torch
from torch import nn

from latent_atelier.models.checkpoints import (
    CheckpointError,
    build_generator,
    describe,
    load_generator,
    save_generator,
    stylegan2_config_from_state_dict,
)
from latent_atelier.models.stylegan2 import StyleGAN2Generator

TINY = {4: 16, 8: 16, 16: 16, 32: 16}


def tiny() -> StyleGAN2Generator:
    torch.manual_seed(3)
    gen = StyleGAN2Generator(32, style_dim=32, n_mlp=2, channels=TINY).eval()
    with torch.no_grad():  # non-zero noise strengths so noise maps matter
        for module in gen.modules():
            if hasattr(module, "noise"):
                module.noise.weight.fill_(0.3)
    return gen


def image(gen, seed=11):
    with torch.no_grad():
        return gen.synthesize(gen.random_latent(seed, batch=2)).image


# -- our format -----------------------------------------------------------------------
def test_safetensors_round_trip_is_bit_identical(tmp_path):
    gen = tiny()
    gen.set_mean_w(torch.linspace(-1, 1, 32))
    path = tmp_path / "model.safetensors"
    save_generator(gen, path)
    back = load_generator(path)
    assert isinstance(back, StyleGAN2Generator)
    assert back.architecture() == gen.architecture()
    assert torch.equal(image(back), image(gen))
    assert torch.equal(back.mean_w()["w"], gen.mean_w()["w"])
    assert not any(p.requires_grad for p in back.parameters())
    info = describe(path)
    assert info["arch"] == "stylegan2"
    assert info["resolution"] == 32 and info["n_latent"] == 8
    assert info["style_dim"] == 32 and info["n_mlp"] == 2
    assert info["dtype"] == "float32"
    assert info["parameters"] == sum(p.numel() for p in gen.parameters())


def test_fp16_save_is_smaller_and_reloads_close(tmp_path):
    gen = tiny()
    save_generator(gen, tmp_path / "full.safetensors")
    save_generator(gen, tmp_path / "half.safetensors", dtype=torch.float16)
    full, half = (tmp_path / "full.safetensors"), (tmp_path / "half.safetensors")
    assert half.stat().st_size < 0.6 * full.stat().st_size
    back = load_generator(half)
    assert next(back.parameters()).dtype == torch.float32
    a, b = image(gen), image(back)
    assert not torch.equal(a, b)
    assert torch.allclose(a, b, atol=2e-2 * a.abs().max().item())
    assert describe(half)["dtype"] == "float16"


def test_safetensors_without_our_config_is_refused(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(3)}, str(path))
    with pytest.raises(CheckpointError, match=r"foreign\.safetensors.*architecture config"):
        load_generator(path)


def test_build_generator_knows_stylegan2_only_by_name():
    gen = build_generator(
        {"arch": "stylegan2", "size": 8, "style_dim": 8, "n_mlp": 1, "channels": {"4": 8, "8": 8}}
    )
    assert gen.resolution == 8
    with pytest.raises(ValueError, match="unknown architecture"):
        build_generator({"arch": "biggan"})


# -- rosinality -----------------------------------------------------------------------
def test_rosinality_training_checkpoint_loads(tmp_path):
    gen = tiny()
    latent_avg = torch.randn(32)
    path = tmp_path / "100000.pt"
    torch.save(
        {
            "g": gen.state_dict(),
            "d": {"convs.0.0.weight": torch.zeros(1)},
            "g_ema": gen.state_dict(),
            "args": argparse.Namespace(size=32, n_mlp=2, lr=0.002),
            "latent_avg": latent_avg,
        },
        path,
    )
    back = load_generator(path)
    assert back.architecture()["channels"] == {str(k): v for k, v in TINY.items()}
    assert torch.equal(image(back), image(gen))
    assert torch.equal(back.mean_w()["w"], latent_avg)
    assert describe(path)["format"] == "rosinality stylegan2-pytorch .pt"


@pytest.mark.parametrize(("size", "n_mlp", "cm"), [(256, 8, 2), (1024, 2, 2), (256, 4, 1)])
def test_architecture_inferred_from_shapes(size, n_mlp, cm):
    with torch.device("meta"):
        state = StyleGAN2Generator(size, n_mlp=n_mlp, channel_multiplier=cm).state_dict()
    config = stylegan2_config_from_state_dict(state)
    assert config["size"] == size
    assert config["n_mlp"] == n_mlp
    assert config["style_dim"] == 512
    assert config["channel_multiplier"] == cm
    assert config["channels"] is None


def test_furrygan_checkpoint_dispatches_to_furrygan(tmp_path, monkeypatch):
    path = tmp_path / "furrygan.pt"
    torch.save({"g_ema": {"style_fg.1.weight": torch.ones(2, 2)}}, path)
    monkeypatch.setitem(sys.modules, "latent_atelier.models.furrygan", None)
    with pytest.raises(CheckpointError, match=r"furrygan\.pt.*FurryGAN support not installed"):
        load_generator(path)

    seen = {}
    stand_in = tiny()

    class FakeFurryGAN:
        @staticmethod
        def from_official_state_dict(state):
            seen.update(state)
            return stand_in

    module = types.ModuleType("latent_atelier.models.furrygan")
    module.FurryGAN = FakeFurryGAN
    monkeypatch.setitem(sys.modules, "latent_atelier.models.furrygan", module)
    assert load_generator(path) is stand_in
    assert torch.equal(seen["style_fg.1.weight"], torch.ones(2, 2))


# -- stylegan2-ada-pytorch pickles ----------------------------------------------------
def _reconstruct_persistent_obj(meta):  # only used while writing; never at load time
    raise AssertionError("the loader must not call the original reconstruction hook")


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"


class _EasyDict(dict):
    pass


_EasyDict.__module__ = "dnnlib.util"
_EasyDict.__qualname__ = "EasyDict"


class Persistent(nn.Module):
    """Pickles like a stylegan2-ada ``@persistent_class`` module: source code + state."""

    def __init__(self, class_name: str, module_src: str = "", **attrs):
        super().__init__()
        self._orig_class_name = class_name
        self._orig_module_src = module_src
        for k, v in attrs.items():
            setattr(self, k, v)

    def __reduce__(self):
        state = dict(self.__dict__)
        meta = {
            "type": "class",
            "version": 4,
            "module_src": self._orig_module_src,
            "class_name": self._orig_class_name,
            "state": state,
        }
        return (_reconstruct_persistent_obj, (meta,))


def _fc(in_dim, out_dim, bias_init=0.0):
    layer = Persistent("FullyConnectedLayer", in_features=in_dim, out_features=out_dim)
    layer.weight = nn.Parameter(torch.randn(out_dim, in_dim))
    layer.bias = nn.Parameter(torch.full([out_dim], bias_init) + 0.1 * torch.randn(out_dim))
    return layer


def _synthesis_layer(cin, cout, w_dim, res, up):
    layer = Persistent("SynthesisLayer", resolution=res, up=2 if up else 1)
    layer.affine = _fc(w_dim, cin, bias_init=1.0)
    layer.weight = nn.Parameter(torch.randn(cout, cin, 3, 3))
    layer.bias = nn.Parameter(torch.randn(cout))
    layer.noise_strength = nn.Parameter(torch.rand([]))
    layer.register_buffer("noise_const", torch.randn(res, res))
    layer.register_buffer("resample_filter", torch.ones(4, 4) / 16)
    return layer


def _torgb(cin, w_dim):
    layer = Persistent("ToRGBLayer")
    layer.affine = _fc(w_dim, cin, bias_init=1.0)
    layer.weight = nn.Parameter(torch.randn(3, cin, 1, 1))
    layer.bias = nn.Parameter(torch.randn(3))
    return layer


MARKER_SRC = "import pathlib\npathlib.Path({!r}).write_text('ran')\n"


def build_ada_generator(marker: str, size=16, w_dim=32, ch=16, n_mlp=3) -> Persistent:
    src = MARKER_SRC.format(marker)
    mapping = Persistent("MappingNetwork", src, z_dim=w_dim, w_dim=w_dim, num_ws=6)
    for i in range(n_mlp):
        setattr(mapping, f"fc{i}", _fc(w_dim, w_dim))
    mapping.register_buffer("w_avg", torch.randn(w_dim))
    synthesis = Persistent("SynthesisNetwork", src, img_resolution=size)
    res = 4
    while res <= size:
        block = Persistent("SynthesisBlock", src, resolution=res)
        if res == 4:
            block.const = nn.Parameter(torch.randn(ch, 4, 4))
        else:
            block.conv0 = _synthesis_layer(ch, ch, w_dim, res, up=True)
            block.register_buffer("resample_filter", torch.ones(4, 4) / 16)
        block.conv1 = _synthesis_layer(ch, ch, w_dim, res, up=False)
        block.torgb = _torgb(ch, w_dim)
        setattr(synthesis, f"b{res}", block)
        res *= 2
    init_kwargs = _EasyDict(z_dim=w_dim, c_dim=0, w_dim=w_dim, img_resolution=size)
    gen = Persistent("Generator", src, z_dim=w_dim, c_dim=0, init_kwargs=init_kwargs)
    gen.mapping, gen.synthesis = mapping, synthesis
    return gen


@pytest.fixture
def fake_nvidia_modules(monkeypatch):
    """Registers torch_utils.persistence / dnnlib.util only while a test writes a pickle."""

    def install():
        persistence = types.ModuleType("torch_utils.persistence")
        persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
        util = types.ModuleType("dnnlib.util")
        util.EasyDict = _EasyDict
        for name, mod in [
            ("torch_utils", types.ModuleType("torch_utils")),
            ("torch_utils.persistence", persistence),
            ("dnnlib", types.ModuleType("dnnlib")),
            ("dnnlib.util", util),
        ]:
            monkeypatch.setitem(sys.modules, name, mod)

    def uninstall():
        for name in ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util"):
            monkeypatch.delitem(sys.modules, name)

    return install, uninstall


def write_ada_pickle(path, g_ema, fake_nvidia_modules):
    install, uninstall = fake_nvidia_modules
    install()
    try:
        data = {
            "G": g_ema,
            "D": None,
            "G_ema": g_ema,
            "augment_pipe": None,
            "training_set_kwargs": _EasyDict(resolution=16, xflip=False),
        }
        path.write_bytes(pickle.dumps(data, protocol=4))
    finally:
        uninstall()


def test_ada_pickle_loads_and_converts_weights(tmp_path, fake_nvidia_modules):
    marker = tmp_path / "source-code-ran"
    g_ema = build_ada_generator(str(marker))
    path = tmp_path / "network-snapshot.pkl"
    write_ada_pickle(path, g_ema, fake_nvidia_modules)
    assert b"torch._utils" in path.read_bytes()  # the pickle really carries tensors
    assert "torch_utils.persistence" not in sys.modules

    gen = load_generator(path)
    assert not marker.exists()
    assert isinstance(gen, StyleGAN2Generator)
    assert gen.resolution == 16 and gen.n_latent == 6
    assert gen.architecture()["n_mlp"] == 3
    sd = gen.state_dict()
    syn = g_ema.synthesis
    assert torch.equal(sd["style.1.weight"], g_ema.mapping.fc0.weight)
    assert torch.equal(sd["style.3.bias"], g_ema.mapping.fc2.bias)
    assert torch.equal(sd["input.input"][0], syn.b4.const)
    assert torch.equal(sd["conv1.conv.weight"][0], syn.b4.conv1.weight)
    assert torch.equal(sd["conv1.conv.modulation.bias"], syn.b4.conv1.affine.bias)
    assert torch.equal(sd["convs.0.conv.weight"][0], syn.b8.conv0.weight)
    assert torch.equal(sd["convs.3.activate.bias"], syn.b16.conv1.bias)
    assert torch.equal(sd["convs.2.noise.weight"][0], syn.b16.conv0.noise_strength)
    assert torch.equal(sd["noises.noise_0"][0, 0], syn.b4.conv1.noise_const)
    assert torch.equal(sd["noises.noise_4"][0, 0], syn.b16.conv1.noise_const)
    assert torch.equal(sd["to_rgbs.1.bias"].flatten(), syn.b16.torgb.bias)
    assert torch.equal(sd["to_rgbs.1.conv.modulation.weight"], syn.b16.torgb.affine.weight)
    assert torch.equal(gen.mean_w()["w"], g_ema.mapping.w_avg)
    assert torch.isfinite(image(gen)).all()
    assert describe(path)["format"] == "stylegan2-ada-pytorch pickle"
    assert not marker.exists()


class RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class WritesFile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('x')",))


@pytest.mark.parametrize("payload", [RunsShell, WritesFile])
def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path, payload):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": payload(marker)}, protocol=4))
    with pytest.raises(CheckpointError, match=r"evil\.pkl.*refused"):
        load_generator(path)
    assert not marker.exists()
    pt = tmp_path / "evil.pt"
    torch.save({"g_ema": payload(marker)}, pt)
    with pytest.raises(CheckpointError, match=r"evil\.pt.*refused"):
        load_generator(pt)
    assert not marker.exists()


def test_hostile_storage_bytes_inside_a_network_pickle_run_nothing(tmp_path):
    marker = tmp_path / "pwned"
    inner = io.BytesIO()
    torch.save(RunsShell(marker), inner, _use_new_zipfile_serialization=False)

    class SmuggledStorage:
        def __reduce__(self):
            from torch.storage import _load_from_bytes

            return (_load_from_bytes, (inner.getvalue(),))

    path = tmp_path / "smuggled.pkl"
    path.write_bytes(pickle.dumps({"G_ema": SmuggledStorage()}, protocol=4))
    with pytest.raises(CheckpointError, match=r"smuggled\.pkl"):
        load_generator(path)
    assert not marker.exists()


# -- damaged files --------------------------------------------------------------------
def _valid_files(tmp_path, fake_nvidia_modules):
    gen = tiny()
    save_generator(gen, tmp_path / "ok.safetensors")
    torch.save({"g_ema": gen.state_dict()}, tmp_path / "ok.pt")
    write_ada_pickle(tmp_path / "ok.pkl", build_ada_generator("unused"), fake_nvidia_modules)
    return [tmp_path / "ok.safetensors", tmp_path / "ok.pt", tmp_path / "ok.pkl"]


def test_truncated_files_raise_checkpoint_error(tmp_path, fake_nvidia_modules):
    for good in _valid_files(tmp_path, fake_nvidia_modules):
        load_generator(good)  # the intact file loads
        data = good.read_bytes()
        for fraction in (0.5, 0.97):
            cut = tmp_path / f"cut-{fraction}-{good.name}"
            cut.write_bytes(data[: int(len(data) * fraction)])
            with pytest.raises(CheckpointError, match=re.escape(cut.name)):
                load_generator(cut)


def test_random_bytes_and_missing_files(tmp_path):
    gen = torch.Generator().manual_seed(0)
    for i, prefix in enumerate([b"", b"\x80\x04", b"PK\x03\x04", b"\x10\x00\x00\x00\x00\x00\x00\x00{"]):
        junk = prefix + bytes(torch.randint(0, 256, (4096,), generator=gen, dtype=torch.uint8))
        path = tmp_path / f"junk{i}.bin"
        path.write_bytes(junk)
        with pytest.raises(CheckpointError, match=re.escape(path.name)):
            load_generator(path)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty\.pt"):
        load_generator(empty)
    with pytest.raises(CheckpointError, match="no such file"):
        load_generator(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="no such file"):
        describe(tmp_path / "missing.pt")


def test_a_torch_file_with_the_wrong_content(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"model": OrderedDict(fc=torch.zeros(2))}, path)
    with pytest.raises(CheckpointError, match="no StyleGAN2 generator"):
        load_generator(path)
    torch.save(torch.zeros(3), path)
    with pytest.raises(CheckpointError, match="not a checkpoint dict"):
        load_generator(path)


# An independent forward pass written from stylegan2-ada-pytorch's formulas (per-sample
# loops, no fan-in scale before demodulation, const noise) to check the conversion.
FIR = torch.tensor([1.0, 3.0, 3.0, 1.0])
FIR2D = torch.outer(FIR, FIR) / 64


def _fir(x, pad0, pad1, gain):
    c = x.shape[1]
    x = torch.nn.functional.pad(x, (pad0, pad1, pad0, pad1))
    return torch.nn.functional.conv2d(x, (FIR2D * gain).expand(c, 1, 4, 4), groups=c)


def _upsample2d(x):
    b, c, h, w = x.shape
    z = torch.zeros(b, c, 2 * h, 2 * w)
    z[:, :, ::2, ::2] = x
    return _fir(z, 2, 1, 4)


def _nvidia_layer(layer, x, w, up):
    styles = torch.nn.functional.linear(
        w, layer.affine.weight / layer.affine.weight.shape[1] ** 0.5, layer.affine.bias
    )
    outs = []
    for i in range(x.shape[0]):
        wgt = layer.weight * styles[i].view(1, -1, 1, 1)
        wgt = wgt * (wgt.square().sum((1, 2, 3)) + 1e-8).rsqrt().view(-1, 1, 1, 1)
        if up:
            y = torch.nn.functional.conv_transpose2d(x[i : i + 1], wgt.transpose(0, 1), stride=2)
            y = _fir(y, 1, 1, 4)
        else:
            y = torch.nn.functional.conv2d(x[i : i + 1], wgt, padding=1)
        outs.append(y)
    y = torch.cat(outs) + layer.noise_const * layer.noise_strength
    return torch.nn.functional.leaky_relu(y + layer.bias.view(1, -1, 1, 1), 0.2) * 2**0.5


def _nvidia_torgb(layer, x, w):
    gain = 1 / layer.weight.shape[1] ** 0.5
    styles = (
        torch.nn.functional.linear(
            w, layer.affine.weight / layer.affine.weight.shape[1] ** 0.5, layer.affine.bias
        )
        * gain
    )
    outs = [
        torch.nn.functional.conv2d(x[i : i + 1], layer.weight * styles[i].view(1, -1, 1, 1))
        for i in range(x.shape[0])
    ]
    return torch.cat(outs) + layer.bias.view(1, -1, 1, 1)


def _nvidia_synthesis(g_ema, ws):
    syn = g_ema.synthesis
    x = syn.b4.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
    x = _nvidia_layer(syn.b4.conv1, x, ws[:, 0], up=False)
    img = _nvidia_torgb(syn.b4.torgb, x, ws[:, 1])
    idx, res = 1, 8
    while hasattr(syn, f"b{res}"):
        block = getattr(syn, f"b{res}")
        x = _nvidia_layer(block.conv0, x, ws[:, idx], up=True)
        x = _nvidia_layer(block.conv1, x, ws[:, idx + 1], up=False)
        img = _upsample2d(img) + _nvidia_torgb(block.torgb, x, ws[:, idx + 2])
        idx, res = idx + 2, res * 2
    return img


def test_ada_conversion_draws_what_the_nvidia_network_draws(tmp_path, fake_nvidia_modules):
    from latent_atelier.models.generator import Latent

    g_ema = build_ada_generator("unused")
    path = tmp_path / "snapshot.pkl"
    write_ada_pickle(path, g_ema, fake_nvidia_modules)
    gen = load_generator(path)
    ws = torch.randn(2, gen.n_latent, 32)
    with torch.no_grad():
        ours = gen.synthesize(Latent({"w": ws}, gen.stored_noise(2))).image
        theirs = _nvidia_synthesis(g_ema, ws)
    assert ours.shape == theirs.shape == (2, 3, 16, 16)
    assert torch.allclose(ours, theirs, atol=1e-4 * theirs.abs().max().item())


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("old.pkl", b"cos\nsystem\n(S'x'\ntR.", r"old\.pkl: named \.pkl but not a pickle .* \(an old"),
        ("noise.pkl", b"\x00" * 64, r"noise\.pkl: named \.pkl but not a pickle .*: network pickles"),
        ("noise.pt", b"\x00" * 64, r"noise\.pt: named \.pt but not a torch\.save file"),
        ("noise.bin", b"\x00" * 64, r"noise\.bin: not a known checkpoint format"),
    ],
)
def test_an_unreadable_file_is_described_by_what_its_name_claims(tmp_path, name, content, says) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=says):
        load_generator(path)
