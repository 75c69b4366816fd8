"""The command line with hostile files and careless arguments: one-line errors (exit 2, no
traceback), checks before any work, images refused before decoding, finished runs kept."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from forge import add_zero_member, zero_png
from hostile_harness import assert_refused, report, run_cases
from PIL import Image

from latent_atelier.app.cli import main

MODEL = ["--model", "random:stylegan2:32:0:32", "--device", "cpu"]
BUDGET_MB = 200


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "p.png"
    Image.fromarray((np.random.default_rng(0).random((24, 24, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.mark.parametrize(
    "argv, pattern",
    [
        (["sample", "--n", "0"], r"--n: 0 is outside 1\.\.1024"),
        (["sample", "--n", "100000"], r"--n: 100000 is outside 1\.\.1024"),
        (["sample", "--truncation", "nan"], r"--truncation: 'nan' is not a finite number"),
        (["train", "--lr", "nan"], r"--lr: 'nan' is not a finite number"),
    ],
)
def test_bad_arguments_stop_at_parsing(argv, pattern, capfd, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main([*MODEL, *argv, "--out", str(tmp_path / "g.png")])
    assert stop.value.code == 2
    err = capfd.readouterr().err
    assert __import__("re").search(pattern, err), err
    assert "Traceback" not in err and not (tmp_path / "g.png").exists()


@pytest.mark.parametrize(
    "flag, value, name",
    [
        ("--band-fraction", "nan", "band_fraction"),
        ("--lr-w", "nan", "lr_w"),
        ("--lr-w", "inf", "lr_w"),
    ],
)
def test_nan_fails_range_validation_before_the_model_loads(flag, value, name, tmp_path, capfd, photo):
    op = "matte" if flag == "--band-fraction" else "embed"
    rc = main([*MODEL, op, str(photo), flag, value, "--out-dir", str(tmp_path / "out")])
    assert rc == 2
    err = capfd.readouterr().err
    assert f"{name}={value}: a finite number is needed" in err
    assert "model:" not in err  # refused before any model was loaded
    assert not (tmp_path / "out").exists()


def test_out_dir_that_is_a_file_is_refused_before_the_run(tmp_path, capfd, photo):
    (tmp_path / "out").write_text("not a folder")
    rc = main([*MODEL, "embed", str(photo), "--steps-w", "2", "--out-dir", str(tmp_path / "out")])
    assert rc == 2
    err = capfd.readouterr().err
    assert "--out-dir" in err and "is a file, not a folder" in err and "model:" not in err
    rc = main([*MODEL, "sample", "--n", "1", "--out", str(tmp_path / "out" / "g.png")])
    assert rc == 2 and "is a file, not a folder" in capfd.readouterr().err


def test_a_write_failure_after_the_run_saves_to_a_fallback_and_says_where(
    tmp_path, capfd, photo, monkeypatch
):
    import latent_atelier.app.cli as cli

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    real = cli.write_output
    asked = tmp_path / "out"

    def full_disk(slot, value, out_dir, stem=None):
        if Path(out_dir) == asked:
            raise OSError(errno.ENOSPC, "No space left on device", str(asked / "x.png"))
        return real(slot, value, out_dir, stem)

    monkeypatch.setattr(cli, "write_output", full_disk)
    rc = main([*MODEL, "embed", str(photo), "--steps-w", "2", "--steps-noise", "0", "--out-dir", str(asked)])
    assert rc == 2
    err = capfd.readouterr().err
    assert "No space left on device" in err and "they were saved to" in err
    saved = Path(err.split("they were saved to ")[1].split(" instead")[0])
    assert saved.is_relative_to(tmp_path / "state")
    assert (saved / "result.png").exists() and (saved / "latent.npz").exists()


def test_a_run_writes_nothing_outside_its_output_folder(tmp_path, capfd, photo, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    rc = main([*MODEL, "embed", str(photo), "--steps-w", "2", "--steps-noise", "0", "--out-dir", "out"])
    assert rc == 0
    after = {k: v for k, v in _tree(tmp_path).items() if not k.startswith("out/")}
    assert after == before
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_hostile_images_and_latents_are_refused_before_decoding(tmp_path):
    big16 = tmp_path / "big16.png"  # 14000 x 14000 16-bit: 1.2 GB of samples, 3.9 GB as float
    big16.write_bytes(zero_png(14000, 14000, 16, 2))
    mid16 = tmp_path / "mid16.png"  # 9000 x 9000 16-bit: under Pillow's bomb limit, over ours
    mid16.write_bytes(zero_png(9000, 9000, 16, 2))
    labels = tmp_path / "labels.png"  # a 30000 x 30000 label map (Pillow's bomb check fires)
    labels.write_bytes(zero_png(30000, 30000, 8, 0))
    labels9k = tmp_path / "labels9k.png"  # 9000 x 9000: under Pillow's limit, over ours
    labels9k.write_bytes(zero_png(9000, 9000, 8, 0))
    latent = tmp_path / "latent.npz"
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (1 << 28,)})
    with zipfile.ZipFile(latent, "w") as zf:
        add_zero_member(zf, "w__w.npy", 1 << 30, buf.getvalue())
    good = tmp_path / "good.png"
    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(good)
    cases = {
        "photo16": f"read_image({str(big16)!r})",
        "photo16_mid": f"read_image({str(mid16)!r})",
        "labels_bomb": f"read_labels({str(labels)!r})",
        "labels_9k": f"read_labels({str(labels9k)!r})",
        "latent_zeros": f"check_latent_file({str(latent)!r})",
        "good_after": f"result = list(read_image({str(good)!r}).pixels.shape)",
    }
    results = run_cases(
        tmp_path,
        cases,
        preload=(
            "from latent_atelier.app.document.image_read import read_image\n"
            "from latent_atelier.app.cli_io import read_labels, check_latent_file"
        ),
    )
    print(report(results))
    assert_refused(
        results["photo16"],
        "ImageReadError",
        r"big16\.png: it is larger than the limit of "
        r"67\.1 megapixels",
        BUDGET_MB,
    )
    assert_refused(
        results["photo16_mid"], "ImageReadError", r"9000 x 9000 px .*limit is 67\.1 megapixels", BUDGET_MB
    )
    assert_refused(
        results["labels_bomb"], "InputError", r"labels\.png: it is larger than the limit", BUDGET_MB
    )
    assert_refused(results["labels_9k"], "InputError", r"9000 x 9000 px", BUDGET_MB)
    assert_refused(
        results["latent_zeros"], "InputError", r"unpacks to 1\.0 GB; the limit is 256\.0 MB", BUDGET_MB
    )
    assert results["good_after"]["result"] == [20, 30, 3]
    assert max(p.stat().st_size for p in (big16, mid16, labels, labels9k, latent)) < 4 << 20


def test_cli_reports_hostile_inputs_in_one_line(tmp_path, capfd):
    labels = tmp_path / "labels.png"
    labels.write_bytes(zero_png(30000, 30000, 8, 0))
    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((30000 // 1000, 30, 3), np.uint8)).save(photo)
    rc = main([*MODEL, "segments", str(photo), "--labels", str(labels), "--out-dir", str(tmp_path / "o")])
    assert rc == 2
    err = capfd.readouterr().err
    assert "labels.png" in err and "larger than the limit" in err and "Traceback" not in err


def test_an_unwritable_out_dir_is_refused_before_the_run(tmp_path, capfd, photo, monkeypatch):
    import latent_atelier.app.cli_io as cli_io

    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    # root may write anywhere, so the refusal of the OS (read-only, chattr +i) is simulated
    monkeypatch.setattr(cli_io.os, "access", lambda p, mode: Path(p) != locked and real(p, mode))
    rc = main([*MODEL, "embed", str(photo), "--out-dir", str(locked / "run")])
    assert rc == 2
    err = capfd.readouterr().err
    assert f"{locked} is not writable: choose another folder" in err and "model:" not in err
    assert not (locked / "run").exists()
