"""The "one image or many" argument of ``predict`` and friends: its kinds, folders, counts.

Private helper of :mod:`facelandmarks.images`, which re-exports the public names defined here.
Nothing here loads pixels. NumPy and Pillow only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sized
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from facelandmarks._image_files import _path_string

if TYPE_CHECKING:  # pragma: no cover
    from facelandmarks.images import ImageLike

# Logged under the public module's name, where these messages have always come from.
logger = logging.getLogger("facelandmarks.images")

_ACCEPTED = "a file path (str or os.PathLike), a PIL.Image.Image or a numpy.ndarray"
_ACCEPTED_MANY = (
    f"one image ({_ACCEPTED}), a list or tuple of such images, "
    "or a 4-D uint8 array of shape (N, H, W, 3)"
)


def as_image_list(images: Any) -> list[ImageLike]:
    """Normalise the "one image or many" argument of ``predict`` into a list.

    Nothing is loaded; only the types are checked, so errors about wrong types come before
    any work is done. Iterators and generators are refused because making a list of them
    would pull every item into memory: stream them with
    :func:`~facelandmarks.images.iter_images` instead.

    Args:
        images: One image (a path, a ``PIL.Image.Image``, or an array that is not 4-D); a list,
            tuple or other sequence of images (kinds and sizes may be mixed); or a 4-D array
            of shape ``(N, H, W, C)``, which is split along its first axis.

    Returns:
        A new list of the images. Items split from a 4-D array are views of it (they are
        copied by :func:`~facelandmarks.images.load_image`).

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
    obj = _as_iterable(images, "as_image_list")
    if isinstance(obj, Iterator):
        raise TypeError(
            "as_image_list does not consume iterators or generators (that would load every "
            "item into memory); use iter_images() to stream them, or pass list(images). "
            f"Received: {type(images).__name__}"
        )
    items = list(obj)  # a 4-D batch gives its rows
    for i, item in enumerate(items):
        if not _is_single_type(item):
            raise _type_error(item, f"images[{i}]")
    return items


IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}
)
"""File name endings (lower case) taken as images when a folder is given as input."""


def folder_images(folder: str | os.PathLike[str]) -> list[str]:
    """The image files directly inside ``folder`` (by :data:`IMAGE_SUFFIXES`), sorted by name.

    Hidden names (starting with ``.``: macOS ``._*`` files, the temporary files of a killed
    write) are left out, as :func:`~facelandmarks.datasets.load_ibug` leaves them out.

    Raises:
        NotADirectoryError: ``folder`` is not a directory.
    """
    path = _path_string(folder)
    if not os.path.isdir(path):
        raise NotADirectoryError(f"not a folder: {path!r}")
    names = sorted(n for n in os.listdir(path) if os.path.splitext(n)[1].lower() in IMAGE_SUFFIXES)
    shown = [n for n in names if not n.startswith(".")]
    if len(shown) < len(names):
        logger.debug("%s: %d hidden image files left out", path, len(names) - len(shown))
    return [os.path.join(path, n) for n in shown if os.path.isfile(os.path.join(path, n))]


def iter_items(images: Any) -> Iterator[tuple[int, str, ImageLike]]:
    """The images of a ``predict`` argument one by one, *without loading them*, so that a
    caller can load each and handle its errors alone: ``(index, display_name, item)``.

    A folder path (given alone or in a list) stands for the image files in it
    (:func:`folder_images`); ``index`` counts images after that expansion. Types are checked as
    in :func:`~facelandmarks.images.iter_images`; an iterator is advanced one item at a time.

    An item of an unaccepted type is yielded as it is, named ``"images[i]"`` by its position,
    for loading it to raise the TypeError.

    Raises:
        TypeError: ``images`` is of an unaccepted type (at call time).
    """
    return _items(_as_iterable(images, "iter_items"))


def _items(items: Iterable[Any]) -> Iterator[tuple[int, str, ImageLike]]:
    index = 0
    # A 4-D batch iterates over its rows; an iterator is advanced one item per step.
    for position, item in enumerate(items):
        if _is_folder(item):
            expanded = folder_images(item)
            if not expanded:
                logger.warning(
                    "folder %s holds no image files (%s); nothing to do there",
                    _path_string(item),
                    ", ".join(sorted(IMAGE_SUFFIXES)),
                )
        else:  # an unsupported item is refused when loaded, so on_error="skip" can skip it
            expanded = [item]
        for one in expanded:
            known = _is_single_type(one)
            yield index, _display_name(one, index) if known else f"images[{position}]", one
            index += 1


def count_images(images: Any) -> int | None:
    """Number of images in ``images`` where it is known without loading or consuming anything.

    Args:
        images: Anything :func:`~facelandmarks.images.iter_images` accepts.

    Returns:
        1 for a single image, ``N`` for a 4-D array or a sized collection, ``None`` for an
        iterator or generator (whose length is unknown until it is exhausted).

    Raises:
        TypeError: ``images`` is of an unaccepted type.

    Example:
        >>> count_images(["a.jpg", "b.png"]), count_images(iter(["a.jpg"]))
        (2, None)
    """
    obj = _as_iterable(images, "count_images")
    if isinstance(obj, np.ndarray):  # a 4-D batch
        return int(obj.shape[0])
    if isinstance(obj, Iterator) or not isinstance(obj, Sized):
        return None
    return sum(len(folder_images(x)) if _is_folder(x) else 1 for x in obj)


def _is_single_type(obj: object) -> bool:
    return isinstance(obj, (str, os.PathLike, Image.Image, np.ndarray))


def _is_folder(obj: object) -> bool:
    return isinstance(obj, (str, os.PathLike)) and os.path.isdir(obj)


def _as_iterable(images: Any, func: str) -> Any:
    """What to iterate over in the ``images`` argument: a 4-D batch array, a one-item list for
    a single image, an iterator, or another iterable (a collection); TypeError otherwise."""
    if isinstance(images, np.ndarray) and images.ndim == 4:
        return images
    if _is_single_type(images):
        return [images]
    hint = ""
    if isinstance(images, (bytes, bytearray, memoryview)):
        hint = (
            " Encoded image bytes are not accepted; decode them with "
            "PIL.Image.open(io.BytesIO(data)) first."
        )
    elif isinstance(images, Mapping):
        hint = " Mappings are not accepted; pass e.g. list(images.values())."
    elif isinstance(images, AbstractSet):
        hint = " Sets are not accepted because they have no order; pass a sorted list."
    elif isinstance(images, Iterable):  # iterators included
        return images
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
