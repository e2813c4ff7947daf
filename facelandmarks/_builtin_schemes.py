"""The facts behind the built-in point schemes (MUCT 76, iBUG 68), in one place.

Plain data (imports nothing from the library); :mod:`facelandmarks.schemes` turns it into
checked :class:`~facelandmarks.schemes.PointScheme` objects. "Left"/"right" = the image's side.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


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


class Ibug68Point(IntEnum):
    """Named indices of the 68 iBUG / 300-W points (0-based, as dlib numbers them)."""

    JAW_FIRST = 0
    CHIN = 8
    JAW_LAST = 16
    IMAGE_LEFT_BROW_OUTER = 17
    IMAGE_LEFT_BROW_INNER = 21
    IMAGE_RIGHT_BROW_INNER = 22
    IMAGE_RIGHT_BROW_OUTER = 26
    NOSE_BRIDGE_TOP = 27
    NOSE_TIP = 30
    NOSE_BASE = 33
    IMAGE_LEFT_EYE_OUTER = 36
    IMAGE_LEFT_EYE_INNER = 39
    IMAGE_RIGHT_EYE_INNER = 42
    IMAGE_RIGHT_EYE_OUTER = 45
    MOUTH_LEFT_CORNER = 48
    UPPER_LIP_TOP = 51
    MOUTH_RIGHT_CORNER = 54
    LOWER_LIP_BOTTOM = 57
    INNER_MOUTH_LEFT_CORNER = 60
    INNER_MOUTH_RIGHT_CORNER = 64


def _jaw(n: int) -> list[str]:
    """Jaw names from image left to image right, the middle one ``chin``."""
    mid = n // 2
    return (
        [f"jaw_l_{mid - i}" for i in range(mid)]
        + ["chin"]
        + [f"jaw_r_{i}" for i in range(1, mid + 1)]
    )


# ------------------------------------------------------------------------------- MUCT 76

_MUCT_NAME_TEXT = """
    brow_r_outer brow_r_top_outer brow_r_top_inner
    brow_r_inner brow_r_bottom_inner brow_r_bottom_outer
    brow_l_outer brow_l_top_outer brow_l_top_inner
    brow_l_inner brow_l_bottom_inner brow_l_bottom_outer
    eye_l_outer eye_l_top eye_l_inner eye_l_bottom pupil_l
    eye_r_outer eye_r_top eye_r_inner eye_r_bottom pupil_r
    nose_l_1 nose_l_2 nose_l_wing nose_l_base nose_base nose_r_base nose_r_wing nose_r_2 nose_r_1
    nostril_l nostril_r
    mouth_l lip_top_l_2 lip_top_l_1 lip_top lip_top_r_1 lip_top_r_2
    mouth_r lip_bottom_r_2 lip_bottom_r_1 lip_bottom lip_bottom_l_1 lip_bottom_l_2
    lip_inner_bottom_l lip_inner_bottom lip_inner_bottom_r
    lip_inner_top_r lip_inner_top lip_inner_top_l
    mouth_centre nose_tip
    eye_l_top_outer eye_l_top_inner eye_l_bottom_inner eye_l_bottom_outer
    eye_r_top_outer eye_r_top_inner eye_r_bottom_inner eye_r_bottom_outer
"""
_MUCT_NAMES = _jaw(15) + _MUCT_NAME_TEXT.split()

# Checked against all 3,005 ``ir`` (mirrored) rows of the MUCT CSV in the development subset.
_MUCT_MIRROR = (
    14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
    21, 22, 23, 24, 25, 26, 15, 16, 17, 18, 19, 20,
    32, 33, 34, 35, 36, 27, 28, 29, 30, 31,
    45, 44, 43, 42, 41, 40, 39, 38, 37, 47, 46,
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 62, 61, 60, 65, 64, 63, 66, 67,
    72, 73, 74, 75, 68, 69, 70, 71,
)  # fmt: skip

MUCT76_FACTS: dict[str, Any] = {
    "name": "muct76",
    "num_points": 76,
    "point_names": tuple(_MUCT_NAMES),
    "mirror": _MUCT_MIRROR,
    "eye_corners": (MuctPoint.IMAGE_LEFT_EYE_OUTER, MuctPoint.IMAGE_RIGHT_EYE_OUTER),
    "pupils": (MuctPoint.IMAGE_LEFT_PUPIL, MuctPoint.IMAGE_RIGHT_PUPIL),
    # The eye contour (4 main points and the 4 between them), not the pupil: a centre that
    # does not move with the gaze.
    "eyes": ((27, 28, 29, 30, 68, 69, 70, 71), (32, 33, 34, 35, 72, 73, 74, 75)),
    "mouth": tuple(range(48, 60)),
    # Lines to draw (see facelandmarks.drawing.CONTOURS): jaw open; each brow a closed loop
    # (outer end, upper edge, inner end, lower edge); each eye the closed loop through its 4
    # main points and the 4 extra points between them; the nose open from bridge to bridge;
    # the outer lip closed; the inner lip closed through the mouth corners.
    "contours": (
        (tuple(range(0, 15)), False),
        (tuple(range(15, 21)), True),
        (tuple(range(21, 27)), True),
        ((27, 68, 28, 69, 29, 70, 30, 71), True),
        ((32, 72, 33, 73, 34, 74, 35, 75), True),
        (tuple(range(37, 46)), False),
        (tuple(range(48, 60)), True),
        ((48, 65, 64, 63, 54, 62, 61, 60), True),
    ),
    # Regions for per-region error reports; every point in exactly one.
    "groups": (
        ("jaw", tuple(range(0, 15))),
        ("brow_image_right", tuple(range(15, 21))),
        ("brow_image_left", tuple(range(21, 27))),
        ("eye_image_left", (27, 28, 29, 30)),
        ("eye_image_right", (32, 33, 34, 35)),
        ("pupils", (31, 36)),
        ("nose", (*range(37, 48), 67)),
        ("mouth", tuple(range(48, 67))),
        ("eye_extra", tuple(range(68, 76))),
    ),
    "description": "MUCT 76 points (Milborrow, Morkel and Nicolls, 2010); docs/points.md",
}

# ------------------------------------------------------------------------------- iBUG 68

_IBUG_NAME_TEXT = """
    brow_l_outer brow_l_2 brow_l_3 brow_l_4 brow_l_inner
    brow_r_inner brow_r_4 brow_r_3 brow_r_2 brow_r_outer
    bridge_top bridge_2 bridge_3 nose_tip
    nose_l_wing nose_l_base nose_base nose_r_base nose_r_wing
    eye_l_outer eye_l_top_outer eye_l_top_inner eye_l_inner eye_l_bottom_inner eye_l_bottom_outer
    eye_r_inner eye_r_top_inner eye_r_top_outer eye_r_outer eye_r_bottom_outer eye_r_bottom_inner
    mouth_l lip_top_l_2 lip_top_l_1 lip_top lip_top_r_1 lip_top_r_2
    mouth_r lip_bottom_r_2 lip_bottom_r_1 lip_bottom lip_bottom_l_1 lip_bottom_l_2
    mouth_inner_l lip_inner_top_l lip_inner_top lip_inner_top_r
    mouth_inner_r lip_inner_bottom_r lip_inner_bottom lip_inner_bottom_l
