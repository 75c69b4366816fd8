"""Training settings (:class:`TrainConfig`) and the channel-width helpers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from latent_atelier.models.architectures import ARCHITECTURES as ARCHES
from latent_atelier.models.generator_parts import default_channels, resolutions

#: how G's modulated convolutions may run in training (see ``training.passes``)
MODCONV_MODES = ("grouped", "input-scaled")


@dataclass
class TrainConfig:
    """Everything one training run needs; ``asdict`` is stored with each checkpoint.

    Schedule lengths (``fine_fade_in``, ``binarization_decay``) are iterations; the paper
    uses 5000 for both. ``r1_gamma=None`` picks StyleGAN2-ADA's heuristic
    0.0002 * size^2 / batch. ``channels`` is a full width table (resolution -> total
    channels); otherwise ``channel_scale`` scales the default (config-F) table and
    ``max_channels`` caps it.
    """

    arch: str = "furrygan"
    data: str = ""
    out: str = "runs/train"
    size: int = 64
    batch: int = 8
    iters: int = 1000
    resume: bool = False
    style_dim: int = 512
    n_mlp: int | None = None  # furrygan 2, stylegan2 8
    channels: dict[int, int] | None = None
    channel_scale: float = 1.0
    d_width_scale: float = 1.0  # the discriminator's widths are the generator's times this
    max_channels: int | None = None
    lr: float = 0.002
    r1_gamma: float | None = None
    r1_every: int = 16
    pl_weight: float = 0.0  # StyleGAN2's path length regularisation (its training uses 2)
    pl_every: int = 4
    pl_batch_shrink: int = 2
    pl_decay: float = 0.01
    ema_kimg: float = 10.0
    ema_rampup: float | None = 0.05
    augment: str = "color,translation"
    mixing: float | None = None  # furrygan 0, stylegan2 0.9
    fg_ratio: int = 1
    mask_reg_every: int = 2
    bg_part_every: int = 2
    bg_part_mask_only: bool = False  # the loss trains the mask only, not the background branch
    fine_fade_in: int = 5000
    binarization_decay: int = 5000
    phi1: float = 0.35
    phi2: float = 0.01
    center_prior: float = 0.0  # optional warm-up, not in the paper (see furrygan_losses)
    center_prior_iters: int = 1000
    center_prior_core: bool = True  # the prior also asks the central quarter (the face) to be fg
    sample_every: int = 500
    checkpoint_every: int = 500
    checkpoint_minutes: float = 5.0  # also checkpoint after this much wall time (0 = never)
    log_every: int = 50  # run log (log.jsonl) line every this many iterations (0 = none)
    fd_every: int = 0  # Frechet distance of EMA samples vs held-out images (0 = never)
    fd_n: int = 200
    keep_probe_generators: bool = False  # export the EMA generator at every FD probe (probes/)
    n_samples: int = 8
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto: bf16 autocast where the device runs it natively
    threads: int | None = 2
    data_cache: bool = True  # decode + resize the images once into a uint8 memory map
    modconv: str = "input-scaled"  # how G's modulated convolutions run (see training.passes)
    compile_passes: bool = False  # torch.compile the G and D passes (R1 stays eager)
    init_generator: str = ""  # start from an exported generator with a fresh discriminator
    init_step: int = 0  # the iteration that generator stands for (schedules resume there)
    init_images: int | None = None  # images that generator was shown (default: init_step x batch)
    d_warmup: int = 0  # after init_generator: iterations that train D only
    init_widen: bool = False  # grow a narrower init_generator to this run's widths
    save_fp16: bool = False
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ValueError with what to change when a setting cannot work."""
        if self.arch not in ARCHES:
            raise ValueError(f"arch must be one of {ARCHES}, got {self.arch!r}")
        if self.size < 16 or self.size & (self.size - 1):
            raise ValueError(f"size must be a power of two >= 16, got {self.size}")
        if self.batch < 2:
            raise ValueError("batch must be at least 2")
        if self.arch == "furrygan" and self.batch < self.fg_ratio + 1:
            raise ValueError(f"batch must be at least fg_ratio + 1 = {self.fg_ratio + 1} for FurryGAN")
        if self.iters < 1:
            raise ValueError("iters must be >= 1")
        if self.precision not in ("auto", "float32", "bf16"):
            raise ValueError("precision must be auto, float32 or bf16")
        if self.modconv not in MODCONV_MODES:
            raise ValueError(f"modconv must be one of {', '.join(MODCONV_MODES)}, got {self.modconv!r}")
        if self.init_widen and not self.init_generator:
            raise ValueError("init_widen grows the start generator: give --init-generator too")
        if self.keep_probe_generators and self.fd_every <= 0:
            raise ValueError("keep_probe_generators keeps the generator of each FD probe: give fd_every > 0")
        if self.pl_weight < 0 or self.pl_every < 1 or self.pl_batch_shrink < 1 or not 0 < self.pl_decay <= 1:
            raise ValueError(
                "path length regularisation needs pl_weight >= 0, pl_every >= 1, "
                "pl_batch_shrink >= 1 and 0 < pl_decay <= 1"
            )
        if not 0.25 <= self.d_width_scale <= 8:
            raise ValueError("d_width_scale (--d-width-scale) must be between 0.25 and 8: D's width over G's")
        if self.bg_part_every < 0:
            raise ValueError("bg_part_every must be >= 0 (0: no background-participation loss)")
        if self.mask_reg_every < 0:
            raise ValueError("mask_reg_every must be >= 0 (0: no mask-consistency loss)")
        if self.threads is not None and self.threads < 0:
            raise ValueError("threads must be at least 1 (0: every core)")
        if self.init_step < 0 or self.d_warmup < 0 or self.fd_n < 2:
            raise ValueError("init_step and d_warmup must be >= 0 and fd_n >= 2")
        if self.init_images is not None and self.init_images < 0:
            raise ValueError("init_images must be >= 0 (or left out: init_step x batch)")

    def to_json(self) -> dict:
        """A JSON-able dict (channel keys as strings)."""
        d = asdict(self)
        if d["channels"]:
            d["channels"] = {str(k): v for k, v in d["channels"].items()}
        return d

    @property
    def resolved_r1_gamma(self) -> float:
        """R1 weight: the given one, else 0.0002 * size^2 / batch."""
        return self.r1_gamma if self.r1_gamma is not None else 0.0002 * self.size**2 / self.batch

    @property
    def resolved_mixing(self) -> float:
        """Style-mixing probability (FurryGAN's official code uses none)."""
        if self.mixing is not None:
            return self.mixing
        return 0.0 if self.arch == "furrygan" else 0.9

    @property
    def resolved_n_mlp(self) -> int:
        """Mapping depth: 2 for FurryGAN (shallow mapping), 8 for StyleGAN2."""
        if self.n_mlp is not None:
            return self.n_mlp
        return 2 if self.arch == "furrygan" else 8


def channel_table(
    size: int,
    scale: float = 1.0,
    max_channels: int | None = None,
    multiple: int = 4,
) -> dict[int, int]:
    """Widths per resolution: config-F's table times ``scale``, capped at ``max_channels``,
    rounded to a multiple of ``multiple`` (4 keeps FurryGAN's 3:1 split exact)."""
    if scale <= 0:
        raise ValueError("channel scale must be positive")
    table = default_channels(2)
    out = {}
    for r in resolutions(size):
        width = table[r] * scale
        if max_channels is not None:
            width = min(width, max_channels)
        out[r] = max(multiple, round(width / multiple) * multiple)
    return out


def resolved_threads(config: TrainConfig) -> int:
    """The CPU threads a run uses (``threads`` 0 or None: every core the policy gives)."""
    if config.threads:
        return config.threads
    from latent_atelier.models.devices import default_threads

    return default_threads()
