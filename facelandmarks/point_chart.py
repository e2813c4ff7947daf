"""Numbered charts of point schemes: every point's index beside it, for documentation.

:func:`draw_point_chart` is also importable from :mod:`facelandmarks.drawing`. Pillow and NumPy
only. Coordinates are ``(x, y)`` pixels, origin top-left, pixel centres at integer coordinates.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from facelandmarks._draw_primitives import _as_faces, _dot, _draw_contours, _draw_label, _font
from facelandmarks.schemes import PointScheme

# Point chart layout: the features whose points get their numbers pushed outwards, and the
# points inside a feature whose number goes to their right. Schemes without an entry use their
# groups (all but the jaw) and no inside points.
_CHART_CLUSTERS: dict[str, tuple[tuple[int, ...], ...]] = {
    "muct76": (
        tuple(range(15, 21)),
        tuple(range(21, 27)),
        (27, 28, 29, 30, 31, 68, 69, 70, 71),
        (32, 33, 34, 35, 36, 72, 73, 74, 75),
        (*range(37, 48), 67),
        tuple(range(48, 67)),
    ),
    "ibug68": (
        tuple(range(17, 22)),
        tuple(range(22, 27)),
        tuple(range(27, 36)),
        tuple(range(36, 42)),
        tuple(range(42, 48)),
        tuple(range(48, 60)),
    ),
}
_CHART_INSIDE: dict[str, tuple[int, ...]] = {"muct76": (31, 36, 66)}
# Loops drawn inside another feature (iBUG's inner lip): their numbers go inwards.
_CHART_INWARD: dict[str, tuple[tuple[int, ...], ...]] = {"ibug68": (tuple(range(60, 68)),)}


def _label_directions(xy: np.ndarray, valid: np.ndarray, scheme: PointScheme) -> np.ndarray:
    """Unit vectors pointing away from each ``valid`` (finite) point's feature, to place its
    number; the rows of the other points are not used."""
    inward = _CHART_INWARD.get(scheme.name, ())
    clusters = (
        _CHART_CLUSTERS.get(scheme.name)
        or tuple(idx for name, idx in scheme.groups if name != "jaw")
    ) + inward
    centers = np.tile(xy[valid].mean(axis=0), (len(xy), 1))
    for members in clusters:
        idx = [i for i in members if valid[i]]
        if idx:
            centers[list(members)] = xy[idx].mean(axis=0)
    out = xy - centers
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    up = np.array([0.0, -1.0])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(norm > 1e-6, out / norm, up)
    for members in inward:
        out[list(members)] *= -1.0
    # Points inside a feature (pupils, mouth centre): their number goes into the gap to the
    # right of them, between the feature's upper and lower contours.
    out[list(_CHART_INSIDE.get(scheme.name, ()))] = np.array([1.0, 0.15]) / np.hypot(1.0, 0.15)
    return out


def draw_point_chart(
    points_xy: Any,
    size: tuple[int, int] = (480, 640),
    path: str | os.PathLike[str] | None = None,
    *,
    fit: bool = True,
    scheme: str | PointScheme | None = None,
) -> Image.Image:
    """A numbered chart of a scheme's points on a white canvas (for documentation).

    Args:
        points_xy: array-like ``(K, 2)``, ``(x, y)`` pixels of a face shape (for example the
            mean MUCT shape, ``K = 76``). ``NaN`` points are left out.
        size: ``(width, height)`` of the chart in pixels.
        path: if given, the chart is also saved there (format from the extension).
        fit: scale and centre the shape to fill the canvas (aspect ratio kept, with a margin
            for the numbers), so only the shape matters. ``False`` draws the coordinates as
            they are.
        scheme: the point scheme (object or registered name); default: the scheme for ``K``
            points.

    Returns:
        A new RGB ``PIL.Image.Image`` of ``size``: grey contour lines (the scheme's
        contours), dark dots, and each point's index placed outside its feature.

    Raises:
        ValueError: ``points_xy`` not of shape ``(K, 2)`` for a known scheme, ``size`` not
            two positive ints, no finite point, or a ``path`` extension Pillow cannot write.
    """
    func = "draw_point_chart"
    faces, found = _as_faces(points_xy, func, scheme)
    if np.ndim(points_xy) != 2:
        raise ValueError(
            f"{func} expects points_xy of shape ({found.num_points}, 2). Received: shape "
            f"{np.shape(points_xy)}"
        )
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in size)
        or min(size) < 1
    ):
        raise ValueError(
            f"{func} expects size as (width, height), two positive ints. Received: size={size!r}"
        )
    width, height = int(size[0]), int(size[1])
    xy = faces[0].copy()
    valid = np.all(np.isfinite(xy), axis=1)
    if not valid.any():
        raise ValueError(f"{func} expects at least one finite point. Received: all NaN")
    font_size = max(9, round(0.5 * math.sqrt(min(width, height))))
    if fit:
        margin = 2.5 * font_size
        lo, hi = xy[valid].min(axis=0), xy[valid].max(axis=0)
        extent = np.maximum(hi - lo, 1e-6)
        scale = max(1e-6, min((width - 2 * margin) / extent[0], (height - 2 * margin) / extent[1]))
        xy = (xy - (lo + hi) / 2) * scale + np.array([(width - 1) / 2, (height - 1) / 2])
    radius = max(2.0, min(width, height) / 160)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    _draw_contours(draw, xy, found, (190, 190, 190), max(1, round(radius / 2)))
    font = _font(font_size)
    offsets = _label_directions(xy, valid, found) * (radius + 0.75 * font_size)
    for i in np.flatnonzero(valid):
        x, y = xy[i]
        _dot(draw, x, y, radius, (30, 30, 30))
        _draw_label(draw, str(i), (x + offsets[i, 0], y + offsets[i, 1]), font, (20, 60, 170), None)
    if path is not None:
        try:
            canvas.save(os.fspath(path))
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"{func} cannot save to {os.fspath(path)!r}: unknown image file extension "
                f"({exc}). Received: path={os.fspath(path)!r}"
            ) from None
    return canvas
