"""The loss terms of Dual-Domain Synthesis (the paper's Eq. 2-6 and the authors' code).

Every term is per item, shape ``(B,)``, on images in [-1, 1] and masks ``(B, 1, H, W)``:

- masked perceptual (Eq. 3): for each VGG-16 layer j, the mean over all of the layer's
  values (``1 / N_j``) of ``(F_j(I1) * m_j - F_j(I2) * m_j)^2``, the mask area-resized to
  the layer; summed over layers. Only the features are masked (as in the paper and the
  code), so pixels just outside a mask reach the inside term through VGG's receptive field;
  ``mask_images=True`` masks the images too, which cuts outside pixels off completely;
- masked MSE: the mean over all pixels of ``((I1 - I2) * m)^2``;
- crossover (Eq. 4): MSE between the generated crossover and the naive one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F

#: the layers the paper names (conv1_1, conv1_2, conv2_2, conv3_3; post-ReLU here)
PAPER_LAYERS: tuple[str, ...] = ("conv1_1", "conv1_2", "conv2_2", "conv3_3")
#: the layers the authors' code takes (relu1_1, relu1_2, relu3_2, relu4_2)
CODE_LAYERS: tuple[str, ...] = ("conv1_1", "conv1_2", "conv3_2", "conv4_2")


def _mask_at(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.interpolate(mask, size=size, mode="area")


class MaskedPerceptual:
    """Eq. 3 with a frozen VGG-16; precompute a fixed image's features with :meth:`features`."""

    def __init__(self, vgg, layers: Sequence[str] = PAPER_LAYERS, mask_images: bool = False) -> None:
        self.vgg = vgg
        self.layers = tuple(layers)
        self.mask_images = mask_images

    def features(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """VGG features of ``image`` (masked first when ``mask_images``)."""
        if self.mask_images and mask is not None:
            image = image * mask
        return self.vgg(image, self.layers)

    def __call__(
        self, x: torch.Tensor, target: torch.Tensor | Mapping[str, torch.Tensor], mask: torch.Tensor
    ) -> torch.Tensor:
        """Per-item loss between ``x`` and ``target`` (an image or its :meth:`features`) under ``mask``."""
        fy = target if isinstance(target, Mapping) else self.features(target, mask)
        fx = self.features(x, mask)
        total = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        for name in self.layers:
            m = _mask_at(mask.to(fx[name].dtype), tuple(fx[name].shape[-2:]))
            total = total + ((fx[name] - fy[name]) * m).square().mean(dim=(1, 2, 3))
        return total


def masked_mse(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over all pixels of ``((x - y) * mask)^2``, per item."""
    return ((x - y) * mask).square().mean(dim=(1, 2, 3))


def naive_crossover(
    x_s: torch.Tensor, x_t: torch.Tensor, y_s: torch.Tensor, y_t: torch.Tensor
) -> torch.Tensor:
    """Eq. 1: ``x_s * y_s + x_t * (1 - y_t)`` (cut and paste)."""
    return x_s * y_s + x_t * (1.0 - y_t)


def crossover_loss(
    img_s: torch.Tensor, img_t: torch.Tensor, x_c: torch.Tensor, y_s: torch.Tensor, y_t: torch.Tensor
) -> torch.Tensor:
    """Eq. 4-5: MSE between the generated crossover (``img_s`` in ``y_s``, ``img_t`` outside
    ``y_t``) and the naive one ``x_c``; per item."""
    return (naive_crossover(img_s, img_t, y_s, y_t) - x_c).square().mean(dim=(1, 2, 3))
