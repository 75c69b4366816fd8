"""Device choice, overrides, and the autocast policy."""

import pytest
import torch

from latent_atelier.models import devices
from latent_atelier.models.devices import (
    DeviceUnavailableError,
    autocast_dtype,
    generator_autocast,
    list_devices,
    memory_in_use,
    pick_device,
)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "mps_available", lambda: False)


@pytest.fixture
def two_fake_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: f"Fake GPU {i}")
    monkeypatch.setattr(devices, "mps_available", lambda: False)


def test_auto_falls_back_to_cpu(no_gpu, monkeypatch):
    monkeypatch.delenv(devices.ENV_VAR, raising=False)
    assert pick_device() == torch.device("cpu")
    assert pick_device("auto") == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch, two_fake_gpus):
    monkeypatch.delenv(devices.ENV_VAR, raising=False)
    assert pick_device() == torch.device("cuda", 0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "mps_available", lambda: True)
    assert pick_device() == torch.device("mps")


def test_environment_variable_and_argument(monkeypatch, two_fake_gpus):
    monkeypatch.setenv(devices.ENV_VAR, "cpu")
    assert pick_device() == torch.device("cpu")
    assert pick_device("cuda:1") == torch.device("cuda", 1)
    monkeypatch.setenv(devices.ENV_VAR, "cuda:1")
    assert pick_device() == torch.device("cuda", 1)
    assert pick_device("CPU") == torch.device("cpu")


def test_unavailable_devices_raise_clear_errors(monkeypatch, two_fake_gpus):
    with pytest.raises(DeviceUnavailableError, match="2 usable CUDA"):
        pick_device("cuda:2")
    with pytest.raises(DeviceUnavailableError, match="Metal"):
        pick_device("mps")
    with pytest.raises(DeviceUnavailableError, match="not a device name"):
        pick_device("gpu please")
    monkeypatch.setenv(devices.ENV_VAR, "tpu")
    with pytest.raises(DeviceUnavailableError, match="LATENT_ATELIER_DEVICE"):
        pick_device()


def test_cuda_request_without_cuda(no_gpu):
    with pytest.raises(DeviceUnavailableError, match="0 usable CUDA"):
        pick_device("cuda")


def test_list_devices_names_each_gpu(two_fake_gpus):
    listed = list_devices()
    assert listed[0] == ("cuda:0", "Fake GPU 0 (CUDA 0)")
    assert listed[1][0] == "cuda:1"
    assert listed[-1][0] == "cpu"


def test_autocast_is_a_no_op_on_cpu():
    lin = torch.nn.Linear(4, 4)
    x = torch.randn(2, 4)
    for precision in ("float32", "bf16", "fp16"):
        with generator_autocast("cpu", precision):
            assert lin(x).dtype == torch.float32
    assert autocast_dtype("cpu", "fp16") is None
    assert autocast_dtype("cuda", "bf16") == torch.bfloat16
    assert autocast_dtype("cuda", "float32") is None
    with pytest.raises(ValueError, match="precision"):
        autocast_dtype("cuda", "int8")


def test_memory_in_use_unknown_on_cpu():
    assert memory_in_use("cpu") is None


def test_small_cpu_loops_run_on_one_thread_and_give_the_threads_back():
    import torch

    from latent_atelier.models.devices import SMALL_LOOP_WORK, loop_threads, loop_work

    small = torch.nn.Linear(10, 10)
    big = torch.nn.Linear(1000, 1000)  # 1 M parameters: above the limit at batch 1
    assert loop_work(small, 1) < SMALL_LOOP_WORK <= loop_work(big, 1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with loop_threads("cpu", small, batch=1) as n:
            assert n == 1 and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with loop_threads("cpu", small, batch=10**6) as n:  # enough items make it big
            assert n == 2 and torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), loop_threads("cpu", small, batch=1):
            raise RuntimeError("a cancelled run")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
