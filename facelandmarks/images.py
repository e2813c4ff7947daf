"""Turn whatever a user passes as "an image" into RGB ``uint8`` pixel arrays.

This is the only public module that reads image files or converts image objects (with its
private helpers :mod:`facelandmarks._image_files`, for files, :mod:`facelandmarks._pixels`, for
pixel conversions, and :mod:`facelandmarks._image_lists`, for the "one image or many" argument);
everything downstream works on ``(H, W, 3)`` ``uint8`` RGB arrays. It depends on NumPy and
Pillow only (no Keras, no TensorFlow), so it is cheap to import.

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

import os
from collections.abc import Iterator
from typing import Any, TypeAlias

import numpy as np
from PIL import Image

from facelandmarks._image_files import (
    MAX_PIXELS,
    _file_header,
    _load_file,
    _path_string,
    max_pixels,
)
from facelandmarks._image_files import MAX_PIXELS_ENV as MAX_PIXELS_ENV
from facelandmarks._image_files import exif_orientation as exif_orientation
from facelandmarks._image_lists import IMAGE_SUFFIXES as IMAGE_SUFFIXES
from facelandmarks._image_lists import _as_iterable, _display_name, _type_error
from facelandmarks._image_lists import as_image_list as as_image_list
from facelandmarks._image_lists import count_images as count_images
from facelandmarks._image_lists import folder_images as folder_images
from facelandmarks._image_lists import iter_items as iter_items
from facelandmarks._pixels import _array_to_rgb, _check_array, _orientation, _upright_rgb

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

ImageLike: TypeAlias = str | os.PathLike[str] | Image.Image | np.ndarray
"""One image: a file path, a PIL image, or a ``uint8``/``uint16`` pixel array."""


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
        return _load_file(image, name if name is not None else _path_string(image))
    if isinstance(image, Image.Image):
        return _upright_rgb(image, name if name is not None else "<PIL image>")
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image, name if name is not None else "<array>")
    raise _type_error(image, name if name is not None else "`image`")


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
    # Lazy: a 4-D batch gives its rows, an iterator is advanced one item per step.
    items = enumerate(_as_iterable(images, "iter_images"))
    named = ((_display_name(item, i), item) for i, item in items)
    return ((name, load_image(item, name=name)) for name, item in named)


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
        width, height, orientation = _file_header(image, _path_string(image))
    elif isinstance(image, Image.Image):
        (width, height), orientation = image.size, _orientation(image)
    elif isinstance(image, np.ndarray):
        arr = _check_array(image, "<array>")
        return int(arr.shape[1]), int(arr.shape[0])
    else:
        raise _type_error(image, "`image`")
    if orientation in (5, 6, 7, 8):  # transposed or rotated by 90 degrees
        width, height = height, width
    return int(width), int(height)
