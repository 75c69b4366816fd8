"""Attribute transfer (I_att): the hooked layer gets the mixed tensor; changes stay local."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_atelier.editors.i2s.attributes import (
    AttributeParams,
    AttributeTransfer,
    attribute_transfer,
    capture,
    influence_radius_px,
    mix_activations,
)
from latent_atelier.editors.inversion.embed_core import to_numpy_image
from latent_atelier.editors.layer_scaling import paper_feature_layers, paper_row, paper_rows
from latent_atelier.editors.masks import dilate_mask
from latent_atelier.editors.operation import Cancelled, OperationError, Progress


@pytest.fixture(scope="module")
def latents(tiny_gen):
    return tiny_gen.random_latent(1, truncation=0.7), tiny_gen.random_latent(2, truncation=0.7)


def _left_half() -> np.ndarray:
    m = np.zeros((32, 32), np.float32)
    m[:, :16] = 1.0
    return m


def test_paper_layers_scale_to_the_model():
    assert paper_row(1, 18) == 0 and paper_row(18, 18) == 17 and paper_row(4, 18) == 3
    assert paper_row(1, 8) == 0 and paper_row(18, 8) == 7
    assert paper_rows(range(1, 10), 12) == [0, 1, 2, 3, 4, 5]
    names = ("input", "conv1", "to_rgb1", "convs.0", "convs.1", "to_rgbs.0", "convs.2")
    assert paper_feature_layers(names, 18, 4) == ["convs.2"]  # row 3 of 18
    assert paper_feature_layers(names, 8, 4) == ["convs.0"]  # row 1 of 8
    assert paper_feature_layers(names, 8, 1) == ["conv1"]
    furry = ("conv1_fg", "convs_fg.0", "conv1_bg", "convs_bg.0")
    assert paper_feature_layers(furry, 4, 6) == ["convs_fg.0", "convs_bg.0"]
    with pytest.raises(ValueError):
        paper_row(19, 18)


@pytest.mark.parametrize("mode", ["copy", "average", "channels"])
def test_hooked_layer_output_is_exactly_the_mixed_tensor(tiny_gen, latents, mode):
    layer = "convs.3"
    mask = _left_half()
    out = attribute_transfer(tiny_gen, *latents, mask, layers=[layer], mode=mode, lam=0.3, channels=0.25)
    a = capture(tiny_gen, latents[0], [layer])[layer]
    b = capture(tiny_gen, latents[1], [layer])[layer]
    m = torch.zeros(1, 1, 16, 16)
    m[..., :8] = 1.0  # the left half, nearest-downsampled to 16 x 16
    if mode == "copy":
        expect = torch.where(m > 0, b, a)
    elif mode == "average":
        expect = torch.where(m > 0, 0.3 * a + 0.7 * b, a)
    else:
        expect = a.clone()
        expect[:, :8, :, :8] = b[:, :8, :, :8]  # 25% of 32 channels
    assert torch.equal(out.mixed[layer], expect)
    # what the rest of the network saw at that layer is exactly the mixed tensor
    seen = {}

    def replace_and_record(t):
        seen["before"] = t
        return out.mixed[layer]

    with torch.no_grad():
        again = tiny_gen.synthesize(out.latent, hooks={layer: replace_and_record}).image
    assert np.array_equal(to_numpy_image(again), out.image)
    assert not torch.equal(seen["before"], out.mixed[layer])


def test_result_differs_from_photo1_only_inside_the_dilated_mask(tiny_gen, latents):
    layer = "convs.3"
    mask = _left_half()
    out = attribute_transfer(tiny_gen, *latents, mask, layers=[layer])
    with torch.no_grad():
        photo1 = to_numpy_image(tiny_gen.synthesize(latents[0]).image)
    radius = influence_radius_px(tiny_gen, layer)
    allowed = dilate_mask(mask, radius) > 0
    diff = np.abs(out.image - photo1).max(axis=-1)
    assert (~allowed).sum() >= 32 * 4, radius  # the bound leaves something to check
    assert diff[~allowed].max() < 1e-5
    assert diff[mask > 0].mean() > 0.01  # and inside, photo 2's features did arrive


def test_mix_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        mix_activations(torch.zeros(1, 2, 4, 4), torch.ones(1, 2, 4, 4), torch.ones(1, 1, 4, 4), "x")


def test_operation_with_latents_embedding_layers_and_cancel(tiny_gen, latents):
    photo = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    mask = _left_half()
    base = {"photo": photo, "photo2": photo[::-1].copy(), "mask": mask}
    with_lat = {**base, "latent": latents[0], "latent2": latents[1]}
    r = AttributeTransfer().run(tiny_gen, with_lat, AttributeParams(), Progress())
    assert r.params["layers"] == paper_feature_layers(tiny_gen.layer_names, tiny_gen.n_latent, 4)
    assert r.outputs["transfer"].shape == (32, 32, 3)
    by_name = AttributeTransfer().run(tiny_gen, with_lat, AttributeParams(layer_name="convs.3"), Progress())
    assert by_name.params["layers"] == ["convs.3"]
    with pytest.raises(OperationError, match="unknown layer"):
        AttributeTransfer().run(tiny_gen, with_lat, AttributeParams(layer_name="nope"), Progress())
    seen = []
    params = AttributeParams(steps_w=2, steps_noise=2, style_from="photo2")
    AttributeTransfer().run(tiny_gen, base, params, Progress(lambda i, n, _p, _m: seen.append((i, n))))
    assert seen == [(i, 8) for i in range(1, 9)]
    prog = Progress(lambda i, _n, _p, _m: prog.cancel() if i == 5 else None)
    with pytest.raises(Cancelled):
        AttributeTransfer().run(tiny_gen, base, params, prog)
