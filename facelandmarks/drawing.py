"""Pictures of landmarks: annotated images, CED plots and numbered charts of point schemes.

Drawing uses Pillow and NumPy only (no Keras, no TensorFlow). :func:`plot_ced` needs
matplotlib, which is an optional dependency (``pip install "facelandmarks[plot]"``) imported
only when the function is called.

Coordinates follow the library's contract: ``(x, y)`` pixels of the image as passed, origin
top-left, ``y`` down, pixel centres at integer coordinates. A point at ``(10, 20)`` is drawn
centred on the pixel in column 10, row 20. Boxes use *edge* coordinates: ``(0, 0, W, H)`` is
the whole image, so its outline covers columns ``0 .. W - 1``.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from facelandmarks import images as fl_images
from facelandmarks import metrics as fl_metrics
from facelandmarks.schemes import MUCT76, PointScheme, get_scheme, scheme_for_points

__all__ = ["CONTOURS", "draw_landmarks", "draw_point_chart", "plot_ced"]

Color = tuple[int, int, int] | str

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
"""The lines :func:`draw_landmarks` draws for the 76 MUCT points: ``(name, point indices in
drawing order, closed)``; other schemes draw their own
:attr:`~facelandmarks.schemes.PointScheme.contours`.

Derived from the MUCT point layout (indices as in :data:`facelandmarks.points.GROUPS`):

* the jaw ``0 .. 14`` is an open polyline (ear to ear under the chin);
* each eyebrow (``15 .. 20`` and ``21 .. 26``: outer end, upper edge, inner end, lower
  edge) is a closed loop;
* each eye is a closed loop through its four main points (outer corner, top, inner corner,
  bottom: ``27 .. 30`` and ``32 .. 35``) and the four ``eye_extra`` points between them
  (``68 .. 71`` and ``72 .. 75``);
* the nose ``37 .. 45`` (bridge, left wing, base, right wing, bridge) is an open polyline;
* the outer lip ``48 .. 59`` is a closed loop, and the inner lip is the closed loop through
  the mouth corners ``48`` and ``54``, the upper inner lip ``63 .. 65`` and the lower inner lip
  ``60 .. 62``.

The pupils (31, 36), the nostrils (46, 47), the nose tip (67) and the mouth centre (66) are
points without lines.
"""

_PLOT_HINT = 'pip install "facelandmarks[plot]"'


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _as_faces(
    points: Any, func: str, scheme: str | PointScheme | None
) -> tuple[np.ndarray, PointScheme]:
    """``points`` as float64 ``(F, K, 2)`` and their scheme; ValueError naming the shape."""
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func} expects points as a numeric array of shape (K, 2) or (F, K, 2). "
            f"Received: {type(points).__name__} that is not numeric ({exc})"
        ) from None
    if arr.ndim == 2:
        arr = arr[None]
    found = None if scheme is None else get_scheme(scheme)
    if arr.ndim == 3 and arr.shape[2] == 2 and found is None:
        try:
            found = scheme_for_points(arr.shape[1])
        except ValueError:
            found = None
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


def _as_boxes(boxes: Any, func: str) -> np.ndarray:
    """``boxes`` as float64 ``(K, 4)``; raises ValueError naming the received shape."""
    try:
        arr = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func} expects boxes as a numeric array of shape (4,) or (F, 4). "
            f"Received: {type(boxes).__name__} that is not numeric ({exc})"
        ) from None
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(
            f"{func} expects boxes of shape (4,) or (F, 4) as (x0, y0, x1, y1) edge "
            f"coordinates in pixels. Received: shape {np.shape(boxes)}"
        )
    return arr


def _image_radius(width: int, height: int) -> float:
    return max(1.0, min(width, height) / 160.0)


def _face_radius(face: np.ndarray, width: int, height: int) -> float:
    """Default dot radius for one face: its points' extent / 100 (at least 0.5, a single
    pixel), so that dots never swamp a small face in a large photo; a face with fewer than two
    finite points falls back to the image's size."""
    ok = np.isfinite(face).all(axis=1)
    if ok.sum() < 2:
        return _image_radius(width, height)
    pts = face[ok]
    extent = float(np.max(pts.max(axis=0) - pts.min(axis=0)))
    return max(0.5, extent / 100.0)


