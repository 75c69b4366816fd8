"""Exact-edit ground truth: the same synthetic avatar drawn again with one part swapped.

DiceBear draws every component from one seeded random stream, one draw per component
whatever the choice list holds, so forcing one component's variant (``render.mjs --set
part=variant``) leaves every other choice, colour, pose and background as it was. The
result is the portrait a perfect mask edit would give, with its exact label map.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache

import numpy as np

from latent_atelier.models.training.synthetic.builder import EVAL_ID_OFFSET
from latent_atelier.models.training.synthetic.sample import SvgRecord, render_sample
from latent_atelier.models.training.synthetic.svg_sources import JS_DIR, NodeSvgSource

#: the DiceBear option that draws each swappable part, per style (notionists calls the mouth "lips")
PART_OPTION = {"mouth": {"notionists": "lips"}, "eyes": {}, "hair": {}}
_LIST_VARIANTS = (
    "const c = await import('./node_modules/@dicebear/STYLE/lib/components/index.js');"
    "console.log(JSON.stringify(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Object.keys(v)]))));"
)


def option_name(part: str, style: str) -> str:
    """The DiceBear option of ``part`` in ``style``."""
    return PART_OPTION[part].get(style, part)


@cache
def style_variants(style: str) -> dict[str, tuple[str, ...]]:
    """Every component's variant names of a DiceBear style (read from its package)."""
    if not re.fullmatch(r"[a-z-]+", style):
        raise ValueError(f"bad style name {style!r}")
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("Node.js is needed to re-render avatars")
    out = subprocess.run(
        [node, "--input-type=module", "-e", _LIST_VARIANTS.replace("STYLE", style)],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {k: tuple(v) for k, v in json.loads(out.stdout).items()}


def drawn_variant(svg: str, option: str) -> str | None:
    """The variant of component ``option`` that an avatar SVG shows (None if not drawn)."""
    found = re.search(rf'data-part="{re.escape(option)}" data-variant="([^"]+)"', svg)
    return found.group(1) if found else None


def render_svg(seed: int, sample_id: int, overrides: dict[str, str] | None = None) -> SvgRecord:
    """One avatar record from render.mjs, with ``overrides`` (option -> variant) forced."""
    source = NodeSvgSource()
    cmd = [source.node, "render.mjs", "--seed", str(seed), "--start", str(sample_id), "--count", "1"]
    if overrides:
        cmd += ["--set", ",".join(f"{k}={v}" for k, v in overrides.items())]
    out = subprocess.run(cmd, cwd=source.js_dir, capture_output=True, text=True, check=True, timeout=120)
    obj = json.loads(out.stdout.strip().splitlines()[0])
    return SvgRecord(id=int(obj["id"]), style=str(obj["style"]), svg=str(obj["svg"]))


def swapped_pair(
    seed: int, eval_index: int, part: str, size: int, rng: np.random.Generator
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], str] | None:
    """(original, re-render) as (image, alpha, labels8) uint8 arrays, and the new variant,
    for held-out sample ``eval_index`` with ``part`` swapped; None when the part is not drawn."""
    sample_id = EVAL_ID_OFFSET + eval_index
    record = render_svg(seed, sample_id)
    option = option_name(part, record.style)
    current = drawn_variant(record.svg, option)
    choices = [v for v in style_variants(record.style).get(option, ()) if v != current]
    if current is None or not choices:
        return None
    new = str(rng.choice(choices))
    swapped = render_svg(seed, sample_id, {option: new})
    return render_sample(record, seed, size), render_sample(swapped, seed, size), new
