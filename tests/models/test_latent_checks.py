"""Both generators check a latent before drawing it (``Latent.validate``): a latent that does
not fit is refused with a message that names what is wrong."""

import pytest
import torch

from latent_atelier.models.furrygan import FurryGAN
from latent_atelier.models.generator import Latent, LatentShapeError
from latent_atelier.models.stylegan2 import StyleGAN2Generator

TINY = {4: 16, 8: 16, 16: 16, 32: 16}


@pytest.fixture(params=[StyleGAN2Generator, FurryGAN], ids=["stylegan2", "furrygan"])
def gen(request):
    torch.manual_seed(0)
    return request.param(size=32, style_dim=32, n_mlp=2, channels=TINY).eval()


def test_a_fitting_latent_is_drawn(gen):
    with torch.no_grad():
        assert gen.synthesize(gen.random_latent(0)).image.shape == (1, 3, 32, 32)


def test_missing_noise_maps_are_refused(gen):
    lat = gen.random_latent(0)
    with pytest.raises(LatentShapeError, match="noise maps"):
        gen.synthesize(Latent(lat.w, lat.noise[:-1]))


def test_other_latent_groups_are_refused(gen):
    lat = gen.random_latent(0)
    first = next(iter(lat.w.values()))
    with pytest.raises(LatentShapeError, match="groups"):
        gen.synthesize(Latent({"other": first}, lat.noise))


def test_too_few_w_rows_are_refused(gen):
    lat = gen.random_latent(0)
    cut = {k: v[:, :5] for k, v in lat.w.items()}
    with pytest.raises(LatentShapeError, match="W\\+"):
        gen.synthesize(Latent(cut, lat.noise))


def test_a_noise_map_of_the_wrong_size_is_refused(gen):
    lat = gen.random_latent(0)
    bad = list(lat.noise)
    bad[1] = torch.zeros(1, 1, 4, 4)
    with pytest.raises(LatentShapeError, match="noise map 1"):
        gen.synthesize(Latent(lat.w, bad))
