"""The 76-point MUCT scheme as plain constants (kept for existing code; see :mod:`.schemes`).

Pure Python/NumPy; imports no Keras. Indices are 0-based, in the order of the columns of
``muct76-opencv.csv`` (``x00, y00, x01, y01, ...``). "Left" and "right" below mean the left and
right side *of the image*, not of the person. Every value here is read from
:data:`facelandmarks.schemes.MUCT76`, the one place the facts live; new code should take a
:class:`~facelandmarks.schemes.PointScheme` instead.
"""

from __future__ import annotations

import numpy as np

from facelandmarks.schemes import IBUG68, MUCT76, Ibug68Point, MuctPoint

__all__ = [
    "GROUPS",
    "MIRROR_PERMUTATION",
    "MUCT_TO_IBUG68",
    "NUM_POINTS",
    "Ibug68Point",
    "MuctPoint",
    "mirror_points",
]

NUM_POINTS: int = MUCT76.num_points
"""Number of landmarks in the MUCT scheme (76)."""

MIRROR_PERMUTATION: tuple[int, ...] = MUCT76.mirror
"""Point ``i`` of a left-right mirrored face is point ``MIRROR_PERMUTATION[i]`` of the original
(its own inverse)."""

GROUPS: dict[str, tuple[int, ...]] = dict(MUCT76.groups)
"""Landmark groups, used for drawing contours and for per-region error reports."""

MUCT_TO_IBUG68: dict[int, int] = {
    int(a): int(b) for a, b in zip(*MUCT76.correspondence(IBUG68), strict=True)
}
"""The 8 points shared with the iBUG/300-W 68-point scheme: MUCT index -> iBUG-68 index."""


def mirror_points(xy: np.ndarray, width: float) -> np.ndarray:
    """Mirror 76-point MUCT landmarks for an image flipped left-right: ``MUCT76.mirror_points``.

    ``xy`` is a float array ``(..., 76, 2)`` of ``(x, y)`` pixels in an image ``width`` pixels
    wide; the result has the same shape and dtype, ``x' = width - 1 - x`` (MUCT's ``479 - x``)
    and indices permuted; ``NaN`` stays ``NaN``. See
    :meth:`facelandmarks.schemes.PointScheme.mirror_points`.

    Raises:
        ValueError: if the second-to-last axis is not 76 long or the last is not 2.
    """
    return MUCT76.mirror_points(xy, width)
