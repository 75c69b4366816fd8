"""Training of the mask-guided portrait editor (and of its plain label-to-image baseline).

Stages: the face parser is pre-trained on the exact labels (cross-entropy), then frozen;
then paired and unpaired iterations alternate (seed Sec. 3.3). Paired: source = target,
every loss (local, global, adversarial + feature matching, parsing). Unpaired: the target
map and photo come from the next sample in the batch (components swapped across the
batch); local, adversarial (a second discriminator) and parsing losses only.

Every random draw comes from one seeded ``torch.Generator`` saved in the checkpoint, so
``N`` steps, or ``k`` steps and a resume for ``N - k``, give bit-identical weights on the
same machine. ``cpu_budget`` stops a run after that many seconds of process CPU time
(summed over resumes), so two runs can be given the same compute on a shared machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from latent_atelier.models.mask_guided.config import MaskGuidedConfig
from latent_atelier.models.mask_guided.io import MaskGuidedModel, save_model
from latent_atelier.models.mask_guided.networks import (
    FaceParser,
    LabelToImage,
    MaskGuidedGenerator,
    TwoScaleDiscriminator,
    background_mask,
    one_hot,
)
from latent_atelier.models.training import checkpoint_folder as ckpt
from latent_atelier.models.training import mask_guided_losses as L
from latent_atelier.models.training.parser_recipe import (
    class_weights,
    one_cycle_lr,
    parser_batch,
    parser_update,
)

VARIANTS = ("full", "label-to-image")
EXPORT_NAME = "mask_guided.safetensors"
ProgressCallback = Callable[[int, int, dict[str, float]], None]
T = TypeVar("T")


@dataclass
class MaskGuidedTrainConfig:
    """One run's settings (stored in the checkpoint)."""

    data: str = ""
    out: str = "runs/mask-guided"
    variant: str = "full"
    size: int = 64
    width: int = 16
    code_dim: int = 64
    feat_channels: int = 16
    n_res: int = 3
    parser_width: int = 24  # the parser recipe's measured width (parser_recipe.py)
    batch: int = 8
    iters: int = 20000
    cpu_budget: float = 0.0
    lr: float = 3e-4
    lr_decay_from: int = 0  # from this step the rate falls linearly to 0 at ``iters`` (0: constant)
    parser_iters: int = 12000
    parser_batch: int = 16
    parser_lr: float = 2e-3  # the one-cycle peak (models/training/parser_recipe.py)
    parser_from: str = ""  # a model file whose parser is used as is (no pre-training stage)
    n_train: int = 10000
    w_local: float = 10.0
    w_global: float = 10.0
    w_adv: float = 1.0
    w_fm: float = 5.0
    w_parse: float = 1.0
    checkpoint_every: int = 200
    sample_every: int = 500
    seed: int = 0
    threads: int = 1
    resume: bool = False

    def validate(self) -> None:
        """Raise ValueError saying what to change."""
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.batch < 2:
            raise ValueError("batch must be at least 2 (unpaired iterations swap within the batch)")
        if self.iters < 0 or self.parser_iters < 0 or self.cpu_budget < 0:
            raise ValueError("iters, parser_iters and cpu_budget must be >= 0")
        if not 0 <= self.lr_decay_from < max(self.iters, 1):
            raise ValueError("lr_decay_from must be 0 (no decay) or a step before iters")
        self.model_config()

    def model_config(self) -> MaskGuidedConfig:
        """The networks' sizes: the fields this config shares with :class:`MaskGuidedConfig`."""
        sizes = {f.name for f in fields(MaskGuidedConfig)} & {f.name for f in fields(self)}
        return MaskGuidedConfig(**{name: getattr(self, name) for name in sizes})


def _present(**items: T | None) -> dict[str, T]:
    """``items`` without the ones this variant does not have (None)."""
    return {name: item for name, item in items.items() if item is not None}


@dataclass
class _State:
    step: int = 0
    parser_step: int = 0
    cpu_seconds: float = 0.0


