"""Checkpoint folders: a network of another shape is refused by name, with what to do."""

import pytest
from torch import nn

from latent_atelier.models.training import checkpoint_folder as ckpt


def test_a_network_of_another_shape_is_refused_naming_it(tmp_path):
    ckpt.write_checkpoint(tmp_path, {"g": nn.Linear(4, 4), "d": nn.Linear(4, 8)}, {}, {"step": 1})
    same_g, wider_d = nn.Linear(4, 4), nn.Linear(4, 16)
    shape_refused = r"d\.safetensors holds a 'd' network .*size mismatch.*another --out"
    with pytest.raises(ValueError, match=shape_refused):
        ckpt.load_weights(tmp_path, {"g": same_g, "d": wider_d})


def test_a_network_with_missing_tensors_is_refused(tmp_path):
    ckpt.write_checkpoint(tmp_path, {"g": nn.Linear(4, 4, bias=False)}, {}, {"step": 1})
    with pytest.raises(ValueError, match=r"'g' network .*Missing key"):
        ckpt.load_weights(tmp_path, {"g": nn.Linear(4, 4)})


def test_a_matching_network_loads_its_weights(tmp_path):
    saved = nn.Linear(3, 2)
    ckpt.write_checkpoint(tmp_path, {"g": saved}, {}, {"step": 1})
    loaded = nn.Linear(3, 2)
    ckpt.load_weights(tmp_path, {"g": loaded})
    assert loaded.weight.tolist() == saved.weight.tolist()
