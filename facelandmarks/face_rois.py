"""Face ROIs: where a face's square, rolled frame sits in an image (pure NumPy).

A face ROI is ``(cx, cy, side, angle)``: a square frame of ``side`` pixels centred on
``(cx, cy)`` (edge coordinates), rotated by ``angle`` radians so that the face comes out upright
(:meth:`facelandmarks.framing.Framing.square` makes the frame of one). A face detector's box
and eye keypoints give one (:func:`roi_from_box`); a face's landmarks give one placed the same
way on average (:func:`roi_from_points`, with a per-scheme calibration measured on training
data, :func:`calibrate_roi_from_points`), which is how video is tracked without running the
detector on every frame.

Pixels ``xy`` have their origin at the top-left and pixel centres at integers; boxes
``(x0, y0, x1, y1)`` are edge coordinates (see docs/coordinates.md). The names are also
importable from :mod:`facelandmarks.framing`, their home before this module.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


def eye_angle(left_xy: Any, right_xy: Any, xp: Any = np) -> Any:
    """Roll angle of the line from the eye on the image's left to the one on its right."""
    return xp.arctan2(right_xy[..., 1] - left_xy[..., 1], right_xy[..., 0] - left_xy[..., 0])


def roi_from_box(
    boxes: np.ndarray,
    left_eyes: np.ndarray | None,
    right_eyes: np.ndarray | None,
    *,
    scale: float,
    offset: Sequence[float] = (0.0, 0.0),
) -> np.ndarray:
    """Face ROIs from detector boxes and eye keypoints.

    Args:
        boxes: ``(N, 4)`` boxes ``(x0, y0, x1, y1)``, edge coordinates.
        left_eyes, right_eyes: ``(N, 2)`` pixel coordinates of the eye on the image's left and
            the one on its right (for a frontal face: the subject's right and left eye), or
            ``None`` for upright frames.
        scale: ROI side over the box side ``sqrt(w * h)``.
        offset: ``(dx, dy)`` ROI centre minus box centre, in box sides, along the upright
            face's axes.

    Returns:
        float64 ``(N, 4)``: ``(cx, cy, side, angle)``.
    """
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    side = np.sqrt(np.maximum(b[:, 2] - b[:, 0], 1e-6) * np.maximum(b[:, 3] - b[:, 1], 1e-6))
    if left_eyes is None or right_eyes is None:
        angle = np.zeros(len(b))
    else:
        angle = eye_angle(np.asarray(left_eyes, np.float64), np.asarray(right_eyes, np.float64))
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = float(offset[0]) * side, float(offset[1]) * side
    cx = (b[:, 0] + b[:, 2]) / 2 + c * dx - s * dy
    cy = (b[:, 1] + b[:, 3]) / 2 + s * dx + c * dy
    return np.stack([cx, cy, side * scale, angle], axis=-1)


def eye_centers(xy: np.ndarray, eyes: tuple[Sequence[int], Sequence[int]]) -> np.ndarray:
    """``(N, 2, 2)``: the mean of each eye's finite points (image-left eye first), pixels."""
    pts = np.asarray(xy, np.float64)
    # np.mean equals np.nanmean where nothing is NaN (same sums), and is several times faster
    mean = np.mean if np.isfinite(pts).all() else np.nanmean
    out = [mean(pts[:, list(idx)], axis=1) for idx in eyes]
    return np.stack(out, axis=1)


