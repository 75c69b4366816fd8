"""The run log's mask probe for any set of FurryGAN files, side by side (seconds each).

For each model: its alpha on 200 samples (fixed seeds, truncation 1, threshold 0.5)
against the person the bundled face parser reads in the same samples: the FurryGAN paper's
view of mask quality, which reads pseudo ground truth from generated images (its Table 2).
Also how well the parser reads the person on held-out portraits with their true alpha.
The full evaluation (inverting held-out portraits) is ``bench_furrygan_eval``.

    PYTHONPATH=. python -m benchmarks.bench_mask_probe [MODEL ...] --name mask_probe
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.common import repo_relative, write_result
from benchmarks.eval_common import REPO, load_furrygan


def main(argv: list[str] | None = None) -> dict:
    from latent_atelier.models.training.mask_probe import MaskProbe
    from latent_atelier.models.zoo import default_model_path

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "models", nargs="*", help="FurryGAN files, checkpoint folders, random:furrygan:... (default: demo)"
    )
    p.add_argument("--n", type=int, default=200, help="samples per model")
    p.add_argument("--data", default=str(REPO / "data" / "portraits128"), help="portrait data set")
    p.add_argument("--name", default="mask_probe", help="result name (results/<name>.json)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = p.parse_args(argv)
    models = args.models or [str(default_model_path())]
    torch.set_num_threads(args.threads)
    probe = MaskProbe(args.n)
    figures: dict = {
        "n_samples": args.n,
        "parser_person_iou_on_heldout": probe.person_iou_on_heldout(args.data),
        "models": {},
    }
    for spec in models:
        t0 = time.perf_counter()
        row = probe.measure(load_furrygan(spec)[0])
        row["seconds"] = time.perf_counter() - t0
        key = spec if spec.startswith("random:") else repo_relative(spec)
        figures["models"][key] = row
        print(
            f"{key}: fg IoU {row['mask_fg_iou_parser']:.3f}  mIoU {row['mask_miou_parser']:.3f}", flush=True
        )
    write_result(args.name, figures)
    return figures


if __name__ == "__main__":
    main()
