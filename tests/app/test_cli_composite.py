"""``composite --generate-background N`` on the command line, fed by what ``matte`` wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latent_atelier.app.cli import main

MODEL = ["--model", "random:furrygan:32:0:16", "--device", "cpu"]


def run(command: str, first: Path, out: Path, *options: str, model: list[str] = MODEL) -> int:
    """``latent-atelier-cli <model> <command> FIRST <options> --out-dir OUT``."""
    return main([*model, command, str(first), *options, "--out-dir", str(out)])


def rgb(path: Path) -> np.ndarray:
    """An image file as float32 H x W x 3 in [0, 255]."""
    return np.asarray(Image.open(path).convert("RGB"), np.float32)


@pytest.fixture(scope="module")
def matte_dir(tmp_path_factory):
    """Run ``matte`` once on a small photo: foreground.png, alpha.png and latent.npz."""
    folder = tmp_path_factory.mktemp("matte")
    photo = (np.random.default_rng(0).random((36, 48, 3)) * 255).astype(np.uint8)
    Image.fromarray(photo).save(folder / "photo.png")
    assert run("matte", folder / "photo.png", folder / "out", "--steps-w", "2", "--steps-noise", "1") == 0
    return folder / "out"


def test_generate_background_writes_n_distinct_composites(matte_dir, tmp_path, capsys):
    for name in ("foreground.png", "alpha.png", "latent.npz"):
        assert (matte_dir / name).is_file()
    out = tmp_path / "comp"
    alpha, latent = str(matte_dir / "alpha.png"), str(matte_dir / "latent.npz")
    rc = run(
        "composite",
        matte_dir / "foreground.png",
        out,
        *("--alpha", alpha, "--latent", latent, "--generate-background", "3", "--first-seed", "5"),
    )
    assert rc == 0
    files = sorted(out.glob("composites_*.png"))
    assert [f.name for f in files] == ["composites_0.png", "composites_1.png", "composites_2.png"]
    assert not (out / "composite.png").exists()
    images = [rgb(f) for f in files]
    assert all(img.shape == (36, 48, 3) for img in images)
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(images[i] - images[j]).mean() > 0.5, (i, j)  # distinct backgrounds
    printed = capsys.readouterr().out
    assert printed.count("wrote ") == 3


def test_where_the_subject_is_opaque_every_composite_shows_the_foreground(matte_dir, tmp_path):
    fg = np.asarray(Image.open(matte_dir / "foreground.png").convert("RGBA"), np.float32)
    opaque = fg[..., 3] >= 254.5
    clear = fg[..., 3] <= 0.5
    two = ("--latent", str(matte_dir / "latent.npz"), "--generate-background", "2")
    rc = run("composite", matte_dir / "foreground.png", tmp_path, *two)
    assert rc == 0
    comps = [rgb(tmp_path / f"composites_{i}.png") for i in range(2)]
    if opaque.any():
        for comp in comps:
            assert np.abs(comp[opaque] - fg[..., :3][opaque]).max() <= 1.0
    if clear.any():  # the backgrounds differ where the subject is transparent
        assert np.abs(comps[0][clear] - comps[1][clear]).mean() > 0.5


def test_generate_background_without_latent_or_with_an_image_is_refused(matte_dir, tmp_path, capsys):
    fg = matte_dir / "foreground.png"
    assert run("composite", fg, tmp_path, "--generate-background", "2") == 2
    assert "--latent" in capsys.readouterr().err
    bg = tmp_path / "bg.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(bg)
    two = ("--latent", str(matte_dir / "latent.npz"), "--generate-background", "2")
    rc = run("composite", fg, tmp_path, "--background", str(bg), *two)
    assert rc == 2
    assert "not both" in capsys.readouterr().err
    assert not list(tmp_path.glob("composites_*.png"))


def test_plain_composite_needs_no_model_and_writes_one_file(matte_dir, tmp_path, capsys):
    bg = tmp_path / "bg.png"
    Image.fromarray(np.full((20, 30, 3), 200, np.uint8)).save(bg)
    missing = ["--model", str(tmp_path / "missing.safetensors")]
    rc = run("composite", matte_dir / "foreground.png", tmp_path, "--background", str(bg), model=missing)
    assert rc == 0  # the missing model file is never opened
    assert (tmp_path / "composite.png").is_file()
    assert not list(tmp_path.glob("composites_*.png"))
    assert "model:" not in capsys.readouterr().err


def test_matte_again_with_strokes_reuses_the_latent(matte_dir, tmp_path, capsys):
    photo = matte_dir.parent / "photo.png"
    fg = np.zeros((36, 48), np.uint8)
    fg[10:14, 20:28] = 255  # a stroke painted after the first run
    Image.fromarray(fg).save(tmp_path / "fg.png")
    capsys.readouterr()
    latent, strokes = str(matte_dir / "latent.npz"), str(tmp_path / "fg.png")
    assert run("matte", photo, tmp_path / "again", "--latent", latent, "--fg-mask", strokes) == 0
    printed = capsys.readouterr().out
    assert "embed_psnr" not in printed  # no second embedding
    first = np.asarray(Image.open(matte_dir / "generator_alpha.png"), np.float32)
    again = np.asarray(Image.open(tmp_path / "again" / "generator_alpha.png"), np.float32)
    np.testing.assert_allclose(again, first, atol=1.0)  # the same alpha, from the same latent
    alpha = np.asarray(Image.open(tmp_path / "again" / "alpha.png"), np.float32)
    assert (alpha[10:14, 20:28] == alpha.max()).all() and alpha.max() > 0  # the stroke is subject
