"""What the landmark pictures share: the points argument checked, and Pillow's pen.

Private helper of :mod:`facelandmarks.drawing` (annotated images) and
:mod:`facelandmarks.point_chart` (numbered charts). Pillow and NumPy only. Coordinates are
``(x, y)`` pixels, origin top-left, pixel centres at integer coordinates.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from typing import Any

import numpy as np
from PIL import ImageDraw, ImageFont

from facelandmarks._metric_inputs import float_array
from facelandmarks.schemes import PointScheme, get_scheme, scheme_for_points

Color = tuple[int, int, int] | str


def _as_faces(
    points: Any, func: str, scheme: str | PointScheme | None
) -> tuple[np.ndarray, PointScheme]:
    """``points`` as float64 ``(F, K, 2)`` and their scheme, NaN where a coordinate is over 1e9
    px (Pillow's are 32-bit: no drawing can show it); ValueError naming the shape."""
    arr = float_array(points, func, "points as a numeric array of shape (K, 2) or (F, K, 2)")
    arr = np.where(np.abs(arr) <= 1e9, arr, np.nan)
    if arr.ndim == 2:
        arr = arr[None]
    found = None if scheme is None else get_scheme(scheme)
    if arr.ndim == 3 and arr.shape[2] == 2 and found is None:
        with contextlib.suppress(ValueError):  # no scheme for K points: reported below
            found = scheme_for_points(arr.shape[1])
    if arr.ndim != 3 or found is None or arr.shape[1:] != (found.num_points, 2):
        expected = (
            "K points of a known scheme (76: MUCT, 68: iBUG) or of scheme=..."
            if found is None
            else f"K = {found.num_points} (scheme {found.name!r})"
        )
        raise ValueError(
            f"{func} expects points of shape (K, 2) or (F, K, 2), (x, y) in pixels, with "
            f"{expected}. Received: shape {np.shape(points)}"
        )
    return arr, found


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: only the fixed-size bitmap font
        return ImageFont.load_default()


def _finite(xy: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(xy)))


def _draw_contours(
    draw: ImageDraw.ImageDraw, face: np.ndarray, scheme: PointScheme, fill: Color, width: int
) -> None:
    for idx, closed in scheme.contours:
        for a, b in itertools.pairwise((*idx, idx[0]) if closed else idx):
            pa, pb = face[a], face[b]
            if _finite(pa) and _finite(pb):
                draw.line([tuple(pa), tuple(pb)], fill=fill, width=width)


def _dot(draw: ImageDraw.ImageDraw, x: float, y: float, radius: float, fill: Color) -> None:
    """A disc centred on the pixel nearest to ``(x, y)`` (pixel centres at integers)."""
    cx, cy = math.floor(x + 0.5), math.floor(y + 0.5)
    r = round(radius)
    if r < 1:
        draw.point((cx, cy), fill=fill)
    else:
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)


def _draw_label(
    draw: ImageDraw.ImageDraw,
    text: str,
    center: tuple[float, float],
    font: Any,
    fill: Color,
    stroke: Color | None,
) -> None:
    """Draw ``text`` centred on ``center`` (works with bitmap and FreeType fonts)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = center[0] - (left + right) / 2
    y = center[1] - (top + bottom) / 2
    outline = {} if stroke is None else {"stroke_width": 1, "stroke_fill": stroke}
    draw.text((x, y), text, fill=fill, font=font, **outline)
