"""Opening and exporting documents: which reader/writer a path goes to (no widgets here)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from latent_atelier.app.document.document import Document
    from latent_atelier.app.document.layers import Layer

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")
PROJECT_SUFFIX = ".ora"
OPENABLE_SUFFIXES = (*IMAGE_SUFFIXES, PROJECT_SUFFIX)

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp)"
PROJECT_FILTER = "OpenRaster project (*.ora)"
OPEN_FILTER = (
    "Projects and images (*.ora *.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp);;"
    f"{PROJECT_FILTER};;{IMAGE_FILTER};;All files (*)"
)
FLAT_EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff)"
PSD_FILTER = "Photoshop layers (*.psd)"


def is_openable(path: str | Path) -> bool:
    """True for suffixes we can open (images and .ora projects)."""
    return Path(path).suffix.lower() in OPENABLE_SUFFIXES


def read_photo(path: str | Path) -> np.ndarray:
    """Read an image file into float32 HxWx3|4 pixels (ImageReadError when it cannot)."""
    from latent_atelier.app.document.image_read import read_image

    return read_image(path).pixels


def open_document(path: str | Path, undo_budget_bytes: int | None = None) -> Document:
    """A document from an .ora project or an image file (raises a clear error otherwise)."""
    path = Path(path)
    if path.suffix.lower() == PROJECT_SUFFIX:
        from latent_atelier.app.document.ora import load_ora

        doc = load_ora(path)
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        from latent_atelier.app.document.document import Document

        doc = Document.from_image(read_photo(path), name=path.stem)
        doc.path = None  # an image is not a project: Save asks where to write the .ora
    else:
        raise ValueError(
            f"{path.name}: unsupported file type; open an .ora project or a PNG, JPEG, TIFF, "
            "WebP or BMP image"
        )
    if undo_budget_bytes is not None:
        doc.history.set_budget(undo_budget_bytes)
    return doc


def background_layer_from(path: str | Path, size: tuple[int, int]) -> Layer:
    """A background layer from an image file, scaled to cover ``size = (w, h)`` and centred."""
    import cv2

    from latent_atelier.app.document.layers import LayerKind, new_layer

    pixels = read_photo(path)
    w, h = size
    ph, pw = pixels.shape[:2]
    scale = max(w / pw, h / ph)
    sw, sh = max(w, round(pw * scale)), max(h, round(ph * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(pixels, (sw, sh), interpolation=interp)
    x0, y0 = (sw - w) // 2, (sh - h) // 2
    cropped = resized[y0 : y0 + h, x0 : x0 + w]
    return new_layer(LayerKind.BACKGROUND, Path(path).stem, pixels=cropped)


def export_flattened(doc: Document, path: str | Path) -> Path:
    """Write the visible composite: PNG/TIFF with alpha, JPEG over white."""
    from latent_atelier.app.document.export import export_flattened as write_flattened

    return write_flattened(doc, path)


def export_layer(doc: Document, layer_id: str, path: str | Path) -> Path:
    """Write one layer at its own size (labels in palette colours, masks as grey)."""
    from latent_atelier.app.document.export import export_layer as write_layer

    return write_layer(doc, layer_id, path)


def export_psd(doc: Document, path: str | Path) -> Path:
    """Layers as a PSD (names, opacity, visibility)."""
    from latent_atelier.app.document.psd_export import export_psd as write_psd

    write_psd(doc, path)
    return Path(path)
