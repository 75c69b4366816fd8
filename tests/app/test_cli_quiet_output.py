"""The CLI prints counts as integers and keeps the face library's native log lines (glog,
TensorFlow Lite) off the terminal, while its own progress and errors still show."""

from __future__ import annotations

import subprocess
import sys

import pytest

from latent_atelier.app.cli import metric_text
from latent_atelier.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"


def test_metric_text_prints_counts_as_integers() -> None:
    assert metric_text(1.0) == "1"
    assert metric_text(12.0) == "12"
    assert metric_text(0.91213) == "0.9121"
    assert metric_text(float("nan")) == "nan"
    assert metric_text(3) == "3"


def test_native_logs_hidden_keeps_python_stderr_and_drops_fd_2(tmp_path) -> None:
    code = (
        "import os, sys\n"
        "from latent_atelier.app.cli_native_logs import native_logs_hidden\n"
        "with native_logs_hidden():\n"
        "    os.write(2, b'W0000 native glog line\\n')\n"
        "    print('python note', file=sys.stderr)\n"
        "os.write(2, b'after\\n')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert "python note" in out.stderr and "after" in out.stderr
    assert "native glog line" not in out.stderr


def test_align_from_the_cli_prints_a_count_and_no_native_log_lines(tmp_path) -> None:
    pytest.importorskip("mediapipe", reason="the faces extra is not installed")
    out = subprocess.run(
        [sys.executable, "-m", "latent_atelier.app.cli", "align", str(SAMPLE), "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "faces: 1\n" in out.stdout
    for noise in ("inference_feedback_manager", "TensorFlow Lite", "absl::InitializeLog", "W0000"):
        assert noise not in out.stderr, out.stderr
    assert "working" in out.stderr  # the progress bar still shows
