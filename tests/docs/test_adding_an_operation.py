"""The worked example in docs/adding-an-operation.md runs as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from latent_atelier.app.cli import build_parser
from latent_atelier.editors import registry
from latent_atelier.editors.operation import Progress
from tests.editors.conftest import tiny_stylegan2

DOC = Path(__file__).resolve().parents[2] / "docs" / "adding-an-operation.md"


@pytest.fixture()
def example_module():
    """The document's first Python block, executed as a module; unregistered afterwards."""
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    module = types.ModuleType("posterise_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(block, str(DOC), "exec"), module.__dict__)
        yield module.__dict__
    finally:
        registry._REGISTRY.pop("posterise", None)
        del sys.modules[module.__name__]


def test_the_example_operation_registers_runs_and_gets_a_cli_command(example_module):
    op_cls = registry.all_operations()["posterise"]
    assert op_cls is example_module["Posterise"]
    photo = np.random.default_rng(0).random((40, 50, 3), dtype=np.float32)
    params = example_module["PosteriseParams"](levels=3, steps_w=2)
    out = op_cls().run(tiny_stylegan2(), {"photo": photo}, params, Progress())
    assert out.outputs["result"].shape == photo.shape
    flat = out.outputs["posterised"]
    assert flat.shape == (32, 32, 3)
    assert set(np.unique(flat * 2)) <= {0.0, 1.0, 2.0}
    assert len(np.unique(flat * 2)) > 1  # not a blank image
    args = build_parser().parse_args(["posterise", "photo.png", "--levels", "6"])
    assert args.levels == 6
