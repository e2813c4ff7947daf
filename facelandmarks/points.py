"""The 76-point MUCT landmark scheme: counts, named indices, the mirror permutation.

Pure Python/NumPy; imports no Keras. Indices are 0-based, in the order of the
columns of ``muct76-opencv.csv`` (``x00, y00, x01, y01, ...``). "Left" and "right"
below mean the left and right side *of the image*, not of the person.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

NUM_POINTS = 76
"""Number of landmarks in the MUCT scheme."""


class MuctPoint(IntEnum):
    """Named indices of the 76 MUCT points that code and metrics refer to."""

    JAW_FIRST = 0
    CHIN = 7
    JAW_LAST = 14
    IMAGE_LEFT_EYE_OUTER = 27
    IMAGE_LEFT_EYE_TOP = 28
    IMAGE_LEFT_EYE_INNER = 29
    IMAGE_LEFT_EYE_BOTTOM = 30
    IMAGE_LEFT_PUPIL = 31
    IMAGE_RIGHT_EYE_OUTER = 32
    IMAGE_RIGHT_EYE_TOP = 33
    IMAGE_RIGHT_EYE_INNER = 34
    IMAGE_RIGHT_EYE_BOTTOM = 35
    IMAGE_RIGHT_PUPIL = 36
    MOUTH_LEFT_CORNER = 48
    MOUTH_RIGHT_CORNER = 54
    NOSE_TIP = 67


MIRROR_PERMUTATION: tuple[int, ...] = (
    14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
    21, 22, 23, 24, 25, 26, 15, 16, 17, 18, 19, 20,
    32, 33, 34, 35, 36, 27, 28, 29, 30, 31,
    45, 44, 43, 42, 41, 40, 39, 38, 37, 47, 46,
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 62, 61, 60, 65, 64, 63, 66, 67,
    72, 73, 74, 75, 68, 69, 70, 71,
)  # fmt: skip
"""Point ``i`` of a left-right mirrored face is point ``MIRROR_PERMUTATION[i]`` of the original.

Checked against all 3,005 ``ir`` (mirrored) rows of the MUCT CSV in the development subset;
the permutation is its own inverse.
"""

# Landmark groups, used for drawing contours and for per-region error reports.
GROUPS: dict[str, tuple[int, ...]] = {
    "jaw": tuple(range(0, 15)),
    "brow_image_right": tuple(range(15, 21)),
    "brow_image_left": tuple(range(21, 27)),
    "eye_image_left": (27, 28, 29, 30),
    "eye_image_right": (32, 33, 34, 35),
    "pupils": (31, 36),
    "nose": (*range(37, 48), 67),
    "mouth": tuple(range(48, 67)),
    "eye_extra": tuple(range(68, 76)),
}

# The 8 points shared with the iBUG/300-W 68-point scheme: MUCT index -> iBUG-68 index.
MUCT_TO_IBUG68: dict[int, int] = {27: 36, 29: 39, 34: 42, 32: 45, 67: 30, 48: 48, 54: 54, 7: 8}


def mirror_points(xy: np.ndarray, width: float) -> np.ndarray:
    """Mirror landmarks for an image flipped left-right.

    Args:
        xy: float array ``(..., 76, 2)`` of ``(x, y)`` pixel coordinates in an image
            ``width`` pixels wide (origin top-left). ``NaN`` (unavailable) stays ``NaN``.
        width: width of the image in pixels. A pixel centre at ``x`` moves to
            ``width - 1 - x`` (MUCT's own rule: ``x' = 479 - x`` for 480-wide images).

    Returns:
        Array of the same shape and dtype: the point that has the meaning of index ``i``
        in the flipped image, for every ``i``.

    Raises:
        ValueError: if the second-to-last axis is not 76 long or the last is not 2.
    """
    xy = np.asarray(xy)
    if xy.ndim < 2 or xy.shape[-2:] != (NUM_POINTS, 2):
        raise ValueError(
            f"mirror_points expects xy of shape (..., {NUM_POINTS}, 2). Received: {xy.shape}"
        )
    out = xy[..., list(MIRROR_PERMUTATION), :].copy()
    out[..., 0] = (width - 1) - out[..., 0]
    return out
