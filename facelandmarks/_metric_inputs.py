"""The metrics' inputs, checked: point arrays, point subsets, schemes, NMEs, thresholds and
the per-image normalising distances.

Private helper of :mod:`facelandmarks.metrics`, whose module docstring states the protocol
(it re-exports :data:`NORMALIZATION_POINTS`, defined here). Every error names the calling
function, the argument, what was expected and what was received. Pure NumPy. The drawing
modules share its one general check, :func:`float_array`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from facelandmarks.schemes import MUCT76, MuctPoint, PointScheme, get_scheme, scheme_for_points

Normalization = Literal["inter_ocular", "inter_pupil"] | ArrayLike
SchemeLike = str | PointScheme | None

NORMALIZATION_POINTS: dict[str, tuple[int, int]] = {
    "inter_ocular": (int(MuctPoint.IMAGE_LEFT_EYE_OUTER), int(MuctPoint.IMAGE_RIGHT_EYE_OUTER)),
    "inter_pupil": (int(MuctPoint.IMAGE_LEFT_PUPIL), int(MuctPoint.IMAGE_RIGHT_PUPIL)),
}
"""The pair of MUCT point indices whose ground-truth distance each named normalisation uses.

Other schemes take theirs from :class:`~facelandmarks.schemes.PointScheme` (``eye_corners``,
``pupils``).
"""


def float_array(value: object, func: str, expected: str) -> np.ndarray:
    """``value`` as a float64 array; ValueError "``func`` expects ``expected``" otherwise."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func} expects {expected}. Received: an object of type {type(value).__name__} ({exc})"
        ) from exc


def _as_points(value: ArrayLike, name: str, func: str) -> np.ndarray:
    """Return ``value`` as a float64 ``(N, P, 2)`` array, or raise a clear ``ValueError``."""
    arr = float_array(value, func, f"{name} to be a numeric array-like of shape (N, P, 2)")
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3 or arr.shape[-1] != 2:
        raise ValueError(
            f"{func} expects {name} of shape (N, P, 2) or (P, 2), with the last axis (x, y). "
            f"Received: {name}.shape={np.shape(value)}"
        )
    for axis, what in enumerate(("one image (N >= 1)", "one point per image (P >= 1)")):
        if arr.shape[axis] == 0:
            raise ValueError(
                f"{func} expects {name} to hold at least {what}. "
                f"Received: {name}.shape={np.shape(value)}"
            )
    return arr


