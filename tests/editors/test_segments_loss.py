"""The per-segment loss weighs colour against VGG features the same for every segment size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_atelier.editors.inversion.embed_core import W_L_WEIGHTS, EmbeddingLoss, Targets, with_weights
from latent_atelier.editors.inversion.segments import SegmentLoss, SegmentsParams, invert_segments

torch.set_num_threads(1)
SIZE = 32
PIXELS_ONLY = with_weights(W_L_WEIGHTS, percept=0.0)


def _masks(sizes: list[int]) -> torch.Tensor:
    """One square mask per item, ``sizes`` px on a side, in the top-left corner."""
    m = torch.zeros(len(sizes), 1, SIZE, SIZE)
    for i, s in enumerate(sizes):
        m[i, :, :s, :s] = 1.0
    return m


def test_pixel_term_is_a_mean_over_the_segment_not_the_frame():
    sizes = [4, 16, 32]
    x = torch.zeros(len(sizes), 3, SIZE, SIZE)
    img = torch.full_like(x, 0.2)  # the same error everywhere
    seg = SegmentLoss(Targets(x=x, m_m=_masks(sizes)), PIXELS_ONLY)(img)
    whole = EmbeddingLoss(Targets(x=x[:1]), PIXELS_ONLY)(img[:1])
    # every segment sees the error a whole-frame projection sees, whatever its size
    assert torch.allclose(seg, whole.expand(len(sizes)), rtol=1e-5)
    # the frame-normalised loss would shrink with the segment's area instead
    framed = EmbeddingLoss(Targets(x=x, m_m=_masks(sizes)), PIXELS_ONLY)(img)
    assert framed[0] < seg[0] / 50


def test_pixels_outside_the_segment_do_not_count():
    x = torch.zeros(1, 3, SIZE, SIZE)
    img = x.clone()
    img[..., 20:, 20:] = 0.9  # wrong only outside the 8 px mask
    loss = SegmentLoss(Targets(x=x, m_m=_masks([8])), PIXELS_ONLY)(img)
    assert float(loss[0]) == 0.0


def test_perceptual_term_is_the_embedding_loss_one():
    torch.manual_seed(0)
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    img = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    m = _masks([12, 24])
    percept_only = with_weights(W_L_WEIGHTS, mse1=0.0)
    ours = SegmentLoss(Targets(x=x, m_m=m, m_p=m), percept_only)(img)
    ref = EmbeddingLoss(Targets(x=x, m_m=m, m_p=m), percept_only)(img)
    assert torch.allclose(ours, ref)


def test_segment_loss_needs_masks():
    with pytest.raises(ValueError, match="masks"):
        SegmentLoss(Targets(x=torch.zeros(1, 3, SIZE, SIZE)))


def test_small_segment_fits_its_colour(tiny_gen):
    """A 4 x 4 px segment of a flat colour gets close to it (its pixel term is not drowned)."""
    target = np.zeros((SIZE, SIZE, 3), np.float32)
    target[...] = (0.1, 0.5, 0.9)
    labels = np.zeros((SIZE, SIZE), np.int32)
    labels[14:18, 14:18] = 1
    start = invert_segments(
        tiny_gen, target, labels, SegmentsParams(steps_w=0, margin=0, candidates=0, loss="segments")
    )
    fitted = invert_segments(
        tiny_gen,
        target,
        labels,
        SegmentsParams(steps_w=40, margin=0, lr_w=0.05, candidates=0, loss="segments"),
    )
    assert fitted.metrics["psnr_w"] > start.metrics["psnr_w"] + 3.0


def test_composite_loss_is_the_whole_crops_loss_of_the_hard_cut():
    from latent_atelier.editors.inversion.segments import CompositeLoss

    torch.manual_seed(1)
    x = (torch.rand(1, 3, SIZE, SIZE) * 2 - 1).expand(2, -1, -1, -1)
    img = torch.rand(2, 3, SIZE, SIZE, requires_grad=True)
    cores = torch.zeros(2, 1, SIZE, SIZE)
    cores[0, :, :, :10] = 1.0  # segment 1: the left columns; segment 2: the middle ones
    cores[1, :, :, 10:20] = 1.0  # columns 20+ are unlabelled: they stay the target's
    per_item = CompositeLoss(x, cores)(img)
    composite = x[:1].clone()
    composite[..., :10] = img[:1, :, :, :10]
    composite[..., 10:20] = img[1:, :, :, 10:20]
    whole = EmbeddingLoss(Targets(x=x[:1]), W_L_WEIGHTS)(composite)
    assert torch.allclose(per_item.sum(), whole.sum(), rtol=1e-5)
    per_item.sum().backward()
    grad = img.grad.abs().sum(1)  # (2, S, S)
    assert float(grad[0, :, 10:].max()) == 0.0 and float(grad[1, :, :10].max()) == 0.0
    assert float(grad[1, :, 20:].max()) == 0.0 and float(grad[0, :, :10].max()) > 0.0


def test_invert_segments_refuses_an_unknown_loss(tiny_gen):
    from latent_atelier.editors.operation import OperationError

    labels = np.ones((tiny_gen.resolution,) * 2, np.int32)
    target = np.zeros((*labels.shape, 3), np.float32)
    with pytest.raises(OperationError, match="composite"):
        invert_segments(tiny_gen, target, labels, SegmentsParams(steps_w=1, loss="global"))
