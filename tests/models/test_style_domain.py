"""The near second domain of dual-domain synthesis: one DiceBear style's shots and held-out set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latent_atelier.models.training.synthetic import PortraitDataset, build_dataset
from latent_atelier.models.training.synthetic.style_domain import sample_styles, write_style_sets


@pytest.fixture(scope="module")
def built(tmp_path_factory, source) -> Path:
    out = tmp_path_factory.mktemp("styles") / "portraits"
    return build_dataset(out, n_train=14, n_eval=8, size=64, seed=3, workers=1, shard_size=7, source=source)


def test_styles_are_read_back_per_sample(built, source):
    train = PortraitDataset(built, "train")
    styles = sample_styles(source, train)
    assert len(styles) == 14
    expected = [source.fixtures[(train.id_start + i + 3) % len(source.fixtures)].style for i in range(14)]
    assert styles == expected


def test_shots_and_held_out_are_that_style_only(built, source, tmp_path):
    info = write_style_sets(built, tmp_path / "ears", "big-ears", size=16, shots=2, seed=1, source=source)
    train, ev = PortraitDataset(built, "train"), PortraitDataset(built, "eval")
    train_styles, eval_styles = sample_styles(source, train), sample_styles(source, ev)
    assert all(train_styles[i] == "big-ears" for i in info["shot_indices"])
    files = sorted((tmp_path / "ears" / "shots").glob("*.png"))
    assert len(files) == 2
    first = np.asarray(Image.open(files[0]))
    assert first.shape == (16, 16, 3)
    full = train.batch([info["shot_indices"][0]])[0][0]
    assert np.abs(first.astype(float).mean() - full.astype(float).mean()) < 3  # the same portrait, resized
    held = np.load(tmp_path / "ears" / "held_out.npy")
    assert len(held) == info["held_out"] == eval_styles.count("big-ears") > 0
    assert held.shape[1:] == (16, 16, 3) and held.dtype == np.uint8


def test_unknown_style_and_too_many_shots_are_refused(built, source, tmp_path):
    with pytest.raises(ValueError, match="the dataset has adventurer"):
        write_style_sets(built, tmp_path / "x", "pixel-art", shots=1, source=source)
    with pytest.raises(ValueError, match="ask for fewer shots"):
        write_style_sets(built, tmp_path / "y", "big-ears", shots=10, source=source)
