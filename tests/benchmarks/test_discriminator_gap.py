"""The discriminator-gap benchmark reads a run's checkpoint and scores reals and samples."""

from __future__ import annotations

import json

import numpy as np
import pytest

import benchmarks.common as common
from benchmarks import bench_discriminator_gap
from latent_atelier.models.training.trainer import train
from tests.models.fake_portraits import write_fake_dataset
from tests.models.tiny_trainer import tiny_config


def test_it_scores_a_checkpointed_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    data = write_fake_dataset(tmp_path / "portraits", count=6)
    run = tmp_path / "run"
    train(tiny_config(data, run, iters=3, checkpoint_every=3))
    out = bench_discriminator_gap.main([str(run), "--n-real", "4", "--n-fake", "3", "--name", "gap"])
    assert out["step"] == 3
    assert out["real_train"]["n"] == 4 and out["real_eval"]["n"] == 4 and out["generated_ema"]["n"] == 3
    assert np.isfinite([out[k]["mean"] for k in ("real_train", "real_eval", "generated_ema")]).all()
    gap = out["real_train"]["mean"] - out["real_eval"]["mean"]
    assert out["train_minus_heldout"] == gap
    # a held-out split of 6 images and a train split of 6 from other draws: not the same scores
    assert out["real_train"]["mean"] != out["real_eval"]["mean"]
    saved = json.loads((tmp_path / "results" / "gap.json").read_text())
    assert saved["figures"]["step"] == 3


def test_a_run_folder_with_a_broken_config_is_refused_with_what_to_give(tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="give a run folder the trainer wrote"):
        bench_discriminator_gap.main([str(run)])
    (run / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a JSON object"):
        bench_discriminator_gap.main([str(run)])
