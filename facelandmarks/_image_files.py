"""Image files: opening, the decompression-bomb guard, header reads and full decodes.

Private helper of :mod:`facelandmarks.images` (the public entry point, whose module docstring
describes the size limit and the decoding policy) and of the iBUG reader, which reads only the
headers. NumPy and Pillow only.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from facelandmarks._pixels import _DECODE_ERRORS, _orientation, _upright_rgb

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


def _path_string(path: str | os.PathLike[Any]) -> str:
    return os.fsdecode(os.fspath(path))


@contextlib.contextmanager
def _pillow(label: str, size: tuple[int, int] | None = None) -> Iterator[None]:
    """Run a Pillow open or decode with clear errors naming ``label``, without Pillow's
    DecompressionBombWarning (our own limit has been checked, or is checked right after
    opening). With a known ``size`` below Pillow's warning threshold the warning filters are
    left alone (no lock: ordinary images decode in parallel threads)."""
    limit = Image.MAX_IMAGE_PIXELS
    try:
        if size is not None and (limit is None or size[0] * size[1] <= limit):
            yield
        else:
            with _WARNINGS_LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                yield
    except Image.DecompressionBombError as err:
        raise _too_large(label, None, err) from err
    except UnidentifiedImageError as err:  # its text only repeats the name, as a file object's
        raise ValueError(
            f"Image file {label!r} is not an image file Pillow can identify (expected e.g. "
            "JPEG, PNG, BMP, TIFF or WebP)"
        ) from err
    except _DECODE_ERRORS as err:
        raise ValueError(
            f"Image file {label!r} could not be decoded; it is corrupt or truncated. "
            f"Received: {type(err).__name__}: {err}"
        ) from err


@contextlib.contextmanager
def _opened(path: str | os.PathLike[Any], label: str) -> Iterator[Image.Image]:
    """The file opened by Pillow, its header read only; errors name ``label``."""
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Image {label!r} is a directory; expected the path of an image file. "
            f"Received: image={_path_string(path)!r}"
        )
    if not os.path.exists(path):
        text = _path_string(path)
        hint = " URLs are not downloaded; download the file first." if "://" in text else ""
        raise FileNotFoundError(
            f"Image file {label!r} not found; expected the path of an existing image file."
            f"{hint} Received: image={text!r}"
        )
    with open(path, "rb") as fp:
        with _pillow(label):
            pil = Image.open(fp)
        with pil:
            yield pil


def _too_large(label: str, size: tuple[int, int] | None, err: BaseException | None) -> ValueError:
    limit = max_pixels()
    pil_limit = 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else None
    if size is not None:
        w, h = size
        what = f"is {w}x{h} pixels ({w * h / 1e6:.1f} megapixels, {3 * w * h / 1e9:.1f} GB as RGB)"
        need = w * h
    else:  # Pillow refused it while reading the header: "Image size (N pixels) exceeds ..."
        words = str(err).replace("(", " ").split()
        need = next((int(t) for t in words if t.isdigit()), None)
        if need is None:  # a wording without the count: pass Pillow's own words on
            return ValueError(
                f"Image file {label!r}: {err} (a guard against decompression bombs); raise "
                "PIL.Image.MAX_IMAGE_PIXELS or downscale it."
            )
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


def _decode_pixels(pil: Image.Image, label: str) -> None:
    """Decode every pixel now (LOAD_TRUNCATED_IMAGES is left False), so that a truncated file
    raises, naming ``label``, instead of being padded with grey; the pixel limit first."""
    limit = max_pixels()
    if limit is not None and pil.width * pil.height > limit:
        raise _too_large(label, pil.size, None)
    with _pillow(label, pil.size):
        pil.load()


def _load_file(path: str | os.PathLike[Any], label: str) -> np.ndarray:
    with _opened(path, label) as pil:
        _decode_pixels(pil, label)
        return _upright_rgb(pil, label)


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
    with _opened(path, label) as pil:
        width, height = pil.size
        # Pillow's PNG getexif() decodes the whole image to look for metadata after the pixel
        # data; where there is none, the generic reader gives the same answer from the chunks
        # already parsed. Where there may be, decoding is what makes Pillow read them.
        generic = pil.format == "PNG" and "exif" not in pil.info
        if generic and _png_has_metadata_after_idat(path):
            _decode_pixels(pil, label)
            generic = False
        return int(width), int(height), _orientation(pil, generic=generic)


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