"""
_IBUG_NAMES = _jaw(17) + _IBUG_NAME_TEXT.split()

# The standard map (shared/wild/README.md), checked on the 2,012 300-W training shapes by
# tests/test_schemes.py: their Procrustes mean shape mirrors onto itself under it.
_IBUG_MIRROR = (
    16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
    26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
    27, 28, 29, 30, 35, 34, 33, 32, 31,
    45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65,
)  # fmt: skip

IBUG68_FACTS: dict[str, Any] = {
    "name": "ibug68",
    "num_points": 68,
    "point_names": tuple(_IBUG_NAMES),
    "mirror": _IBUG_MIRROR,
    "eye_corners": (Ibug68Point.IMAGE_LEFT_EYE_OUTER, Ibug68Point.IMAGE_RIGHT_EYE_OUTER),
    "eyes": (tuple(range(36, 42)), tuple(range(42, 48))),
    "mouth": tuple(range(48, 60)),
    # Jaw, brows, nose bridge and nose bottom open; eyes and both lips closed.
    "contours": (
        (tuple(range(0, 17)), False),
        (tuple(range(17, 22)), False),
        (tuple(range(22, 27)), False),
        (tuple(range(27, 31)), False),
        (tuple(range(31, 36)), False),
        (tuple(range(36, 42)), True),
        (tuple(range(42, 48)), True),
        (tuple(range(48, 60)), True),
        (tuple(range(60, 68)), True),
    ),
    "groups": (
        ("jaw", tuple(range(0, 17))),
        ("brow_image_left", tuple(range(17, 22))),
        ("brow_image_right", tuple(range(22, 27))),
        ("nose", tuple(range(27, 36))),
        ("eye_image_left", tuple(range(36, 42))),
        ("eye_image_right", tuple(range(42, 48))),
        ("mouth", tuple(range(48, 68))),
    ),
    "description": "iBUG 300-W 68 points (Sagonas et al., 2013), as used by dlib",
}

# ------------------------------------------------------------------- MUCT 76 <-> iBUG 68
#
# (MUCT index, iBUG index) pairs that are exactly the same anatomical point: the outer and inner
# eye corners, the nose tip, the mouth corners and the chin.
#
# Left out: MUCT publishes no written definition of its points, and the data can refute a pair,
# not prove one. benchmarks/scheme_correspondence.py fits the mean MUCT frontal shape onto the
# 300-W Procrustes mean through the 8 pairs below and measures the candidates (inter-ocular
# distances in benchmarks/README.md):
# * outer-lip midline MUCT 51 / 57 vs iBUG 51 / 57: MUCT's outer lip is 1.5x as tall (0.244 vs
#   0.160): the lip edges are placed differently.
# * inner-lip midline MUCT 64 / 61 vs iBUG 62 / 66: MUCT's are 0.077 apart on its neutral faces,
#   iBUG's coincide on closed mouths (0.001): not the same lip-contact line.
# * nose base MUCT 41 vs iBUG 33 (both the midline of the lower nose contour): 0.038 apart.
# * jaw: 15 vs 17 points, so only the chin is a defined match.
# * brow outer ends MUCT 21 / 15 vs iBUG 17 / 26: MUCT's brow is a loop around the brow, iBUG's
#   a line along its upper edge.
MUCT76_TO_IBUG68: tuple[tuple[int, int], ...] = (
    (27, 36),
    (29, 39),
    (34, 42),
    (32, 45),
    (67, 30),
    (48, 48),
    (54, 54),
    (7, 8),
)
