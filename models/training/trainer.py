"""One GAN trainer for StyleGAN2 and FurryGAN.

Non-saturating logistic loss, lazy R1 on reals, EMA generator, DiffAugment, bf16 autocast
(fp32 master weights) wherever the device runs bf16 natively (CUDA, CPUs with AVX512-BF16
or AMX), FurryGAN's dual fake input and mask losses (``furrygan_losses``), images decoded
once into a uint8 memory map (``data.image_cache``), checkpoints that resume exactly
(weights as safetensors, optimiser and RNG state as a ``weights_only`` torch file; written
every ``checkpoint_every`` iterations and every ``checkpoint_minutes``, swapped in
atomically), a JSON-lines run log (``run_log``), sample grids and the EMA generator
exported as ``generator_ema.safetensors``. A run can also start from an exported generator
with a fresh discriminator (``init_generator``), e.g. when the full state was lost.

Every random draw (data order, flips, z, noise, augmentation, mixing) comes from one seeded
``torch.Generator`` whose state is checkpointed, so ``N`` steps, or ``k`` steps plus a
resume for ``N - k``, give the same weights on the same machine and thread count.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from latent_atelier.models.discriminator import Discriminator
from latent_atelier.models.discriminator_heads import MaskPredictingDiscriminator
from latent_atelier.models.training import augment as aug
from latent_atelier.models.training import checkpoint_folder as ckpt
from latent_atelier.models.training import furrygan_losses as fl
from latent_atelier.models.training.config import TrainConfig, channel_table, resolved_threads
from latent_atelier.models.training.data import (
    BatchSampler,
    CachedImages,
    ImageFolder,
    PortraitImages,
    image_cache,
    open_training_data,
)
from latent_atelier.models.training.losses import (
    d_logistic_loss,
    g_nonsaturating_loss,
    path_lengths,
    r1_penalty,
)
from latent_atelier.models.training.passes import set_modconv, training_passes
from latent_atelier.models.training.run_log import LossWindow, RunLog
from latent_atelier.models.training.samples import save_sample_grid
from latent_atelier.models.training.widen import check_widenable, widen_into

ProgressCallback = Callable[[int, int, dict[str, float]], None]
EXPORT_NAME = "generator_ema.safetensors"
PROBES_DIR = "probes"  # --keep-probe-generators: the EMA generator of every FD probe
BEST_FD_NAME = "generator_best_fd.safetensors"  # the EMA generator of the lowest FD probe so far


# -- building -------------------------------------------------------------------------
def build_networks(config: TrainConfig) -> tuple[nn.Module, nn.Module]:
    """An untrained generator and discriminator for ``config``."""
    widths = (
        {int(k): int(v) for k, v in config.channels.items()}
        if config.channels
        else channel_table(config.size, config.channel_scale, config.max_channels)
    )
    d_widths = {r: max(1, round(w * config.d_width_scale)) for r, w in widths.items()}
    common = {"size": config.size, "style_dim": config.style_dim, "n_mlp": config.resolved_n_mlp}
    if config.arch == "furrygan":
        from latent_atelier.models.furrygan import FurryGAN

        gen: nn.Module = FurryGAN(**common, channels=widths, gamma=0.0)
        disc: nn.Module = MaskPredictingDiscriminator(Discriminator(config.size, channels=d_widths))
    else:
        from latent_atelier.models.stylegan2 import StyleGAN2Generator

        gen = StyleGAN2Generator(**common, channels=widths)
        disc = Discriminator(config.size, channels=d_widths)
    return gen, disc


def _device(config: TrainConfig) -> torch.device:
    from latent_atelier.models.devices import pick_device

    return pick_device(None if config.device == "auto" else config.device)


def use_bf16(config: TrainConfig, device: torch.device) -> bool:
    """Whether the run's forward passes go under bf16 autocast (``precision`` auto: where
    the device has native bf16; ``bf16``: always; ``float32``: never)."""
    if config.precision == "float32":
        return False
    if config.precision == "bf16":
        return device.type in ("cpu", "cuda")
    from latent_atelier.models.devices import bf16_supported

    return bf16_supported(device)


def data_cache_path(config: TrainConfig, dataset: torch.utils.data.Dataset) -> Path:
    """Where the uint8 image cache lives: beside a portrait set (shared by its runs), else
    in the run folder (a user's image folder is never written to)."""
    if isinstance(dataset, PortraitImages):
        return dataset.data.folder / "cache" / f"images_{config.size}px.npy"
    return Path(config.out) / f"data_cache_{config.size}px.npy"


def save_export(gen: nn.Module, path: Path, fp16: bool) -> None:
    """Write the generator for the app (our safetensors format, via latent_atelier.models.checkpoints)."""
    from latent_atelier.models.checkpoints import save_generator

    save_generator(gen, path, dtype=torch.float16 if fp16 else torch.float32)


# -- the run --------------------------------------------------------------------------
@dataclass
class _State:
    step: int
    gen: nn.Module
    gen_ema: nn.Module
    disc: nn.Module
    g_opt: torch.optim.Optimizer
    d_opt: torch.optim.Optimizer
    rng: torch.Generator


class Trainer:
    """Holds the networks, optimisers and RNG of one run; :meth:`step` trains one iteration."""

    def __init__(self, config: TrainConfig) -> None:
        config.validate()
        self.config = config
        self.out = Path(config.out)
        self.device = _device(config)
        if self.device.type == "cpu":
            threads = resolved_threads(config)
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
        self.amp = use_bf16(config, self.device)
        self.policy = aug.parse_policy(config.augment)
        self.weights = fl.MaskLossWeights(
            phi1=config.phi1,
            phi2=config.phi2,
            binarization_decay=config.binarization_decay,
            fine_fade_in=config.fine_fade_in,
        )
        torch.manual_seed(config.seed)
        gen, disc = build_networks(config)
        gen_ema, _ = build_networks(config)
        gen_ema.load_state_dict(gen.state_dict())
        gen, disc, gen_ema = gen.to(self.device), disc.to(self.device), gen_ema.to(self.device)
        gen_ema.eval().requires_grad_(False)
        c = config.r1_every / (config.r1_every + 1)
        # lazy path length steps: G's Adam rate and momentum scaled as StyleGAN2 does
        g_c = config.pl_every / (config.pl_every + 1) if config.pl_weight > 0 else 1.0
        g_opt = torch.optim.Adam(gen.parameters(), lr=config.lr * g_c, betas=(0.0, 0.99**g_c))
        d_opt = torch.optim.Adam(disc.parameters(), lr=config.lr * c, betas=(0.0, 0.99**c))
        rng = torch.Generator().manual_seed(config.seed)
        self.s = _State(0, gen, gen_ema, disc, g_opt, d_opt, rng)
        set_modconv(gen, config.modconv)
        self.passes = training_passes(gen, disc, config.arch, config.compile_passes, self.device)
        self.sampler: BatchSampler | None = None
        self.last: dict[str, float] = {}
        self.train_seconds = 0.0  # wall time spent training, over every resume
        self.d_warmup_until = 0  # steps below this train D only (after init_generator)
        self.history: list[dict] = []  # starts, resumes and inits, stored with checkpoints
        self.pl_mean = 0.0  # running mean of the path lengths (stored with checkpoints)

    # -- data and latents ---------------------------------------------------------------
    def attach_data(self) -> None:
        """Open the training data named by the config."""
        data = open_training_data(self.config.data, self.config.size)
        if self.config.data_cache and isinstance(data, PortraitImages | ImageFolder):
            data = CachedImages(image_cache(data, self.config.size, data_cache_path(self.config, data)))
        self.sampler = BatchSampler(data, self.config.batch)

    def _randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.s.rng).to(self.device)

    def _styles(self, gen: nn.Module, batch: int) -> dict[str, torch.Tensor]:
        """W+ rows per group from fresh z (with style mixing at the configured rate)."""
        ws = gen.mapping(self._randn(batch, gen.z_dim()))
        rows = {k: v.unsqueeze(1).repeat(1, gen.n_latent, 1) for k, v in ws.items()}
        if torch.rand(1, generator=self.s.rng).item() < self.config.resolved_mixing:
            ws2 = gen.mapping(self._randn(batch, gen.z_dim()))
            cut = int(torch.randint(1, gen.n_latent, (1,), generator=self.s.rng))
            for k in rows:
                rows[k][:, cut:] = ws2[k].unsqueeze(1)
        return rows

    def _latents(self, batch: int) -> tuple[dict[str, torch.Tensor], list[torch.Tensor]]:
        """Fresh W+ rows and noise maps for the training generator (in that draw order)."""
        gen: Any = self.s.gen
        styles = self._styles(gen, batch)
        return styles, [self._randn(batch, 1, h, w) for h, w in gen.noise_shapes]

    def _fake(self, batch: int) -> dict[str, torch.Tensor]:
        """The training generator's outputs for fresh latents (``passes.synthesize``)."""
        return self.passes.synthesize(*self._latents(batch))

    def _autocast(self):
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    # -- one iteration ------------------------------------------------------------------
    def step(self) -> dict[str, float]:
        """Train one iteration (D step, lazy R1, G step, EMA); returns the losses."""
        if self.sampler is None:
            self.attach_data()
        cfg, s = self.config, self.s
        i = s.step
        furry = cfg.arch == "furrygan"
        if furry:
            s.gen.gamma = s.gen_ema.gamma = fl.fine_mask_gamma(i, self.weights)
        n_comp = cfg.batch - cfg.batch // (cfg.fg_ratio + 1) * cfg.fg_ratio
        logs: dict[str, float] = {}

        # discriminator
        real = self.sampler.next(s.rng).to(self.device)
        s.gen.requires_grad_(False)
        s.disc.requires_grad_(True)
        with torch.no_grad(), self._autocast():
            fake = self._fake(cfg.batch)
        with self._autocast():
            real_logits = self._d_logits(aug.apply(real, self._params(cfg.batch)))
            d_loss, fake_logits, extra = self._d_fake_terms(fake, n_comp, furry)
            d_loss = d_loss + d_logistic_loss(real_logits, fake_logits)
        s.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        s.d_opt.step()
        logs.update(d=float(d_loss.detach()), real_score=float(real_logits.detach().float().mean()), **extra)

        if cfg.r1_every > 0 and i % cfg.r1_every == 0:
            real_r1 = real.detach().requires_grad_(True)
            logits = self._d_logits(aug.apply(real_r1, self._params(cfg.batch)), eager=True)
            r1 = r1_penalty(logits, real_r1)
            s.d_opt.zero_grad(set_to_none=True)
            (cfg.resolved_r1_gamma / 2 * r1 * cfg.r1_every + 0 * logits[0].sum()).backward()
            s.d_opt.step()
            logs["r1"] = float(r1.detach())

        if i < self.d_warmup_until:  # a fresh D catches up with an initialised G first
            s.step = i + 1
            self.last = logs
            return logs

        # generator
        s.gen.requires_grad_(True)
        s.disc.requires_grad_(False)
        with self._autocast():
            fake = self._fake(cfg.batch)
            g_loss, g_logs = self._g_terms(fake, n_comp, furry, i)
        s.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        s.g_opt.step()
        logs.update(g=float(g_loss.detach()), **g_logs)
        if cfg.pl_weight > 0 and i % cfg.pl_every == 0:
            logs.update(self._path_length_step())

        self._update_ema((i + 1) * cfg.batch)
        s.step = i + 1
        self.last = logs
        return logs

    def _path_length_step(self) -> dict[str, float]:
        """StyleGAN2's lazy path length regularisation of G (eager, float32: a second
        derivative); the penalty pulls each sample's path length towards the running mean."""
        cfg, s = self.config, self.s
        styles, noise = self._latents(max(1, cfg.batch // cfg.pl_batch_shrink))
        images = self.passes.synthesize_eager(styles, noise)["image"]
        lengths = path_lengths(images, list(styles.values()), self._randn(*images.shape))
        self.pl_mean += cfg.pl_decay * (float(lengths.detach().mean()) - self.pl_mean)
        penalty = (lengths - self.pl_mean).square().mean()
        s.g_opt.zero_grad(set_to_none=True)
        (penalty * cfg.pl_weight * cfg.pl_every + 0 * images[0, 0, 0, 0]).backward()
        s.g_opt.step()
        return {"pl": float(penalty.detach()), "pl_mean": self.pl_mean}

    def _params(self, batch: int) -> aug.AugmentParams:
        return aug.sample_params(self.policy, batch, self.config.size, self.s.rng)

    def _d_logits(self, x: torch.Tensor, eager: bool = False) -> torch.Tensor:
        """D's logits (``eager``: without ``torch.compile``, for R1's double backward)."""
        out = self.passes.disc_eager(x) if eager else self.passes.disc(x)
        return out[0] if isinstance(out, tuple) else out

    def _predict_mask(self, x: torch.Tensor) -> torch.Tensor:
        assert self.passes.predict_mask is not None, "mask prediction needs FurryGAN's discriminator"
        return self.passes.predict_mask(x)

    def _fake_batch(self, fake: dict[str, torch.Tensor], n_comp: int, furry: bool) -> torch.Tensor:
        """Dual fake input: composites for the first ``n_comp`` samples, fg images after."""
        if not furry:
            return fake["image"]
        return torch.cat([fake["image"][:n_comp], fake["fg"][n_comp:]])

    def _d_fake_terms(self, fake, n_comp: int, furry: bool):
        p = self._params(self.config.batch)
        x = aug.apply(self._fake_batch(fake, n_comp, furry), p)
        if not furry:
            return torch.zeros((), device=self.device), self._d_logits(x), {}
        logits, pred_comp = self.passes.disc(x)
        p_comp = _select(p, n_comp)
        pred_fg = self._predict_mask(aug.apply(fake["fg"][:n_comp], p_comp))
        target = fl.downsample_mask(aug.apply(fake["alpha"][:n_comp], p_comp, photometric=False))
        m_d = fl.mask_prediction_loss(target, pred_comp[:n_comp], pred_fg)
        return m_d, logits, {"mask_pred": float(m_d.detach())}

    def _g_terms(self, fake, n_comp: int, furry: bool, i: int):
        cfg = self.config
        p = self._params(cfg.batch)
        x = aug.apply(self._fake_batch(fake, n_comp, furry), p)
        if not furry:
            return g_nonsaturating_loss(self._d_logits(x)), {}
        logits, pred_comp = self.passes.disc(x)
        loss = g_nonsaturating_loss(logits)
        logs: dict[str, float] = {}
        alpha, coarse = fake["alpha"][:n_comp], fake["coarse"]
        if cfg.mask_reg_every > 0 and i % cfg.mask_reg_every == 0:
            fg_sg = aug.apply(fake["fg"][:n_comp].detach(), _select(p, n_comp))
            consist = fl.mask_consistency_loss(pred_comp[:n_comp], self._predict_mask(fg_sg).detach())
            loss = loss + consist
            logs["consist"] = float(consist.detach())
        m_coarse = fl.coarse_mask_loss(coarse, i, self.weights)
        m_fine = fl.fine_mask_loss(alpha, coarse[:n_comp], self.weights)
        loss = loss + m_coarse + m_fine
        logs.update(m_coarse=float(m_coarse.detach()), m_fine=float(m_fine.detach()))
        prior_w = fl.center_prior_weight(i, cfg.center_prior, cfg.center_prior_iters)
        if prior_w > 0:
            prior = prior_w * fl.center_prior_loss(coarse, core=cfg.center_prior_core)
            loss = loss + prior
            logs["center_prior"] = float(prior.detach())
        if cfg.bg_part_every > 0 and i % cfg.bg_part_every == 0:
            bg_part = fl.background_participation_loss(
                fake["fg"][:n_comp], fake["bg"][:n_comp], alpha, mask_only=cfg.bg_part_mask_only
            )
            loss = loss + bg_part
            logs["bg_part"] = float(bg_part.detach())
        logs["alpha_mean"] = float(fake["alpha"].detach().float().mean())
        logs["coarse_mean"] = float(coarse.detach().float().mean())
        return loss, logs

    @torch.no_grad()
    def _update_ema(self, seen: int) -> None:
        cfg = self.config
        ema_nimg = cfg.ema_kimg * 1000
        if cfg.ema_rampup is not None:
            ema_nimg = min(ema_nimg, seen * cfg.ema_rampup)
        beta = 0.5 ** (cfg.batch / max(ema_nimg, 1e-8))
        for p_ema, p in zip(self.s.gen_ema.parameters(), self.s.gen.parameters()):
            p_ema.copy_(p.detach().lerp(p_ema, beta))
        for b_ema, b in zip(self.s.gen_ema.buffers(), self.s.gen.buffers()):
            b_ema.copy_(b)

    # -- outputs ------------------------------------------------------------------------
    def save_samples(self) -> Path:
        """A grid from the EMA generator at fixed seeds: ``samples/step_NNNNNN.png``."""
        path = self.out / "samples" / f"step_{self.s.step:06d}.png"
        save_sample_grid(self.s.gen_ema, path, self.config.n_samples, seed=self.config.seed + 12345)
        return path

    def export(self) -> Path:
        """Write the EMA generator as ``generator_ema.safetensors`` (fp16 if configured)."""
        path = self.out / EXPORT_NAME
        save_export(self.s.gen_ema, path, self.config.save_fp16)
        return path

    def images_shown(self) -> int:
        """Images shown so far: those the start generator had seen (``init_images``) plus
        this run's iterations since, at its batch size."""
        start = next((h for h in reversed(self.history) if h.get("event") == "init_from_generator"), None)
        if start is None:
            return self.s.step * self.config.batch
        first = int(start["iteration"])
        before = start.get("images_shown")  # absent in runs logged before the count was kept
        if before is None:
            before = self.start_images(first)
        return int(before) + (self.s.step - first) * self.config.batch

    def start_images(self, step: int) -> int:
        """Images the start generator of ``--init-generator`` had seen: ``init_images``, else
        ``step`` iterations at this run's batch."""
        c = self.config
        return c.init_images if c.init_images is not None else step * c.batch

    def save_checkpoint(self) -> Path:
        """Write weights, optimiser + RNG state and ``state.json`` (see ``checkpoint_folder``)."""
        s = self.s
        extra = {"g_optim": s.g_opt.state_dict(), "d_optim": s.d_opt.state_dict(), "rng": s.rng.get_state()}
        state = {
            "step": s.step,
            "config": self.config.to_json(),
            "architecture": s.gen.architecture(),
            "images_shown": self.images_shown(),
            "train_seconds": round(self.train_seconds, 3),
            "d_warmup_until": self.d_warmup_until,
            "history": self.history,
            "pl_mean": self.pl_mean,
        }
        return ckpt.write_checkpoint(self.out, self._networks(), extra, state)

    def _networks(self) -> dict[str, nn.Module]:
        """The checkpointed networks by file name."""
        return {"g": self.s.gen, "g_ema": self.s.gen_ema, "d": self.s.disc}

    def load_checkpoint(self) -> int:
        """Restore everything from ``out/checkpoint``; returns the step it resumes at."""
        ckpt.recover_checkpoint(self.out)
        state = ckpt.read_state(self.out)
        s = self.s
        if _without_gamma(state.get("architecture") or {}) != _without_gamma(s.gen.architecture()):
            raise ValueError(
                f"{self.out / ckpt.CHECKPOINT_DIR} was trained with a different architecture "
                f"{state.get('architecture')}; "
                "use the same --arch/--size/widths or another --out"
            )
        stored_d_scale = float((state.get("config") or {}).get("d_width_scale", 1.0))
        if stored_d_scale != self.config.d_width_scale:
            raise ValueError(
                f"{self.out / ckpt.CHECKPOINT_DIR} has a discriminator of --d-width-scale "
                f"{stored_d_scale:g}; resume with that or start another --out"
            )
        ckpt.load_weights(self.out, self._networks(), self.device)
        extra = ckpt.load_extra(self.out, self.device)
        ckpt.load_optimizer_keeping_settings(s.g_opt, extra["g_optim"])
        ckpt.load_optimizer_keeping_settings(s.d_opt, extra["d_optim"])
        s.rng.set_state(extra["rng"].cpu())
        s.step = int(state["step"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.d_warmup_until = int(state.get("d_warmup_until", 0))
        self.history = list(state.get("history", []))
        self.pl_mean = float(state.get("pl_mean", 0.0))
        if self.config.arch == "furrygan":
            s.gen.gamma = s.gen_ema.gamma = fl.fine_mask_gamma(s.step, self.weights)
        return s.step

    def init_from_generator(self, path: str | Path, step: int = 0) -> None:
        """Start from an exported generator (G and its EMA) at iteration ``step`` with a fresh
        discriminator and fresh optimisers; D alone trains for ``config.d_warmup`` steps. With
        ``config.init_widen`` a narrower generator is grown to this run's widths first."""
        from latent_atelier.models.checkpoints import load_generator

        src: Any = load_generator(path, "cpu").float()  # this run's architecture (checked below)
        s = self.s
        built: Any = s.gen
        if self.config.init_widen:
            check_widenable(src.architecture(), built.architecture())
            widen_into(src, built)
        elif _without_gamma(src.architecture()) != _without_gamma(built.architecture()):
            raise ValueError(
                f"{path} has the architecture {src.architecture()}, this run builds "
                f"{built.architecture()}; use the same --arch/--size/--style-dim/widths "
                "(or --init-widen to grow a narrower generator to this run's widths)"
            )
        source = built if self.config.init_widen else src
        state = {k: v.float() if v.is_floating_point() else v for k, v in source.state_dict().items()}
        s.gen.load_state_dict(state)
        s.gen_ema.load_state_dict(state)
        s.step = step
        self.d_warmup_until = step + self.config.d_warmup
        if self.config.arch == "furrygan":
            gamma = fl.fine_mask_gamma(step, self.weights)
            ema: Any = s.gen_ema
            built.gamma = ema.gamma = gamma


def _without_gamma(arch: dict) -> dict:
    """An architecture dict minus FurryGAN's ``gamma`` (a schedule value, not a shape)."""
    return {k: v for k, v in arch.items() if k != "gamma"}


def _select(p: aug.AugmentParams, n: int) -> aug.AugmentParams:
    """The first ``n`` samples' parameters."""
    fields = {k: (v[:n] if isinstance(v, torch.Tensor) else v) for k, v in vars(p).items()}
    return aug.AugmentParams(**fields)


def _begin(trainer: Trainer, log: RunLog) -> None:
    """Resume, initialise from a generator or start fresh, and say which in the log."""
    config, out = trainer.config, trainer.out
    has_checkpoint = ckpt.checkpoint_to_resume(out, config.resume, "resume (--resume)")
    base = {
        "threads": torch.get_num_threads(),
        "bf16": trainer.amp,
        "modconv": config.modconv,
        "compiled": trainer.passes.compiled,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "device": str(trainer.device),
        "batch": config.batch,
        "load_average_1min": _load_average(),
    }
    if has_checkpoint:
        step = trainer.load_checkpoint()
        dropped = log.truncate_after(step)
        event = {"event": "resume", "iteration": step, "log_lines_dropped": dropped, **base}
    elif config.init_generator:
        trainer.init_from_generator(config.init_generator, config.init_step)
        log.truncate_after(config.init_step)
        event = {
            "event": "init_from_generator",
            "iteration": config.init_step,
            "images_shown": trainer.start_images(config.init_step),
            "generator": str(config.init_generator),
            "fresh_discriminator": True,
            "d_warmup": config.d_warmup,
            **base,
        }
    else:
        log.truncate_after(0)
        event = {"event": "start", "iteration": 0, **base}
    trainer.history.append(
        {k: v for k, v in event.items() if k != "log_lines_dropped"}
        | {"time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    )
    log.append(event)


def _load_average() -> float | None:
    """The machine's 1-minute load average (how contended the CPU was), where known."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _log_window(trainer: Trainer, log: RunLog, window: LossWindow) -> None:
    step, batch = trainer.s.step, trainer.config.batch
    seconds = window.train_seconds
    means = window.means()
    record = {
        "iteration": step,
        "images_shown": trainer.images_shown(),
        "losses": means,
        "window_iterations": window.iterations,
        "images_per_s": window.iterations * batch / max(seconds, 1e-9),
        "train_seconds": round(trainer.train_seconds, 1),
        "load_average_1min": _load_average(),
    }
    for key in ("alpha_mean", "coarse_mean", "real_score"):
        if key in means:
            record[key] = means.pop(key)
    log.append(record)


def _log_fd(trainer: Trainer, log: RunLog, probe: list) -> None:
    """FD of the EMA generator (portrait data sets only; the probes are built once) and, for
    FurryGAN where the bundled face parser is there, its masks against the parser's person."""
    cfg = trainer.config
    if not probe:
        from latent_atelier.models.mask_guided.io import bundled_model_path
        from latent_atelier.models.training.fd_probe import FdProbe
        from latent_atelier.models.training.mask_probe import MaskProbe

        if not (Path(cfg.data) / "meta.json").is_file():
            probe.extend([None, None])
        else:
            probe.append(FdProbe(cfg.data, cfg.size, cfg.fd_n, trainer.device))
            masks = cfg.arch == "furrygan" and bundled_model_path().is_file()
            probe.append(MaskProbe(cfg.fd_n) if masks else None)
    if probe[0] is None:
        return
    t0 = time.perf_counter()
    fd = probe[0].measure(trainer.s.gen_ema)
    record = {
        "iteration": trainer.s.step,
        "images_shown": trainer.images_shown(),
        "fd_vgg16": fd,
        "fd_n": len(probe[0].reference),
    }
    record["fd_seconds"] = round(time.perf_counter() - t0, 1)
    if probe[1] is not None:
        t0 = time.perf_counter()
        record |= probe[1].measure(trainer.s.gen_ema)
        record["mask_probe_seconds"] = round(time.perf_counter() - t0, 1)
    record["best_so_far"] = keep_best_fd(trainer, fd)
    if cfg.keep_probe_generators:
        record["generator"] = keep_probe_generator(trainer).relative_to(trainer.out).as_posix()
    log.append(record)


def keep_probe_generator(trainer: Trainer) -> Path:
    """Export the EMA generator as ``probes/generator_NNNNNN.safetensors`` (this iteration),
    so every probed state stays at hand, not only the latest and the lowest FD."""
    path = trainer.out / PROBES_DIR / f"generator_{trainer.s.step:06d}.safetensors"
    path.parent.mkdir(exist_ok=True)
    save_export(trainer.s.gen_ema, path, trainer.config.save_fp16)
    return path


def keep_best_fd(trainer: Trainer, fd: float) -> bool:
    """Export the EMA generator as ``generator_best_fd.safetensors`` when ``fd`` is the lowest
    FD probe of the run so far (its record, ``generator_best_fd.json``, survives resumes), so
    a run that drifts later still leaves its best model. True when it was the best."""
    record = trainer.out / "generator_best_fd.json"
    if record.is_file() and json.loads(record.read_text())["fd_vgg16"] <= fd:
        return False
    from latent_atelier.models.atomic import atomic_write_bytes

    save_export(trainer.s.gen_ema, trainer.out / BEST_FD_NAME, trainer.config.save_fp16)  # atomic
    info = {"iteration": trainer.s.step, "images_shown": trainer.images_shown(), "fd_vgg16": fd}
    atomic_write_bytes(record, (json.dumps(info, indent=1) + "\n").encode())
    return True


def train(config: TrainConfig, progress_cb: ProgressCallback | None = None) -> Trainer:
    """Run (or resume) training to ``config.iters`` iterations; returns the finished Trainer.

    Writes ``out/checkpoint`` every ``checkpoint_every`` steps, every ``checkpoint_minutes``
    and at the end, sample grids every ``sample_every`` steps, ``out/log.jsonl`` (every
    ``log_every`` steps; FD every ``fd_every``) and ``out/generator_ema.safetensors`` at the
    end. ``progress_cb(step, total, losses)`` is called after every iteration.
    """
    trainer = Trainer(config)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    log = RunLog(out)
    _begin(trainer, log)
    (out / "config.json").write_text(json.dumps(config.to_json(), indent=1, sort_keys=True))
    trainer.attach_data()
    window, probe = LossWindow(), cast(list[Any], [])
    last_save = time.perf_counter()
    while trainer.s.step < config.iters:
        t0 = time.perf_counter()
        logs = trainer.step()
        spent = time.perf_counter() - t0
        trainer.train_seconds += spent
        window.add(logs, spent)
        step = trainer.s.step
        if progress_cb is not None:
            progress_cb(step, config.iters, logs)
        if config.log_every > 0 and (step % config.log_every == 0 or step == config.iters):
            _log_window(trainer, log, window)
            window = LossWindow()
        if config.fd_every > 0 and (step % config.fd_every == 0 or step == config.iters):
            _log_fd(trainer, log, probe)
        if config.sample_every > 0 and step % config.sample_every == 0:
            trainer.save_samples()
        due = config.checkpoint_every > 0 and step % config.checkpoint_every == 0
        minutes = (time.perf_counter() - last_save) / 60
        late = config.checkpoint_minutes > 0 and minutes > config.checkpoint_minutes
        if (due or late) and step < config.iters:
            trainer.save_checkpoint()
            last_save = time.perf_counter()
    trainer.save_checkpoint()
    trainer.export()
    return trainer
