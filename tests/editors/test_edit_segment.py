"""edit-segment: only the chosen segment changes; directions from SeFa, files, differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_atelier.editors.inversion.edit_segment import EditSegment, EditSegmentParams, read_history
from latent_atelier.editors.inversion.embed_core import to_numpy_image
from latent_atelier.editors.inversion.segments import Segments, SegmentsParams
from latent_atelier.editors.operation import OperationError, Progress
from tests.editors.command_line import TINY_MODEL, cli, segments_cli

torch.set_num_threads(1)
SIZE = 32


@pytest.fixture(scope="module")
def inverted(tiny_gen):
    """A photo with segments 1, 2 (and id-0 background), inverted in a few steps."""
    with torch.no_grad():
        photo = to_numpy_image(tiny_gen.synthesize(tiny_gen.random_latent(7)).image)
    labels = np.zeros((SIZE, SIZE), np.int32)
    labels[6:26, 4:15] = 1
    labels[6:26, 17:28] = 2
    out = Segments().run(tiny_gen, {"photo": photo, "labels": labels}, SegmentsParams(steps_w=5), Progress())
    return out.outputs["result"], labels, out.outputs["latents"]


def _inputs(inverted, **extra):
    photo, labels, latents = inverted
    return {"photo": photo, "labels": labels, "latents": latents, **extra}


def test_edit_changes_only_the_chosen_segment(tiny_gen, inverted):
    photo, labels, latents = inverted
    params = EditSegmentParams(segment=1, source="sefa", sefa_index=0, alpha=8.0)
    out = EditSegment().run(tiny_gen, _inputs(inverted), params, Progress())
    result = out.outputs["result"]
    outside = labels != 1
    np.testing.assert_array_equal(result[outside], photo[outside])
    assert np.abs(result[labels == 1] - photo[labels == 1]).mean() > 0.01
    edited = out.outputs["latents"]
    assert torch.equal(edited.w["w"][1], latents.w["w"][1])  # segment 2's code untouched
    assert not torch.equal(edited.w["w"][0], latents.w["w"][0])
    assert out.params["history"] == [(1, "sefa:0", 8.0)]


@pytest.mark.parametrize("direction", ["grow", "shrink"])
def test_refined_edit_stays_within_the_seam_band(tiny_gen, inverted, direction):
    from scipy import ndimage

    photo, labels, _ = inverted
    params = EditSegmentParams(segment=2, alpha=10.0, refine=True, refine_direction=direction)
    out = EditSegment().run(tiny_gen, _inputs(inverted), params, Progress())
    changed = np.any(out.outputs["result"] != photo, axis=-1)
    band = ndimage.binary_dilation(labels == 2, iterations=16)  # refine_labels' max_move
    if direction == "grow":  # grow_labels' max_move, from segment 2 itself (Euclidean)
        band = ndimage.distance_transform_edt(labels != 2) <= 16
    assert changed.any() and not (changed & ~band).any()
    refined = out.outputs["labels"]
    assert set(np.unique(refined)) == {0, 1, 2}
    assert (refined != labels).sum() < labels.size // 4


def test_every_segment_and_larger_alpha_changes_more(tiny_gen, inverted):
    photo, labels, _ = inverted
    diffs = []
    for alpha in (1.0, 4.0):
        params = EditSegmentParams(segment=0, alpha=alpha, sefa_index=1)
        result = EditSegment().run(tiny_gen, _inputs(inverted), params, Progress()).outputs["result"]
        np.testing.assert_array_equal(result[labels == 0], photo[labels == 0])
        diffs.append([np.abs(result - photo)[labels == k].mean() for k in (1, 2)])
    assert all(b > a for a, b in zip(diffs[0], diffs[1]))


def test_file_and_difference_directions(tiny_gen, inverted, tmp_path):
    latents = inverted[2]
    d = np.zeros((tiny_gen.n_latent, tiny_gen.style_dim), np.float32)
    d[:, 0] = 3.0
    np.save(tmp_path / "dir.npy", d)
    params = EditSegmentParams(segment=2, source="file", alpha=1.0, first_row=2, last_row=4)
    out = EditSegment().run(
        tiny_gen, _inputs(inverted, direction=str(tmp_path / "dir.npy")), params, Progress()
    )
    delta = out.outputs["latents"].w["w"] - latents.w["w"]
    assert torch.allclose(delta[1, 2:5, 0], torch.full((3,), 3.0))
    assert float(delta[1, :2].abs().max()) == 0.0 and float(delta[0].abs().max()) == 0.0
    assert out.params["history"][0][1] == "file:dir.npy"

    a, b = tiny_gen.random_latent(1), tiny_gen.random_latent(2)
    params = EditSegmentParams(segment=1, source="difference", alpha=1.0)
    out = EditSegment().run(tiny_gen, _inputs(inverted, source_latent=a, target_latent=b), params, Progress())
    expected = latents.w["w"][0] + (b.w["w"][0] - a.w["w"][0])
    assert torch.allclose(out.outputs["latents"].w["w"][0], expected, atol=1e-5)


def test_incremental_editing_reprojects_and_keeps_history(tiny_gen, inverted, tmp_path):
    labels = inverted[1]
    first = EditSegment().run(
        tiny_gen,
        _inputs(inverted),
        EditSegmentParams(segment=1, alpha=6.0, incremental=True, steps_w=4),
        Progress(),
    )
    history_file = tmp_path / "history.json"
    import json

    history_file.write_text(json.dumps(first.outputs["history"]))
    second_inputs = {
        "photo": first.outputs["result"],
        "labels": first.outputs["labels"],
        "latents": first.outputs["latents"],
        "history": str(history_file),
    }
    progress = Progress()
    second = EditSegment().run(
        tiny_gen,
        second_inputs,
        EditSegmentParams(segment=2, alpha=-3.0, incremental=True, steps_w=4),
        progress,
    )
    assert second.params["history"] == [(1, "sefa:0", 6.0), (2, "sefa:0", -3.0)]
    assert sum(1 for _i, _n, m in progress.history if "psnr" in m) == 4  # re-projection steps
    # the second edit starts from the first composite: segment 1 stays as the first edit left it
    np.testing.assert_array_equal(second.outputs["result"][labels == 1], first.outputs["result"][labels == 1])
    assert second.outputs["latents"].batch == 2


def test_incremental_reprojection_fits_the_chosen_loss(tiny_gen, inverted, monkeypatch):
    import latent_atelier.editors.inversion.edit_segment as module

    losses: list[str] = []
    real = module.invert_segments

    def spy(gen, target, labels, settings, **kwargs):
        losses.append(settings.loss)
        return real(gen, target, labels, settings, **kwargs)

    monkeypatch.setattr(module, "invert_segments", spy)
    out = {
        loss: EditSegment().run(
            tiny_gen,
            _inputs(inverted),
            EditSegmentParams(segment=1, alpha=6.0, incremental=True, steps_w=4, loss=loss),
            Progress(),
        )
        for loss in ("segments", "composite")
    }
    assert losses == ["segments", "composite"]
    np.testing.assert_array_equal(out["segments"].outputs["result"], out["composite"].outputs["result"])
    a, b = (out[k].outputs["latents"].w["w"] for k in ("segments", "composite"))
    assert not torch.allclose(a, b)  # the same edit, re-fitted two ways
    advice = EditSegment().advice
    assert advice(EditSegmentParams(incremental=True)) == []
    assert "keep loss 'segments'" in advice(EditSegmentParams(incremental=True, loss="composite"))[0]
    assert advice(EditSegmentParams(incremental=True, loss="composite", poisson=False)) == []


def test_bad_inputs_get_clear_errors(tiny_gen, inverted):
    latents = inverted[2]
    op = EditSegment()
    with pytest.raises(OperationError, match="not in the placed region"):
        op.run(tiny_gen, _inputs(inverted), EditSegmentParams(segment=9), Progress())
    with pytest.raises(OperationError, match="run `segments` again"):
        op.run(tiny_gen, _inputs(inverted, latents=latents.select(0)), EditSegmentParams(), Progress())
    with pytest.raises(OperationError, match=r"direction \.npy"):
        op.run(tiny_gen, _inputs(inverted), EditSegmentParams(source="file"), Progress())
    with pytest.raises(OperationError, match="two embedded latents"):
        op.run(tiny_gen, _inputs(inverted), EditSegmentParams(source="difference"), Progress())
    with pytest.raises(OperationError, match="rows"):
        op.run(tiny_gen, _inputs(inverted), EditSegmentParams(first_row=5, last_row=2), Progress())
    with pytest.raises(OperationError, match="segment, direction, alpha"):
        read_history([[1, "x"]])


def test_cli_segments_then_edit_segment_with_history(tmp_path):
    import json

    from PIL import Image

    rng = np.random.default_rng(2)
    Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    labels = np.zeros((40, 48), np.uint8)
    labels[8:30, 10:22] = 1
    labels[8:30, 26:38] = 2
    Image.fromarray(labels, mode="L").save(tmp_path / "labels.png")
    first = tmp_path / "first"
    assert segments_cli(tmp_path / "photo.png", tmp_path / "labels.png", first) == 0
    current = str(first / "result.png")
    for step, seg in enumerate((1, 2)):
        out = tmp_path / f"edit{step}"
        given = ["--labels", first / "labels.png", "--latents", first / "latents.npz"]
        given += ["--placement", first / "placement.json"]
        if step:
            given += ["--history", tmp_path / "edit0" / "history.json"]
        edit = ["--segment", seg, "--alpha", 2, "--out-dir", out]
        assert cli(*TINY_MODEL, "edit-segment", current, *given, *edit) == 0
        current = str(out / "result.png")
    history = json.loads((tmp_path / "edit1" / "history.json").read_text())
    assert history == [[1, "sefa:0", 2.0], [2, "sefa:0", 2.0]]
    edited = np.asarray(Image.open(current))
    before = np.asarray(Image.open(first / "result.png"))
    assert np.array_equal(edited[labels == 0], before[labels == 0])
    assert not np.array_equal(edited[labels == 2], before[labels == 2])