def _as_radius(radius: float | None, width: int, height: int, func: str) -> float:
    if radius is None:
        return _image_radius(width, height)
    if (
        isinstance(radius, bool)
        or not isinstance(radius, (int, float, np.integer, np.floating))
        or not math.isfinite(radius)
        or radius <= 0
    ):
        raise ValueError(f"{func} expects radius to be a number > 0 or None. Received: {radius!r}")
    return float(radius)


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
        pairs = list(itertools.pairwise(idx))
        if closed:
            pairs.append((idx[-1], idx[0]))
        for a, b in pairs:
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
    if stroke is None:
        draw.text((x, y), text, fill=fill, font=font)
    else:
        draw.text((x, y), text, fill=fill, font=font, stroke_width=1, stroke_fill=stroke)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


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
            Points with a ``NaN`` (or infinite) coordinate are skipped, and so are the contour
            segments that touch them. Points outside the image are clipped by the drawing.
        boxes: optional array-like ``(4,)`` or ``(K, 4)``: ``(x0, y0, x1, y1)`` edge
            coordinates in pixels (``(0, 0, W, H)`` is the whole image). Boxes with a
            non-finite value are skipped.
        indices: also write each point's index (0 to K - 1) next to it.
        contours: draw the scheme's contour lines under the points (MUCT: :data:`CONTOURS`,
            jaw and nose open polylines, brows, eyes and lips closed loops).
        radius: dot radius in pixels, for every face. Default: per face, its points'
            extent (the larger side of their bounding box) / 100, at least 0.5 (single-pixel
            dots on faces under about 55 px across, 3 px dots on a face 300 px across), so
            dots follow each face's size and never swamp small faces in a large photo; a
            face with fewer than two
            finite points gets ``max(1, min(W, H) / 160)``. A dot is a disc of radius
            ``round(radius)`` centred on the pixel nearest to the point (a single pixel below
            0.5). A face's lines are ``max(1, round(radius / 2))`` px wide; a box's outline
            takes the radius of a face the size of the box.
        color: dot (and index) colour, an ``(R, G, B)`` tuple or a colour name.
        contour_color: line colour.
        box_color: box outline colour.
        scheme: the point scheme (a :class:`~facelandmarks.schemes.PointScheme` or registered
            name) whose contours are drawn; default: the scheme for ``K`` points.

    Returns:
        A new RGB ``PIL.Image.Image`` of the image's size. The input is never modified.

    Raises:
        ValueError: ``points`` or ``boxes`` of the wrong shape or not numeric (or ``K`` without
            a known scheme and no ``scheme``), an unknown ``scheme``, a bad
            ``radius`` or colour, or an ``image`` that is not a readable image.
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
    given = None if radius is None else _as_radius(radius, width, height, func)
    radii = [given if given is not None else _face_radius(f, width, height) for f in faces]

    canvas = Image.fromarray(rgb)
    draw = ImageDraw.Draw(canvas)
    if box_arr is not None:
        for box in box_arr:
            if not _finite(box):
                continue
            x0, x1 = sorted((round(box[0]), round(box[2])))
            y0, y1 = sorted((round(box[1]), round(box[3])))
            side = max(abs(box[2] - box[0]), abs(box[3] - box[1]))
            r_box = given if given is not None else max(0.5, side / 100.0)
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


