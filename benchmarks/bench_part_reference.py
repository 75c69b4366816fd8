"""How far the dual-domain part measures can be trusted (CPU; section ``part_reference`` of
``results/dual_domain.json``).

The one-shot part segmenter is scored against the ruler (a face parser trained on the
synthetic portraits' exact labels) reading generated images. This measures the reference
itself, two ways:

- **repeatability** on generated images: the ruler's eyes + nose + mouth masks of
  ``G(w, noise)`` against those of ``G(w, other noise)``, read plainly and averaged over
  ``--draws`` noise redraws and their mirrored images (two independent sets of draws);
- **exact labels**: ``--n-embed`` held-out portraits, whose exact part labels are known,
  embedded in the generator (W+ then noise, the evaluation's settings); the ruler on the
  originals and on the reconstructions, and the shipped segmenter on the embedded latents,
  each against the exact masks.

``python -m benchmarks.bench_part_reference`` (15 minutes on one core shared with two other jobs).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from benchmarks.bench_dual_domain import DEMO, SEGMENTER, latents, load, merge, portraits, to_numpy
from benchmarks.common import repo_relative
from benchmarks.dds_labeller import ParserRuler, iou

#: held-out portraits embedded for the exact-label measure start here (the segmenter's
#: embedded one shot is portrait 0)
EMBED_START = 100


class AveragedRuler:
    """The ruler's part probability averaged over noise redraws and mirrored readings."""

    def __init__(self, ruler: ParserRuler) -> None:
        self.ruler = ruler

    def part_probability(self, images: np.ndarray) -> np.ndarray:
        """``(N, S, S)`` probability that a pixel is an eye, the nose or the mouth."""
        from latent_atelier.editors.dual_domain.parser_parts import part_probability

        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2) * 2 - 1
        return part_probability(self.ruler.parser, x, self.ruler.size)[:, 0].numpy()

    @torch.no_grad()
    def masks(self, gen, lats, draws: int, seed: int) -> np.ndarray:
        """Binary masks of the probability averaged over ``draws`` noise draws x (plain,
        mirrored), grown like the ruler's."""
        from latent_atelier.editors.dual_domain.parser_parts import grow_parts
        from latent_atelier.models.generator import Latent

        g = torch.Generator().manual_seed(seed)
        total = np.zeros(0)
        for _ in range(draws):
            lat = Latent(lats.w, [torch.randn(n.shape, generator=g) for n in lats.noise])
            x = to_numpy(gen.synthesize(lat).image)
            p = self.part_probability(x) + self.part_probability(x[:, :, ::-1])[:, :, ::-1]
            total = p if total.size == 0 else total + p
        return grow_parts(total / (2 * draws) > 0.5)


def repeatability(gen, ruler: ParserRuler, n: int, draws: int) -> dict:
    """The ruler against itself on ``n`` generated images (see the module docstring)."""
    from latent_atelier.models.generator import Latent

    lats = latents(gen, n)
    redraw = torch.Generator().manual_seed(77)
    other = Latent(lats.w, [torch.randn(t.shape, generator=redraw) for t in lats.noise])
    with torch.no_grad():
        plain = ruler.predict(to_numpy(gen.synthesize(lats).image))
        plain_other = ruler.predict(to_numpy(gen.synthesize(other).image))
    averaged = AveragedRuler(ruler)
    first, second = averaged.masks(gen, lats, draws, seed=1), averaged.masks(gen, lats, draws, seed=2)
    return {
        "n_latents": n,
        "plain_noise_redrawn_iou": float(iou(plain, plain_other).mean()),
        "averaged_draws": draws,
        "averaged_two_draw_sets_iou": float(iou(first, second).mean()),
        "plain_vs_averaged_iou": float(iou(plain, first).mean()),
        "mask_fraction_plain": float(plain.mean()),
        "mask_fraction_averaged": float(first.mean()),
    }


def exact_labels(gen, ruler: ParserRuler, n: int) -> dict:
    """The ruler and the shipped segmenter against exact labels on embedded portraits."""
    from benchmarks.eval_common import InversionSettings
    from latent_atelier.editors.dual_domain.segmenter import PartSegmenter
    from latent_atelier.editors.inversion.embed import Mk_n, W_l, initial_latent

    images, exact = portraits("eval", n, gen.resolution, start=EMBED_START)
    x = torch.as_tensor(images).permute(0, 3, 1, 2) * 2 - 1
    settings = InversionSettings()
    t0 = time.perf_counter()
    lat = initial_latent(gen, "mean", 0, batch=n)
    lat = W_l(gen, lat, x, steps=settings.steps_w, lr=settings.lr_w)
    lat = Mk_n(gen, lat, x, steps=settings.steps_noise, lr=settings.lr_noise)
    embed_s = time.perf_counter() - t0
    with torch.no_grad():
        rec = to_numpy(gen.synthesize(lat).image)
    ruled_orig, ruled_rec = ruler.predict(images), ruler.predict(rec)
    seg = PartSegmenter.load(SEGMENTER)
    seg_masks = (seg.predict(gen, lat) > 0.5).float()[:, 0].numpy()
    return {
        "n_portraits": n,
        "first_portrait": EMBED_START,
        "embed_steps": [settings.steps_w, settings.steps_noise],
        "embed_seconds": embed_s,
        "reconstruction_psnr": float((10 * np.log10(1 / ((rec - images) ** 2).mean((1, 2, 3)))).mean()),
        "ruler_on_originals_iou": float(iou(ruled_orig, exact).mean()),
        "ruler_on_reconstructions_iou": float(iou(ruled_rec, exact).mean()),
        "segmenter_iou": float(iou(seg_masks, exact).mean()),
        "segmenter_vs_ruler_on_reconstructions_iou": float(iou(seg_masks, ruled_rec).mean()),
        "mask_fraction_exact": float(exact.mean()),
        "mask_fraction_segmenter": float(seg_masks.mean()),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure both and merge them into the results file."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=64, help="generated images for the repeatability")
    p.add_argument("--draws", type=int, default=8, help="noise redraws averaged per reading")
    p.add_argument("--n-embed", type=int, default=32, help="held-out portraits embedded")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    gen, ruler = load(DEMO), ParserRuler()
    figures = {
        "source": repo_relative(DEMO),
        "repeatability": repeatability(gen, ruler, args.n, args.draws),
        "exact_labels": exact_labels(gen, ruler, args.n_embed),
    }
    merge("part_reference", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
