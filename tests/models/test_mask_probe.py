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
