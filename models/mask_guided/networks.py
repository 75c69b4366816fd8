"""The mask-guided portrait editing networks (Gu et al. 2019, as in the seed thesis).

- :class:`ComponentEmbedding`: per component an encoder to a code, a reconstruction
  decoder (local loss) and a feature decoder whose patch is pasted on the feature grid;
- :class:`MaskGuidedGenerator`: the five embeddings, the mask encoder ``E_m``, the face
  generator ``G_m`` (a small pix2pixHD-style global generator), the background encoder
  ``E_b`` and the fusing generator ``G_b``;
- :class:`TwoScaleDiscriminator`: label-conditioned PatchGAN at full and half size;
- :class:`FaceParser`: a small U-Net, pre-trained on exact labels, frozen for the loss;
- :class:`LabelToImage`: the plain label-to-image baseline (mask encoder + generator).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .classes import BACKGROUND_CLASSES, COMPONENTS, LOCAL_COMPONENTS, N_CLASSES
from .config import MaskGuidedConfig
from .paste import component_centres, component_mask, crop_at, paste_at


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride, padding=dilation * (k - 1) // 2, dilation=dilation)


def _up_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), _conv(cin, cout), _act())


def init_weights(net: nn.Module, residual_scale: float = 0.1) -> None:
    """He initialisation for the leaky-ReLU stacks, zero biases, small residual branches.

    PyTorch's default initialisation shrinks the signal by about 1/sqrt(3) a layer; with no
    normalisation layers, the face generator's output then starts flat (std 0.02) and the
    component encoders get gradients of 1e-8 to 1e-7, so the codes never learn (measured:
    face-pixel PSNR stayed at 11-12 dB over 600 L1-only steps; with this, 18 dB).
    """
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    for m in net.modules():
        last = m.body[-1] if isinstance(m, ResBlock) else None
        if isinstance(last, nn.Conv2d):
            with torch.no_grad():
                last.weight.mul_(residual_scale)


def one_hot(labels: Tensor) -> Tensor:
    """``N x H x W`` class ids -> ``N x N_CLASSES x H x W`` float."""
    return F.one_hot(labels.long(), N_CLASSES).permute(0, 3, 1, 2).float()


class ComponentEmbedding(nn.Module):
    """Encoder to a ``code_dim`` code; decoders back to the crop and to a feature patch.

    ``crop`` is the input size (h, w); ``feat`` the feature patch size on the grid.
    """

    def __init__(
        self,
        crop: tuple[int, int],
        feat: tuple[int, int],
        width: int,
        code_dim: int,
        feat_channels: int,
        n_down: int,
    ) -> None:
        super().__init__()
        self.bottom = (crop[0] >> n_down, crop[1] >> n_down)
        chans = [3] + [min(2 * width, width * 2**i) for i in range(n_down)]
        layers: list[nn.Module] = []
        for cin, cout in itertools.pairwise(chans):
            layers += [_conv(cin, cout, 4, 2), _act()]
        c_last = chans[-1] if n_down else 3
        self.encoder = nn.Sequential(*layers)
        flat = c_last * self.bottom[0] * self.bottom[1]
        self.to_code = nn.Linear(flat, code_dim)
        self.c_last = c_last
        # reconstruction decoder D_local
        dec_c = max(width, c_last)
        self.rec_in = nn.Linear(code_dim, dec_c * self.bottom[0] * self.bottom[1])
        self.dec_c = dec_c
        self.rec = nn.Sequential(*[_up_block(dec_c, dec_c) for _ in range(n_down)], _conv(dec_c, 3))
        # feature decoder D_sub-network: a patch of the feature grid
        n_up = max(0, int(math.log2(feat[0] / self.bottom[0]))) if feat[0] > self.bottom[0] else 0
        self.feat_bottom = (feat[0] >> n_up, feat[1] >> n_up)
        self.feat_in = nn.Linear(code_dim, feat_channels * self.feat_bottom[0] * self.feat_bottom[1])
        self.feat_channels = feat_channels
        self.feat = nn.Sequential(
            *[_up_block(feat_channels, feat_channels) for _ in range(n_up)],
            _conv(feat_channels, feat_channels),
            _act(),
        )

    def encode(self, crop: Tensor) -> Tensor:
        """``N x 3 x h x w`` crop in [-1, 1] -> ``N x code_dim`` code."""
        return self.to_code(self.encoder(crop).flatten(1))

    def reconstruct(self, code: Tensor) -> Tensor:
        """The crop rebuilt from its code (D_local), in [-1, 1]."""
        x = self.rec_in(code).view(-1, self.dec_c, *self.bottom)
        return torch.tanh(self.rec(F.leaky_relu(x, 0.2)))

    def features(self, code: Tensor) -> Tensor:
        """The feature patch (D_sub-network) pasted onto the generator's grid."""
        x = self.feat_in(code).view(-1, self.feat_channels, *self.feat_bottom)
        return self.feat(F.leaky_relu(x, 0.2))


