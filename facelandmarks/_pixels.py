"""Pixels of a decoded image as RGB ``uint8``: PIL images and arrays, and EXIF orientation.

Private helper of :mod:`facelandmarks.images`, which documents the conversions (the table in
its module docstring) and is the public entry point. NumPy and Pillow only.
"""

from __future__ import annotations

import logging
import struct
import zlib

import numpy as np
from PIL import Image

# Logged under the public module's name, where these messages have always come from.
logger = logging.getLogger("facelandmarks.images")

_ARRAY_EXPECTED = (
    "a uint8 or uint16 array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) "
    "(grey, RGB or RGBA, channels last)"
)

_ORIENTATION_TAG = 0x0112
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
# Errors Pillow and its codecs raise on a corrupt or truncated file (UnidentifiedImageError
# and "image file is truncated" are OSErrors).
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, struct.error, zlib.error)


def _orientation(image: Image.Image, *, generic: bool = False) -> int:
    """The EXIF orientation (1..8) of ``image``; 1 when absent, invalid or unreadable.

    Reads the same tag (including an XMP ``tiff:Orientation``) that
    ``PIL.ImageOps.exif_transpose`` acts on. ``generic=True`` skips format-specific readers
    (Pillow's PNG reader decodes the image first).
    """
    try:
        exif = Image.Image.getexif(image) if generic else image.getexif()
    except (*_DECODE_ERRORS, KeyError, TypeError, IndexError) as err:
        logger.debug("Ignoring unreadable EXIF data: %s", err)
        return 1
    value = exif.get(_ORIENTATION_TAG, 1)
    try:
        orientation = int(value)
    except (TypeError, ValueError):
        return 1
    return orientation if 1 <= orientation <= 8 else 1


# EXIF orientation -> the view of the stored pixels that shows them upright.
_UPRIGHT = {
    2: lambda a: a[:, ::-1],  # mirrored horizontally
    3: lambda a: a[::-1, ::-1],  # rotated 180 degrees
    4: lambda a: a[::-1],  # mirrored vertically
    5: lambda a: a.transpose(1, 0, 2),  # transposed (mirror along the main diagonal)
    6: lambda a: np.rot90(a, k=-1),  # stored rotated 90 degrees counter-clockwise
    7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],  # transverse (mirror along the anti-diagonal)
    8: lambda a: np.rot90(a, k=1),  # stored rotated 90 degrees clockwise
}


def _upright_rgb(image: Image.Image, label: str) -> np.ndarray:
    """Pixels of a PIL image as a new ``(H, W, 3)`` uint8 array in its EXIF-oriented frame (as
    ``exif_transpose`` gives it), decoded first (a no-op for a file already decoded)."""
    try:
        image.load()
    except _DECODE_ERRORS as err:
        raise ValueError(
            f"Image {label} could not be decoded; it is closed, corrupt or truncated. "
            f"Received: {type(err).__name__}: {err}"
        ) from err
    rgb = _pil_to_rgb(image, label)
    upright = _UPRIGHT.get(_orientation(image))
    return rgb if upright is None else np.ascontiguousarray(upright(rgb))


def _pil_to_rgb(image: Image.Image, label: str) -> np.ndarray:
    """Pixels of a loaded PIL image as a new ``(H, W, 3)`` uint8 array, unoriented."""
    mode = image.mode
    if image.width == 0 or image.height == 0:
        raise ValueError(
            f"Image {label} has zero size; expected at least one pixel. "
            f"Received: PIL image of size {image.size} and mode {mode!r}"
        )
    if mode in _SIXTEEN_BIT_MODES:
        return _array_to_rgb(np.asarray(image), label)
    if mode == "I":
        values = np.asarray(image)
        low, high = int(values.min()), int(values.max())
        if low < 0 or high > 0xFFFF:
            raise ValueError(
                f"Image {label} has 32-bit integer mode 'I' with values outside 0..65535, "
                "which has no defined 8-bit conversion; expected 16-bit grey values. "
                f"Received: values from {low} to {high}"
            )
        return _array_to_rgb(values.astype(np.uint16), label)
    if mode == "F":
        raise ValueError(
            f"Image {label} has 32-bit float mode 'F', which has no defined intensity range; "
            "expected an 8- or 16-bit image. Scale it to 0..255 and convert it to uint8 first. "
            "Received: mode 'F'"
        )
    if mode == "RGB":
        rgb = image
    elif mode in ("P", "PA") and "transparency" in image.info:
        # Going through RGBA avoids Pillow's warning about palette transparency; the alpha
        # is then dropped like for any other image with alpha.
        rgb = image.convert("RGBA").convert("RGB")
    elif mode == "La":
        rgb = image.convert("LA").convert("RGB")
    else:
        try:
            rgb = image.convert("RGB")
        except ValueError as err:
            raise ValueError(
                f"Image {label} has Pillow mode {mode!r}, which cannot be converted to RGB; "
                f"expected a grey, palette, RGB(A), CMYK or YCbCr image. Received: {err}"
            ) from err
    return np.array(rgb, dtype=np.uint8, order="C", copy=True)


def _check_array(image: np.ndarray, label: str) -> np.ndarray:
    """Validate a pixel array; returns it as a plain ndarray (no copy)."""
    arr = np.asarray(image)
    dtype_ok = arr.dtype.kind == "u" and arr.dtype.itemsize in (1, 2)
    shape_ok = arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))
    if not (dtype_ok and shape_ok):
        hint = ""
        if arr.ndim == 4:
            hint = " A 4-D array is a batch: pass it to iter_images() or predict()."
        elif arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[2] not in (1, 3, 4):
            hint = " It looks channels-first; use np.moveaxis(image, 0, -1)."
        elif shape_ok and arr.dtype.kind == "f":
            hint = " Scale floats to 0..255 and use .astype(np.uint8) first."
        elif shape_ok and arr.dtype.kind in "iu":
            hint = " Convert it with .astype(np.uint8) if its values are in 0..255."
        raise ValueError(
            f"Invalid image {label}: expected {_ARRAY_EXPECTED}.{hint} "
            f"Received: array of shape {arr.shape} and dtype {arr.dtype}"
        )
    if arr.size == 0:
        raise ValueError(
            f"Invalid image {label}: it has zero size; expected at least one pixel. "
            f"Received: array of shape {arr.shape} and dtype {arr.dtype}"
        )
    return arr


def _array_to_rgb(image: np.ndarray, label: str) -> np.ndarray:
    arr = _check_array(image, label)
    view = arr[:, :, None] if arr.ndim == 2 else arr[:, :, :3]
    if arr.dtype.itemsize == 2:
        high = int(view.max())
        if 0 < high <= 255:  # almost surely 8-bit data in a uint16 container, which >> 8 blackens
            logger.warning(
                "%s is 16-bit but its values are all <= %d: it looks like 8-bit data. 16-bit "
                "images are scaled to 8 bits as value >> 8, so it comes out black (all <= %d); if "
                "its values are 0..255, pass it as uint8 (e.g. image.astype(np.uint8)).",
                label,
                high,
                high >> 8,
            )
        view = view >> 8  # 16 -> 8 bits over the full range: 65535 -> 255, never clipped
    out = np.empty((arr.shape[0], arr.shape[1], 3), dtype=np.uint8)
    np.copyto(out, view, casting="unsafe")  # broadcasts one grey channel to three
    return out
