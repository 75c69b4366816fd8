"""The one-shot part segmenter on generator features (RepurposingGAN), tiny models."""

from __future__ import annotations

import json

import pytest
import torch

from latent_atelier.editors.dual_domain.segmenter import PartSegmenter, feature_layers, train_segmenter
from latent_atelier.editors.operation import OperationError, Progress


def tiny(arch: str = "furrygan", seed: int = 0):
    from latent_atelier.models.zoo import random_generator

    extra = {"n_mlp": 2} if arch == "stylegan2" else {}
    return random_generator(arch, 16, seed, style_dim=16, channels={4: 16, 8: 16, 16: 16}, **extra)


def square_label(b: int = 1) -> torch.Tensor:
    y = torch.zeros(b, 1, 16, 16)
    y[..., 5:11, 4:12] = 1.0
    return y


@pytest.fixture(scope="module")
def trained():
    gen = tiny()
    lat = gen.random_latent(3)
    return gen, lat, train_segmenter(gen, lat, square_label(), "square", steps=150, lr=3e-3)


def test_fits_its_one_labelled_example(trained):
    gen, lat, seg = trained
    pred = (seg.predict(gen, lat) > 0.5).float()
    y = square_label()
    iou = float((pred * y).sum() / ((pred + y) > 0).float().sum())
    assert iou > 0.8
    assert seg.layers == feature_layers(gen) and all(n.endswith("_fg") or "_fg." in n for n in seg.layers)


def test_save_load_round_trip_and_refusals(tmp_path, trained):
    gen, lat, seg = trained
    path = tmp_path / "parts.safetensors"
    seg.save(path)
    again = PartSegmenter.load(path)
    assert again.part == "square" and again.resolution == 16
    assert torch.allclose(again.predict(gen, lat), seg.predict(gen, lat), atol=1e-6)
    (tmp_path / "junk.safetensors").write_bytes(b"not a file at all")
    with pytest.raises(ValueError, match="part segmenter"):
        PartSegmenter.load(tmp_path / "junk.safetensors")
    from latent_atelier.models.checkpoints import save_generator

    save_generator(gen, tmp_path / "gen.safetensors")
    with pytest.raises(ValueError, match="part segmenter"):
        PartSegmenter.load(tmp_path / "gen.safetensors")
    with pytest.raises(ValueError, match="trained on a furrygan"):
        seg.check_generator(tiny("stylegan2"))


def test_operation_uses_a_segmenter_file(tmp_path, trained):
    from latent_atelier.editors.registry import get_operation
    from latent_atelier.models.checkpoints import save_generator

    gen, _lat, seg = trained
    seg.save(tmp_path / "parts.safetensors")
    save_generator(tiny(seed=5), tmp_path / "second.safetensors")
    op = get_operation("dual-domain")
    inputs = {
        "second_model": str(tmp_path / "second.safetensors"),
        "segmenter": str(tmp_path / "parts.safetensors"),
    }
    result = op.run(gen, inputs, op.Params(steps=2, seed=3, threshold=0.3), Progress())
    assert result.outputs["part_source"][0].shape == (16, 16)
    assert result.outputs["part_source"][0].sum() > 0
    with pytest.raises(OperationError, match="no such file"):
        op.run(
            gen, {**inputs, "segmenter": str(tmp_path / "none.safetensors")}, op.Params(steps=1), Progress()
        )


def test_standardised_features_ignore_a_per_channel_shift_and_scale():
    torch.manual_seed(0)
    feats = torch.randn(2, 8, 16, 16)
    scale, shift = torch.rand(1, 8, 1, 1) * 3 + 0.5, torch.randn(1, 8, 1, 1) * 4
    shifted = feats * scale + shift  # what an adapted generator may do to a channel
    standardised, raw = PartSegmenter(8, ["a"]), PartSegmenter(8, ["a"], standardise=False)
    with torch.no_grad():
        assert torch.allclose(standardised(feats), standardised(shifted), atol=1e-4)
        assert not torch.allclose(raw(feats), raw(shifted), atol=1e-2)


def test_the_standardise_setting_is_saved_and_older_files_read_raw_features(tmp_path, trained):
    from safetensors.torch import load_file, save_file

    gen, lat, seg = trained
    assert seg.standardise
    seg.save(tmp_path / "parts.safetensors")
    assert PartSegmenter.load(tmp_path / "parts.safetensors").standardise
    raw = train_segmenter(gen, lat, square_label(), "square", steps=5, standardise=False)
    raw.save(tmp_path / "raw.safetensors")
    assert not PartSegmenter.load(tmp_path / "raw.safetensors").standardise
    settings = {"in_channels": raw.in_channels, "layers": list(raw.layers), "part": "square"}
    older = {"format": "latent-atelier-part-segmenter", "settings": json.dumps(settings)}
    save_file(load_file(tmp_path / "raw.safetensors"), tmp_path / "older.safetensors", metadata=older)
    again = PartSegmenter.load(tmp_path / "older.safetensors")
    assert not again.standardise
    assert torch.allclose(again.predict(gen, lat), raw.predict(gen, lat), atol=1e-6)
