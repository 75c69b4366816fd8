"""The matte Operation end to end with a tiny FurryGAN-like generator; cancel; trimap path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from latent_atelier.app.document.image_write import export_matte_set, read_matte
from latent_atelier.editors.matting.colour_segmentation import segment_by_colour
from latent_atelier.editors.matting.composite import CompositeParams, composite_over, generated_backgrounds
from latent_atelier.editors.matting.matte import (
    COLOUR_EDGE_BAND,
    MODEL_PX_BAND,
    Matte,
    MatteParams,
    band_pixels,
    matte_from_trimap,
)
from latent_atelier.editors.matting.metrics import segmentation_scores
from latent_atelier.editors.matting.refine import apply_user_masks, generator_trimap
from latent_atelier.editors.operation import Cancelled, OperationError, Progress
from latent_atelier.editors.placement import Placement
from latent_atelier.editors.registry import get_operation
from latent_atelier.models.generator import Latent, Synthesis


class TinyFurry(nn.Module):
    """A minimal generator with FurryGAN's interface: fg/bg groups, alpha, fg and bg images.

    The subject is a soft disk whose radius and colour come from the fg rows; the
    background colour from the bg rows; one shared noise map adds texture to both.
    """

    arch = "furrygan"
    resolution = 32
    n_latent = 4
    latent_groups = ("fg", "bg")
    noise_shapes = [(32, 32)]  # noqa: RUF012 - protocol attribute
    layer_names = ("out",)

    def __init__(self, dim: int = 8) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.dim = dim
        self.map = nn.Linear(dim, 2 * dim)
        self.to_fg = nn.Linear(dim, 3)
        self.to_bg = nn.Linear(dim, 3)
        self.to_radius = nn.Linear(dim, 1)
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, 32), torch.linspace(-1, 1, 32), indexing="ij")
        self.register_buffer("dist", torch.sqrt(xx**2 + yy**2)[None, None])

    def latent_shapes(self) -> dict[str, tuple[int, int]]:
        return {"fg": (self.n_latent, self.dim), "bg": (self.n_latent, self.dim)}

    def z_dim(self) -> int:
        return self.dim

    def mapping(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.map(z)
        return {"fg": h[:, : self.dim], "bg": h[:, self.dim :]}

    def _latent_from(self, styles: dict[str, torch.Tensor], noise: torch.Tensor) -> Latent:
        w = {k: v[:, None, :].expand(-1, self.n_latent, -1).clone() for k, v in styles.items()}
        return Latent(w, [noise])

    def mean_latent(self, n_samples: int = 4096) -> Latent:
        z = torch.randn(n_samples, self.dim, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            styles = {k: v.mean(0, keepdim=True) for k, v in self.mapping(z).items()}
        return self._latent_from(styles, torch.zeros(1, 1, 32, 32))

    def random_latent(self, seed: int, batch: int = 1, truncation: float = 1.0) -> Latent:
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(batch, self.dim, generator=g)
        with torch.no_grad():
            return self._latent_from(self.mapping(z), torch.randn(batch, 1, 32, 32, generator=g))

    def synthesize(self, latent: Latent, *, return_alpha: bool = False, hooks=None) -> Synthesis:
        wf, wb = latent.w["fg"].mean(1), latent.w["bg"].mean(1)
        noise = latent.noise[0]
        radius = 0.55 + 0.25 * torch.tanh(self.to_radius(wf))[:, :, None, None]
        coarse = torch.sigmoid((radius - self.dist) * 12.0)
        fine = 0.05 * torch.sigmoid(noise) * coarse * (1 - coarse)
        alpha = (coarse + fine).clamp(0, 1)
        fg = torch.tanh(self.to_fg(wf))[:, :, None, None] + 0.05 * noise
        bg = torch.tanh(self.to_bg(wb))[:, :, None, None] + 0.05 * noise
        image = alpha * fg + (1 - alpha) * bg
        if not return_alpha:
            return Synthesis(image)
        return Synthesis(image, alpha=alpha, coarse=coarse, fine=fine, fg=fg, bg=bg)

    def architecture(self) -> dict:
        return {"arch": self.arch, "size": self.resolution, "dim": self.dim}


@pytest.fixture(scope="module")
def gen() -> TinyFurry:
    return TinyFurry().eval()


def _photo(gen: TinyFurry, h: int = 64, w: int = 96):
    """A wide photo whose centred square is a generated subject; and its true subject mask."""
    import cv2

    with torch.no_grad():
        syn = gen.synthesize(gen.random_latent(5), return_alpha=True)
    img = ((syn.image[0].clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()
    alpha = syn.alpha[0, 0].numpy()
    side = min(h, w)
    x0 = (w - side) // 2
    photo = np.empty((h, w, 3), np.float32)
    photo[:] = img[0, 0]  # background colour outside the square
    photo[:, x0 : x0 + side] = cv2.resize(img, (side, side), interpolation=cv2.INTER_LINEAR)
    truth = np.zeros((h, w), np.float32)
    truth[:, x0 : x0 + side] = cv2.resize(alpha, (side, side), interpolation=cv2.INTER_LINEAR)
    return photo, truth


class StageRecorder:
    def __init__(self, cancel_in: str | None = None) -> None:
        self.progress = Progress(self)
        self.stages: list[str] = []
        self.cancel_in = cancel_in

    def __call__(self, i, n, preview, metrics) -> None:
        self.stages.append(self.progress.stage)
        if self.progress.stage == self.cancel_in:
            self.progress.cancel()


def test_matte_end_to_end_on_a_wide_photo(gen):
    photo, truth = _photo(gen)
    before = photo.copy()
    op = get_operation("matte")
    assert isinstance(op, Matte) and op.archs == ("furrygan",)
    fg_mask = np.zeros(photo.shape[:2], np.float32)
    fg_mask[:4, :4] = 1.0  # a corner the user insists is subject
    rec = StageRecorder()
    # the toy subject's edge is a soft, low-contrast ramp, where the colour segmentation
    # (tested in test_colour_segmentation.py) pulls the edge inward: this test is about the
    # generator alpha's way through the operation, so it keeps the alpha's own edge
    params = MatteParams(steps_w=30, steps_noise=10, band_px=3, colour_edge_px=0)
    res = op.run(gen, {"photo": photo, "fg_mask": fg_mask}, params, rec.progress)
    out = res.outputs
    h, w = photo.shape[:2]
    assert out["alpha"].shape == (h, w) and out["trimap"].shape == (h, w)
    assert out["foreground"].shape == (h, w, 4)
    np.testing.assert_array_equal(out["foreground"][..., 3], out["alpha"])
    assert set(np.unique(out["trimap"])) <= {0.0, 0.5, 1.0}
    assert (out["alpha"][:4, :4] == 1.0).all()
    ga = out["generator_alpha"]
    assert ga.shape == (h, w) and ga[:, :10].max() == 0.0 and ga[:, -10:].max() == 0.0
    out["latent"].validate(gen)
    expected = apply_user_masks(generator_trimap(ga, res.metrics["band_px"], params.unsure, fg_mask), fg_mask)
    np.testing.assert_array_equal(out["trimap"], expected)  # the documented trimap rule
    assert segmentation_scores(out["alpha"], truth)["iou_fg"] > 0.8
    assert {"W+", "noise", "refine", "foreground"} <= set(rec.stages)
    np.testing.assert_array_equal(photo, before)


def test_generated_backgrounds_keep_fg_rows_and_change_bg(gen):
    photo, _ = _photo(gen)
    res = get_operation("matte").run(gen, {"photo": photo}, MatteParams(steps_w=5, steps_noise=2), Progress())
    latent = res.outputs["latent"]
    bgs = generated_backgrounds(gen, latent, [0, 1, 0])
    assert len(bgs) == 3 and bgs[0].shape == (32, 32, 3)
    np.testing.assert_allclose(bgs[0], bgs[2])  # same seed, same background
    assert np.abs(bgs[0] - bgs[1]).mean() > 1e-3
    comps = generated_backgrounds(gen, latent, [0, 1], what="composite")
    centre = (slice(14, 18), slice(14, 18))  # subject pixels: the fg rows did not move
    np.testing.assert_allclose(comps[0][centre], comps[1][centre], atol=0.02)
    op = get_operation("generate-background")
    assert next(s for s in op.outputs if s.name == "backgrounds").multiple
    out = op.run(gen, {"latent": latent}, op.Params(count=2, first_seed=1), Progress())
    np.testing.assert_allclose(out.outputs["backgrounds"][0], bgs[1], atol=1e-6)

    # the composite operation draws the same backgrounds and puts the cut-out over each
    comp_op = get_operation("composite")
    assert not comp_op.needs_generator  # only generated backgrounds need one (a latent input)
    fg = res.outputs["foreground"]
    params = CompositeParams(generate_background=2, first_seed=0)
    seen = []
    progress = Progress(lambda i, n, _p, _m: seen.append((i, n)))
    got = comp_op.run(gen, {"foreground": fg, "latent": latent}, params, progress).outputs
    assert got.get("composite") is None and len(got["composites"]) == 2 and seen == [(1, 2), (2, 2)]
    for composite, background in zip(got["composites"], bgs[:2]):
        np.testing.assert_allclose(composite, composite_over(fg, None, background, params), atol=1e-6)
    assert np.abs(got["composites"][0] - got["composites"][1]).mean() > 1e-3
    with pytest.raises(OperationError, match="latent"):
        comp_op.run(gen, {"foreground": fg}, params, Progress())
    with pytest.raises(OperationError, match="not both"):
        comp_op.run(gen, {"foreground": fg, "latent": latent, "background": bgs[0]}, params, Progress())
    with pytest.raises(OperationError, match="model"):
        comp_op.run(None, {"foreground": fg, "latent": latent}, params, Progress())


def test_cancelled_matte_writes_nothing(gen, tmp_path):
    photo, _ = _photo(gen)
    rec = StageRecorder(cancel_in="refine")
    out_dir = tmp_path / "export"
    with pytest.raises(Cancelled):
        res = get_operation("matte").run(
            gen, {"photo": photo}, MatteParams(steps_w=3, steps_noise=2, band_px=3), rec.progress
        )
        export_matte_set(out_dir, alpha=res.outputs["alpha"], foreground=res.outputs["foreground"])
    assert "refine" in rec.stages and "foreground" not in rec.stages
    assert not out_dir.exists()


def test_painted_trimap_skips_the_generator_and_refines(gen, tmp_path):
    photo, truth = _photo(gen)
    trimap = np.where(truth > 0.98, 1.0, np.where(truth < 0.02, 0.0, 0.5)).astype(np.float32)
    res = get_operation("matte").run(gen, {"photo": photo, "trimap": trimap}, MatteParams(), Progress())
    assert "latent" not in res.outputs
    assert segmentation_scores(res.outputs["alpha"], truth)["iou_fg"] > 0.9
    paths = export_matte_set(tmp_path, alpha=res.outputs["alpha"], foreground=res.outputs["foreground"])
    alpha_png = next(p for p in paths if p.name == "alpha_16bit.png")
    assert np.abs(read_matte(alpha_png) - res.outputs["alpha"]).max() <= 1 / 65535


def test_wrong_size_trimap_and_masks_get_clear_errors(gen):
    photo, _ = _photo(gen)
    with pytest.raises(OperationError, match=r"trimap is 95x64 but the photo is 96x64"):
        matte_from_trimap(photo, np.zeros((64, 95), np.float32))
    with pytest.raises(OperationError, match=r"fg mask is 10x10 but the photo is 96x64"):
        get_operation("matte").run(
            gen, {"photo": photo, "fg_mask": np.zeros((10, 10))}, MatteParams(), Progress()
        )
    bad_place = Placement.centered((10, 10), 32)
    with pytest.raises(OperationError, match="placement was made for a 10x10"):
        get_operation("matte").run(
            gen, {"photo": photo, "placement": bad_place}, MatteParams(steps_w=1, steps_noise=1), Progress()
        )


def test_out_of_domain_photo_with_rough_trimap_needs_no_generator():
    rng = np.random.default_rng(0)
    h, w = 50, 70
    yy, xx = np.mgrid[:h, :w]
    truth = ((xx - 35) ** 2 / 400 + (yy - 25) ** 2 / 225 < 1).astype(np.float32)
    fg = np.dstack([0.9 + 0 * xx, 0.6 * yy / h, 0.2 + 0 * xx]).astype(np.float32)
    bg = np.dstack([0.1 + 0 * xx, 0.3 + 0.4 * xx / w, 0.9 + 0 * xx]).astype(np.float32)
    photo = truth[..., None] * fg + (1 - truth[..., None]) * bg
    photo += rng.normal(0, 0.005, photo.shape).astype(np.float32)
    rough = np.full((h, w), 0.5, np.float32)  # a painted trimap: loose band around the edge
    rough[(xx - 35) ** 2 / 256 + (yy - 25) ** 2 / 121 < 1] = 1.0
    rough[(xx - 35) ** 2 / 625 + (yy - 25) ** 2 / 400 > 1] = 0.0
    out = matte_from_trimap(np.clip(photo, 0, 1), rough)
    assert segmentation_scores(out.alpha, truth)["iou_fg"] > 0.95
    flat = matte_from_trimap(photo, rough, refine=False)
    assert np.abs(out.alpha - truth).sum() < np.abs(flat.alpha - truth).sum()


def test_band_width_auto_scales_with_photo_and_placement():
    assert band_pixels((3000, 4000), 0, 0.006) == pytest.approx(24.0)
    assert band_pixels((3000, 4000), 7, 0.006) == 7.0
    placement = Placement.centered((3000, 4000), 32)  # 1 model px = ~94 photo px
    assert band_pixels((3000, 4000), 0, 0.006, placement) == pytest.approx(MODEL_PX_BAND * 3000 / 32)
    big_crop = Placement.centered((3000, 4000), 1024)  # a high-resolution model: the fraction wins
    assert band_pixels((3000, 4000), 0, 0.006, big_crop) == pytest.approx(24.0)
    # a colour-segmented edge is as exact as its working size: 4000 px seen at 256 px
    seg = band_pixels((3000, 4000), 0, 0.006, placement, colour_edge_px=256)
    assert seg == pytest.approx(COLOUR_EDGE_BAND * 4000 / 256)
    assert band_pixels((100, 120), 0, 0.006, colour_edge_px=512) == pytest.approx(COLOUR_EDGE_BAND)


def test_default_matte_draws_its_band_around_the_colour_edge(gen):
    photo, _ = _photo(gen)
    bg_mask = np.zeros(photo.shape[:2], np.float32)
    bg_mask[-3:, :] = 1.0
    params = MatteParams(steps_w=10, steps_noise=5)
    assert params.colour_edge_px > 0
    res = get_operation("matte").run(gen, {"photo": photo, "bg_mask": bg_mask}, params, Progress())
    ga = res.outputs["generator_alpha"]
    edge = segment_by_colour(photo, ga, bg_mask=bg_mask, work_px=params.colour_edge_px)
    band = band_pixels(photo.shape, 0, params.band_fraction, None, params.colour_edge_px)
    assert res.metrics["band_px"] == pytest.approx(band)
    expected = apply_user_masks(
        generator_trimap(ga, band, params.unsure, None, bg_mask, edge=edge), bg_mask=bg_mask
    )
    np.testing.assert_array_equal(res.outputs["trimap"], expected)
    assert not np.array_equal(edge, ga >= 0.5)  # the colour edge is not the alpha's


def test_tiny_real_furrygan_mattes_and_generates_backgrounds():
    from latent_atelier.models.zoo import random_generator

    real = random_generator("furrygan", 32, 0, style_dim=32, n_mlp=2, channels={4: 32, 8: 32, 16: 32, 32: 32})
    photo = np.random.default_rng(1).random((40, 56, 3)).astype(np.float32)
    res = get_operation("matte").run(
        real, {"photo": photo}, MatteParams(steps_w=2, steps_noise=1), Progress()
    )
    out = res.outputs
    assert out["alpha"].shape == (40, 56) and out["foreground"].shape == (40, 56, 4)
    assert out["alpha"].min() >= 0.0 and out["alpha"].max() <= 1.0
    out["latent"].validate(real)
    with torch.no_grad():
        syn = real.synthesize(out["latent"], return_alpha=True)
    placement = Placement.centered((40, 56), 32)
    from latent_atelier.editors.matting.refine import upsample_alpha

    expected = upsample_alpha(syn.alpha[0, 0].numpy(), placement)
    np.testing.assert_allclose(out["generator_alpha"], expected, atol=1e-5)
    bgs = generated_backgrounds(real, out["latent"], [3, 4])
    assert bgs[0].shape == (32, 32, 3) and np.abs(bgs[0] - bgs[1]).mean() > 1e-4


@pytest.mark.parametrize("kind", ["gray", "cmyk", "png16", "exif_rotated"])
def test_awkward_photo_files_are_normalised_before_matting(tmp_path, kind):
    from PIL import Image

    from latent_atelier.app.document.image_read import read_image

    h, w = 30, 40
    yy, xx = np.mgrid[:h, :w]
    truth = (((xx - 20) ** 2 + (yy - 15) ** 2) < 64).astype(np.float32)
    grey = (40 + 180 * truth).astype(np.uint8)
    path = tmp_path / f"photo_{kind}"
    if kind == "gray":
        path = path.with_suffix(".png")
        Image.fromarray(grey, "L").save(path)
    elif kind == "cmyk":
        path = path.with_suffix(".jpg")
        Image.fromarray(np.dstack([grey] * 3), "RGB").convert("CMYK").save(path, quality=95)
    elif kind == "png16":
        import cv2

        path = path.with_suffix(".png")
        cv2.imwrite(str(path), np.dstack([grey.astype(np.uint16) * 257] * 3))
    else:  # stored sideways with an EXIF "rotate 90" orientation
        path = path.with_suffix(".jpg")
        exif = Image.Exif()
        exif[0x0112] = 6
        Image.fromarray(np.dstack([np.rot90(grey, 1)] * 3), "RGB").save(path, exif=exif, quality=95)
    data = read_image(path)
    photo = data.pixels[..., :3]
    assert photo.shape == (h, w, 3) and photo.dtype == np.float32
    trimap = np.full((h, w), 0.5, np.float32)
    trimap[((xx - 20) ** 2 + (yy - 15) ** 2) < 25] = 1.0
    trimap[((xx - 20) ** 2 + (yy - 15) ** 2) > 144] = 0.0
    out = matte_from_trimap(photo, trimap)
    assert segmentation_scores(out.alpha, truth)["iou_fg"] > 0.9


def test_a_previous_latent_skips_the_embedding(gen):
    photo, _ = _photo(gen)
    op = get_operation("matte")
    params = MatteParams(steps_w=10, steps_noise=5)
    first = op.run(gen, {"photo": photo}, params, Progress())
    fg_mask = np.zeros(photo.shape[:2], np.float32)
    fg_mask[30:34, 44:52] = 1.0  # a stroke painted after the first run
    rec = StageRecorder()
    again = op.run(
        gen, {"photo": photo, "fg_mask": fg_mask, "latent": first.outputs["latent"]}, params, rec.progress
    )
    np.testing.assert_allclose(again.outputs["generator_alpha"], first.outputs["generator_alpha"], atol=1e-6)
    assert "W+" not in rec.stages and "noise" not in rec.stages
    assert (again.outputs["alpha"][30:34, 44:52] == 1.0).all()
    alien = Latent({"w": torch.zeros(1, 3, 8)}, [])
    with pytest.raises(OperationError, match="made with another model"):
        op.run(gen, {"photo": photo, "latent": alien}, params, Progress())


def test_colour_edge_keeps_subject_coloured_patches_outside_the_placement_out():
    """The generator only saw the placement's crop: a patch of the subject's colour beyond it
    stays background (GrabCut alone would take it in); a painted stroke there still wins."""
    from latent_atelier.editors.matting.matte import auto_trimap

    h, w = 64, 128
    photo = np.empty((h, w, 3), np.float32)
    photo[:] = (0.1, 0.2, 0.8)  # blue background
    yy, xx = np.mgrid[0:h, 0:w]
    disk = (yy - 32) ** 2 + (xx - 64) ** 2 < 18**2  # the subject, inside the centred square
    photo[disk] = (0.9, 0.3, 0.2)
    patch = (slice(20, 44), slice(8, 24))  # subject-coloured, left of the square
    photo[patch] = (0.9, 0.3, 0.2)
    alpha = disk.astype(np.float32)  # what the generator said inside its crop
    placement = Placement.centered((h, w), 32)
    params = MatteParams(band_px=2)
    trimap, _ = auto_trimap(photo, alpha, params, placement)
    assert (trimap[disk & (np.abs(xx - 64) < 10) & (np.abs(yy - 32) < 10)] == 1.0).all()
    assert (trimap[patch] == 0.0).all()
    stroke = np.zeros((h, w), np.float32)
    stroke[24:40, 10:22] = 1.0
    trimap, _ = auto_trimap(photo, alpha, params, placement, fg_mask=stroke)
    assert (trimap[26:38, 12:20] == 1.0).all()  # painted foreground beyond the crop is kept


@pytest.mark.parametrize(("shape", "size"), [((128, 128), 64), ((512, 512), 64), ((40, 40), 64)])
def test_a_crop_of_the_whole_photo_covers_every_pixel(shape, size):
    """No border strip of a full-frame portrait is forced to background (shoulders touch it)."""
    from latent_atelier.editors.matting.matte import placement_footprint

    assert placement_footprint(Placement.centered(shape, size)).all()
    wide = placement_footprint(Placement.centered((64, 128), 32))
    assert wide[:, 34:94].all() and not wide[:, :30].any() and not wide[:, 98:].any()
