"""The committed training state (``training-state/``) reads back as the checkpoint of its own run."""

import copy
from pathlib import Path

import pytest
import torch

from latent_atelier.models.training import checkpoint_folder as ckpt
from latent_atelier.models.training.config import TrainConfig
from latent_atelier.models.training.trainer import build_networks

STATE_ROOT = Path(__file__).resolve().parents[2] / "training-state"
RUNS = sorted(p.parent.parent for p in STATE_ROOT.glob("*/checkpoint/state.json"))


def test_a_run_state_is_committed():
    assert RUNS, f"no checkpoint under {STATE_ROOT}; its README says the run that goes on is kept there"


@pytest.mark.parametrize("run", RUNS, ids=[r.name for r in RUNS])
def test_the_committed_state_loads_into_the_networks_its_config_builds(run):
    state = ckpt.read_state(run)
    config = TrainConfig(**state["config"])
    gen, disc = build_networks(config)
    assert {k: v for k, v in gen.architecture().items() if k != "gamma"} == {
        k: v for k, v in state["architecture"].items() if k != "gamma"
    }
    gen_ema = copy.deepcopy(gen)
    before = next(iter(disc.parameters())).detach().clone()
    ckpt.load_weights(run, {"g": gen, "g_ema": gen_ema, "d": disc})  # strict: every key, every shape
    assert not torch.equal(before, next(iter(disc.parameters())))
    extra = ckpt.load_extra(run)  # weights_only: tensors and plain containers
    assert extra["g_optim"]["state"] and extra["d_optim"]["state"] and extra["rng"].dtype == torch.uint8
    start = next(h for h in state["history"] if h["event"] in ("start", "init_from_generator"))
    counted = start.get("images_shown", 0) + (state["step"] - start["iteration"]) * config.batch
    assert state["images_shown"] == counted  # the count the card quotes follows from the run's own record
