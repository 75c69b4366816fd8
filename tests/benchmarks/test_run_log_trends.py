"""Run-log trends: window means of the losses and probes, from the log alone."""

from __future__ import annotations

import json

import pytest

import benchmarks.common as common
from benchmarks import run_log_trends


def _line(it: int, d: float, real: float, **extra) -> dict:
    return {"iteration": it, "losses": {"d": d, "g": 1 - d, "r1": d / 10}, "real_score": real, **extra}


def test_windows_average_their_own_lines_and_probes_only(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    rows = [
        {"event": "resume", "iteration": 100},
        _line(125, 1.0, 0.1),
        _line(150, 0.5, 0.3),
        {"iteration": 150, "fd_vgg16": 80.0, "mask_fg_iou_parser": 0.9},
        _line(175, 0.2, 0.5),  # the next window: 151-200
        _line(200, 0.4, float("nan")),
        {"iteration": 50, "losses": {"d": 9.0}},  # before --start: left out
    ]
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n{torn")
    out = run_log_trends.main([str(log), "--window", "50", "--start", "100", "--name", "t"])
    first, second = out["windows"]
    assert first["from"] == 100 and first["log_lines"] == 2
    assert first["d"] == pytest.approx(0.75) and first["real_logit"] == pytest.approx(0.2)
    assert first["fd"] == 80.0 and first["masks_vs_parser"] == 0.9
    assert second["from"] == 150 and second["d"] == pytest.approx(0.3)
    assert second["real_logit"] == pytest.approx(0.5)  # the NaN is skipped, not averaged in
    assert second["fd"] is None
    saved = json.loads((tmp_path / "results" / "t.json").read_text())
    assert saved["figures"]["windows"][0]["g"] == pytest.approx(0.25)


def test_an_empty_log_or_window_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="holds no run log lines"):
        run_log_trends.main([str(tmp_path / "missing.jsonl")])
    with pytest.raises(ValueError, match="at least 1 iteration"):
        run_log_trends.window_trends([], 0)
