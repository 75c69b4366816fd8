"""Synthetic portrait dataset: rasterise, pose, labels, composite, shards and reader.

Runs without Node: the SVGs come from tests/models/fixtures/dicebear_svgs.jsonl.gz, six
avatars (one per style) written by models/training/synthetic/js/render.mjs (--seed 7).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latent_atelier.models.training.synthetic import EVAL_ID_OFFSET, PortraitDataset, build_dataset
from latent_atelier.models.training.synthetic.__main__ import main as cli_main
from latent_atelier.models.training.synthetic.backgrounds import random_background
from latent_atelier.models.training.synthetic.parts import STYLES
from latent_atelier.models.training.synthetic.raster import decode_labels, rasterise, reconcile_labels
from latent_atelier.models.training.synthetic.sample import SvgRecord, render_sample
from latent_atelier.models.training.synthetic.svg_variants import LABEL_COLOURS, Pose, posed_svgs


@pytest.fixture(scope="module")
def built(tmp_path_factory, source) -> Path:
    out = tmp_path_factory.mktemp("ds") / "portraits"
    return build_dataset(out, n_train=14, n_eval=6, size=64, seed=3, workers=1, shard_size=5, source=source)


def test_fixture_covers_every_style(source):
    assert sorted({r.style for r in source.fixtures}) == sorted(STYLES)


def test_build_is_deterministic_from_seed(tmp_path, source, built):
    again = build_dataset(
        tmp_path / "again", n_train=14, n_eval=6, size=64, seed=3, workers=2, shard_size=5, source=source
    )
    other = build_dataset(
        tmp_path / "other", n_train=14, n_eval=6, size=64, seed=4, workers=1, shard_size=5, source=source
    )
    a, b, c = (PortraitDataset(p).batch(range(14)) for p in (built, again, other))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def test_alpha_is_exact_matte(source):
    record = source.fixtures[0]
    size = 96
    black = np.zeros((size, size, 3), np.float32)
    white = np.ones((size, size, 3), np.float32)
    img_k, alpha, labels = render_sample(record, 1, size, background=black)
    img_w, alpha_w, labels_w = render_sample(record, 1, size, background=white)
    np.testing.assert_array_equal(alpha, alpha_w)
    np.testing.assert_array_equal(labels, labels_w)
    assert alpha.dtype == np.uint8 and 0.0 <= alpha.min() / 255 <= alpha.max() / 255 <= 1.0
    assert (alpha == 0).any() and (alpha == 255).any()
    bg = alpha == 0
    assert (img_k[bg] == 0).all() and (img_w[bg] == 255).all()  # nothing of the figure there
    np.testing.assert_array_equal(img_k[alpha == 255], img_w[alpha == 255])  # fully opaque
    assert ((alpha > 0) & (alpha < 255)).mean() < 0.1  # only anti-aliased edges are partial


def test_labels_agree_with_alpha_and_cover_all_classes(built):
    classes = set()
    for split in ("train", "eval"):
        _, alpha, labels = PortraitDataset(built, split).batch(range(6))
        assert (labels[alpha == 0] == 0).all()
        assert (labels[alpha > 0] > 0).all()
        assert labels.max() <= 7
        classes |= set(np.unique(labels).tolist())
    assert classes == set(range(8))


def test_pose_moves_image_and_labels_together(source):
    record = next(r for r in source.fixtures if r.style == "lorelei")
    alphas = []
    for pose in (Pose(), Pose(rotation=10.0, scale=0.9, shift_x=0.1)):
        pic, lab = posed_svgs(record.svg, record.style, pose)
        alpha = rasterise(pic, 64)[..., 3]
        raw = decode_labels(rasterise(lab, 64)) > 0  # before any reconciling with alpha
        solid = alpha >= 128
        assert (raw & solid).sum() / (raw | solid).sum() > 0.97
        alphas.append(alpha)
    assert ((alphas[0] >= 128) != (alphas[1] >= 128)).mean() > 0.05  # the pose did move it


def test_label_svg_uses_only_label_colours(source):
    record = source.fixtures[0]
    _, label_svg = posed_svgs(record.svg, record.style, Pose())
    rgba = rasterise(label_svg, 64)
    covered = rgba[..., 3] == 255
    palette = {tuple(c) for c in LABEL_COLOURS}
    colours = {tuple(int(v) for v in px) for px in rgba[covered][:, :3]}
    assert colours and colours <= palette


def test_unknown_part_is_a_clear_error():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        '<g data-part="tail"><path d="M0 0h5v5z" fill="#f00"/></g></svg>'
    )
    with pytest.raises(ValueError, match="PART_CLASSES"):
        posed_svgs(svg, "lorelei", Pose())


def test_decode_and_reconcile_labels():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[0, 0] = (*LABEL_COLOURS[3], 255)
    rgba[0, 1] = (250, 10, 5, 255)  # near skin red
    rgba[0, 2] = (*LABEL_COLOURS[6], 100)  # under half covered: background
    labels = decode_labels(rgba)
    assert labels[0, 0] == 3 and labels[0, 1] == 1 and labels[0, 2] == 0
    alpha = np.zeros((4, 4), np.uint8)
    alpha[0, :3] = 255
    alpha[1, 0] = 40  # a partial pixel the label render missed
    fixed = reconcile_labels(labels, alpha)
    assert fixed[1, 0] == 3  # nearest labelled pixel
    assert fixed[0, 2] in (1, 3) and (fixed[alpha == 0] == 0).all()


def test_eval_split_is_disjoint_from_train(built):
    train, held_out = PortraitDataset(built, "train"), PortraitDataset(built, "eval")
    train_ids = {train.sample_id(i) for i in range(len(train))}
    eval_ids = {held_out.sample_id(i) for i in range(len(held_out))}
    assert eval_ids and not train_ids & eval_ids
    assert min(eval_ids) == EVAL_ID_OFFSET
    train_imgs = train.batch(range(len(train)))[0].reshape(len(train), -1)
    for k in range(len(held_out)):
        assert not (train_imgs == held_out[k][0].reshape(1, -1)).all(axis=1).any()


def test_shards_and_meta_are_plain_npy(built):
    meta = json.loads((built / "meta.json").read_text())
    assert meta["counts"] == {"train": 14, "eval": 6} and meta["seed"] == 3
    split_meta = json.loads((built / "train" / "meta.json").read_text())
    assert split_meta["shard_counts"] == [5, 5, 4]
    arr = np.load(built / "train" / "images_00002.npy", mmap_mode="r", allow_pickle=False)
    assert arr.shape == (4, 64, 64, 3) and arr.dtype == np.uint8
    labels = np.load(built / "train" / "labels_00000.npy", allow_pickle=False)
    assert labels.shape == (5, 64, 64) and labels.dtype == np.uint8


def test_reader_indexing(built):
    ds = PortraitDataset(built / "train")
    assert len(ds) == 14 and ds.split == "train" and ds.size == 64
    image, alpha, labels = ds[-1]
    assert image.shape == (64, 64, 3) and alpha.shape == labels.shape == (64, 64)
    images, alphas, _ = ds.batch([13, 5, 0])
    np.testing.assert_array_equal(images[0], image)
    np.testing.assert_array_equal(alphas[1], ds[5][1])
    assert ds.batch([])[0].shape == (0, 64, 64, 3)
    with pytest.raises(IndexError):
        ds[14]
    with pytest.raises(ValueError, match="no split"):
        PortraitDataset(built, "test")
    with pytest.raises(FileNotFoundError, match="build"):
        PortraitDataset(built.parent)


def test_bad_arguments_and_existing_folder(built, source, tmp_path):
    with pytest.raises(ValueError, match="size"):
        build_dataset(tmp_path / "x", n_train=2, n_eval=0, size=100, source=source)
    with pytest.raises(FileExistsError):
        build_dataset(built, n_train=2, n_eval=0, size=64, source=source)
    assert cli_main(["build", "--out", str(built), "--n-train", "2"]) == 1


def test_backgrounds_vary_and_stay_in_range():
    rng = np.random.default_rng(0)
    bgs = np.stack([random_background(rng, 32) for _ in range(24)])
    assert bgs.dtype == np.float32 and bgs.min() >= 0.0 and bgs.max() <= 1.0
    assert bgs.reshape(24, -1).std(axis=0).mean() > 0.1


def test_cli_grid(built, tmp_path):
    out = tmp_path / "grid.png"
    assert cli_main(["grid", "--data", str(built), "--out", str(out), "--rows", "2", "--cols", "3"]) == 0
    from PIL import Image

    with Image.open(out) as opened:
        assert opened.size == (3 * (2 * 64 + 6), 2 * (64 + 4))


def test_render_sample_is_deterministic(source):
    rec = SvgRecord(id=5, style=source.fixtures[1].style, svg=source.fixtures[1].svg)
    a, b = render_sample(rec, 9, 64), render_sample(rec, 9, 64)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
