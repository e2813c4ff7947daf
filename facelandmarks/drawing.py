"""Pictures of landmarks: annotated images, CED plots and numbered charts of point schemes.

Pillow and NumPy only (no Keras, no TensorFlow). :func:`draw_point_chart` and :func:`plot_ced`
(which needs the optional matplotlib) live in :mod:`facelandmarks.point_chart` and
:mod:`facelandmarks.ced_plot` and are importable from here too.

Coordinates follow the library's contract: ``(x, y)`` pixels of the image as passed, origin
top-left, ``y`` down, pixel centres at integer coordinates. A point at ``(10, 20)`` is drawn
centred on the pixel in column 10, row 20. Boxes use *edge* coordinates: ``(0, 0, W, H)`` is
the whole image, so its outline covers columns ``0 .. W - 1``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from facelandmarks import images as fl_images
from facelandmarks._draw_primitives import (
    Color,
    _as_faces,
    _dot,
    _draw_contours,
    _draw_label,
    _finite,
    _font,
)
from facelandmarks._metric_inputs import float_array
from facelandmarks.ced_plot import plot_ced
from facelandmarks.point_chart import draw_point_chart
from facelandmarks.schemes import MUCT76, PointScheme

__all__ = ["CONTOURS", "draw_landmarks", "draw_point_chart", "plot_ced"]

_MUCT_CONTOUR_NAMES = (
    "jaw",
    "brow_15_20",
    "brow_21_26",
    "eye_27_30",
    "eye_32_35",
    "nose",
    "mouth_outer",
    "mouth_inner",
)
CONTOURS: tuple[tuple[str, tuple[int, ...], bool], ...] = tuple(
    (name, idx, closed)
    for name, (idx, closed) in zip(_MUCT_CONTOUR_NAMES, MUCT76.contours, strict=True)
)
"""The lines :func:`draw_landmarks` draws for the 76 MUCT points (other schemes draw their
own :attr:`~facelandmarks.schemes.PointScheme.contours`): ``(name, point indices in drawing
order, closed)``, indices as in :data:`facelandmarks.points.GROUPS`.

