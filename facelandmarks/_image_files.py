"""Image files: opening, the decompression-bomb guard, header reads and full decodes.

Private helper of :mod:`facelandmarks.images` (the public entry point, whose module docstring
describes the size limit and the decoding policy). NumPy and Pillow only.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import warnings
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from facelandmarks._pixels import _DECODE_ERRORS, _orient, _orientation, _pil_to_rgb

_AXES_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
# PNG chunks that Pillow reads into ``info`` and that can carry an EXIF orientation.
_PNG_METADATA_CHUNKS = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt"})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

MAX_PIXELS = 150_000_000
"""Default largest image file, in pixels (width x height), that is decoded: 150 million, e.g.
12000x12000 or a 102-megapixel camera's 11648x8736; about 0.45 GB as RGB ``uint8`` and 1.5 GB
peak for a whole ``predict_faces``. It stays below Pillow's own refusal threshold
(``2 * PIL.Image.MAX_IMAGE_PIXELS``, 179 million by default). ``$FACELANDMARKS_MAX_PIXELS``
overrides it (see :func:`max_pixels`)."""
MAX_PIXELS_ENV = "FACELANDMARKS_MAX_PIXELS"

# Serialises the short spans where Pillow's DecompressionBombWarning is filtered out
# (warnings.catch_warnings changes process-wide state).
_WARNINGS_LOCK = threading.Lock()


def max_pixels() -> int | None:
    """The largest image file (width x height, in pixels) :func:`load_image` decodes.

    ``$FACELANDMARKS_MAX_PIXELS`` when set (a positive integer; ``0`` or ``none``: no limit of
    ours, Pillow's ``2 * PIL.Image.MAX_IMAGE_PIXELS`` still applies), else :data:`MAX_PIXELS`.
    Read at every call, so it can be changed while a program runs.

    Returns:
        The limit, or ``None`` for none.

    Raises:
        ValueError: the variable holds something else (names it and what it holds).

    Example:
        >>> max_pixels() == MAX_PIXELS  # doctest: +SKIP
        True
    """
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return MAX_PIXELS
    if text.lower() in ("0", "none"):
        return None
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = -1
    if value < 1:
        raise ValueError(
            f"${MAX_PIXELS_ENV} must be a positive number of pixels (width x height), or 0 or "
            f"'none' for no limit. Received: {MAX_PIXELS_ENV}={text!r}"
        )
    return value


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def _path_string(path: str | os.PathLike[Any]) -> str:
    return os.fsdecode(os.fspath(path))


def _check_path(path: str | os.PathLike[Any], label: str) -> None:
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Image {label!r} is a directory; expected the path of an image file. "
            f"Received: image={_path_string(path)!r}"
        )
    if not os.path.exists(path):
        text = _path_string(path)
        hint = ""
        if "://" in text:
            hint = " URLs are not downloaded; download the file first."
        raise FileNotFoundError(
            f"Image file {label!r} not found; expected the path of an existing image file."
            f"{hint} Received: image={text!r}"
        )


def _not_an_image(label: str, err: BaseException) -> ValueError:
    return ValueError(
        f"Image file {label!r} is not an image file Pillow can identify "
        f"(expected e.g. JPEG, PNG, BMP, TIFF, WebP). Received: {err}"
    )


def _corrupt(label: str, err: BaseException) -> ValueError:
    return ValueError(
        f"Image file {label!r} could not be decoded; it is corrupt or truncated. "
        f"Received: {type(err).__name__}: {err}"
    )


@contextlib.contextmanager
def _no_bomb_warning(size: tuple[int, int] | None = None) -> Any:
    """Filter out Pillow's DecompressionBombWarning (our own limit has been checked, or is
    checked right after opening); with a known ``size`` below Pillow's warning threshold,
    nothing is done (no lock: ordinary images decode in parallel threads)."""
    limit = Image.MAX_IMAGE_PIXELS
    if size is not None and (limit is None or size[0] * size[1] <= limit):
        yield
        return
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _open(fp: Any, label: str) -> Image.Image:
    """``Image.open`` reading the header only, with clear errors (all naming ``label``)."""
    try:
        with _no_bomb_warning():
            return Image.open(fp)
    except Image.DecompressionBombError as err:
        raise _too_large(label, None, err) from err
    except UnidentifiedImageError as err:
        raise _not_an_image(label, err) from err
    except _DECODE_ERRORS as err:
        raise _corrupt(label, err) from err


def _too_large(label: str, size: tuple[int, int] | None, err: BaseException | None) -> ValueError:
    limit = max_pixels()
    pil_limit = 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else None
    if size is not None:
        w, h = size
        what = f"is {w}x{h} pixels ({w * h / 1e6:.1f} megapixels, {3 * w * h / 1e9:.1f} GB as RGB)"
        need = w * h
    else:  # Pillow refused it while reading the header: "Image size (N pixels) exceeds ..."
        words = str(err).replace("(", " ").split()
        need = next((int(t) for t in words if t.isdigit()), 0)
        what = f"claims {need / 1e6:.1f} megapixels"
    if limit is not None and need > limit:
        allowed = f"above the limit of {limit / 1e6:g} megapixels"
        how = (
            f"if it is a genuine photo, raise the limit (environment variable "
            f"{MAX_PIXELS_ENV}={need}) or downscale it first"
        )
        if pil_limit is not None and need > pil_limit:
            how += f" (and set PIL.Image.MAX_IMAGE_PIXELS to at least {need // 2 + 1})"
    else:
        allowed = f"above Pillow's limit of {pil_limit / 1e6 if pil_limit else 0:g} megapixels"
        how = f"raise PIL.Image.MAX_IMAGE_PIXELS to at least {need // 2 + 1}, or downscale it"
    return ValueError(
        f"Image file {label!r} {what}, {allowed} (a guard against decompression bombs); {how}."
    )


def _check_pixels(pil: Image.Image, label: str) -> None:
    limit = max_pixels()
    if limit is not None and pil.width * pil.height > limit:
        raise _too_large(label, pil.size, None)


def _decode_pixels(pil: Image.Image, label: str) -> None:
    """Decode every pixel now (LOAD_TRUNCATED_IMAGES is left False), so that a truncated file
    raises, naming ``label``, instead of being padded with grey; the pixel limit first."""
    _check_pixels(pil, label)
    try:
        with _no_bomb_warning(pil.size):
            pil.load()
    except Image.DecompressionBombError as err:
        raise _too_large(label, None, err) from err
    except _DECODE_ERRORS as err:
        raise _corrupt(label, err) from err


def _load_file(path: str | os.PathLike[Any], label: str) -> np.ndarray:
    _check_path(path, label)
    with open(path, "rb") as fp:
        pil = _open(fp, label)
        with pil:
            _decode_pixels(pil, label)
            orientation = _orientation(pil)
            rgb = _pil_to_rgb(pil, label)
    return _orient(rgb, orientation)


def _file_size(path: str | os.PathLike[Any], label: str) -> tuple[int, int]:
    width, height, orientation = _file_header(path, label)
    if orientation in _AXES_SWAPPING_ORIENTATIONS:
        width, height = height, width
    return width, height


def exif_orientation(path: str | os.PathLike[Any]) -> int:
    """The EXIF orientation (1..8; 1 = stored upright) of an image file, from its header.

    :func:`load_image` applies it; ``tf.io.decode_image`` does not, so the training pipeline
    asks this to decide which files to decode through :func:`load_image`.

    Raises:
        FileNotFoundError, IsADirectoryError, ValueError: as :func:`image_size`.
    """
    return _file_header(path, _path_string(path))[2]


def _file_header(path: str | os.PathLike[Any], label: str) -> tuple[int, int, int]:
    """Stored ``(width, height)`` and the EXIF orientation, reading only the header."""
    _check_path(path, label)
    with open(path, "rb") as fp:
        pil = _open(fp, label)
        with pil:
            width, height = pil.size
            if pil.format == "PNG" and "exif" not in pil.info:
                if _png_has_metadata_after_idat(path):
                    # Pillow reads the chunks after the pixel data only while decoding it.
                    _decode_pixels(pil, label)
                    orientation = _orientation(pil)
                else:
                    # Pillow's PNG getexif() would decode the whole image to look for metadata
                    # after the pixel data; there is none, so the generic reader gives the
                    # same answer from the chunks already parsed.
                    orientation = _orientation(pil, generic=True)
            else:
                orientation = _orientation(pil)
    return int(width), int(height), int(orientation)


def _png_has_metadata_after_idat(path: str | os.PathLike[Any]) -> bool:
    """Whether a PNG has chunks that may hold EXIF after its image data (True if unsure)."""
    with open(path, "rb") as fp:
        if fp.read(8) != _PNG_SIGNATURE:
            return True
        seen_idat = False
        while True:
            header = fp.read(8)
            if len(header) < 8:
                return True
            length, chunk_type = struct.unpack(">I4s", header)
            if chunk_type == b"IEND":
                return False
            if chunk_type == b"IDAT":
                seen_idat = True
            elif seen_idat and chunk_type in _PNG_METADATA_CHUNKS:
                return True
            fp.seek(length + 4, os.SEEK_CUR)  # chunk data and CRC