class ResBlock(nn.Module):
    """Two 3x3 convolutions with a skip."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(c, c), _act(), _conv(c, c))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class FaceGenerator(nn.Module):
    """``G_m``: fused grid features -> RGB face at full size (residual blocks, upsampling)."""

    def __init__(self, cin: int, width: int, n_res: int, stride: int) -> None:
        super().__init__()
        n_up = int(math.log2(stride))
        top = width * 2**n_up
        self.inp = nn.Sequential(_conv(cin, top, 1), _act())
        self.res = nn.Sequential(*[ResBlock(top) for _ in range(n_res)])
        ups = [_up_block(width * 2 ** (n_up - i), width * 2 ** (n_up - i - 1)) for i in range(n_up)]
        self.up = nn.Sequential(*ups)
        self.out = _conv(width, 3)

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.out(self.up(self.res(self.inp(x)))))


def mask_encoder(width: int, stride: int) -> nn.Sequential:
    """``E_m``: one-hot target map -> features on the grid (``width * stride`` channels)."""
    layers: list[nn.Module] = [_conv(N_CLASSES, width), _act()]
    c = width
    for _ in range(int(math.log2(stride))):
        layers += [_conv(c, 2 * c, 4, 2), _act()]
        c *= 2
    return nn.Sequential(*layers)


def background_mask(labels: Tensor) -> Tensor:
    """``N x 1 x H x W``: 1 where the label is one the background encoder reads."""
    m = torch.zeros_like(labels, dtype=torch.bool)
    for c in BACKGROUND_CLASSES:
        m |= labels == c
    return m.unsqueeze(1).float()


class MaskGuidedGenerator(nn.Module):
    """The whole generator ``G(x_s, m_s, x_t, m_t)``.

    :meth:`encode` embeds the source's components; :meth:`synthesize` draws a face in the
    target map's shapes from codes and fuses it with the target photo's background.
    """

    def __init__(self, config: MaskGuidedConfig) -> None:
        super().__init__()
        self.config = config
        c, w = config, config.width
        grid = c.grid
        embeds = {}
        for comp in COMPONENTS:
            if comp in LOCAL_COMPONENTS:  # down to the patch size on the grid
                crop = c.crops[comp]
                feat = (crop[0] // c.stride, crop[1] // c.stride)
                n_down = int(math.log2(c.stride))
            else:  # full-size components: down to 4 x 4, up again to the whole grid
                crop, feat = (c.size, c.size), grid
                n_down = int(math.log2(c.size // 4))
            embeds[comp] = ComponentEmbedding(crop, feat, w, c.code_dim, c.feat_channels, n_down)
        self.embed = nn.ModuleDict(embeds)
        self.mask_encoder = mask_encoder(w, c.stride)
        self.face = FaceGenerator(w * c.stride + len(COMPONENTS) * c.feat_channels, w, c.n_res, c.stride)
        self.bg_encoder = nn.Sequential(_conv(4, w), _act(), _conv(w, w), _act())
        fuse_out = _conv(w, 4)
        self.fuse = nn.Sequential(
            _conv(3 + w + 1, w),
            _act(),
            _conv(w, w, dilation=2),
            _act(),
            _conv(w, w, dilation=4),
            _act(),
            fuse_out,
        )
        init_weights(self)
        with torch.no_grad():  # start by passing the target's background through
            fuse_out.weight.mul_(0.1)
            bias = fuse_out.bias
            assert bias is not None  # _conv's convolutions have one
            bias[3] = 3.0

    def architecture(self) -> dict:
        """The config as JSON (checkpoints store it)."""
        return {"arch": "mask-guided", **self.config.to_json()}

    # -- local embedding ---------------------------------------------------------------
    def component_inputs(self, image: Tensor, labels: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
        """Per component: the masked crop it is embedded from and ``present`` (N, bool)."""
        centres, present = component_centres(labels)
        out = {}
        for comp in COMPONENTS:
            masked = image * component_mask(labels, comp)
            if comp in LOCAL_COMPONENTS:
                k = LOCAL_COMPONENTS.index(comp)
                out[comp] = (
                    crop_at(masked, centres[:, k], present[:, k], self.config.crops[comp]),
                    present[:, k],
                )
            else:
                out[comp] = (masked, component_mask(labels, comp).flatten(1).amax(1) > 0)
        return out

    def encode(self, image: Tensor, labels: Tensor) -> dict[str, Tensor]:
        """Codes ``N x code_dim`` of the five components of ``image`` (its map ``labels``)."""
        inputs = self.component_inputs(image, labels)
        return {comp: self.embed[comp].encode(x) for comp, (x, _p) in inputs.items()}

    # -- generation --------------------------------------------------------------------
    def fused_features(self, codes: dict[str, Tensor], target_labels: Tensor) -> Tensor:
        """Mask features plus every component's features pasted at the target's centres."""
        c = self.config
        centres, present = component_centres(target_labels)
        feats = [self.mask_encoder(one_hot(target_labels))]
        for comp in COMPONENTS:
            f = self.embed[comp].features(codes[comp])
            if comp in LOCAL_COMPONENTS:
                k = LOCAL_COMPONENTS.index(comp)
                f = paste_at(f, centres[:, k], present[:, k], c.grid, c.stride)
            feats.append(f)
        return torch.cat(feats, dim=1)

    def synthesize(
        self,
        codes: dict[str, Tensor],
        target_image: Tensor,
        target_labels: Tensor,
        bg_mask: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """``image`` (the fused result), ``face`` (G_m's output) and ``blend`` (where the
        target's background was passed through), all ``N x C x H x W``."""
        face = self.face(self.fused_features(codes, target_labels))
        if bg_mask is None:
            bg_mask = background_mask(target_labels)
        bg = target_image * bg_mask
        feats = self.bg_encoder(torch.cat([bg, bg_mask], dim=1))
        out = self.fuse(torch.cat([face, feats, bg_mask], dim=1))
        blend = torch.sigmoid(out[:, 3:4]) * bg_mask
        image = blend * bg + (1.0 - blend) * torch.tanh(out[:, :3])
        return {"image": image, "face": face, "blend": blend}

    def forward(
        self,
        source_image: Tensor,
        source_labels: Tensor,
        target_image: Tensor,
        target_labels: Tensor,
        bg_mask: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """The seed's ``G(x_s, m_s, x_t, m_t)``."""
        return self.synthesize(self.encode(source_image, source_labels), target_image, target_labels, bg_mask)


class PatchDiscriminator(nn.Module):
    """A label-conditioned PatchGAN; returns every layer's output (the last is the logits)."""

    def __init__(self, width: int, n_layers: int = 3) -> None:
        super().__init__()
        chans = [3 + N_CLASSES] + [width * min(2**i, 4) for i in range(n_layers)]
        blocks = []
        for i, (cin, cout) in enumerate(itertools.pairwise(chans)):
            stride = 2 if i < n_layers - 1 else 1
            blocks.append(nn.Sequential(nn.Conv2d(cin, cout, 4, stride, 1), _act()))
        blocks.append(nn.Conv2d(chans[-1], 1, 3, 1, 1))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, image: Tensor, labels_1h: Tensor) -> list[Tensor]:
        x = torch.cat([image, labels_1h], dim=1)
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return feats


class TwoScaleDiscriminator(nn.Module):
    """Two PatchGANs, on the image and on it at half size (pix2pixHD's multi-scale D)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.scales = nn.ModuleList([PatchDiscriminator(width), PatchDiscriminator(width)])

    def forward(self, image: Tensor, labels_1h: Tensor) -> list[list[Tensor]]:
        outs = []
        for i, d in enumerate(self.scales):
            if i:
                image, labels_1h = F.avg_pool2d(image, 2), F.avg_pool2d(labels_1h, 2)
            outs.append(d(image, labels_1h))
        return outs


class FaceParser(nn.Module):
    """A small U-Net: RGB in [-1, 1] -> ``N_CLASSES`` logits per pixel."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.e1 = nn.Sequential(_conv(3, w), _act(), _conv(w, w), _act())
        self.e2 = nn.Sequential(_conv(w, 2 * w, 4, 2), _act(), _conv(2 * w, 2 * w), _act())
        self.e3 = nn.Sequential(_conv(2 * w, 4 * w, 4, 2), _act(), _conv(4 * w, 4 * w), _act())
        self.e4 = nn.Sequential(_conv(4 * w, 4 * w, 4, 2), _act(), _conv(4 * w, 4 * w, dilation=2), _act())
        self.d3 = nn.Sequential(_conv(8 * w, 4 * w), _act())
        self.d2 = nn.Sequential(_conv(6 * w, 2 * w), _act())
        self.d1 = nn.Sequential(_conv(3 * w, w), _act(), _conv(w, N_CLASSES, 1))

    def forward(self, x: Tensor) -> Tensor:
        e1 = self.e1(x)
        e2 = self.e2(e1)
        e3 = self.e3(e2)
        e4 = self.e4(e3)
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
        d3 = self.d3(torch.cat([up(e4), e3], 1))
        d2 = self.d2(torch.cat([up(d3), e2], 1))
        return self.d1(torch.cat([up(d2), e1], 1))


class LabelToImage(nn.Module):
    """The plain label-to-image baseline: the mask encoder and face generator alone."""

    def __init__(self, config: MaskGuidedConfig) -> None:
        super().__init__()
        self.config = config
        self.mask_encoder = mask_encoder(config.width, config.stride)
        self.face = FaceGenerator(config.width * config.stride, config.width, config.n_res, config.stride)
        init_weights(self)

    def forward(self, labels: Tensor) -> Tensor:
        return self.face(self.mask_encoder(one_hot(labels)))