def roi_from_points(
    xy: np.ndarray,
    eyes: tuple[Sequence[int], Sequence[int]],
    calibration: Sequence[float],
) -> np.ndarray:
    """Face ROIs from landmarks, placed as the face detector would place them.

    The frame's roll comes from the eye centres; in that rolled frame, the box around the finite
    landmarks has centre ``m`` and size ``(lw, lh)``; the ROI is centred at
    ``m + (dx, dy) * side`` with ``side = scale * sqrt(lw * lh)``.

    Args:
        xy: ``(N, K, 2)`` landmarks in pixels (NaN ignored).
        eyes: the scheme's two eye index groups, image-left eye first.
        calibration: ``(scale, dx, dy)`` (see :func:`calibrate_roi_from_points`).

    Returns:
        float64 ``(N, 4)``: ``(cx, cy, side, angle)``; NaN rows where a face has no finite eye.
    """
    scale, dx, dy = (float(v) for v in calibration)
    pts = np.asarray(xy, np.float64)
    centre, size, angle = _rolled_extent(pts, eyes)
    side = scale * np.sqrt(size[:, 0] * size[:, 1])
    c, s = np.cos(angle), np.sin(angle)
    cx = centre[:, 0] + c * dx * side - s * dy * side
    cy = centre[:, 1] + s * dx * side + c * dy * side
    return np.stack([cx, cy, side, angle], axis=-1)


def _rolled_extent(
    pts: np.ndarray, eyes: tuple[Sequence[int], Sequence[int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre (edge coordinates, image axes), size (rolled axes) and roll of each face's points."""
    finite = bool(np.isfinite(pts).all())  # then the plain reductions give the same numbers
    lowest, highest = (np.min, np.max) if finite else (np.nanmin, np.nanmax)
    with contextlib.nullcontext() if finite else _quiet_nanmean():
        e = eye_centers(pts, eyes)
        angle = eye_angle(e[:, 0], e[:, 1])
        c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
        u = c * pts[..., 0] + s * pts[..., 1]
        v = -s * pts[..., 0] + c * pts[..., 1]
        u0, u1 = lowest(u, axis=1), highest(u, axis=1)
        v0, v1 = lowest(v, axis=1), highest(v, axis=1)
    mu, mv = (u0 + u1) / 2, (v0 + v1) / 2
    centre = np.stack([c[:, 0] * mu - s[:, 0] * mv, s[:, 0] * mu + c[:, 0] * mv], axis=-1) + 0.5
    size = np.stack([np.maximum(u1 - u0, 1.0), np.maximum(v1 - v0, 1.0)], axis=-1)
    return centre, size, angle


def calibrate_roi_from_points(
    xy: np.ndarray, eyes: tuple[Sequence[int], Sequence[int]], rois: np.ndarray
) -> tuple[float, float, float]:
    """``(scale, dx, dy)`` that make :func:`roi_from_points` place frames like ``rois``.

    Medians over faces (robust to the detector's occasional odd box).

    Args:
        xy: ``(N, K, 2)`` ground-truth landmarks in pixels.
        eyes: the scheme's eye index groups.
        rois: ``(N, 4)`` the detector's ROIs for the same faces (:func:`roi_from_box`).

    Returns:
        ``(scale, dx, dy)``.

    Raises:
        ValueError: no face has both finite landmarks and a finite ROI.
    """
    pts = np.asarray(xy, np.float64)
    r = np.asarray(rois, np.float64)
    centre, size, angle = _rolled_extent(pts, eyes)
    ext = np.sqrt(size[:, 0] * size[:, 1])
    ok = np.isfinite(ext) & np.isfinite(r).all(axis=1) & np.isfinite(centre).all(axis=1)
    if not ok.any():
        raise ValueError("calibrate_roi_from_points needs at least one face with finite values")
    d = r[ok, :2] - centre[ok]
    c, s = np.cos(angle[ok]), np.sin(angle[ok])
    du = (c * d[:, 0] + s * d[:, 1]) / r[ok, 2]
    dv = (-s * d[:, 0] + c * d[:, 1]) / r[ok, 2]
    scale = float(np.median(r[ok, 2] / ext[ok]))
    return scale, float(np.median(du)), float(np.median(dv))


@contextlib.contextmanager
def _quiet_nanmean() -> Iterator[None]:
    """Silence NumPy's "Mean of empty slice" / "All-NaN slice" warnings (NaN is the answer)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
