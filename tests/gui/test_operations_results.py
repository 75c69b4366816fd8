"""How a Result becomes layers: kinds, variants, by-products, latents and placements."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_atelier.app.document.document import Document
from latent_atelier.app.document.layers import LayerKind
from latent_atelier.app.qt.operations.results import result_layers
from latent_atelier.editors.operation import Operation, Result, Slot
from latent_atelier.editors.placement import Placement


@dataclass
class NoParams:
    pass


class FakeInpaint(Operation):
    name = "fake-inpaint"
    title = "Fake fill"
    inputs = (Slot("photo", "image"), Slot("hole", "mask"))
    outputs = (
        Slot("result", "image"),
        Slot("variants", "image", multiple=True),
        Slot("fills", "image", multiple=True),
        Slot("alpha", "mask", role="alpha"),
        Slot("debug_mask", "mask", optional=True, layer=False),
        Slot("labels", "labels"),
        Slot("latent", "latent"),
    )
    Params = NoParams


class FakeBackgrounds(Operation):
    name = "fake-bg"
    title = "Fake backgrounds"
    inputs = (Slot("latent", "latent"),)
    outputs = (Slot("backgrounds", "image", multiple=True),)
    Params = NoParams


def _doc() -> Document:
    return Document.from_image(np.zeros((20, 30, 3), np.float32), "photo")


def test_variants_replace_the_equal_single_result_and_one_set_is_offered():
    doc = _doc()
    rng = np.random.default_rng(0)
    variants = [rng.random((20, 30, 3), dtype=np.float32) for _ in range(3)]
    result = Result(
        {
            "result": variants[0],
            "variants": variants,
            "fills": [np.zeros((8, 8, 3), np.float32)] * 3,
            "alpha": np.ones((20, 30), np.float32),
            "debug_mask": np.ones((20, 30), np.float32),
            "labels": np.array(np.arange(600).reshape(20, 30) % 3, np.int32),
            "latent": "LATENT",
            "placement": Placement.centered((20, 30), 8),
        }
    )
    out = result_layers(doc, FakeInpaint(), NoParams(), result, doc.layers[0].id)
    assert len(out.variants) == 3
    assert all(v.kind == LayerKind.RESULT for v in out.variants)
    kinds = sorted(lay.kind.value for lay in out.layers)
    assert kinds == ["labels", "matte"]  # result (= variant 1) not repeated, debug mask skipped
    labels = next(lay for lay in out.layers if lay.kind == LayerKind.LABELS)
    assert [s.name for s in labels.palette.segments] == ["Segment 1", "Segment 2"]
    assert any("fills" in n for n in out.notes) and any("debug_mask" in n for n in out.notes)
    assert out.source_props["latent"] == "LATENT"
    assert out.source_props["placement"].size == 8
    assert out.primary is out.variants[0]
    assert all(v.latent == "LATENT" and v.placement is not None for v in out.variants)


def test_backgrounds_made_from_a_latent_cover_the_document():
    doc = _doc()
    bgs = [np.full((8, 8, 3), i / 4, np.float32) for i in range(4)]
    out = result_layers(doc, FakeBackgrounds(), NoParams(), Result({"backgrounds": bgs}), None)
    assert len(out.variants) == 4 and not out.layers
    for i, layer in enumerate(out.variants):
        assert layer.kind == LayerKind.BACKGROUND
        assert layer.pixels.shape == (20, 30, 3)
        assert np.allclose(layer.pixels, i / 4, atol=1e-5)
    assert out.source_props == {}


def test_a_slot_means_what_its_role_says_not_what_its_name_says():
    class Renamed(Operation):
        name = "renamed"
        title = "Renamed"
        inputs = (Slot("photo", "image"),)
        outputs = (
            Slot("cutout_matte", "mask", role="alpha"),
            Slot("matte", "mask"),
            Slot("scratch", "mask", layer=False),
        )
        Params = NoParams

    doc = _doc()
    ones = np.ones((20, 30), np.float32)
    result = Result({"cutout_matte": ones, "matte": ones, "scratch": ones})
    out = result_layers(doc, Renamed(), NoParams(), result, doc.layers[0].id)
    kinds = {lay.name.split(": ")[-1]: lay.kind for lay in out.layers}
    assert kinds == {"cutout_matte": LayerKind.MATTE, "matte": LayerKind.MASK}


def test_an_unknown_role_or_a_region_on_a_non_latent_slot_is_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown role"):
        Slot("x", "mask", role="subject")
    with pytest.raises(ValueError, match="only latent slots"):
        Slot("x", "mask", region="placement")
