"""Turn whatever a user passes as "an image" into RGB ``uint8`` pixel arrays.

This is the only module that reads image files or converts image objects; everything
downstream works on ``(H, W, 3)`` ``uint8`` RGB arrays. It depends on NumPy and Pillow only
(no Keras, no TensorFlow), so it is cheap to import.

Accepted inputs (:data:`ImageLike`):

* a path (``str`` or :class:`os.PathLike`) to any file Pillow can decode. Multi-frame files
  (GIF, TIFF, APNG, MPO) give their first frame. URLs are not downloaded.
* a :class:`PIL.Image.Image`.
* a :class:`numpy.ndarray` of dtype ``uint8`` or ``uint16`` and shape ``(H, W)``,
  ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``; channels last, channel order RGB(A).

Coordinate frame: files and PIL images are returned in their **EXIF-oriented frame**, the way
an image viewer shows them. A JPEG stored 640 wide and 480 high with EXIF orientation 6
("rotate 90 degrees clockwise to view") comes back as a ``(640, 480, 3)`` array, i.e. 480 wide
and 640 high, and landmarks predicted on it are pixel coordinates of that upright picture.
Arrays carry no metadata and are used as they are.

Pixel conversions (no colour management: ICC profiles are ignored):

==========================  ============================================================
Pillow mode / array         Result
==========================  ============================================================
``RGB``                     unchanged
``L``, ``1``                grey value copied to R, G and B (``1`` gives 0 or 255)
``LA``, ``La``, ``RGBA``,   alpha is **dropped**, not composited: a fully transparent pixel
``RGBa``, ``RGBX``, ``PA``  keeps the colour stored under it
``P``                       palette looked up; palette transparency is dropped
``CMYK``, ``YCbCr``, other  Pillow's ``Image.convert("RGB")``
``I;16``, ``I;16B``,        16-bit grey scaled to 8 bits as ``value >> 8`` (the full range
``I;16L``, ``I;16N``        0..65535 maps onto 0..255; nothing is clipped)
``I`` (32-bit integer)      treated as 16-bit grey (``>> 8``); values outside 0..65535
                            raise :class:`ValueError`
``F`` (32-bit float)        :class:`ValueError`: floats have no agreed intensity range
``uint16`` arrays           ``>> 8`` as above
==========================  ============================================================

16-bit images (arrays or files) whose values are all in 1..255 log a warning naming them: such
data is almost surely 8-bit, and ``>> 8`` turns it black.

Returned arrays are always new, writable, C-contiguous ``uint8`` arrays: the caller's array
or image is never modified and never shared.

Large files: a file whose header claims more than :func:`max_pixels` pixels (width x height;
:data:`MAX_PIXELS` = 150 million unless ``$FACELANDMARKS_MAX_PIXELS`` says otherwise) is
refused with a :class:`ValueError` naming it, its size and how to raise the limit, before any
pixel is decoded: a guard against decompression bombs (a small PNG can claim 100000x100000
pixels, 30 GB decoded). Below the limit, photos are decoded whatever their size, without
Pillow's ``DecompressionBombWarning``. Arrays and PIL images are used as given. See
docs/limits.md.

Files are decoded completely when loaded, with Pillow's ``LOAD_TRUNCATED_IMAGES`` left off, so
a truncated or corrupt file raises :class:`ValueError` instead of coming back padded with grey.
Pillow decides what "complete" means: a JPEG without its end-of-image marker is refused, while
a PNG whose pixel data is all there but whose final ``IEND`` chunk is missing is accepted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sized
from collections.abc import Set as AbstractSet
from typing import Any, TypeAlias

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = [
    "MAX_PIXELS",
    "ImageLike",
    "as_image_list",
    "count_images",
    "image_size",
    "iter_images",
    "load_image",
    "max_pixels",
]

logger = logging.getLogger(__name__)

ImageLike: TypeAlias = str | os.PathLike[str] | Image.Image | np.ndarray
"""One image: a file path, a PIL image, or a ``uint8``/``uint16`` pixel array."""

_ACCEPTED = "a file path (str or os.PathLike), a PIL.Image.Image or a numpy.ndarray"
_ACCEPTED_MANY = (
    f"one image ({_ACCEPTED}), a list or tuple of such images, "
    "or a 4-D uint8 array of shape (N, H, W, 3)"
)
_ARRAY_EXPECTED = (
    "a uint8 or uint16 array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) "
    "(grey, RGB or RGBA, channels last)"
)

_ORIENTATION_TAG = 0x0112
_AXES_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
# Errors Pillow and its codecs raise on a corrupt or truncated file (UnidentifiedImageError
# and "image file is truncated" are OSErrors).
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, struct.error, zlib.error)
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


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def load_image(image: ImageLike, *, name: str | None = None) -> np.ndarray:
    """Load one image as an RGB ``uint8`` array.

    Files and PIL images are returned in their EXIF-oriented frame (as a viewer shows them);
    the conversions applied to each Pillow mode and array dtype are listed in the module
    docstring. The file is fully decoded, so truncated or corrupt files are reported here
    rather than showing up as grey blocks in the pixels.

    Args:
        image: A path (``str`` or ``os.PathLike``) to an image file, a ``PIL.Image.Image``, or
            a ``uint8``/``uint16`` array of shape ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or
            ``(H, W, 4)``.
        name: How to call the image in error messages. Defaults to the path, ``"<PIL image>"``
            or ``"<array>"``.

    Returns:
        A new, writable, C-contiguous ``uint8`` array of shape ``(H, W, 3)``, RGB, in pixel
        rows top to bottom of the EXIF-oriented image. It never shares memory with ``image``.

    Raises:
        FileNotFoundError: ``image`` is a ``str``/path that does not exist.
        IsADirectoryError: ``image`` is the path of a directory.
        ValueError: The file is not an image, is corrupt or truncated, or its header claims
            more than :func:`max_pixels` pixels (nothing is decoded then); the array has the
            wrong shape or dtype or zero size; the image has a mode without a defined
            conversion (``F``, or ``I`` outside 0..65535).
        TypeError: ``image`` is of none of the accepted types.

    Example:
        >>> import numpy as np
        >>> grey = np.array([[0, 128], [255, 7]], dtype=np.uint8)
        >>> rgb = load_image(grey)
        >>> rgb.shape, rgb.dtype, rgb[0, 1].tolist()
        ((2, 2, 3), dtype('uint8'), [128, 128, 128])
    """
    if isinstance(image, (str, os.PathLike)):
        path = _path_string(image)
        label = name if name is not None else path
        return _load_file(image, label)
    if isinstance(image, Image.Image):
        label = name if name is not None else "<PIL image>"
        _load_pil(image, label)
        return _orient(_pil_to_rgb(image, label), _orientation(image))
    if isinstance(image, np.ndarray):
        label = name if name is not None else "<array>"
        return _array_to_rgb(image, label)
    raise _type_error(image, name if name is not None else "`image`")


def as_image_list(images: Any) -> list[ImageLike]:
    """Normalise the "one image or many" argument of ``predict`` into a list.

    Nothing is loaded; only the types are checked, so errors about wrong types come before
    any work is done. Iterators and generators are refused because making a list of them
    would pull every item into memory: stream them with :func:`iter_images` instead.

    Args:
        images: One image (a path, a ``PIL.Image.Image``, or an array that is not 4-D); a list,
            tuple or other sequence of images (kinds and sizes may be mixed); or a 4-D array
            of shape ``(N, H, W, C)``, which is split along its first axis.

    Returns:
        A new list of the images. Items split from a 4-D array are views of it (they are
        copied by :func:`load_image`).

    Raises:
        TypeError: ``images`` or one of its items has a type that is not accepted, or
            ``images`` is an iterator/generator, a mapping, a set or ``bytes``.

    Example:
        >>> import numpy as np
        >>> len(as_image_list(np.zeros((4, 8, 8, 3), np.uint8)))
        4
        >>> as_image_list("face.jpg")
        ['face.jpg']
    """
    kind, obj = _classify(images, "as_image_list")
    if kind == "single":
        return [obj]
    if kind == "batch":
        return [obj[i] for i in range(obj.shape[0])]
    if kind == "iterator":
        raise TypeError(
            "as_image_list does not consume iterators or generators (that would load every "
            "item into memory); use iter_images() to stream them, or pass list(images). "
            f"Received: {type(images).__name__}"
        )
    items = list(obj)
    for i, item in enumerate(items):
        if not _is_single_type(item):
            raise _type_error(item, f"images[{i}]")
    return items


def iter_images(images: Any) -> Iterator[tuple[str, np.ndarray]]:
    """Lazily load images one at a time, so that long lists and generators stream.

    The container is checked when this function is called; each image is loaded only when
    the returned iterator is advanced, and an iterator or generator given as ``images`` is
    advanced only one item at a time (never ahead of what has been yielded).

    Args:
        images: Anything :func:`as_image_list` accepts, or an iterator/generator of images.

    Returns:
        An iterator of ``(display_name, rgb)`` pairs. ``display_name`` is the path as a
        string for files, ``"<array #i>"`` for arrays (including the rows of a 4-D batch) and
        ``"<PIL image #i>"`` for PIL images, ``i`` being the 0-based position. ``rgb`` is the
        ``(H, W, 3)`` ``uint8`` array :func:`load_image` returns.

    Raises:
        TypeError: At call time if ``images`` is of an unaccepted type; while iterating if an
            item is (the message names the item by its position).
        FileNotFoundError, IsADirectoryError, ValueError: While iterating, as
            :func:`load_image` raises them, naming the item.

    Example:
        >>> import numpy as np
        >>> batch = np.zeros((2, 4, 6, 3), np.uint8)
        >>> [(name, rgb.shape) for name, rgb in iter_images(batch)]
        [('<array #0>', (4, 6, 3)), ('<array #1>', (4, 6, 3))]
    """
    kind, obj = _classify(images, "iter_images")
    return _iterate(kind, obj)


IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}
)
"""File name endings (lower case) taken as images when a folder is given as input."""


def folder_images(folder: str | os.PathLike[str]) -> list[str]:
    """The image files directly inside ``folder`` (by :data:`IMAGE_SUFFIXES`), sorted by name.

    Raises:
        NotADirectoryError: ``folder`` is not a directory.
    """
    path = _path_string(folder)
    if not os.path.isdir(path):
        raise NotADirectoryError(f"not a folder: {path!r}")
    names = sorted(os.listdir(path))
    return [
        os.path.join(path, n)
        for n in names
        if os.path.splitext(n)[1].lower() in IMAGE_SUFFIXES
        and os.path.isfile(os.path.join(path, n))
    ]


def iter_items(images: Any) -> Iterator[tuple[int, str, ImageLike]]:
    """The images of a ``predict`` argument one by one, *without loading them*, so that a
    caller can load each and handle its errors alone: ``(index, display_name, item)``.

    A folder path (given alone or in a list) stands for the image files in it
    (:func:`folder_images`); ``index`` counts images after that expansion. Types are checked as
    in :func:`iter_images`; an iterator is advanced one item at a time.

    Raises:
        TypeError: ``images`` is of an unaccepted type (at call time) or an item is (when
            reached).
    """
    kind, obj = _classify(images, "iter_items")
    return _items(kind, obj)


def _items(kind: str, obj: Any) -> Iterator[tuple[int, str, ImageLike]]:
    if kind == "batch":
        for i in range(obj.shape[0]):
            yield i, f"<array #{i}>", obj[i]
        return
    index = 0
    for position, item in enumerate([obj] if kind == "single" else obj):
        if isinstance(item, (str, os.PathLike)) and os.path.isdir(item):
            paths = folder_images(item)
            if not paths:
                logger.warning(
                    "folder %s holds no image files (%s); nothing to do there",
                    _path_string(item),
                    ", ".join(sorted(IMAGE_SUFFIXES)),
                )
            for path in paths:
                yield index, path, path
                index += 1
            continue
        if not _is_single_type(item):
            raise _type_error(item, f"images[{position}]")
        yield index, _display_name(item, index), item
        index += 1


def count_images(images: Any) -> int | None:
    """Number of images in ``images`` where it is known without loading or consuming anything.

    Args:
        images: Anything :func:`iter_images` accepts.

    Returns:
        1 for a single image, ``N`` for a 4-D array or a sized collection, ``None`` for an
        iterator or generator (whose length is unknown until it is exhausted).

    Raises:
        TypeError: ``images`` is of an unaccepted type.

    Example:
        >>> count_images(["a.jpg", "b.png"]), count_images(iter(["a.jpg"]))
        (2, None)
    """
    kind, obj = _classify(images, "count_images")
    if kind == "single" and isinstance(obj, (str, os.PathLike)) and os.path.isdir(obj):
        return len(folder_images(obj))
    if kind == "single":
        return 1
    if kind == "batch":
        return int(obj.shape[0])
    if kind == "collection" and isinstance(obj, Sized):
        return sum(
            len(folder_images(x)) if isinstance(x, (str, os.PathLike)) and os.path.isdir(x) else 1
            for x in obj
        )
    return None


def image_size(image: ImageLike) -> tuple[int, int]:
    """``(width, height)`` of an image in the frame :func:`load_image` returns it in.

    For files only the header and metadata are read, not the pixel data, so this is cheap
    even for large photos. The EXIF orientation is applied: orientations 5 to 8 swap width and
    height.

    Args:
        image: A path, a ``PIL.Image.Image`` or an array, as for :func:`load_image`.

    Returns:
        ``(width, height)`` in pixels, as Python ints, after EXIF orientation.

    Raises:
        FileNotFoundError: The path does not exist.
        IsADirectoryError: The path is a directory.
        ValueError: The file is not an image Pillow can identify (or claims more pixels than
            Pillow's ``2 * PIL.Image.MAX_IMAGE_PIXELS``); the array has the wrong
            shape, dtype or zero size.
        TypeError: ``image`` is of none of the accepted types.

    Example:
        >>> import numpy as np
        >>> image_size(np.zeros((480, 640, 3), np.uint8))
        (640, 480)
    """
    if isinstance(image, (str, os.PathLike)):
        return _file_size(image, _path_string(image))
    if isinstance(image, Image.Image):
        width, height = image.size
        if _orientation(image) in _AXES_SWAPPING_ORIENTATIONS:
            width, height = height, width
        return int(width), int(height)
    if isinstance(image, np.ndarray):
        arr = _check_array(image, "<array>")
        return int(arr.shape[1]), int(arr.shape[0])
    raise _type_error(image, "`image`")


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
# Containers
# --------------------------------------------------------------------------------------


def _is_single_type(obj: object) -> bool:
    return isinstance(obj, (str, os.PathLike, Image.Image, np.ndarray))


def _classify(images: Any, func: str) -> tuple[str, Any]:
    """Sort the ``images`` argument into single / batch / collection / iterator."""
    if isinstance(images, np.ndarray):
        return ("batch", images) if images.ndim == 4 else ("single", images)
    if _is_single_type(images):
        return "single", images
    refusal = None
    if isinstance(images, (bytes, bytearray, memoryview)):
        refusal = (
            "Encoded image bytes are not accepted; decode them with "
            "PIL.Image.open(io.BytesIO(data)) first."
        )
    elif isinstance(images, Mapping):
        refusal = "Mappings are not accepted; pass e.g. list(images.values())."
    elif isinstance(images, AbstractSet):
        refusal = "Sets are not accepted because they have no order; pass a sorted list."
    elif isinstance(images, Iterator):
        return "iterator", images
    elif isinstance(images, Iterable):
        return "collection", images
    hint = f" {refusal}" if refusal else ""
    raise TypeError(
        f"{func} expects `images` as {_ACCEPTED_MANY}, or (iter_images and count_images only) "
        f"an iterator of images.{hint} Received: object of type {type(images).__name__}"
    )


def _display_name(item: object, index: int) -> str:
    if isinstance(item, (str, os.PathLike)):
        return _path_string(item)
    if isinstance(item, Image.Image):
        return f"<PIL image #{index}>"
    if isinstance(item, np.ndarray):
        return f"<array #{index}>"
    return f"<{type(item).__name__} #{index}>"


def _iterate(kind: str, obj: Any) -> Iterator[tuple[str, np.ndarray]]:
    if kind == "single":
        name = _display_name(obj, 0)
        yield name, load_image(obj, name=name)
    elif kind == "batch":
        for i in range(obj.shape[0]):
            name = f"<array #{i}>"
            yield name, load_image(obj[i], name=name)
    else:
        # enumerate() asks the underlying iterator for exactly one item per step.
        for i, item in enumerate(obj):
            name = _display_name(item, i)
            yield name, load_image(item, name=name)


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


def _load_file(path: str | os.PathLike[Any], label: str) -> np.ndarray:
    _check_path(path, label)
    with open(path, "rb") as fp:
        pil = _open(fp, label)
        with pil:
            _check_pixels(pil, label)
            try:
                # Decode every pixel now (LOAD_TRUNCATED_IMAGES is left False), so that a
                # truncated file raises instead of being padded with grey.
                with _no_bomb_warning(pil.size):
                    pil.load()
            except Image.DecompressionBombError as err:
                raise _too_large(label, None, err) from err
            except _DECODE_ERRORS as err:
                raise _corrupt(label, err) from err
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
                    _check_pixels(pil, label)
                    try:
                        with _no_bomb_warning(pil.size):
                            pil.load()
                    except Image.DecompressionBombError as err:
                        raise _too_large(label, None, err) from err
                    except _DECODE_ERRORS as err:
                        raise _corrupt(label, err) from err
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


# --------------------------------------------------------------------------------------
# PIL images
# --------------------------------------------------------------------------------------


def _load_pil(image: Image.Image, label: str) -> None:
    try:
        image.load()
    except _DECODE_ERRORS as err:
        raise ValueError(
            f"Image {label} could not be decoded; it is closed, corrupt or truncated. "
            f"Received: {type(err).__name__}: {err}"
        ) from err


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


def _orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to an ``(H, W, 3)`` array, as ``exif_transpose`` does."""
    if orientation == 2:  # mirrored horizontally
        view = rgb[:, ::-1]
    elif orientation == 3:  # rotated 180 degrees
        view = rgb[::-1, ::-1]
    elif orientation == 4:  # mirrored vertically
        view = rgb[::-1]
    elif orientation == 5:  # transposed (mirror along the main diagonal)
        view = rgb.transpose(1, 0, 2)
    elif orientation == 6:  # stored rotated 90 degrees counter-clockwise: rotate clockwise
        view = np.rot90(rgb, k=-1)
    elif orientation == 7:  # transverse (mirror along the anti-diagonal)
        view = rgb.transpose(1, 0, 2)[::-1, ::-1]
    elif orientation == 8:  # stored rotated 90 degrees clockwise: rotate counter-clockwise
        view = np.rot90(rgb, k=1)
    else:
        return rgb
    return np.ascontiguousarray(view)


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


# --------------------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------------------


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
        _warn_if_8bit_in_16(view, label)
        view = view >> 8  # 16 -> 8 bits over the full range: 65535 -> 255, never clipped
    out = np.empty((arr.shape[0], arr.shape[1], 3), dtype=np.uint8)
    np.copyto(out, view, casting="unsafe")  # broadcasts one grey channel to three
    return out


def _warn_if_8bit_in_16(values: np.ndarray, label: str) -> None:
    """16-bit pixels that never exceed 255 are almost surely 8-bit data in a uint16 container;
    scaled as 16-bit (``>> 8``) they come out black, so say so."""
    high = int(values.max())
    if 0 < high <= 255:
        logger.warning(
            "%s is 16-bit but its values are all <= %d: it looks like 8-bit data. 16-bit images "
            "are scaled to 8 bits as value >> 8, so it comes out black (all <= %d); if its "
            "values are 0..255, pass it as uint8 (e.g. image.astype(np.uint8)).",
            label,
            high,
            high >> 8,
        )


def _type_error(obj: object, label: str) -> TypeError:
    hint = ""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        hint = " To use encoded image bytes, open them with PIL.Image.open(io.BytesIO(data))."
    elif isinstance(obj, (list, tuple)):
        hint = " For pixel data given as nested lists, pass np.asarray(..., dtype=np.uint8)."
    return TypeError(
        f"Unsupported image {label}: expected {_ACCEPTED}.{hint} "
        f"Received: object of type {type(obj).__name__}"
    )
