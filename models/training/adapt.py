"""Few-shot domain adaptation of a trained generator (Ojha et al., "Few-shot Image Generation
via Cross-domain Correspondence", CVPR 2021), as Dual-Domain Synthesis uses it.

A frozen copy of the source generator and an adapted copy see the same latents. The adapted
one learns the new domain from about ten images while the distance-consistency loss keeps
the relative similarities between latents the same as in the source (so ``z`` gives paired
images in both domains). An anchor region of latent space (small noise around a few fixed
codes) is judged by the image-level discriminator, everything else only patch by patch.

Kept fixed, so the two generators share their latent space exactly: the mapping network(s)
(a W+ latent from ``embed`` means the same in both) and, for FurryGAN, the two mask heads;
FurryGAN's adapted alpha is also asked to follow the source's (``mask_meaning_loss``).
Deviations from the paper, all for a CPU: no source discriminator exists for our demo model,
so the discriminator starts from scratch; the G step's fakes are reused (detached) for the
D step; the distance consistency is averaged over every synthesis layer instead of one
random layer per step; translation augmentation on real and fake images.

Checkpoints resume exactly (weights as safetensors, optimisers + RNG as a ``weights_only``
torch file); the adapted EMA generator is exported as ``generator_ema.safetensors``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from latent_atelier.models.generator import Latent, noise_maps, repeat_rows
from latent_atelier.models.training import adapt_losses as al
from latent_atelier.models.training import augment as aug
from latent_atelier.models.training import checkpoint_folder as ckpt
from latent_atelier.models.training.losses import r1_penalty
from latent_atelier.models.training.patch_discriminator import IMAGE_LEVEL, PatchDiscriminator

EXPORT_NAME = "generator_ema.safetensors"
#: parameters that stay the source's (see the module docstring), by architecture
FROZEN_PREFIXES = {
    "furrygan": ("style_fg.", "style_bg.", "pre_m.", "refine_m."),
    "stylegan2": ("style.",),
}
ProgressCallback = Callable[[int, int, dict[str, float]], None]


@dataclass
class AdaptConfig:
    """Settings of one adaptation run (the paper's: lr 0.002, batch 4, CDC weight 1000,
    anchor every 4th step with noise 0.05; ~1k iterations for a near domain, 5k far)."""

    source: str = ""  # model spec of the generator to adapt
    shots: str = ""  # folder of target-domain images
    out: str = "runs/adapt"
    iters: int = 1000
    batch: int = 4
    lr: float = 0.002
    cdc_weight: float = 1000.0
    mask_weight: float = 1.0  # FurryGAN only
    anchor_every: int = 4
    anchor_std: float = 0.05
    patch_resolutions: tuple[int, ...] = (16, 8)
    d_width: int = 64  # discriminator channels at every resolution
    r1_gamma: float | None = None  # default 0.0002 * size^2 / batch
    r1_every: int = 16
    ema_half_life: float = 100.0  # iterations
    augment: str = "translation"
    checkpoint_every: int = 100
    sample_every: int = 250
    seed: int = 0
    device: str = "auto"
    threads: int | None = 1
    save_fp16: bool = True
    resume: bool = False

    def validate(self) -> None:
        """Raise ValueError saying what to change."""
        if not self.source:
            raise ValueError("give the generator to adapt (--adapt-from MODEL)")
        if not self.shots:
            raise ValueError("give the folder of target-domain images (--shots DIR)")
        if self.batch < 3:
            raise ValueError(
                "batch must be at least 3 (distance consistency compares each latent to the others)"
            )
        if self.iters < 1 or self.anchor_every < 1:
            raise ValueError("iters and anchor_every must be >= 1")

    def to_json(self) -> dict:
        """JSON-able dict."""
        d = asdict(self)
        d["patch_resolutions"] = list(self.patch_resolutions)
        return d


def frozen_prefixes(gen: nn.Module) -> tuple[str, ...]:
    """Parameter-name prefixes kept at the source's values for ``gen``'s architecture."""
    arch = getattr(gen, "arch", "")
    if arch not in FROZEN_PREFIXES:
        raise ValueError(f"adaptation supports {sorted(FROZEN_PREFIXES)} generators, not {arch!r}")
    return FROZEN_PREFIXES[arch]


def trainable_parameters(gen: nn.Module) -> list[nn.Parameter]:
    """The adapted generator's parameters that adaptation changes."""
    frozen = frozen_prefixes(gen)
    return [p for n, p in gen.named_parameters() if not n.startswith(frozen)]


