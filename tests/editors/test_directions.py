"""Latent directions: SeFa, .npy files, latent differences and apply_direction."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from latent_atelier.editors.inversion.directions import (
    DirectionError,
    apply_direction,
    difference_direction,
    load_direction,
    modulation_layers,
    sefa,
    sefa_directions,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_furrygan():
    from latent_atelier.models.zoo import random_generator

    return random_generator("furrygan", 16, 0, style_dim=32, channels={4: 16, 8: 16, 16: 16})


def test_modulation_layers_cover_every_row(tiny_gen):
    layers = modulation_layers(tiny_gen)
    assert {row for row, _name, _w in layers} == set(range(tiny_gen.n_latent))
    names = {name for _row, name, _w in layers}
    assert {"conv1", "to_rgb1", "convs.0", "to_rgbs.0"} <= names
    assert all(w.shape[1] == tiny_gen.style_dim for _r, _n, w in layers)


def test_sefa_directions_are_orthonormal_and_ordered(tiny_gen):
    d = sefa_directions(tiny_gen, k=6)
    assert d.shape == (6, tiny_gen.style_dim)
    assert torch.allclose(d @ d.T, torch.eye(6), atol=1e-4)
    values, _vecs = sefa(tiny_gen)
    assert bool((values[:-1] >= values[1:] - 1e-6).all())
    # the first direction moves the stacked (normalised) modulations more than any other
    weights = [w / w.norm(dim=1, keepdim=True) for _r, _n, w in modulation_layers(tiny_gen)]
    a = torch.cat(weights)
    gains = (a @ d.T).norm(dim=0)
    rand = torch.nn.functional.normalize(torch.randn(20, d.shape[1]), dim=1)
    assert gains[0] >= gains[1:].max() - 1e-5
    assert gains[0] >= (a @ rand.T).norm(dim=0).max()


def test_sefa_on_a_layer_range_and_on_furrygan(tiny_gen, tiny_furrygan):
    early = sefa_directions(tiny_gen, 2, rows=[0, 1, 2])
    late = sefa_directions(tiny_gen, 2, rows=[-1])
    assert not torch.allclose(early, late, atol=1e-3)
    for group in ("fg", "bg"):
        d = sefa_directions(tiny_furrygan, 3, group=group)
        dim = tiny_furrygan.latent_shapes()[group][1]
        assert d.shape == (3, dim)
        assert torch.allclose(d @ d.T, torch.eye(3), atol=1e-4)
    with pytest.raises(DirectionError, match="group"):
        sefa_directions(tiny_furrygan, 1, group="w")
    with pytest.raises(DirectionError, match="rows"):
        sefa_directions(tiny_gen, 1, rows=[99])


def test_sefa_edit_changes_the_image_smoothly(tiny_gen):
    lat = tiny_gen.random_latent(3)
    d = sefa_directions(tiny_gen, 1)
    with torch.no_grad():
        base = tiny_gen.synthesize(lat).image

        def distance(alpha: float) -> float:
            img = tiny_gen.synthesize(apply_direction(lat, d, alpha)).image
            return float((img - base).abs().mean())

        for sign in (1.0, -1.0):
            dists = [distance(sign * a) for a in (0.25, 0.5, 1.0, 2.0, 4.0)]
            assert dists[0] > 1e-4
            assert all(b > a for a, b in itertools.pairwise(dists)), dists
            # smooth: a small step changes the image a little, not as much as a big one
            assert dists[0] < 0.25 * dists[-1]


def test_npy_directions_are_validated(tiny_gen, tmp_path):
    n, dim = tiny_gen.n_latent, tiny_gen.style_dim
    full = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    np.save(tmp_path / "full.npy", full)
    np.save(tmp_path / "one.npy", full[:1])
    assert load_direction(tmp_path / "full.npy", tiny_gen).shape == (n, dim)
    assert load_direction(tmp_path / "one.npy", tiny_gen).shape == (1, dim)
    np.save(tmp_path / "wide.npy", np.zeros((n, 512), np.float32))
    with pytest.raises(DirectionError, match=f"{n} x {dim}"):
        load_direction(tmp_path / "wide.npy", tiny_gen)
    np.save(tmp_path / "rows.npy", np.zeros((3, dim), np.float32))
    with pytest.raises(DirectionError, match="does not fit"):
        load_direction(tmp_path / "rows.npy", tiny_gen)
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DirectionError, match=r"numpy\.save|not a readable"):
        load_direction(tmp_path / "pickled.npy", tiny_gen)
    (tmp_path / "text.npy").write_text("not numpy")
    with pytest.raises(DirectionError, match="not a readable"):
        load_direction(tmp_path / "text.npy", tiny_gen)
    bad = full.copy()
    bad[0, 0] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(DirectionError, match="finite"):
        load_direction(tmp_path / "nan.npy", tiny_gen)


def test_difference_direction_moves_one_latent_onto_the_other(tiny_gen):
    a, b = tiny_gen.random_latent(1), tiny_gen.random_latent(2)
    d = difference_direction(a, b)
    moved = apply_direction(a, d, 1.0)
    assert torch.allclose(moved.w["w"], b.w["w"], atol=1e-5)
    half = apply_direction(a, d, 0.5)
    assert torch.allclose(half.w["w"], (a.w["w"] + b.w["w"]) / 2, atol=1e-5)


def test_apply_direction_touches_only_chosen_rows_and_items(tiny_gen):
    lat = tiny_gen.random_latent(4, batch=3)
    d = torch.ones(tiny_gen.style_dim)
    out = apply_direction(lat, d, 2.0, rows=[1, -1], items=[1])
    delta = out.w["w"] - lat.w["w"]
    assert torch.allclose(delta[1, 1], torch.full_like(delta[1, 1], 2.0))
    assert torch.allclose(delta[1, -1], torch.full_like(delta[1, -1], 2.0))
    assert float(delta[1, 2:-1].abs().max()) == 0.0
    assert float(delta[[0, 2]].abs().max()) == 0.0
    assert all(torch.equal(x, y) for x, y in zip(out.noise, lat.noise))
    with pytest.raises(DirectionError, match="outside"):
        apply_direction(lat, d, 1.0, rows=[42])
    with pytest.raises(DirectionError, match="does not fit"):
        apply_direction(lat, torch.ones(7), 1.0)
