"""``--threads`` and ``--precision``: accepted anywhere, applied, and bad values refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from latent_atelier.app.cli import main
from latent_atelier.models import devices

MODEL = "random:stylegan2:32:0:16"


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture(autouse=True)
def restore_policy(monkeypatch):
    monkeypatch.setattr(devices, "_policy", devices._policy)
    yield


def _embed(photo, out, *extra: str, steps: str = "1") -> list[str]:
    return [
        "embed",
        str(photo),
        "--model",
        MODEL,
        "--steps-w",
        steps,
        "--steps-noise",
        steps,
        "--out-dir",
        str(out),
        *extra,
    ]


def test_threads_and_precision_after_the_command_are_applied_and_reported(photo, tmp_path, capfd):
    assert main(_embed(photo, tmp_path / "a", "--threads", "2", "--precision", "float32", steps="0")) == 0
    assert torch.get_num_threads() == 2
    assert "2 CPU threads, optimisation in float32" in capfd.readouterr().err
    assert main(["--threads", "1", *_embed(photo, tmp_path / "b")]) == 0
    assert torch.get_num_threads() == 1
    assert devices.compute_policy().precision == "float32"  # kept from the last run
    assert "1 CPU threads, optimisation in float32" in capfd.readouterr().err


@pytest.mark.parametrize(
    "flag,value,message",
    [
        ("--threads", "0", "--threads must be 1..1024"),
        ("--threads", "lots", "--threads must be a whole number"),
        ("--precision", "fp8", "--precision must be one of auto, float32, bf16"),
    ],
)
def test_bad_values_are_one_line_errors(photo, tmp_path, capfd, flag, value, message):
    assert main(_embed(photo, tmp_path, flag, value)) == 2
    err = capfd.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "latent.npz").exists()


def test_bf16_on_a_cpu_without_it_says_what_to_choose(photo, tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(devices, "cpu_bf16_supported", lambda: False)
    assert main(_embed(photo, tmp_path, "--precision", "bf16")) == 2
    assert "choose precision auto or float32" in capfd.readouterr().err