Open polylines: the jaw ``0 .. 14`` (ear to ear under the chin) and the nose ``37 .. 45``
(bridge, left wing, base, right wing, bridge). Closed loops: each eyebrow (``15 .. 20``,
``21 .. 26``: outer end, upper edge, inner end, lower edge); each eye through its outer
corner, top, inner corner and bottom (``27 .. 30``, ``32 .. 35``) and the ``eye_extra`` points
between them (``68 .. 71``, ``72 .. 75``); the outer lip ``48 .. 59``; the inner lip through
the mouth corners 48 and 54, the upper inner lip ``63 .. 65`` and the lower ``60 .. 62``. The
pupils (31, 36), nostrils (46, 47), nose tip (67) and mouth centre (66) have no lines.
"""


def _as_boxes(boxes: Any, func: str) -> np.ndarray:
    """``boxes`` as float64 ``(K, 4)``; raises ValueError naming the received shape."""
    arr = float_array(boxes, func, "boxes as a numeric array of shape (4,) or (F, 4)")
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(
            f"{func} expects boxes of shape (4,) or (F, 4) as (x0, y0, x1, y1) edge "
            f"coordinates in pixels. Received: shape {np.shape(boxes)}"
        )
    return arr


def _face_radius(face: np.ndarray, width: int, height: int) -> float:
    """Default dot radius for one face (or a box's two corners): see ``draw_landmarks``."""
    ok = np.isfinite(face).all(axis=1)
    if ok.sum() < 2:
        return max(1.0, min(width, height) / 160.0)
    pts = face[ok]
    extent = float(np.max(pts.max(axis=0) - pts.min(axis=0)))
    return max(0.5, extent / 100.0)


def _color(value: Color, name: str, func: str) -> Color:
    if isinstance(value, str):
        return value
    try:
        rgb = tuple(int(c) for c in value)
    except (TypeError, ValueError):
        rgb = ()
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise ValueError(
            f"{func} expects {name} to be an (R, G, B) tuple of ints in 0..255 or a colour "
            f"name. Received: {name}={value!r}"
        )
    return rgb


def draw_landmarks(
    image: fl_images.ImageLike,
    points: Any,
    *,
    boxes: Any = None,
    indices: bool = False,
    contours: bool = True,
    radius: float | None = None,
    color: Color = (0, 255, 0),
    contour_color: Color = (255, 200, 0),
    box_color: Color = (255, 0, 0),
    scheme: str | PointScheme | None = None,
) -> Image.Image:
    """Draw landmarks (and optionally face boxes and point numbers) on a copy of an image.

    Args:
        image: anything :func:`facelandmarks.images.load_image` accepts (path, PIL image,
            ``uint8``/``uint16`` array). Files are drawn in their EXIF-oriented frame, the
            frame predictions are made in.
        points: array-like ``(K, 2)`` for one face or ``(F, K, 2)`` for ``F`` faces,
            ``(x, y)`` in pixels of ``image``, origin top-left, pixel centres at integers;
            ``K`` the scheme's point count (76 for MUCT, 68 for iBUG).
            Points with a ``NaN`` (or infinite, or over 1e9 px) coordinate are skipped, and so
            are the contour segments that touch them. Points outside the image are clipped by
            the drawing.
        boxes: optional array-like ``(4,)`` or ``(K, 4)``: ``(x0, y0, x1, y1)`` edge
            coordinates in pixels (``(0, 0, W, H)`` is the whole image). Boxes with a
            non-finite value are skipped.
        indices: also write each point's index (0 to K - 1) next to it.
        contours: draw the scheme's contour lines under the points (MUCT: :data:`CONTOURS`,
            jaw and nose open polylines, brows, eyes and lips closed loops).
        radius: dot radius in pixels, for every face. Default: per face, its points' extent
            (the larger side of their bounding box) / 100, at least 0.5, so dots follow each
            face's size and never swamp small faces in a large photo (single pixels under
            about 55 px across, 3 px at 300 px); a face with fewer than two finite points gets
            ``max(1, min(W, H) / 160)``. A dot is a disc of radius ``round(radius)`` centred
            on the pixel nearest to the point (a single pixel below 0.5). A face's lines are
            ``max(1, round(radius / 2))`` px wide; a box's outline takes the radius of a face
            the size of the box.
        color: dot (and index) colour, an ``(R, G, B)`` tuple or a colour name.
        contour_color: line colour.
        box_color: box outline colour.
        scheme: the point scheme (a :class:`~facelandmarks.schemes.PointScheme` or registered
            name) whose contours are drawn; default: the scheme for ``K`` points.

    Returns:
        A new RGB ``PIL.Image.Image`` of the image's size. The input is never modified.

    Raises:
        ValueError: ``points`` or ``boxes`` of the wrong shape or not numeric (or ``K`` without
            a known scheme and no ``scheme``), an unknown ``scheme``, a bad ``radius`` or
            colour, or an ``image`` that is not a readable image.
        FileNotFoundError, TypeError: as :func:`facelandmarks.images.load_image`.

    Example:
        >>> import numpy as np
        >>> from facelandmarks.points import NUM_POINTS
        >>> xy = np.full((NUM_POINTS, 2), 20.0)
        >>> out = draw_landmarks(np.zeros((48, 64, 3), np.uint8), xy)
        >>> out.size, out.getpixel((20, 20))
        ((64, 48), (0, 255, 0))
    """
    func = "draw_landmarks"
    faces, found = _as_faces(points, func, scheme)
    box_arr = None if boxes is None else _as_boxes(boxes, func)
    fill = _color(color, "color", func)
    line_fill = _color(contour_color, "contour_color", func)
    box_fill = _color(box_color, "box_color", func)
    rgb = fl_images.load_image(image)  # always a new array: the caller's image is untouched
    height, width = rgb.shape[:2]
    if radius is not None and (
        isinstance(radius, bool)
        or not isinstance(radius, (int, float, np.integer, np.floating))
        or not math.isfinite(radius)
        or radius <= 0
    ):
        raise ValueError(f"{func} expects radius to be a number > 0 or None. Received: {radius!r}")
    radii = [_face_radius(f, width, height) if radius is None else float(radius) for f in faces]

    canvas = Image.fromarray(rgb)
    draw = ImageDraw.Draw(canvas)
    if box_arr is not None:
        for box in box_arr:
            if not _finite(box):
                continue
            box = np.clip(box, -1e9, 1e9)  # the same visible edges, in Pillow's 32-bit range
            x0, x1 = sorted((round(box[0]), round(box[2])))
            y0, y1 = sorted((round(box[1]), round(box[3])))
            r_box = _face_radius(box.reshape(2, 2), width, height) if radius is None else radius
            # Edge coordinates: the last covered pixel is x1 - 1 (at least x0).
            draw.rectangle(
                [x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)],
                outline=box_fill,
                width=max(1, round(r_box / 2)),
            )
    if contours:
        for face, r in zip(faces, radii, strict=True):
            _draw_contours(draw, face, found, line_fill, max(1, round(r / 2)))
    for face, r in zip(faces, radii, strict=True):
        for x, y in face:
            if math.isfinite(x) and math.isfinite(y):
                _dot(draw, x, y, r, fill)
    if indices:
        for face, r in zip(faces, radii, strict=True):
            size = max(8, round(3.5 * r))
            font = _font(size)
            for i, (x, y) in enumerate(face):
                if math.isfinite(x) and math.isfinite(y):
                    center = (x + r + size * 0.6, y - r - size * 0.4)
                    _draw_label(draw, str(i), center, font, fill, (0, 0, 0))
    return canvas
