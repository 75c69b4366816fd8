"""The reference part labeller of the dual-domain benchmark (not part of the app).

A small U-Net trained on the synthetic portraits' exact part labels (here eyes + nose +
mouth) at the model's resolution, with a little blur so that it also reads the softer
generated images. It stands in for a person labelling generated images: the one-shot part
segmenter (``editors.dual_domain.segmenter``) is scored against it.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PART_CLASSES = (3, 5, 6)  # EYES, NOSE, MOUTH of models.training.synthetic.parts
#: the part is the labelled pixels grown by this many pixels (at 64 px the bare labels are
#: strokes one or two pixels wide, 2% of the image: a region is what DDS transfers)
PART_GROW_PX = 2


def part_masks(labels: np.ndarray, size: int, classes=PART_CLASSES, grow: int = PART_GROW_PX) -> np.ndarray:
    """``(N, D, D)`` label maps -> ``(N, size, size)`` float masks of the classes (area resize,
    >= 0.5, grown by ``PART_GROW_PX``)."""
    import cv2

    m = np.isin(labels, classes).astype(np.float32)
    if m.shape[1] != size:
        m = np.stack([cv2.resize(a, (size, size), interpolation=cv2.INTER_AREA) for a in m])
    m = (m >= 0.5).astype(np.uint8)
    if grow > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        m = np.stack([cv2.dilate(a, k) for a in m])
    return m.astype(np.float32)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU()
    )


class Labeller(nn.Module):
    """RGB ``(B, 3, S, S)`` in [-1, 1] -> part logits ``(B, 1, S, S)``."""

    def __init__(self, w: tuple[int, int, int] = (16, 32, 48)) -> None:
        super().__init__()
        self.e1, self.e2, self.e3 = _block(3, w[0]), _block(w[0], w[1]), _block(w[1], w[2])
        self.d2, self.d1 = _block(w[2] + w[1], w[1]), _block(w[1] + w[0], w[0])
        self.out = nn.Conv2d(w[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.e1(x)
        b = self.e2(F.max_pool2d(a, 2))
        c = self.e3(F.max_pool2d(b, 2))
        b2 = self.d2(torch.cat([F.interpolate(c, scale_factor=2.0), b], 1))
        a2 = self.d1(torch.cat([F.interpolate(b2, scale_factor=2.0), a], 1))
        return self.out(a2)


def _blurred(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import cv2

    out = images.copy()
    for i in range(len(out)):
        s = rng.uniform(0.0, 1.0)
        if s > 0.25:
            out[i] = cv2.GaussianBlur(out[i], (0, 0), s)
    return out


def train_labeller(
    images: np.ndarray, masks: np.ndarray, steps: int = 400, batch: int = 16, seed: int = 0, log=print
) -> Labeller:
    """Fit on ``(N, S, S, 3)`` images in [0, 1] and ``(N, S, S)`` masks."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = Labeller()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    pos = float(masks.mean())
    weight = torch.tensor(((1 - pos) / max(pos, 1e-3)) ** 0.5)
    for step in range(steps):
        idx = rng.integers(0, len(images), batch)
        x = torch.from_numpy(_blurred(images[idx], rng)).permute(0, 3, 1, 2) * 2 - 1
        y = torch.from_numpy(masks[idx]).unsqueeze(1)
        if rng.random() < 0.5:
            x, y = x.flip(-1), y.flip(-1)
        loss = F.binary_cross_entropy_with_logits(net(x), y, pos_weight=weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0:
            log(f"labeller step {step}: {float(loss.detach()):.4f}")
    return net.eval()


@torch.no_grad()
def predict(net: Labeller, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """Binary masks ``(N, S, S)`` for ``(N, S, S, 3)`` images in [0, 1]."""
    out = []
    for lo in range(0, len(images), batch):
        x = torch.from_numpy(np.ascontiguousarray(images[lo : lo + batch])).permute(0, 3, 1, 2) * 2 - 1
        out.append((torch.sigmoid(net(x)) > 0.5).float()[:, 0].numpy())
    return np.concatenate(out)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-item IoU of binary masks ``(N, H, W)`` (1 where both are empty)."""
    inter = (a * b).sum((1, 2))
    union = np.clip(a + b, 0, 1).sum((1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)
