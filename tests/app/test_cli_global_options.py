"""Global options (``--model``, ``--device``) are accepted before or after the sub-command."""

from __future__ import annotations

from PIL import Image

from latent_atelier.app.cli import build_parser, main


def test_model_after_the_sub_command_is_accepted_and_used(tmp_path):
    before, after = tmp_path / "before.png", tmp_path / "after.png"
    assert main(["--model", "random:stylegan2:32:3", "sample", "--n", "1", "--out", str(before)]) == 0
    assert main(["sample", "--n", "1", "--model", "random:stylegan2:32:3", "--out", str(after)]) == 0
    assert Image.open(before).tobytes() == Image.open(after).tobytes()
    other = tmp_path / "other.png"
    assert main(["sample", "--n", "1", "--model", "random:stylegan2:32:4", "--out", str(other)]) == 0
    assert Image.open(other).tobytes() != Image.open(after).tobytes()


def test_a_sub_command_value_does_not_erase_the_top_level_one():
    parser = build_parser()
    args = parser.parse_args(["--model", "m.safetensors", "embed", "photo.png"])
    assert args.model == "m.safetensors"
    args = parser.parse_args(["embed", "photo.png", "--device", "cpu"])
    assert args.device == "cpu" and args.model is None
