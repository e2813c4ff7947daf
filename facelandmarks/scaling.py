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


def _checked(
    xy: np.ndarray | Sequence, argname: str, size: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """float64 ``(N, P, 2)`` points, ``(N or 1, 1, 2)`` sizes, and whether ``xy`` was one
    ``(P, 2)`` set."""
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim not in (2, 3) or arr.shape[-1] != 2:
        raise ValueError(
            f"`{argname}` must have shape (P, 2) or (N, P, 2) with (x, y) last. "
            f"Received: shape {arr.shape}"
        )
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    wh = np.asarray(size, dtype=np.float64)
    if wh.shape == (2,):
        wh = wh[None, :]
    if wh.ndim != 2 or wh.shape[-1] != 2 or wh.shape[0] not in (1, len(arr)):
        raise ValueError(
            "`size` must be (width, height) or an array of shape (N, 2) with N matching "
            f"the points. Received: shape {np.shape(size)}"
        )
    if not np.all(np.isfinite(wh)) or np.any(wh <= 0):
        raise ValueError(f"`size` must hold positive finite sizes. Received: {wh.tolist()}")
    return arr, wh[:, None, :], single


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
    arr, wh, single = _checked(xy, "xy", size)
    out = ((arr + pixel_offset) / wh).astype(np.float32)
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
    arr, wh, single = _checked(xyn, "xyn", size)
    out = (arr * wh - pixel_offset).astype(np.float32)
    return out[0] if single else out