class MaskGuidedTrainer:
    """Networks, optimisers, data and RNG of one run."""

    def __init__(
        self, config: MaskGuidedTrainConfig, data: tuple[np.ndarray, np.ndarray] | None = None
    ) -> None:
        config.validate()
        self.config = config
        self.out = Path(config.out)
        if config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        mc = config.model_config()
        self.model_config = mc
        self.full = config.variant == "full"
        self.gen = MaskGuidedGenerator(mc) if self.full else LabelToImage(mc)
        self.d_paired = TwoScaleDiscriminator(config.width)
        self.d_unpaired = TwoScaleDiscriminator(config.width) if self.full else None
        self.parser = FaceParser(config.parser_width) if self.full else None
        betas = (0.5, 0.999)
        self.g_opt = torch.optim.Adam(self.gen.parameters(), lr=config.lr, betas=betas)
        self.dp_opt = torch.optim.Adam(self.d_paired.parameters(), lr=config.lr, betas=betas)
        self.du_opt = (
            torch.optim.Adam(self.d_unpaired.parameters(), lr=config.lr, betas=betas)
            if self.d_unpaired is not None
            else None
        )
        self.p_opt = (
            torch.optim.Adam(self.parser.parameters(), lr=config.parser_lr)
            if self.parser is not None
            else None
        )
        self.rng = torch.Generator().manual_seed(config.seed)
        self.s = _State()
        self.images: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        if data is not None:
            self.images, self.labels = data
        self.last: dict[str, float] = {}
        self._class_weights: torch.Tensor | None = None

    # -- data ----------------------------------------------------------------------------
    def attach_data(self) -> None:
        """Load the training pairs (cached in the run folder as ``pairs_<size>_<n>.npz``)."""
        if self.images is not None:
            return
        cfg = self.config
        cache = self.out / f"pairs_{cfg.size}_{cfg.n_train}.npz"
        if cache.is_file():
            with np.load(cache, allow_pickle=False) as z:
                self.images, self.labels = z["images"], z["labels"]
            return
        from latent_atelier.models.training.mask_guided_data import open_pairs

        pairs = open_pairs(cfg.data, cfg.size, "train", cfg.n_train)
        self.images, self.labels = pairs.images, pairs.labels
        self.out.mkdir(parents=True, exist_ok=True)
        np.savez(cache, images=self.images, labels=self.labels)

    def _batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(len(self.images), (n,), generator=self.rng).numpy()
        x = torch.from_numpy(self.images[idx]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return x, torch.from_numpy(self.labels[idx].astype(np.int64))

    # -- stages --------------------------------------------------------------------------
    def use_parser_from(self, path: str, load: bool = True) -> dict:
        """Take the frozen parser from the model file ``path`` instead of pre-training one
        (``load`` False only checks the file, for a resumed run whose checkpoint has it);
        returns the notes the export carries. Its width and image size must match this run's."""
        from latent_atelier.models.mask_guided.io import load_model

        if self.parser is None:
            raise ValueError("--mg-parser is only for the full variant (the baseline has no parser)")
        model = load_model(path)
        if model.parser is None:
            raise ValueError(f"{path} holds no face parser")
        mc = model.config
        if mc.parser_width != self.config.parser_width or mc.size != self.config.size:
            raise ValueError(
                f"{path}'s parser is width {mc.parser_width} at {mc.size} px; this run needs width "
                f"{self.config.parser_width} at {self.config.size} px (set --size, or train the parser here)"
            )
        if load:
            self.parser.load_state_dict(model.parser.state_dict())
            self.s.parser_step = self.config.parser_iters
        if model.generator is None and model.baseline is None:  # a parser file: its notes are the parser's
            return {"parser_from": Path(path).name, **{f"parser_{k}": v for k, v in model.info.items()}}
        # a whole model: only its notes on its own parser
        own = {k: v for k, v in model.info.items() if k.startswith("parser_")}
        return {"parser_from": Path(path).name, **own, "parser_copied_from": Path(path).name}

    def parser_step(self) -> dict[str, float]:
        """One pre-training step of the face parser (:mod:`parser_recipe`: class-balanced
        cross-entropy, mirrored samples, one-cycle learning rate)."""
        cfg, images, labels = self.config, self.images, self.labels
        if images is None or labels is None or self.parser is None or self.p_opt is None:
            raise RuntimeError("parser_step needs the full variant and its data (attach_data)")
        if self._class_weights is None:
            self._class_weights = class_weights(labels)
        idx = torch.randint(len(images), (cfg.parser_batch,), generator=self.rng).numpy()
        flip = bool(torch.rand(1, generator=self.rng) < 0.5)
        x, m = parser_batch(images, labels, idx, flip)
        lr = one_cycle_lr(self.s.parser_step, cfg.parser_iters, cfg.parser_lr)
        loss = parser_update(self.parser, self.p_opt, x, m, self._class_weights, lr)
        self.s.parser_step += 1
        return {"parser_ce": loss, "parser_lr": lr}

    def _erode(self, mask: torch.Tensor) -> torch.Tensor:
        """The background mask shrunk by 0-2 px (drawn from the RNG): paired iterations
        then also learn to fill face pixels that a smaller target face gives back."""
        k = 2 * int(torch.randint(3, (1,), generator=self.rng)) + 1
        if k == 1:
            return mask
        return 1.0 - F.max_pool2d(1.0 - mask, k, 1, k // 2)

    def gan_lr(self) -> float:
        """The generator's and discriminators' rate at this step: constant, then (from
        ``lr_decay_from``) falling linearly to 0 at ``iters``, as pix2pixHD trains."""
        cfg, step = self.config, self.s.step
        if not cfg.lr_decay_from or step < cfg.lr_decay_from:
            return cfg.lr
        return cfg.lr * max(0.0, (cfg.iters - step) / (cfg.iters - cfg.lr_decay_from))

    def _set_lr(self) -> None:
        lr = self.gan_lr()
        for opt in _present(g=self.g_opt, dp=self.dp_opt, du=self.du_opt).values():
            for group in opt.param_groups:
                group["lr"] = lr

    def step(self) -> dict[str, float]:
        """One GAN iteration (even steps paired, odd steps unpaired)."""
        self._set_lr()
        if not self.full:
            return self._baseline_step()
        cfg, s = self.config, self.s
        paired = s.step % 2 == 0
        x, m = self._batch(cfg.batch)
        if paired:
            xt, mt = x, m
            bg = self._erode(background_mask(mt))
        else:
            xt, mt = x.roll(1, 0), m.roll(1, 0)
            bg = background_mask(mt)
        inputs = self.gen.component_inputs(x, m)
        codes = {k: self.gen.embed[k].encode(v) for k, (v, _p) in inputs.items()}
        recs = {k: self.gen.embed[k].reconstruct(c) for k, c in codes.items()}
        out = self.gen.synthesize(codes, xt, mt, bg)
        disc, d_opt = (self.d_paired, self.dp_opt) if paired else (self.d_unpaired, self.du_opt)
        oh = one_hot(mt)

        disc.requires_grad_(True)
        ld = L.d_loss(disc(xt, oh), disc(out["image"].detach(), oh))
        d_opt.zero_grad(set_to_none=True)
        ld.backward()
        d_opt.step()

        disc.requires_grad_(False)
        fake = disc(out["image"], oh)
        adv = L.g_adv_loss(fake)
        local = L.local_loss(recs, {k: v for k, (v, _p) in inputs.items()})
        loss = cfg.w_adv * adv + cfg.w_local * local
        logs = {"d": float(ld.detach()), "adv": float(adv.detach()), "local": float(local.detach())}
        if paired:
            with torch.no_grad():
                real = disc(xt, oh)
            glob = L.global_loss(out["image"], x, m)
            fm = L.feature_matching(real, fake)
            loss = loss + cfg.w_global * glob + cfg.w_fm * fm
            logs.update(global_l1=float(glob.detach()), fm=float(fm.detach()))
        if cfg.w_parse > 0:
            parse = L.parsing_loss(self.parser(out["image"]), mt)
            loss = loss + cfg.w_parse * parse
            logs["parse"] = float(parse.detach())
        self.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.g_opt.step()
        s.step += 1
        logs["paired"] = float(paired)
        self.last = logs
        return logs

    def _baseline_step(self) -> dict[str, float]:
        """pix2pix(HD)-style: label map -> image, L1 + adversarial + feature matching."""
        cfg = self.config
        x, m = self._batch(cfg.batch)
        oh = one_hot(m)
        fake_img = self.gen(m)
        self.d_paired.requires_grad_(True)
        ld = L.d_loss(self.d_paired(x, oh), self.d_paired(fake_img.detach(), oh))
        self.dp_opt.zero_grad(set_to_none=True)
        ld.backward()
        self.dp_opt.step()
        self.d_paired.requires_grad_(False)
        fake = self.d_paired(fake_img, oh)
        with torch.no_grad():
            real = self.d_paired(x, oh)
        adv, fm, glob = L.g_adv_loss(fake), L.feature_matching(real, fake), L.global_loss(fake_img, x, m)
        loss = cfg.w_adv * adv + cfg.w_fm * fm + cfg.w_global * glob
        self.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.g_opt.step()
        self.s.step += 1
        self.last = {"d": float(ld.detach()), "adv": float(adv.detach()), "global_l1": float(glob.detach())}
        return self.last

    # -- files ---------------------------------------------------------------------------
    def _modules(self) -> dict[str, torch.nn.Module]:
        """The networks of this variant, by checkpoint file name."""
        return _present(g=self.gen, dp=self.d_paired, du=self.d_unpaired, parser=self.parser)

    def _optims(self) -> dict[str, torch.optim.Optimizer]:
        """Their optimisers, under the same names."""
        return _present(g=self.g_opt, dp=self.dp_opt, du=self.du_opt, parser=self.p_opt)

    def save_checkpoint(self) -> Path:
        """Weights, optimiser and RNG state, ``state.json`` (see ``checkpoint_folder``)."""
        extra = {"optim": {k: o.state_dict() for k, o in self._optims().items()}, "rng": self.rng.get_state()}
        state = {**asdict(self.s), "config": asdict(self.config), "model": self.model_config.to_json()}
        return ckpt.write_checkpoint(self.out, self._modules(), extra, state)

    def load_checkpoint(self) -> None:
        """Restore everything from ``out/checkpoint``."""
        state = ckpt.read_state(self.out)
        same = state.get("model") == self.model_config.to_json()
        if not same or state["config"]["variant"] != self.config.variant:
            raise ValueError(
                f"{self.out / ckpt.CHECKPOINT_DIR} was trained with other sizes or another variant; "
                "use the same settings or another --out"
            )
        ckpt.load_weights(self.out, self._modules())
        extra = ckpt.load_extra(self.out)
        for name, opt in self._optims().items():
            opt.load_state_dict(extra["optim"][name])
        self.rng.set_state(extra["rng"])
        self.s = _State(int(state["step"]), int(state["parser_step"]), float(state["cpu_seconds"]))

    def export(self, path: Path | None = None, info: dict | None = None) -> Path:
        """The generator (or baseline) and parser as one float16 model file."""
        path = path or self.out / EXPORT_NAME
        notes = {
            "steps": self.s.step,
            "parser_steps": self.s.parser_step,
            "cpu_seconds": round(self.s.cpu_seconds, 1),
            "variant": self.config.variant,
            "batch": self.config.batch,
            **(info or {}),
        }
        model = MaskGuidedModel(self.model_config, info=notes, parser=self.parser)
        if self.full:
            model.generator = self.gen
        else:
            model.baseline = self.gen
        save_model(path, model)
        return path

    @torch.no_grad()
    def save_samples(self) -> Path:
        """A grid: sources | target maps | paired results | unpaired (next sample's map)."""
        from PIL import Image

        from latent_atelier.models.mask_guided.render import colourise

        n = min(6, len(self.images))
        x = torch.from_numpy(self.images[:n]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        m = torch.from_numpy(self.labels[:n].astype(np.int64))
        rows = [x, colourise(m) * 2 - 1]
        if self.full:
            rows.append(self.gen(x, m, x, m)["image"])
            rows.append(self.gen(x, m, x.roll(1, 0), m.roll(1, 0))["image"])
        else:
            rows.append(self.gen(m))
        pic = torch.cat([torch.cat(list(r.clamp(-1, 1)), dim=2) for r in rows], dim=1)
        arr = ((pic.permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
        path = self.out / "samples" / f"step_{self.s.step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(path)
        return path


def train(
    config: MaskGuidedTrainConfig,
    progress: ProgressCallback | None = None,
    data: tuple[np.ndarray, np.ndarray] | None = None,
) -> MaskGuidedTrainer:
    """Run (or resume) a run to ``iters`` GAN steps or its CPU budget; returns the trainer.

    Writes ``out/checkpoint`` every ``checkpoint_every`` steps and at the end, sample grids
    every ``sample_every`` steps, and ``out/mask_guided.safetensors`` at the end.
    """
    trainer = MaskGuidedTrainer(config, data)
    out = Path(config.out)
    has = ckpt.checkpoint_to_resume(out, config.resume)
    if has:
        trainer.load_checkpoint()
    parser_notes = trainer.use_parser_from(config.parser_from, load=not has) if config.parser_from else {}
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=1, sort_keys=True))
    trainer.attach_data()
    s = trainer.s
    clock = time.process_time()

    def tick() -> float:
        nonlocal clock
        now = time.process_time()
        s.cpu_seconds += now - clock
        clock = now
        return s.cpu_seconds

    def over_budget() -> bool:
        return config.cpu_budget > 0 and tick() >= config.cpu_budget

    if trainer.parser is not None:
        while s.parser_step < config.parser_iters and not over_budget():
            logs = trainer.parser_step()
            if progress is not None:
                progress(s.parser_step, config.parser_iters, {"stage": 0.0, **logs})
            if config.checkpoint_every and s.parser_step % config.checkpoint_every == 0:
                tick()
                trainer.save_checkpoint()
        trainer.parser.requires_grad_(False).eval()
    while s.step < config.iters and not over_budget():
        logs = trainer.step()
        if progress is not None:
            progress(s.step, config.iters, {"stage": 1.0, **logs})
        if config.sample_every and s.step % config.sample_every == 0:
            trainer.save_samples()
        if config.checkpoint_every and s.step % config.checkpoint_every == 0:
            tick()
            trainer.save_checkpoint()
    tick()
    trainer.save_checkpoint()
    trainer.export(info=parser_notes)
    return trainer