def synthesis_layers(gen: nn.Module) -> tuple[str, ...]:
    """The hookable convolution layers whose features the distance consistency compares."""
    return tuple(n for n in gen.layer_names if n.startswith("conv"))


def render(
    gen: nn.Module, w: dict[str, torch.Tensor], noise: list[torch.Tensor], capture: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None, dict[str, torch.Tensor]]:
    """Image, alpha (FurryGAN, else None) and the synthesis features for style vectors ``w``."""
    feats: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(t: torch.Tensor) -> None:
            feats[name] = t

        return hook

    hooks = {n: keep(n) for n in synthesis_layers(gen)} if capture else None
    syn = gen.synthesize(Latent(repeat_rows(w, gen.n_latent), noise), return_alpha=True, hooks=hooks)
    return syn.image, syn.alpha, feats


def load_shots(folder: str | Path, size: int) -> torch.Tensor:
    """Every image in ``folder`` as ``(N, 3, size, size)`` in [-1, 1]."""
    from latent_atelier.models.training.data import ImageFolder

    data = ImageFolder(folder, size)
    if len(data) > 1000:
        raise ValueError(f"{folder} holds {len(data)} images; few-shot adaptation wants about 10")
    return torch.stack([data[i] for i in range(len(data))])


@dataclass
class _State:
    step: int
    gen: nn.Module
    gen_ema: nn.Module
    disc: PatchDiscriminator
    g_opt: torch.optim.Optimizer
    d_opt: torch.optim.Optimizer
    rng: torch.Generator
    anchors: torch.Tensor


