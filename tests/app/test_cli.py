"""The command line: sub-commands generated from the registry, a real embed run, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from latent_atelier.app.cli import build_parser, main
from latent_atelier.editors.registry import all_operations


def test_every_operation_has_a_sub_command_with_its_params():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, op_cls in all_operations().items():
        assert name in sub.choices
        flags = {opt for a in sub.choices[name]._actions for opt in a.option_strings}
        import dataclasses

        for f in dataclasses.fields(op_cls.Params):
            assert "--" + f.name.replace("_", "-") in flags


def test_embed_writes_reconstruction_latent_and_metrics(tmp_path, capsys):
    photo = (np.random.default_rng(0).random((40, 60, 3)) * 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.jpg")
    rc = main(
        [
            "--model",
            "random:stylegan2:32:0:32",
            "--device",
            "cpu",
            "embed",
            str(tmp_path / "photo.jpg"),
            "--steps-w",
            "3",
            "--steps-noise",
            "3",
            "--out-dir",
            str(tmp_path / "out"),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    for key in ("psnr_w:", "psnr:", "lpips:"):
        assert key in out
    rec = np.asarray(Image.open(tmp_path / "out" / "reconstruction.png"))
    assert rec.shape == (32, 32, 3)
    with Image.open(tmp_path / "out" / "result.png") as opened:
        assert opened.size == (60, 40)
    with np.load(tmp_path / "out" / "latent.npz") as npz:
        assert npz["w__w"].shape == (1, 8, 32)
    placement = json.loads((tmp_path / "out" / "placement.json").read_text())
    assert placement["size"] == 32


def test_bad_inputs_give_a_clear_error(tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    rc = main(
        [
            "--model",
            "random:stylegan2:32:0:32",
            "embed",
            str(tmp_path / "broken.png"),
            "--out-dir",
            str(tmp_path / "out"),
        ]
    )
    assert rc == 2
    assert "broken.png" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_out_of_range_param_is_refused(tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "p.png")
    rc = main(["--model", "random:stylegan2:32:0:32", "embed", str(tmp_path / "p.png"), "--lr-w", "5"])
    assert rc == 2
    assert "lr_w" in capsys.readouterr().err


def test_missing_model_file_is_reported(tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "p.png")
    rc = main(["--model", str(tmp_path / "nope.safetensors"), "embed", str(tmp_path / "p.png")])
    assert rc == 2
    assert "nope.safetensors" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["sample"])
def test_sample_grid(tmp_path, cmd):
    rc = main(["--model", "random:stylegan2:32:0:32", cmd, "--n", "4", "--out", str(tmp_path / "g.png")])
    assert rc == 0
    with Image.open(tmp_path / "g.png") as opened:
        assert opened.size == (64, 64)


def test_corrupt_checkpoint_is_reported_not_raised(tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "p.png")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 64)
    rc = main(["--model", str(tmp_path / "bad.safetensors"), "embed", str(tmp_path / "p.png")])
    assert rc == 2
    assert "bad.safetensors" in capsys.readouterr().err


def test_every_slot_kind_has_one_codec_and_the_layer_kinds_agree():
    from typing import get_args

    from latent_atelier.app.slot_codecs import CODECS, codec_for, layer_slot_kinds
    from latent_atelier.editors.operation import SlotKind

    assert set(CODECS) == set(get_args(SlotKind))
    layers = layer_slot_kinds()
    assert set(layers) == {"image", "rgba", "mask", "labels"}
    assert all(codec_for(k).from_layer is not None for k in layers)
    with pytest.raises(KeyError, match="no codec"):
        codec_for("audio")


def test_each_file_codec_round_trips(tmp_path):
    from latent_atelier.app.slot_codecs import codec_for

    rng = np.random.default_rng(0)
    cases = {
        "image": rng.random((6, 7, 3), dtype=np.float32),
        "mask": rng.random((6, 7), dtype=np.float32),
        "labels": rng.integers(0, 5, (6, 7)).astype(np.int32),
    }
    for kind, value in cases.items():
        codec = codec_for(kind)
        path = codec.write(value, tmp_path, kind)
        back = codec.read(str(path), None)
        tolerance = 1 / 255 if kind == "image" else 1 / 65535
        np.testing.assert_allclose(back, value, atol=tolerance + 1e-6)


def test_quality_sets_the_step_counts_not_given(tmp_path, capsys):
    from latent_atelier.app.cli import _quality_steps
    from latent_atelier.editors.registry import get_operation

    parser = build_parser()
    op = get_operation("embed")
    draft = parser.parse_args(["embed", "p.png", "--device", "cpu"])
    values = {"steps_w": None, "steps_noise": None}
    assert _quality_steps(op, draft, values) == {"steps_w": 100, "steps_noise": 100}
    assert "quality draft" in capsys.readouterr().err
    best = parser.parse_args(["embed", "p.png", "--quality", "best"])
    assert _quality_steps(op, best, dict(values)) == {"steps_w": 1000, "steps_noise": 1000}
    given = parser.parse_args(["embed", "p.png", "--steps-w", "7", "--quality", "standard"])
    assert given.steps_w == 7
    assert _quality_steps(op, given, {"steps_w": 7, "steps_noise": None}) == {"steps_noise": 300}


def test_input_mistakes_are_reported_before_the_model_loads(tmp_path, capfd):
    fake = tmp_path / "fake.png"
    fake.write_text("hello")
    # a model spec that would fail to load: the input error must come first
    no_model = ["--model", str(tmp_path / "no-model.pt"), "--out-dir", str(tmp_path)]
    assert main(["embed", str(fake), *no_model]) == 2
    err = capfd.readouterr().err
    assert "fake.png: not a readable image" in err and "object at 0x" not in err
    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
    assert main(["inpaint", str(photo), *no_model]) == 2
    assert "--hole FILE is required" in capfd.readouterr().err
