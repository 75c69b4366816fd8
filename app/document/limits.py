"""Size limits that every reader checks before it decodes anything (no Qt).

A float32 RGBA layer of the largest image is 1 GB; the canvas, the undo history and
every operation work on float32 copies, so this is what the app can display and edit.
"""

from __future__ import annotations

MAX_IMAGE_PIXELS = 1 << 26  # 67.1 megapixels, e.g. 8192 x 8192
MAX_IMAGE_SIDE = 1 << 15  # 32768 px
MAX_IMAGE_FILE_BYTES = 2 << 30  # an image file is read into memory before decoding


def image_size_problem(width: int, height: int) -> str | None:
    """Why an image of ``width`` x ``height`` px is refused (None when it is not)."""
    if width <= 0 or height <= 0:
        return f"it declares an empty size {width} x {height}"
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
        return (
            f"it is {width} x {height} px ({width * height / 1e6:.1f} megapixels); the limit is "
            f"{MAX_IMAGE_PIXELS / 1e6:.1f} megapixels (e.g. 8192 x 8192) and {MAX_IMAGE_SIDE} px "
            "a side: scale it down first"
        )
    return None
