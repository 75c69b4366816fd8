"""Export a training run's EMA generator as the bundled fp16 demo model.

python scripts/export_demo_model.py runs/demo64 resources/models/furrygan-demo.safetensors
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from latent_atelier.models.checkpoints import build_generator, save_generator


def export(run_dir: Path, out: Path) -> dict:
    """Rebuild the run's EMA generator from its checkpoint and save it in float16."""
    state = json.loads((run_dir / "checkpoint" / "state.json").read_text())
    arch = dict(state["architecture"])
    arch["gamma"] = 1.0  # the fine mask fully faded in
    gen = build_generator(arch)
    gen.load_state_dict(load_file(run_dir / "checkpoint" / "g_ema.safetensors"), strict=True)
    save_generator(gen.eval(), out, dtype=torch.float16)
    out.chmod(0o644)
    return {"step": state.get("step"), "architecture": arch}


if __name__ == "__main__":
    info = export(Path(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(info, indent=1))
