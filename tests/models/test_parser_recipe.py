"""The face parser's training recipe: mirrored samples, the one-cycle rate, balanced classes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_atelier.models.mask_guided.classes import LEFT_EYE, NOSE, RIGHT_EYE
from latent_atelier.models.mask_guided.networks import FaceParser
from latent_atelier.models.training.parser_recipe import (
    MIRRORED,
    class_weights,
    one_cycle_lr,
    parser_batch,
    parser_update,
)


def test_a_mirrored_sample_swaps_the_persons_sides():
    images = np.zeros((1, 4, 6, 3), np.uint8)
    images[0, :, :3] = 255  # bright on the image's left
    labels = np.zeros((1, 4, 6), np.uint8)
    labels[0, 1, 1] = LEFT_EYE
    labels[0, 1, 4] = RIGHT_EYE
    labels[0, 2, 2] = NOSE
    x, y = parser_batch(images, labels, np.array([0]), flip=True)
    assert x[0, 0, 0, 5] == 1.0 and x[0, 0, 0, 0] == -1.0  # the bright half moved right
    assert y[0, 1, 4] == RIGHT_EYE and y[0, 1, 1] == LEFT_EYE  # moved across and renamed
    assert y[0, 2, 3] == NOSE
    assert all(MIRRORED[MIRRORED] == np.arange(len(MIRRORED)))  # mirroring twice is identity
    x0, y0 = parser_batch(images, labels, np.array([0]), flip=False)
    assert y0.dtype == torch.int64 and torch.equal(y0[0], torch.from_numpy(labels[0].astype(np.int64)))
    assert x0.min() == -1.0 and x0.max() == 1.0


def test_the_one_cycle_rate_warms_up_peaks_and_decays_from_the_step_alone():
    total, peak = 1000, 2e-3
    rates = [one_cycle_lr(i, total, peak) for i in range(total)]
    top = int(np.argmax(rates))
    assert top == 50 and rates[top] == pytest.approx(peak)
    assert rates[0] == pytest.approx(peak / 25)
    assert all(b <= a for a, b in zip(rates[top:], rates[top + 1 :]))
    assert rates[-1] < peak / 1000
    assert one_cycle_lr(500, total, peak) == rates[500]  # no state: a resume continues exactly


def test_balanced_weights_favour_rare_classes_and_average_one():
    labels = np.zeros((2, 10, 10), np.uint8)
    labels[:, 0, 0] = NOSE
    w = class_weights(labels)
    assert w.mean().item() == pytest.approx(1.0)
    assert w[NOSE] > w[0]


def test_one_update_uses_the_given_rate_and_lowers_the_loss():
    torch.manual_seed(0)
    parser = FaceParser(4)
    opt = torch.optim.Adam(parser.parameters(), lr=1.0)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    y = torch.randint(0, 3, (2, 16, 16))
    first = parser_update(parser, opt, x, y, None, 1e-2)
    assert opt.param_groups[0]["lr"] == 1e-2
    for _ in range(20):
        last = parser_update(parser, opt, x, y, None, 1e-2)
    assert last < first
