"""The run log's mask probe: FurryGAN's alpha against the bundled face parser's person."""

from __future__ import annotations

import json

import pytest
import torch

from latent_atelier.models.training.mask_probe import MaskProbe, mask_iou
from latent_atelier.models.zoo import load_model
from tests.models.fake_portraits import write_fake_dataset


@pytest.fixture(scope="module")
def probe() -> MaskProbe:
    return MaskProbe(16)


def test_mask_iou_of_equal_disjoint_and_empty_masks():
    a = torch.zeros(3, 4, 4)
    b = torch.zeros(3, 4, 4)
    a[0, :2], b[0, :2] = 1, 1  # equal
    a[1, :2], b[1, 2:] = 1, 1  # disjoint
    a[2, :1], b[2, :2] = 1, 1  # half
    assert mask_iou(a, b).tolist() == [1.0, 0.0, 0.5]
    assert mask_iou(torch.zeros(1, 4, 4), torch.zeros(1, 4, 4)).tolist() == [1.0]


def test_the_probe_tells_the_trained_demo_model_from_a_random_one(probe):
    demo = probe.measure(load_model(None))
    rand = probe.measure(load_model("random:furrygan:64:0:32"))
    assert demo["mask_fg_iou_parser"] > 0.8  # 0.89 on 200 samples
    assert rand["mask_fg_iou_parser"] < demo["mask_fg_iou_parser"] - 0.3
    assert 0.2 < demo["mask_area"] < 0.6 and 0.2 < demo["parser_person_area"] < 0.6
    mean = (demo["mask_fg_iou_parser"] + demo["mask_bg_iou_parser"]) / 2
    assert demo["mask_miou_parser"] == pytest.approx(mean)


def test_the_probe_reads_smaller_models_too(probe):
    out = probe.measure(load_model("random:furrygan:32:0:32"))
    assert all(0.0 <= v <= 1.0 for v in out.values())


def test_furrygan_training_logs_the_mask_probe_with_the_fd(tmp_path):
    from latent_atelier.models.training.config import TrainConfig
    from latent_atelier.models.training.trainer import train

    data = write_fake_dataset(tmp_path / "portraits", count=4)
    cfg = TrainConfig(
        arch="furrygan",
        data=str(data),
        out=str(tmp_path / "run"),
        size=32,
        batch=2,
        style_dim=32,
        channels={4: 16, 8: 16, 16: 16, 32: 16},
        threads=1,
        iters=2,
        sample_every=0,
        fd_every=2,
        fd_n=4,
        log_every=0,
        precision="float32",
    )
    train(cfg)
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    probes = [r for r in records if "fd_vgg16" in r]
    assert len(probes) == 1 and probes[0]["iteration"] == 2
    assert 0.0 <= probes[0]["mask_fg_iou_parser"] <= 1.0 and "mask_miou_parser" in probes[0]


def test_the_mask_probe_benchmark_scores_each_model_it_is_given(tmp_path, monkeypatch):
    import benchmarks.common as common
    from benchmarks import bench_mask_probe

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    data = write_fake_dataset(tmp_path / "portraits", count=4)
    models = ["random:furrygan:32:0:32", "random:furrygan:32:1:32"]
    out = bench_mask_probe.main([*models, "--n", "4", "--data", str(data), "--name", "probe"])
    saved = json.loads((tmp_path / "results" / "probe.json").read_text())["figures"]
    assert list(saved["models"]) == models == list(out["models"])
    assert all(0.0 <= row["mask_fg_iou_parser"] <= 1.0 for row in saved["models"].values())
    assert 0.0 <= saved["parser_person_iou_on_heldout"] <= 1.0
