"""The compute policy: CPU threads, the search precision, and the generator's search twin."""

from __future__ import annotations

import pytest
import torch

from latent_atelier.models import devices
from latent_atelier.models.devices import (
    DeviceUnavailableError,
    check_threads,
    compute_policy,
    default_threads,
    search_dtype,
    set_compute_policy,
)
from latent_atelier.models.layers import ModulatedConv2d
from latent_atelier.models.search_model import search_twin
from latent_atelier.models.zoo import random_generator

TINY = {"style_dim": 32, "n_mlp": 2, "channels": {4: 32, 8: 32, 16: 32, 32: 32}}


@pytest.fixture
def restore_policy(monkeypatch):
    """Leave the process-wide policy as the test found it."""
    threads = torch.get_num_threads()
    monkeypatch.setattr(devices, "_policy", devices._policy)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def bf16_cpu(monkeypatch, restore_policy):
    """A CPU that counts as bf16-capable, and models of any size worth bf16."""
    monkeypatch.setattr(devices, "cpu_bf16_supported", lambda: True)
    monkeypatch.setattr(devices, "AUTO_BF16_MIN_PARAMS", 0)
    set_compute_policy(1, "auto")


@pytest.fixture
def tiny():
    return random_generator("stylegan2", 32, seed=3, **TINY).requires_grad_(False)


@pytest.mark.parametrize("bad", [0, -2, "many", 5000, "1.5"])
def test_bad_thread_counts_are_refused_with_the_allowed_range(bad):
    with pytest.raises(ValueError, match=r"1\.\.1024"):
        check_threads(bad, "--threads")


def test_thread_default_is_every_core_unless_the_environment_pins_it(monkeypatch):
    monkeypatch.delenv(devices.THREADS_ENV_VAR, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert default_threads() == devices.available_cores()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv(devices.THREADS_ENV_VAR, "5")
    assert default_threads() == 5
    monkeypatch.setenv(devices.THREADS_ENV_VAR, "zero")
    with pytest.raises(ValueError, match="LATENT_ATELIER_THREADS"):
        default_threads()


def test_set_compute_policy_sets_torch_threads_and_keeps_precision(restore_policy):
    policy = set_compute_policy(2, "float32")
    assert torch.get_num_threads() == 2 and policy.precision == "float32"
    again = set_compute_policy(1)
    assert again.threads == 1 and again.precision == "float32"  # None keeps the precision
    assert compute_policy() == again
    assert again.describe("cpu") == "1 thread, float32"
    with pytest.raises(ValueError, match="auto, float32, bf16"):
        set_compute_policy(1, "fp8")


def test_precision_choice_per_device_and_model(monkeypatch, restore_policy, tiny):
    monkeypatch.setattr(devices, "cpu_bf16_supported", lambda: False)
    set_compute_policy(1, "auto")
    assert search_dtype("cpu") == torch.float32  # no native bf16: float32, silently
    set_compute_policy(1, "bf16")
    with pytest.raises(DeviceUnavailableError, match="choose precision auto or float32"):
        search_dtype("cpu")
    monkeypatch.setattr(devices, "cpu_bf16_supported", lambda: True)
    assert search_dtype("cpu", tiny) == torch.bfloat16  # asked for: even a tiny model
    set_compute_policy(1, "auto")
    assert search_dtype("cpu") == torch.bfloat16
    assert search_dtype("cpu", tiny) == torch.float32  # auto: too small to gain
    assert "bf16 (auto)" in compute_policy().describe("cpu")
    set_compute_policy(1, "float32")
    assert search_dtype("cpu") == torch.float32


def test_search_twin_matches_the_model_and_leaves_it_untouched(tiny):
    lat = tiny.random_latent(1)
    twin = search_twin(tiny, torch.bfloat16)
    assert search_twin(tiny, torch.bfloat16) is twin  # cached
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        fast = twin.synthesize(lat).image.float()
    with torch.no_grad():
        ref = tiny.synthesize(lat).image
    assert fast.dtype == torch.float32
    assert float((fast - ref).abs().mean()) < 0.02 * float(ref.abs().mean()) + 1e-3
    convs = [m for m in tiny.modules() if isinstance(m, ModulatedConv2d)]
    assert all(m.fused for m in convs)  # the shared model keeps its own settings
    assert all(p.dtype == torch.float32 for p in tiny.parameters())
    assert not any(m.fused for m in twin.modules() if isinstance(m, ModulatedConv2d))
    assert not any(p.requires_grad for p in twin.parameters())


def test_search_twin_is_rebuilt_when_the_weights_change(tiny):
    twin = search_twin(tiny, torch.bfloat16)
    with torch.no_grad():
        tiny.conv1.conv.weight.mul_(2.0)  # e.g. a training step
    rebuilt = search_twin(tiny, torch.bfloat16)
    assert rebuilt is not twin
    assert torch.allclose(rebuilt.conv1.conv.weight.float(), tiny.conv1.conv.weight, rtol=1e-2)
    assert search_twin(tiny, torch.float32) is not rebuilt  # one twin per dtype at a time


def test_input_scaled_modulation_equals_the_fused_form_in_float32(tiny):
    lat = tiny.random_latent(2)
    twin = search_twin(tiny, torch.float32)
    with torch.no_grad():
        assert torch.allclose(twin.synthesize(lat).image, tiny.synthesize(lat).image, atol=1e-4)


def test_furrygan_twin_draws_image_and_alpha_in_bf16_with_gradients():
    gen = random_generator(
        "furrygan", 32, seed=1, style_dim=32, channels={4: 32, 8: 32, 16: 32, 32: 32}
    ).requires_grad_(False)
    lat = gen.random_latent(2)
    trained = lat.clone()
    for v in trained.w.values():
        v.requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fast = search_twin(gen, torch.bfloat16).synthesize(trained, return_alpha=True)
    fast.image.float().square().mean().backward()
    with torch.no_grad():
        ref = gen.synthesize(lat, return_alpha=True)
    assert all(v.grad is not None and v.grad.abs().sum() > 0 for v in trained.w.values())
    image, alpha = fast.image.detach().float(), fast.alpha.detach().float()
    assert float((image - ref.image).abs().mean()) < 0.05 * float(ref.image.abs().mean())
    assert float((alpha - ref.alpha).abs().mean()) < 0.02
