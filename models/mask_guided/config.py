"""Sizes of the mask-guided networks (stored with every checkpoint and the shipped model)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


def default_crops(size: int, stride: int = 4) -> dict[str, tuple[int, int]]:
    """Eye and mouth crop sizes (h, w) for an image of ``size`` px.

    From the synthetic set's part boxes: at 128 px the eyes' 95th-percentile box is
    20 x 24 px and the mouth's 21 x 31 px, so at 64 px 12 x 16 and 12 x 20 (rounded up to
    multiples of the feature stride) hold 95% of them whole.
    """

    def up(v: float) -> int:
        return max(stride, -(-round(v * size / 64) // stride) * stride)

    eye, mouth = (up(12), up(16)), (up(12), up(20))
    return {"left_eye": eye, "right_eye": eye, "mouth": mouth}


@dataclass(frozen=True)
class MaskGuidedConfig:
    """Widths and sizes. ``stride`` is the feature grid's step (grid = size / stride)."""

    size: int = 64
    width: int = 16
    code_dim: int = 64
    feat_channels: int = 16
    n_res: int = 3
    stride: int = 4
    parser_width: int = 16
    crops: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.crops:
            object.__setattr__(self, "crops", default_crops(self.size, self.stride))
        object.__setattr__(self, "crops", {k: (int(v[0]), int(v[1])) for k, v in self.crops.items()})
        self.validate()

    @property
    def grid(self) -> tuple[int, int]:
        """The feature grid's (height, width)."""
        return (self.size // self.stride, self.size // self.stride)

    def validate(self) -> None:
        """Raise ValueError when the sizes cannot work together."""
        if self.size < 32 or self.size & (self.size - 1):
            raise ValueError(f"size must be a power of two >= 32, got {self.size}")
        if self.stride not in (2, 4, 8):
            raise ValueError("stride must be 2, 4 or 8")
        for name, (h, w) in self.crops.items():
            if h % self.stride or w % self.stride or h > self.size or w > self.size:
                raise ValueError(
                    f"{name} crop {h}x{w} must fit the image and divide by the stride {self.stride}"
                )
        if min(self.width, self.code_dim, self.feat_channels, self.parser_width) < 1 or self.n_res < 0:
            raise ValueError("widths must be positive")

    def to_json(self) -> dict:
        """A JSON-able dict."""
        d = asdict(self)
        d["crops"] = {k: list(v) for k, v in self.crops.items()}
        return d

    @staticmethod
    def from_json(d: dict) -> MaskGuidedConfig:
        """Inverse of :meth:`to_json`, with type checks."""
        known = {"size", "width", "code_dim", "feat_channels", "n_res", "stride", "parser_width", "crops"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown mask-guided config keys {sorted(unknown)}")
        ints = {k: int(v) for k, v in d.items() if k != "crops"}
        crops = {str(k): (int(v[0]), int(v[1])) for k, v in dict(d.get("crops", {})).items()}
        return MaskGuidedConfig(**ints, crops=crops)
