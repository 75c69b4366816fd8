"""Turn one part-tagged DiceBear SVG into a posed picture SVG and a flat-coloured label SVG.

The Node renderer wraps every component's markup in ``<g data-part="NAME">``. The label
SVG paints each visible shape in the flat colour of its innermost group's class, with
anti-aliasing off, so decoding the colours gives an exact per-pixel part map.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from .parts import part_class

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)

#: Flat RGB colour per label class: the corners of the RGB cube, so decoding is a threshold.
LABEL_COLOURS: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 0),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
)

_SHAPES = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text"}
_PAINT_SERVERS = {"mask", "clipPath", "defs", "linearGradient", "radialGradient", "pattern"}
_NO_PAINT = {"none", "transparent"}
_MIN_LABEL_OPACITY = 0.5


@dataclass(frozen=True)
class Pose:
    """Similarity transform about the picture centre: degrees, scale, shift in picture widths."""

    rotation: float = 0.0
    scale: float = 1.0
    shift_x: float = 0.0
    shift_y: float = 0.0


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _style_dict(elem: ET.Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in elem.get("style", "").split(";"):
        if ":" in item:
            key, value = item.split(":", 1)
            out[key.strip()] = value.strip()
    return out


def _prop(elem: ET.Element, style: dict[str, str], name: str) -> str | None:
    return style.get(name, elem.get(name))


def _opacity(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        return float(value.rstrip("%")) / (100.0 if value.endswith("%") else 1.0)
    except ValueError:
        return 1.0


def _pose_and_unclip(root: ET.Element, pose: Pose) -> None:
    """Drop DiceBear's viewbox clip and wrap the artwork in the pose transform."""
    box = [float(v) for v in root.get("viewBox", "0 0 100 100").replace(",", " ").split()]
    x0, y0, w, h = box
    cx, cy = x0 + w / 2, y0 + h / 2
    transform = (
        f"translate({cx + pose.shift_x * w:.4f} {cy + pose.shift_y * h:.4f}) "
        f"rotate({pose.rotation:.4f}) scale({pose.scale:.5f}) translate({-cx:.4f} {-cy:.4f})"
    )
    wrapper = ET.Element(f"{{{SVG_NS}}}g", {"transform": transform})
    for child in list(root):
        root.remove(child)
        tag = _local(child.tag)
        if tag == "metadata" or (tag == "mask" and child.get("id") == "viewboxMask"):
            continue
        if child.get("mask") == "url(#viewboxMask)":
            del child.attrib["mask"]
        wrapper.append(child)
    root.append(wrapper)


def _recolour(
    elem: ET.Element,
    style_name: str,
    part: tuple[str | None, str | None],
    fill: str,
    stroke: str,
    opacity: float,
) -> None:
    tag = _local(elem.tag)
    if tag in _PAINT_SERVERS:
        return  # masks and gradients keep their own paint
    if "data-part" in elem.attrib:
        part = (elem.get("data-part"), elem.get("data-variant"))
    css = _style_dict(elem)
    fill = _prop(elem, css, "fill") or fill
    stroke = _prop(elem, css, "stroke") or stroke
    opacity *= _opacity(_prop(elem, css, "opacity"))
    for key in ("style", "opacity", "fill-opacity", "stroke-opacity", "filter"):
        elem.attrib.pop(key, None)
    if tag in _SHAPES:
        colour = "#{:02x}{:02x}{:02x}".format(*LABEL_COLOURS[part_class(part[0], style_name, part[1])])
        fill_alpha = opacity * _opacity(_prop(elem, css, "fill-opacity"))
        stroke_alpha = opacity * _opacity(_prop(elem, css, "stroke-opacity"))
        visible_fill = fill not in _NO_PAINT and fill_alpha >= _MIN_LABEL_OPACITY
        visible_stroke = stroke not in _NO_PAINT and stroke_alpha >= _MIN_LABEL_OPACITY
        elem.set("fill", colour if visible_fill else "none")
        elem.set("stroke", colour if visible_stroke else "none")
    else:
        elem.attrib.pop("fill", None)
        elem.attrib.pop("stroke", None)
    for child in elem:
        _recolour(child, style_name, part, fill, stroke, opacity)


def posed_svgs(svg: str, style: str, pose: Pose) -> tuple[str, str]:
    """Return (picture SVG, label SVG), both with the same pose and no viewbox clip."""
    root = ET.fromstring(svg)
    if _local(root.tag) != "svg":
        raise ValueError("expected an <svg> document from the DiceBear renderer")
    _pose_and_unclip(root, pose)
    picture = ET.tostring(root, encoding="unicode")
    root_fill = root.get("fill", "black")
    _recolour(root, style, (None, None), root_fill, "none", 1.0)
    root.set("shape-rendering", "crispEdges")
    label = ET.tostring(root, encoding="unicode")
    return picture, label