def _validated_pair(
    pred_xy: ArrayLike, true_xy: ArrayLike, func: str, points: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate predictions and ground truth together.

    Returns float64 ``(N, P, 2)`` arrays and the int64 indices of the points scored (all, or
    ``points``); predictions need only be finite at those.
    """
    pred = _as_points(pred_xy, "pred_xy", func)
    true = _as_points(true_xy, "true_xy", func)
    if pred.shape != true.shape:
        raise ValueError(
            f"{func} expects pred_xy and true_xy of the same shape. "
            f"Received: pred_xy.shape={pred.shape}, true_xy.shape={true.shape}"
        )
    scored = _as_subset(points, pred.shape[1], func)
    checked = np.isin(np.arange(pred.shape[1]), scored)
    not_finite = ~np.isfinite(pred) & checked[None, :, None]
    if np.any(not_finite):
        bad = np.argwhere(not_finite)[0]
        raise ValueError(
            f"{func} expects finite predictions: pred_xy must not contain NaN or inf. "
            f"Received: pred_xy[{bad[0]}, {bad[1]}, {bad[2]}]={pred[tuple(bad)]}"
        )
    if np.any(np.isinf(true)):
        bad = np.argwhere(np.isinf(true))[0]
        raise ValueError(
            f"{func} expects true_xy to be finite or NaN (NaN marks an unavailable point). "
            f"Received: true_xy[{bad[0]}, {bad[1]}, {bad[2]}]={true[tuple(bad)]}"
        )
    return pred, true, scored


def _as_subset(points: ArrayLike | None, n_points: int, func: str) -> np.ndarray:
    """The scored point indices: all ``P`` for None, else distinct ints in ``[0, P)``."""
    if points is None:
        return np.arange(n_points, dtype=np.int64)
    arr = np.asarray(points)
    if (
        arr.ndim != 1
        or arr.size == 0
        or not (np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.bool_)
        or arr.min() < 0
        or arr.max() >= n_points
        or np.unique(arr).size != arr.size
    ):
        raise ValueError(
            f"{func} expects points to be a non-empty 1-D sequence of distinct int indices "
            f"in 0..{n_points - 1}. Received: points={points!r}"
        )
    return arr.astype(np.int64)


def _resolve_scheme(scheme: SchemeLike, n_points: int, func: str, what: str) -> PointScheme:
    """The scheme of ``P``-point arrays: ``scheme``, or the default for ``P``."""
    if scheme is None:
        try:
            return scheme_for_points(n_points)
        except ValueError:
            raise ValueError(
                f"{func} with {what} needs a known point scheme: the {MUCT76.num_points}-point "
                f"MUCT scheme, the 68-point iBUG scheme, or a registered one passed as "
                f"scheme=...; pass an array of distances for other points. "
                f"Received: P={n_points}"
            ) from None
    found = get_scheme(scheme)
    if found.num_points != n_points:
        raise ValueError(
            f"{func} expects arrays of shape (N, {found.num_points}, 2) for the scheme "
            f"{found.name!r}. Received: P={n_points}"
        )
    return found


def _as_nme(nme: ArrayLike, func: str) -> np.ndarray:
    """Return per-image NMEs as a non-empty finite non-negative float64 ``(N,)`` array."""
    arr = float_array(nme, func, "nme to be a numeric array-like of shape (N,)")
    if arr.ndim != 1:
        raise ValueError(f"{func} expects nme of shape (N,). Received: nme.shape={arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{func} expects at least one value in nme. Received: nme.shape=(0,)")
    for bad, what in ((~np.isfinite(arr), "finite"), (arr < 0, "non-negative")):
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{func} expects {what} values in nme. Received: nme[{i}]={arr[i]}")
    return arr


def _as_threshold(value: float, name: str, func: str) -> float:
    """Return a finite, strictly positive threshold as a Python float."""
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func} expects {name} to be a positive number. Received: {name}={value!r}"
        ) from exc
    if isinstance(value, bool) or not np.isfinite(out) or out <= 0:
        raise ValueError(
            f"{func} expects {name} to be a finite number > 0. Received: {name}={value!r}"
        )
    return out


def _normalizing_distances(
    true: np.ndarray, normalization: Normalization, func: str, scheme: SchemeLike = None
) -> np.ndarray:
    """Per-image normalising distances ``(N,)`` float64, validated (finite, > 0)."""
    n_images, n_points = true.shape[:2]
    if isinstance(normalization, str):
        if normalization not in NORMALIZATION_POINTS:
            raise ValueError(
                f"{func} expects normalization to be one of {sorted(NORMALIZATION_POINTS)} "
                f"or an array of shape (N,). Received: normalization={normalization!r}"
            )
        found = _resolve_scheme(scheme, n_points, func, f"normalization={normalization!r}")
        pair = found.eye_corners if normalization == "inter_ocular" else found.pupils
        if pair is None:
            raise ValueError(
                f"{func} with normalization={normalization!r} needs a scheme with pupils; "
                f"{found.name!r} has none. Received: scheme={found.name!r}"
            )
        a, b = pair
        diff = true[:, a] - true[:, b]
        dist = np.hypot(diff[:, 0], diff[:, 1])  # NaN where either point is unavailable
        for bad, why in (
            (np.isnan(dist), "must be available (not NaN)"),
            (dist == 0, "coincide, so the normalising distance is 0"),
        ):
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"{func} cannot normalise image {i} by {normalization!r}: its ground-truth "
                    f"points {a} and {b} {why}. Received: true_xy[{i}, {a}]="
                    f"{true[i, a].tolist()}, true_xy[{i}, {b}]={true[i, b].tolist()}"
                )
        return dist

    dist = float_array(
        normalization,
        func,
        f"normalization to be one of {sorted(NORMALIZATION_POINTS)} or a numeric array of "
        f"shape (N,)",
    )
    if dist.shape != (n_images,):
        raise ValueError(
            f"{func} expects a normalization array of shape (N,)=({n_images},), one distance "
            f"per image. Received: normalization.shape={dist.shape}"
        )
    bad = ~np.isfinite(dist) | (dist <= 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{func} expects every normalising distance to be finite and > 0. "
            f"Received: normalization[{i}]={dist[i]} for image {i}"
        )
    return dist