class Adapter:
    """Holds the frozen source, the adapted generator (+ EMA), the discriminator and the RNG."""

    def __init__(
        self, config: AdaptConfig, source: nn.Module | None = None, shots: torch.Tensor | None = None
    ) -> None:
        from latent_atelier.models.devices import pick_device

        config.validate()
        self.config = config
        self.out = Path(config.out)
        self.device = pick_device(None if config.device == "auto" else config.device)
        if self.device.type == "cpu" and config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        if source is None:
            from latent_atelier.models.zoo import load_model

            source = load_model(config.source, "cpu")
        self.arch = frozen_prefixes(source) and source.arch
        self.source = source.to(self.device).eval().requires_grad_(False)
        gen = _copy_generator(source).to(self.device).train()
        gen.requires_grad_(False)
        for p in trainable_parameters(gen):
            p.requires_grad_(True)
        gen_ema = _copy_generator(source).to(self.device).eval().requires_grad_(False)
        size = source.resolution
        widths = {r: config.d_width for r in (2**i for i in range(2, size.bit_length()))}
        levels = tuple(r for r in config.patch_resolutions if 4 <= r < size) or (max(4, size // 2),)
        disc = PatchDiscriminator(size, channels=widths, patch_resolutions=levels)
        disc = disc.to(self.device)
        self.shots = (shots if shots is not None else load_shots(config.shots, size)).to(self.device)
        if len(self.shots) < 1:
            raise ValueError(f"{config.shots}: no target-domain images")
        rng = torch.Generator().manual_seed(config.seed)
        n_anchor = len(self.shots)
        anchors = torch.randn(n_anchor, source.z_dim(), generator=rng)
        g_opt = torch.optim.Adam(trainable_parameters(gen), lr=config.lr, betas=(0.0, 0.99))
        c = config.r1_every / (config.r1_every + 1)
        d_opt = torch.optim.Adam(disc.parameters(), lr=config.lr * c, betas=(0.0, 0.99**c))
        self.policy = aug.parse_policy(config.augment)
        self.s = _State(0, gen, gen_ema, disc, g_opt, d_opt, rng, anchors)
        self.last: dict[str, float] = {}
        self.cpu_seconds = 0.0  # process CPU time spent in steps, summed over resumes

    # -- draws ---------------------------------------------------------------------------
    def _randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.s.rng).to(self.device)

    def _latents(self, anchor: bool) -> torch.Tensor:
        b, s = self.config.batch, self.s
        if not anchor:
            return self._randn(b, self.source.z_dim())
        pick = torch.randint(len(s.anchors), (b,), generator=s.rng)
        return s.anchors[pick].to(self.device) + self.config.anchor_std * self._randn(b, self.source.z_dim())

    def _reals(self) -> torch.Tensor:
        b = self.config.batch
        idx = torch.randint(len(self.shots), (b,), generator=self.s.rng)
        flips = torch.rand(b, generator=self.s.rng) < 0.5
        real = self.shots[idx.to(self.shots.device)]
        return torch.where(flips.view(-1, 1, 1, 1).to(real.device), real.flip(-1), real)

    def _augment(self, x: torch.Tensor, p: aug.AugmentParams) -> torch.Tensor:
        return aug.apply(x, p)

    # -- one iteration -------------------------------------------------------------------
    def step(self) -> dict[str, float]:
        """One G step (adversarial + distance consistency [+ mask]) and one D step."""
        cfg, s = self.config, self.s
        i = s.step
        anchor = i % cfg.anchor_every == 0
        levels = s.disc.patch_resolutions
        level = IMAGE_LEVEL if anchor else levels[int(torch.randint(len(levels), (1,), generator=s.rng))]
        z = self._latents(anchor)
        noise = noise_maps(self.source.noise_shapes, cfg.batch, self.device, s.rng)
        with torch.no_grad():
            w = self.source.mapping(z)  # the mapping is shared (frozen)
            _img_s, alpha_s, feats_s = render(self.source, w, noise)
        size = self.source.resolution

        # generator
        s.disc.requires_grad_(False)
        img_t, alpha_t, feats_t = render(s.gen, w, noise)
        p_fake = aug.sample_params(self.policy, cfg.batch, size, s.rng)
        g_adv = al.patch_nonsaturating_g_loss(s.disc(self._augment(img_t, p_fake), level))
        cdc = al.distance_consistency_loss(feats_s, feats_t)
        loss = g_adv + cfg.cdc_weight * cdc
        logs = {"g": float(g_adv.detach()), "cdc": float(cdc.detach()), "anchor": float(anchor)}
        if alpha_t is not None and alpha_s is not None and cfg.mask_weight > 0:
            m = al.mask_meaning_loss(alpha_t, alpha_s)
            loss = loss + cfg.mask_weight * m
            logs["mask"] = float(m.detach())
        s.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        s.g_opt.step()

        # discriminator (on the same, detached fakes)
        s.disc.requires_grad_(True)
        real = self._reals()
        p_real = aug.sample_params(self.policy, cfg.batch, size, s.rng)
        d_loss = al.patch_logistic_d_loss(
            s.disc(self._augment(real, p_real), level), s.disc(self._augment(img_t.detach(), p_fake), level)
        )
        s.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        s.d_opt.step()
        logs["d"] = float(d_loss.detach())
        if cfg.r1_every > 0 and i % cfg.r1_every == 0:
            real_r1 = real.detach().requires_grad_(True)
            r1 = r1_penalty(s.disc(real_r1, IMAGE_LEVEL), real_r1)
            gamma = cfg.r1_gamma if cfg.r1_gamma is not None else 0.0002 * size**2 / cfg.batch
            s.d_opt.zero_grad(set_to_none=True)
            (gamma / 2 * r1 * cfg.r1_every).backward()
            s.d_opt.step()
            logs["r1"] = float(r1.detach())
        self._update_ema()
        s.step = i + 1
        self.last = logs
        return logs

    @torch.no_grad()
    def _update_ema(self) -> None:
        beta = 0.5 ** (1.0 / max(self.config.ema_half_life, 1e-8))
        for p_ema, p in zip(self.s.gen_ema.parameters(), self.s.gen.parameters()):
            p_ema.copy_(p.detach().lerp(p_ema, beta))
        for b_ema, b in zip(self.s.gen_ema.buffers(), self.s.gen.buffers()):
            b_ema.copy_(b)

    # -- files ---------------------------------------------------------------------------
    def export(self) -> Path:
        """Write the adapted EMA generator as ``generator_ema.safetensors``."""
        from latent_atelier.models.checkpoints import save_generator

        path = self.out / EXPORT_NAME
        save_generator(self.s.gen_ema, path, torch.float16 if self.config.save_fp16 else torch.float32)
        return path

    def save_samples(self) -> Path:
        """Source | adapted pairs for fixed latents: ``samples/step_NNNNNN.png``."""
        import numpy as np
        from PIL import Image

        latent = self.source.random_latent(self.config.seed + 12345, batch=8)
        with torch.no_grad():
            rows = [g.synthesize(latent).image for g in (self.source, self.s.gen_ema)]
        rows_u8 = [
            ((r.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy() for r in rows
        ]
        grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows_u8], axis=0)
        path = self.out / "samples" / f"step_{self.s.step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(grid).save(path)
        return path

    def save_checkpoint(self) -> Path:
        """Weights, optimisers + RNG + anchors, ``state.json`` (see ``checkpoint_folder``)."""
        s = self.s
        extra = {
            "g_optim": s.g_opt.state_dict(),
            "d_optim": s.d_opt.state_dict(),
            "rng": s.rng.get_state(),
            "anchors": s.anchors.cpu(),
        }
        state = {
            "step": s.step,
            "config": self.config.to_json(),
            "architecture": self.source.architecture(),
            "cpu_seconds": round(self.cpu_seconds, 1),
        }
        return ckpt.write_checkpoint(self.out, self._networks(), extra, state)

    def _networks(self) -> dict[str, nn.Module]:
        """The checkpointed networks by file name."""
        return {"g": self.s.gen, "g_ema": self.s.gen_ema, "d": self.s.disc}

    def load_checkpoint(self) -> int:
        """Restore everything from ``out/checkpoint``; returns the step it resumes at."""
        state = ckpt.read_state(self.out)
        if state.get("architecture") != self.source.architecture():
            raise ValueError(
                f"{self.out / ckpt.CHECKPOINT_DIR} adapts a different architecture "
                f"{state.get('architecture')}; "
                "use the same --adapt-from model or another --out"
            )
        s = self.s
        ckpt.load_weights(self.out, self._networks(), self.device)
        extra = ckpt.load_extra(self.out, "cpu")
        ckpt.load_optimizer_keeping_settings(s.g_opt, extra["g_optim"])
        ckpt.load_optimizer_keeping_settings(s.d_opt, extra["d_optim"])
        s.rng.set_state(extra["rng"].cpu())
        s.anchors = extra["anchors"]
        s.step = int(state["step"])
        self.cpu_seconds = float(state.get("cpu_seconds", 0.0))
        return s.step


def _copy_generator(gen: nn.Module) -> nn.Module:
    """A fresh generator of the same architecture holding ``gen``'s weights (fp32)."""
    from latent_atelier.models.checkpoints import build_generator

    copy = build_generator(gen.architecture())
    state = {k: v.detach().float() if v.is_floating_point() else v for k, v in gen.state_dict().items()}
    copy.load_state_dict(state, strict=True)
    fixed = getattr(gen, "fixed_mean_w", None)
    if fixed is not None and hasattr(copy, "set_mean_w"):
        copy.set_mean_w(fixed)
    return copy


def adapt(
    config: AdaptConfig, progress_cb: ProgressCallback | None = None, source: nn.Module | None = None
) -> Adapter:
    """Run (or resume) an adaptation to ``config.iters``; checkpoints, samples, export."""
    out = Path(config.out)
    has_checkpoint = ckpt.checkpoint_to_resume(out, config.resume)
    adapter = Adapter(config, source=source)
    if has_checkpoint:
        adapter.load_checkpoint()
    out.mkdir(parents=True, exist_ok=True)
    (out / "adapt_config.json").write_text(json.dumps(config.to_json(), indent=1, sort_keys=True))
    while adapter.s.step < config.iters:
        t0 = time.process_time()
        logs = adapter.step()
        adapter.cpu_seconds += time.process_time() - t0
        step = adapter.s.step
        if progress_cb is not None:
            progress_cb(step, config.iters, logs)
        if config.sample_every > 0 and step % config.sample_every == 0:
            adapter.save_samples()
        if config.checkpoint_every > 0 and step % config.checkpoint_every == 0 and step < config.iters:
            adapter.save_checkpoint()
    adapter.save_checkpoint()
    adapter.export()
    return adapter
