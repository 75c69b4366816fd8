"""The GPU suite runs end to end on a CPU with tiny sizes and writes every field."""

from __future__ import annotations

import json

import torch

from benchmarks.gpu_suite import PRECISIONS, main
from latent_atelier.models import devices

ROW_KEYS = {"w_plus_it_per_s", "noise_it_per_s", "peak_memory_bytes", "steps", "skipped"}


def test_tiny_suite_on_the_cpu_writes_every_field(tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "_policy", devices._policy)
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    try:
        assert main(["--out", str(tmp_path / "suite"), "--device", "cpu", "--tiny"]) == 0
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    result = json.loads((tmp_path / "suite" / "gpu_suite.json").read_text())
    assert set(result) >= {
        "info",
        "tiny",
        "goals",
        "embedding",
        "segments",
        "training",
        "peak_memory_bytes",
        "seconds",
        "goals_met",
    }
    assert result["tiny"] is True and result["goals_met"] is None  # tiny sizes are not the goals'
    assert result["info"]["device"] == "cpu" and result["info"]["torch"] == torch.__version__
    assert set(result["embedding"]) == {"32", "64"}
    for size, rows in result["embedding"].items():
        assert set(rows) == set(PRECISIONS), size
        for name, row in rows.items():
            assert set(row) == ROW_KEYS, (size, name)
            if row["skipped"] is None:
                assert row["w_plus_it_per_s"] > 0 and row["noise_it_per_s"] > 0
            else:
                assert name == "bf16" and not devices.cpu_bf16_supported()
        assert rows["fp32"]["skipped"] is None
    seg = result["segments"]
    assert seg["one_segment_s_per_step"] > 0 and seg["eight_segments_s_per_step"] > 0
    assert seg["batch8_over_one"] > 0
    train = result["training"]
    assert train["images_per_s"] > 0 and train["recipe"]["batch"] == 8
    assert result["seconds"] > 0
    assert result["peak_memory_bytes"] is None  # torch cannot tell on a CPU
