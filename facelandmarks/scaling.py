"""Whole-image pixel <-> normalised coordinate maps (pure NumPy; imports no Keras).

The spaces are :mod:`facelandmarks.framing`'s, with the whole image as the frame: pixels ``xy``
have their origin at the image's top-left corner, ``y`` down, pixel *centres* at integers (as in
MUCT's ``muct76-opencv.csv`` and OpenCV; a ``W`` pixel wide image spans ``-0.5`` to
``W - 0.5``); normalised ``xyn`` is ``0`` at the image's left/top edge and ``1`` at its
right/bottom edge, the model head's space (its sigmoid outputs).

Rotated frames (:class:`~facelandmarks.framing.Framing`) and boxes in edge coordinates are
:mod:`facelandmarks.framing`'s (the names are re-exported here, their first home); the whole
image is the box ``(0, 0, W, H)``.
``pixel_offset=0.0`` reproduces the original 2019 project's ``x / W`` (half a pixel off), so
presets trained that way decode exactly as they were trained.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from facelandmarks.framing import DEFAULT_PIXEL_OFFSET, Framing, box_from_points

__all__ = [
    "DEFAULT_PIXEL_OFFSET",
    "Framing",
    "box_from_points",
    "normalized_to_pixels",
    "pixels_to_normalized",
]


def _size_array(size: Sequence[float] | np.ndarray, n: int | None, argname: str) -> np.ndarray:
    arr = np.asarray(size, dtype=np.float64)
    if arr.shape == (2,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[-1] != 2 or (n is not None and arr.shape[0] not in (1, n)):
        raise ValueError(
            f"`{argname}` must be (width, height) or an array of shape (N, 2) with N matching "
            f"the points. Received: shape {np.shape(size)}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"`{argname}` must hold positive finite sizes. Received: {arr.tolist()}")
    return arr


def _points(xy: np.ndarray | Sequence, argname: str) -> tuple[np.ndarray, bool]:
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[-1] == 2:
        return arr[None], True
    if arr.ndim == 3 and arr.shape[-1] == 2:
        return arr, False
    raise ValueError(
        f"`{argname}` must have shape (P, 2) or (N, P, 2) with (x, y) last. "
        f"Received: shape {arr.shape}"
    )


def pixels_to_normalized(
    xy: np.ndarray,
    size: Sequence[float] | np.ndarray,
    *,
    pixel_offset: float = DEFAULT_PIXEL_OFFSET,
) -> np.ndarray:
    """Pixel coordinates of whole images -> normalised ``[0, 1]`` coordinates.

    Args:
        xy: ``(N, P, 2)`` or ``(P, 2)`` array of ``(x, y)`` pixel coordinates. NaN stays NaN.
        size: ``(width, height)`` of the image(s) in pixels, or ``(N, 2)`` for one per image.
        pixel_offset: 0.5 (default) for pixel-centre coordinates; 0.0 reproduces ``x / W``.

    Returns:
        float32 array of the same shape as ``xy``: ``(x + offset) / W, (y + offset) / H``.
    """
    arr, single = _points(xy, "xy")
    wh = _size_array(size, arr.shape[0], "size")
    out = ((arr + pixel_offset) / wh[:, None, :]).astype(np.float32)
    return out[0] if single else out


def normalized_to_pixels(
    xyn: np.ndarray,
    size: Sequence[float] | np.ndarray,
    *,
    pixel_offset: float = DEFAULT_PIXEL_OFFSET,
) -> np.ndarray:
    """Inverse of :func:`pixels_to_normalized`.

    Args:
        xyn: ``(N, P, 2)`` or ``(P, 2)`` normalised coordinates of whole images.
        size: ``(width, height)`` in pixels, or ``(N, 2)``.
        pixel_offset: as in :func:`pixels_to_normalized`.

    Returns:
        float32 array of ``(x, y)`` pixel coordinates, same shape as ``xyn``.
    """
    arr, single = _points(xyn, "xyn")
    wh = _size_array(size, arr.shape[0], "size")
    out = (arr * wh[:, None, :] - pixel_offset).astype(np.float32)
    return out[0] if single else out
