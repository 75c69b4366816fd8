"""Mask-guided networks on tiny sizes: shapes, the paste-at-centre step, labels, files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_atelier.models.mask_guided.classes import (
    CLASS_NAMES,
    LEFT_BROW,
    LEFT_EYE,
    MOUTH,
    N_CLASSES,
    RIGHT_BROW,
    RIGHT_EYE,
)
from latent_atelier.models.mask_guided.config import MaskGuidedConfig
from latent_atelier.models.mask_guided.io import MaskGuidedModel, ModelFileError, load_model, save_model
from latent_atelier.models.mask_guided.labels import (
    LabelMapError,
    check_label_map,
    downsample_labels,
    from_celebamask,
    from_synthetic,
)
from latent_atelier.models.mask_guided.networks import (
    FaceParser,
    LabelToImage,
    MaskGuidedGenerator,
    TwoScaleDiscriminator,
    one_hot,
)
from latent_atelier.models.mask_guided.paste import component_centres, crop_at, paste_at

TINY = MaskGuidedConfig(size=32, width=4, code_dim=8, feat_channels=4, n_res=1, parser_width=4)


def face_map(size: int = 32, eye_dx: int = 0) -> torch.Tensor:
    """A label map: skin disc, two eyes, a mouth, hair on top."""
    lab = torch.zeros(size, size, dtype=torch.long)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    c = size // 2
    lab[(yy - c) ** 2 + (xx - c) ** 2 < (size // 3) ** 2] = 1
    lab[: size // 4, size // 4 : 3 * size // 4] = 2
    lab[12:14, 10 + eye_dx : 13 + eye_dx] = RIGHT_EYE  # image left = the person's right
    lab[12:14, 19 + eye_dx : 22 + eye_dx] = LEFT_EYE
    lab[22:24, 13:19] = MOUTH
    return lab


def test_generator_parser_discriminator_shapes() -> None:
    torch.manual_seed(0)
    gen = MaskGuidedGenerator(TINY)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    m = torch.stack([face_map(), face_map(eye_dx=2)])
    with torch.no_grad():
        out = gen(x, m, x.flip(0), m.flip(0))
    assert out["image"].shape == (2, 3, 32, 32) and out["face"].shape == (2, 3, 32, 32)
    assert out["blend"].shape == (2, 1, 32, 32)
    assert float(out["image"].abs().max()) <= 1.0
    # the blend only passes the background through where the target map is background
    assert float(out["blend"][m.flip(0).unsqueeze(1) == 1].max()) == 0.0
    codes = gen.encode(x, m)
    assert set(codes) == {"left_eye", "right_eye", "mouth", "skin", "hair"}
    assert all(c.shape == (2, TINY.code_dim) for c in codes.values())
    assert FaceParser(4)(x).shape == (2, N_CLASSES, 32, 32)
    feats = TwoScaleDiscriminator(4)(x, one_hot(m))
    assert len(feats) == 2 and feats[1][-1].shape[-1] < feats[0][-1].shape[-1]
    assert LabelToImage(TINY)(m).shape == (2, 3, 32, 32)


def test_component_centres_follow_the_map_and_say_what_is_missing() -> None:
    m = face_map()
    no_mouth = m.clone()
    no_mouth[no_mouth == MOUTH] = 1
    centres, present = component_centres(torch.stack([m, no_mouth]))
    assert centres[0, 0].tolist() == pytest.approx([12.5, 20.0])  # left eye (image right)
    assert centres[0, 1].tolist() == pytest.approx([12.5, 11.0])
    assert centres[0, 2].tolist() == pytest.approx([22.5, 15.5])
    assert present.tolist() == [[True, True, True], [True, True, False]]


def test_paste_at_centre_places_patch_at_the_target_grid_cell() -> None:
    patch = torch.arange(1, 7, dtype=torch.float32).view(1, 1, 2, 3)
    centres = torch.tensor([[8.0, 20.0]])  # pixels; stride 4 -> grid (2, 5)
    grid = paste_at(patch, centres, torch.tensor([True]), (8, 8), stride=4)
    assert grid.shape == (1, 1, 8, 8)
    assert torch.equal(grid[0, 0, 1:3, 4:7], patch[0, 0])  # top-left = round(2 - 1), round(5 - 1.5)
    assert float(grid.sum()) == float(patch.sum())
    # at the border the patch is moved inside, not cut
    edge = paste_at(patch, torch.tensor([[0.0, 31.0]]), torch.tensor([True]), (8, 8), stride=4)
    assert torch.equal(edge[0, 0, 0:2, 5:8], patch[0, 0])
    # an absent component pastes nothing
    assert float(paste_at(patch, centres, torch.tensor([False]), (8, 8), 4).abs().sum()) == 0.0


def test_crop_at_cuts_the_box_around_the_centre() -> None:
    img = torch.arange(32 * 32, dtype=torch.float32).view(1, 1, 32, 32)
    crop = crop_at(img, torch.tensor([[10.0, 10.0]]), torch.tensor([True]), (4, 6))
    assert torch.equal(crop[0, 0], img[0, 0, 8:12, 7:13])
    assert float(crop_at(img, torch.tensor([[10.0, 10.0]]), torch.tensor([False]), (4, 6)).sum()) == 0


def test_edited_map_moves_the_eye_features() -> None:
    torch.manual_seed(0)
    gen = MaskGuidedGenerator(TINY)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    m = face_map().unsqueeze(0)
    codes = gen.encode(x, m)
    a = gen.fused_features(codes, m)
    b = gen.fused_features(codes, face_map(eye_dx=4).unsqueeze(0))
    eye_channels = slice(TINY.width * TINY.stride, TINY.width * TINY.stride + TINY.feat_channels)
    moved = (a[0, eye_channels] - b[0, eye_channels]).abs().sum(0)
    assert moved.sum() > 0
    assert moved[:, :4].sum() == 0  # nothing changes on the face's left columns


def test_synthetic_labels_split_eyes_and_brows_by_the_face_axis() -> None:
    lab8 = np.zeros((16, 16), np.uint8)
    lab8[2:14, 2:14] = 1
    lab8[5, 4:6] = 4  # brows
    lab8[5, 10:12] = 4
    lab8[7, 4:6] = 3  # eyes
    lab8[7, 10:12] = 3
    lab8[11, 6:10] = 6  # mouth, centre x = 7.5
    ours = from_synthetic(lab8)
    assert ours[7, 4] == RIGHT_EYE and ours[7, 11] == LEFT_EYE
    assert ours[5, 4] == RIGHT_BROW and ours[5, 11] == LEFT_BROW
    assert ours[11, 7] == MOUTH and ours.max() < N_CLASSES


def test_celebamask_classes_map_to_ours() -> None:
    src = np.arange(19, dtype=np.uint8).reshape(1, 19)
    names = [CLASS_NAMES[v] for v in from_celebamask(src)[0]]
    assert names[4] == "left eye" and names[2] == "nose" and names[13] == "hair"
    assert names[11] == names[12] == "lips/mouth" and names[8] == "skin"
    with pytest.raises(LabelMapError):
        from_celebamask(np.array([[19]], np.uint8))


def test_check_label_map_errors_say_what_to_do() -> None:
    good = np.zeros((8, 8), np.int32)
    assert check_label_map(good, (8, 8)).dtype == np.int64
    with pytest.raises(LabelMapError, match="8x8 px but the photo is 10x8"):
        check_label_map(good, (8, 10))
    bad = good.copy()
    bad[0, 0] = 42
    with pytest.raises(LabelMapError, match="unknown class values 42"):
        check_label_map(bad, (8, 8))
    with pytest.raises(LabelMapError, match="fractions"):
        check_label_map(good + 0.5, (8, 8))


def test_downsample_labels_keeps_small_parts() -> None:
    lab = np.zeros((4, 4), np.uint8)
    lab[0, 0] = lab[0, 1] = 3  # a tie in the top-left block: the part wins
    out = downsample_labels(lab, 2)
    assert out.tolist() == [[3, 0], [0, 0]]


def test_model_file_roundtrip_and_bad_files(tmp_path) -> None:
    torch.manual_seed(0)
    gen, parser = MaskGuidedGenerator(TINY), FaceParser(4)
    path = tmp_path / "m.safetensors"
    save_model(
        path, MaskGuidedModel(TINY, generator=gen, parser=parser, info={"steps": 3}), dtype=torch.float32
    )
    model = load_model(path)
    assert model.config == TINY and model.info["steps"] == 3 and model.baseline is None
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    m = face_map().unsqueeze(0)
    with torch.no_grad():
        assert torch.allclose(model.generator(x, m, x, m)["image"], gen(x, m, x, m)["image"])
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError, match=r"junk\.safetensors"):
        load_model(junk)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.safetensors")


def test_initialisation_lets_gradients_reach_the_component_encoders() -> None:
    """With PyTorch's default initialisation the face came out flat (std 0.02) and the
    component encoders got gradients near 1e-8, so the codes never learned."""
    torch.manual_seed(0)
    gen = MaskGuidedGenerator(MaskGuidedConfig())
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    m = torch.stack([face_map(64), face_map(64, eye_dx=2)])
    out = gen(x, m, x, m)
    assert float(out["face"].detach().std()) > 0.1
    out["image"].sub(x).abs().mean().backward()
    for comp, embed in gen.embed.items():
        assert float(embed.to_code.weight.grad.norm()) > 1e-5, comp
