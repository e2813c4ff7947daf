"""Shape statistics: similarity (Procrustes) alignment and the mean shape of many faces.

Pure NumPy; imports no Keras. Used to check a scheme's mirror map on data and to draw point
charts from a mean shape (never from a photo).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["mean_shape", "similarity_align"]


def similarity_align(src: Any, dst: Any) -> np.ndarray:
    """``src`` moved by the rotation, uniform scale and shift that best fit it onto ``dst``.

    Least squares over the points finite in both (Umeyama's method, no reflection).

    Args:
        src: array-like ``(K, 2)`` of ``(x, y)`` points.
        dst: array-like ``(K, 2)``, the target.

    Returns:
        float64 ``(K, 2)``: every point of ``src`` (NaN stays NaN) in ``dst``'s frame.

    Raises:
        ValueError: shapes differ or are not ``(K, 2)``, or fewer than 2 points are finite in
            both.
    """
    a = np.asarray(src, dtype=np.float64)
    b = np.asarray(dst, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape != b.shape:
        raise ValueError(
            f"similarity_align expects src and dst of one shape (K, 2). "
            f"Received: {a.shape} and {b.shape}"
        )
    ok = np.all(np.isfinite(a), axis=1) & np.all(np.isfinite(b), axis=1)
    if ok.sum() < 2:
        raise ValueError(
            f"similarity_align needs 2 points finite in both shapes. Received: {int(ok.sum())}"
        )
    ma, mb = a[ok].mean(axis=0), b[ok].mean(axis=0)
    ca, cb = a[ok] - ma, b[ok] - mb
    u, s, vt = np.linalg.svd(ca.T @ cb)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ d @ vt
    scale = float(np.sum(s * np.diag(d)) / max(np.sum(ca**2), 1e-300))
    return (a - ma) * scale @ rotation + mb


def mean_shape(
    landmarks: Any, *, eye_corners: tuple[int, int] | None = None, iterations: int = 10
) -> np.ndarray:
    """Generalised Procrustes mean of ``N`` shapes: each is similarity-aligned to the mean.

    Args:
        landmarks: array-like ``(N, K, 2)`` of ``(x, y)`` points; ``NaN`` points are left out.
        eye_corners: optional ``(i, j)``: rotate the result so point ``j`` lies level with and
            to the right of point ``i``, at distance 1 (e.g. a scheme's ``eye_corners``).
            Default: the result has unit root-mean-square size.
        iterations: rounds of align-all-then-average (the mean settles in a few).

    Returns:
        float64 ``(K, 2)`` centred on the origin (``y`` down, like pixels).

    Raises:
        ValueError: ``landmarks`` not ``(N, K, 2)`` with ``N >= 1``, or ``iterations < 1``.
    """
    xy = np.asarray(landmarks, dtype=np.float64)
    if xy.ndim != 3 or xy.shape[2] != 2 or xy.shape[0] < 1:
        raise ValueError(f"mean_shape expects landmarks of shape (N, K, 2). Received: {xy.shape}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an int >= 1. Received: {iterations!r}")
    ref = xy[0] - np.nanmean(xy[0], axis=0)
    for _ in range(iterations):
        aligned = np.stack([similarity_align(shape, ref) for shape in xy])
        ref = np.nanmean(aligned, axis=0)
        ref -= ref.mean(axis=0)
        ref /= np.sqrt(np.mean(np.sum(ref**2, axis=1)))
    if eye_corners is not None:
        i, j = eye_corners
        dx, dy = ref[j] - ref[i]
        angle = np.arctan2(dy, dx)
        c, s = np.cos(-angle), np.sin(-angle)
        ref = ref @ np.array([[c, s], [-s, c]]) / np.hypot(dx, dy)
    return ref