def _label_directions(xy: np.ndarray, scheme: PointScheme) -> np.ndarray:
    """Unit vectors pointing away from each point's feature, to place its number."""
    inward = _CHART_INWARD.get(scheme.name, ())
    clusters = (
        _CHART_CLUSTERS.get(scheme.name)
        or tuple(idx for name, idx in scheme.groups if name != "jaw")
    ) + inward
    valid = np.all(np.isfinite(xy), axis=1)
    face_center = xy[valid].mean(axis=0) if valid.any() else np.zeros(2)
    centers = np.tile(face_center, (len(xy), 1))
    for members in clusters:
        idx = [i for i in members if valid[i]]
        if idx:
            centers[list(members)] = xy[idx].mean(axis=0)
    out = xy - centers
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    up = np.array([0.0, -1.0])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(norm > 1e-6, out / norm, up)
    out = np.where(np.isfinite(out), out, up)
    for members in inward:
        out[list(members)] *= -1.0
    # Points inside a feature (pupils, mouth centre): their number goes into the gap to the
    # right of them, between the feature's upper and lower contours.
    right = np.array([1.0, 0.15]) / np.hypot(1.0, 0.15)
    inside = list(_CHART_INSIDE.get(scheme.name, ()))
    out[inside] = right
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
            two positive ints,
            no finite point, or a ``path`` extension Pillow cannot write.
    """
    func = "draw_point_chart"
    faces, found = _as_faces(points_xy, func, scheme)
    if faces.shape[0] != 1 or np.ndim(points_xy) != 2:
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
        scale = min((width - 2 * margin) / extent[0], (height - 2 * margin) / extent[1])
        scale = max(scale, 1e-6)
        xy = (xy - (lo + hi) / 2) * scale + np.array([(width - 1) / 2, (height - 1) / 2])
    radius = max(2.0, min(width, height) / 160)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    _draw_contours(draw, xy, found, (190, 190, 190), max(1, round(radius / 2)))
    font = _font(font_size)
    directions = _label_directions(xy, found)
    for i, ((x, y), d) in enumerate(zip(xy, directions, strict=True)):
        if not valid[i]:
            continue
        _dot(draw, x, y, radius, (30, 30, 30))
        offset = radius + 0.75 * font_size
        center = (x + d[0] * offset, y + d[1] * offset)
        _draw_label(draw, str(i), center, font, (20, 60, 170), None)
    if path is not None:
        try:
            canvas.save(os.fspath(path))
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"{func} cannot save to {os.fspath(path)!r}: unknown image file extension "
                f"({exc}). Received: path={os.fspath(path)!r}"
            ) from None
    return canvas


def _nme_values(result: Any, index: int, func: str) -> np.ndarray:
    if isinstance(result, Mapping):
        if "per_image_nme" not in result:
            raise ValueError(
                f"{func} expects each result dict to hold 'per_image_nme' (the per-image "
                f"NMEs). Received: a dict with keys {sorted(result)} at position {index}"
            )
        result = result["per_image_nme"]
    values = np.asarray(result, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"{func} expects per-image NMEs as a non-empty 1-D array. Received: shape "
            f"{values.shape} at position {index}"
        )
    return values


def plot_ced(
    results: Mapping[str, Any] | Sequence[Any] | np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    max_threshold: float = 0.10,
    ax: Any = None,
) -> Any:
    """Plot cumulative error distribution (CED) curves with matplotlib.

    Args:
        results: one curve or several. A curve is a dict holding ``"per_image_nme"`` (e.g.
            ``{"per_image_nme": per_image_nme(pred, truth), "label": "ours"}``) or a raw
            array-like ``(N,)`` of per-image NMEs (unitless, finite, >= 0) such as
            :func:`facelandmarks.metrics.per_image_nme` returns. Several curves are
            given as a list of these; a flat list of numbers is one curve.
        labels: one legend label per curve. Default: a dict's ``"label"`` entry, else
            ``"curve 1"``, ``"curve 2"``, ... Each label gets the curve's AUC appended.
        max_threshold: right end of the x axis (NME), > 0; also the AUC's upper limit.
        ax: a matplotlib ``Axes`` to draw into; default a new figure via ``pyplot``.

    Returns:
        The matplotlib ``Axes`` drawn into.

    Raises:
        ImportError: matplotlib is not installed (the message says
            ``pip install "facelandmarks[plot]"``).
        ValueError: a dict without ``"per_image_nme"``, an empty or non-1-D NME array, NaN or
            negative NMEs, a bad ``max_threshold``, or a ``labels`` length that differs from
            the number of curves.

    Example:
        >>> from facelandmarks.metrics import per_image_nme
        >>> scores = det.evaluate(test, return_predictions=True)  # doctest: +SKIP
        >>> ax = plot_ced([per_image_nme(scores["predictions"], test.landmarks),
        ...                [0.03, 0.05, 0.2]], labels=["ours", "baseline"])  # doctest: +SKIP
    """
    func = "plot_ced"
    if isinstance(results, (Mapping, np.ndarray)):
        curves: list[Any] = [results]
    elif isinstance(results, Sequence) and not isinstance(results, (str, bytes)):
        if len(results) and all(np.ndim(r) == 0 and not isinstance(r, Mapping) for r in results):
            curves = [results]
        else:
            curves = list(results)
    else:
        raise ValueError(
            f"{func} expects a result dict, an array of per-image NMEs, or a list of these. "
            f"Received: {type(results).__name__}"
        )
    if not curves:
        raise ValueError(f"{func} expects at least one curve. Received: an empty list")
    arrays = [_nme_values(c, i, func) for i, c in enumerate(curves)]
    if labels is None:
        names = [
            str(c["label"]) if isinstance(c, Mapping) and "label" in c else f"curve {i + 1}"
            for i, c in enumerate(curves)
        ]
    else:
        names = [str(v) for v in labels]
        if len(names) != len(arrays):
            raise ValueError(
                f"{func} expects one label per curve ({len(arrays)}). Received: {len(names)} labels"
            )
    ceds = [fl_metrics.ced_curve(a, max_threshold=max_threshold) for a in arrays]
    aucs = [fl_metrics.auc(a, max_threshold=max_threshold) for a in arrays]

    try:
        import matplotlib  # noqa: F401

        if ax is None:
            import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{func} needs matplotlib, which is not installed. Install it with: {_PLOT_HINT}"
        ) from exc
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    for (thresholds, fractions), name, area in zip(ceds, names, aucs, strict=True):
        ax.step(
            thresholds,
            fractions,
            where="post",
            label=f"{name} (AUC@{max_threshold:g} = {area:.3f})",
        )
    ax.set_xlim(0.0, max_threshold)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("NME (inter-ocular)")
    ax.set_ylabel("Fraction of images")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return ax
