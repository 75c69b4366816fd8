"""Scribble edits (Algorithm 5): the photo kept outside the blurred scribble, colour moves inside."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from latent_atelier.editors.i2s.scribble import Scribble, ScribbleParams, composite_scribble, scribble_edit
from latent_atelier.editors.operation import Cancelled, OperationError, Progress
from tests.editors.images import generated_photo, weighted_psnr

RED = np.array([0.9, 0.1, 0.1], np.float32)


@pytest.fixture(scope="module")
def edited(tiny_gen):
    photo = generated_photo(tiny_gen)
    mask = np.zeros((32, 32), np.float32)
    cv2.circle(mask, (16, 12), 6, 1.0, -1)
    layer = np.concatenate([np.broadcast_to(RED, (32, 32, 3)), mask[..., None]], axis=2)
    scribbled = composite_scribble(photo, layer)
    out = scribble_edit(
        tiny_gen,
        photo,
        scribbled,
        mask,
        ScribbleParams(rows=5, steps_embed=40, steps_w=60, steps_noise=80, seed=0),
    )
    return photo, mask, out


def test_pixels_outside_the_blurred_scribble_are_kept(edited):
    photo, _mask, out = edited
    assert weighted_psnr(out.composite, photo, 1.0 - out.blend) >= 35.0  # soft weight 1 - M_blur
    far = out.blend <= 0
    assert far.mean() > 0.4
    assert np.array_equal(out.composite[far], photo[far])


def test_colour_inside_moves_towards_the_scribble(edited):
    photo, mask, out = edited
    before = np.linalg.norm(photo - RED, axis=-1)[mask > 0].mean()
    after = np.linalg.norm(out.composite - RED, axis=-1)[mask > 0].mean()
    assert after < 0.8 * before, (before, after)


def test_only_the_first_rows_move_in_the_edit(tiny_gen):
    photo = generated_photo(tiny_gen)
    mask = np.zeros((32, 32), np.float32)
    mask[4:12, 4:12] = 1.0
    scribbled = photo.copy()
    scribbled[mask > 0] = RED
    seen = []

    class Spy(Progress):
        def set_stage(self, name: str, steps: int | None = None) -> None:
            seen.append(name)
            super().set_stage(name, steps)

    def edit(steps_w: int, progress: Progress | None = None):
        settings = ScribbleParams(rows=5, steps_embed=3, steps_w=steps_w, steps_noise=0, seed=0)
        return scribble_edit(tiny_gen, photo, scribbled, mask, settings, progress=progress)

    # the W+ of the photo embedding and of the edit differ only in the first rows
    out, ref = edit(4, progress=Spy()), edit(0)
    moved = (out.latent.w["w"] - ref.latent.w["w"]).abs().sum(-1)[0] > 0
    assert moved.tolist() == [True, True, True, False, False, False, False, False]
    assert seen[:2] == ["embed photo", "W+ towards the scribble"]


def test_operation_pastes_progress_determinism_and_errors(tiny_gen):
    photo = np.random.default_rng(0).random((40, 36, 3), dtype=np.float32)
    layer = np.zeros((40, 36, 4), np.float32)
    layer[15:22, 10:20] = [0.1, 0.2, 0.9, 1.0]
    params = ScribbleParams(steps_embed=2, steps_w=2, steps_noise=2)
    seen = []
    a = Scribble().run(
        tiny_gen, {"photo": photo, "scribble": layer}, params, Progress(lambda i, n, _p, _m: seen.append(i))
    )
    b = Scribble().run(tiny_gen, {"photo": photo, "scribble": layer}, params, Progress())
    assert seen == list(range(1, 7))
    assert a.outputs["result"].shape == photo.shape
    assert np.array_equal(a.outputs["result"], b.outputs["result"])
    assert np.array_equal(a.outputs["result"][:8], photo[:8])
    with pytest.raises(OperationError, match="empty"):
        Scribble().run(tiny_gen, {"photo": photo, "scribble": layer * 0}, params, Progress())
    with pytest.raises(OperationError, match="RGBA"):
        composite_scribble(photo, layer[..., :3])
    prog = Progress(lambda i, _n, _p, _m: prog.cancel() if i == 3 else None)
    with pytest.raises(Cancelled):
        Scribble().run(tiny_gen, {"photo": photo, "scribble": layer}, params, prog)
