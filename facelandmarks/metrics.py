"""Face-landmark evaluation metrics: point errors, NME, CED, AUC, failure rate.

Pure NumPy; this module imports neither Keras nor TensorFlow.

Protocol
--------
All inputs are ``(x, y)`` pixel coordinates in the frame of each image as the caller passed it
(origin top-left, y down), shaped ``(N, P, 2)`` for ``N`` images of ``P`` points (a single
``(P, 2)`` image is read as ``N = 1``). ``NaN`` in the ground truth marks an *unavailable* point
(for example an occluded MUCT point): it is left out of every metric, never scored as error 0.

The normalised mean error (NME) is computed per image, then averaged over images:

1. the error of a point is the Euclidean distance between prediction and ground truth, in pixels;
2. the per-image error is the mean of those distances over the image's *available* points;
3. the per-image NME is that mean divided by a normalising distance measured on the *ground
   truth* of the same image:

   * ``"inter_ocular"``: distance between the outer eye corners, MUCT points 27 and 32;
   * ``"inter_pupil"``: distance between the pupils, MUCT points 31 and 36;
   * or an array of ``N`` distances supplied by the caller (other point schemes, box sizes);

4. the dataset NME is the mean of the per-image NMEs.

This per-image mean over points divided by a per-image ground-truth distance, then averaged over
images, is the usual NME definition in 300-W and WFLW-style evaluation. The 300-W benchmark
(Sagonas et al., 2013/2016) and WFLW (Wu et al., CVPR 2018) normalise by the outer eye corner
("inter-ocular") distance; some 300-W results are also reported with the inter-pupil distance.
The cumulative error distribution (CED) is the fraction of images whose NME is at or below a
threshold, plotted against the threshold; results are commonly summarised by the area under it
up to a cut-off and by the failure rate above that cut-off (0.08 is common on 300-W, 0.10 on
WFLW).

Example:
    >>> import numpy as np
    >>> from facelandmarks.metrics import evaluate_landmarks
    >>> true = np.zeros((1, 76, 2))
    >>> true[0, 27] = (100.0, 100.0)
    >>> true[0, 32] = (200.0, 100.0)
    >>> true[0, 31], true[0, 36] = (110.0, 100.0), (190.0, 100.0)
    >>> pred = true + np.array([3.0, 4.0])  # every point 5 px off
    >>> metrics = evaluate_landmarks(pred, true)
    >>> round(metrics["nme"], 6), round(metrics["nme_pupil"], 6)
    (0.05, 0.0625)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .points import NUM_POINTS, MuctPoint

__all__ = [
    "NORMALIZATION_POINTS",
    "auc",
    "ced_curve",
    "evaluate_landmarks",
    "failure_rate",
    "per_image_nme",
    "point_errors",
]

NORMALIZATION_POINTS: dict[str, tuple[int, int]] = {
    "inter_ocular": (int(MuctPoint.IMAGE_LEFT_EYE_OUTER), int(MuctPoint.IMAGE_RIGHT_EYE_OUTER)),
    "inter_pupil": (int(MuctPoint.IMAGE_LEFT_PUPIL), int(MuctPoint.IMAGE_RIGHT_PUPIL)),
}
"""The pair of MUCT point indices whose ground-truth distance each named normalisation uses."""

Normalization = Literal["inter_ocular", "inter_pupil"] | ArrayLike


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _as_points(value: ArrayLike, name: str, func: str) -> np.ndarray:
    """Return ``value`` as a float64 ``(N, P, 2)`` array, or raise a clear ``ValueError``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func} expects {name} to be a numeric array-like of shape (N, P, 2). "
            f"Received: an object of type {type(value).__name__} ({exc})"
        ) from exc
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3 or arr.shape[-1] != 2:
        raise ValueError(
            f"{func} expects {name} of shape (N, P, 2) or (P, 2), with the last axis (x, y). "
            f"Received: {name}.shape={np.shape(value)}"
        )
    if arr.shape[0] == 0:
        raise ValueError(
            f"{func} expects {name} to hold at least one image (N >= 1). "
            f"Received: {name}.shape={np.shape(value)}"
        )
    if arr.shape[1] == 0:
        raise ValueError(
            f"{func} expects {name} to hold at least one point per image (P >= 1). "
            f"Received: {name}.shape={np.shape(value)}"
        )
    return arr


def _validated_pair(pred_xy: ArrayLike, true_xy: ArrayLike, func: str) -> tuple[np.ndarray, ...]:
    """Validate predictions and ground truth together; return float64 ``(N, P, 2)`` arrays."""
    pred = _as_points(pred_xy, "pred_xy", func)
    true = _as_points(true_xy, "true_xy", func)
    if pred.shape != true.shape:
        raise ValueError(
            f"{func} expects pred_xy and true_xy of the same shape. "
            f"Received: pred_xy.shape={pred.shape}, true_xy.shape={true.shape}"
        )
    if not np.all(np.isfinite(pred)):
        bad = np.argwhere(~np.isfinite(pred))[0]
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
    return pred, true


def _available(true: np.ndarray) -> np.ndarray:
    """Boolean ``(N, P)`` mask: a point is available when both of its coordinates are not NaN."""
    return ~np.any(np.isnan(true), axis=-1)


def _as_nme(nme: ArrayLike, func: str) -> np.ndarray:
    """Return per-image NMEs as a non-empty finite non-negative float64 ``(N,)`` array."""
    try:
        arr = np.asarray(nme, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func} expects nme to be a numeric array-like of shape (N,). "
            f"Received: an object of type {type(nme).__name__} ({exc})"
        ) from exc
    if arr.ndim != 1:
        raise ValueError(f"{func} expects nme of shape (N,). Received: nme.shape={arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{func} expects at least one value in nme. Received: nme.shape=(0,)")
    if not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{func} expects finite values in nme. Received: nme[{i}]={arr[i]}")
    if np.any(arr < 0):
        i = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{func} expects non-negative values in nme. Received: nme[{i}]={arr[i]}")
    return arr


def _as_threshold(value: float, name: str, func: str) -> float:
    """Return a finite, strictly positive threshold as a Python float."""
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func} expects {name} to be a positive number. Received: {name}={value!r}"
        ) from exc
    if not np.isfinite(out) or out <= 0:
        raise ValueError(
            f"{func} expects {name} to be a finite number > 0. Received: {name}={value!r}"
        )
    return out


def _normalizing_distances(true: np.ndarray, normalization: Normalization, func: str) -> np.ndarray:
    """Per-image normalising distances ``(N,)`` float64, validated (finite, > 0)."""
    n_images, n_points = true.shape[:2]
    if isinstance(normalization, str):
        if normalization not in NORMALIZATION_POINTS:
            raise ValueError(
                f"{func} expects normalization to be one of {sorted(NORMALIZATION_POINTS)} "
                f"or an array of shape (N,). Received: normalization={normalization!r}"
            )
        if n_points != NUM_POINTS:
            raise ValueError(
                f"{func} with normalization={normalization!r} expects the {NUM_POINTS}-point "
                f"MUCT scheme, i.e. arrays of shape (N, {NUM_POINTS}, 2); pass an array of "
                f"distances for other schemes. Received: P={n_points}"
            )
        a, b = NORMALIZATION_POINTS[normalization]
        diff = true[:, a] - true[:, b]
        missing = np.any(np.isnan(diff), axis=-1)
        if np.any(missing):
            i = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"{func} cannot normalise image {i} by {normalization!r}: its ground-truth "
                f"points {a} and {b} must be available (not NaN). "
                f"Received: true_xy[{i}, {a}]={true[i, a].tolist()}, "
                f"true_xy[{i}, {b}]={true[i, b].tolist()}"
            )
        dist = np.hypot(diff[:, 0], diff[:, 1])
        zero = dist == 0
        if np.any(zero):
            i = int(np.flatnonzero(zero)[0])
            raise ValueError(
                f"{func} cannot normalise image {i} by {normalization!r}: its ground-truth "
                f"points {a} and {b} coincide, so the normalising distance is 0. "
                f"Received: true_xy[{i}, {a}]=true_xy[{i}, {b}]={true[i, a].tolist()}"
            )
        return dist

    try:
        dist = np.asarray(normalization, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func} expects normalization to be one of {sorted(NORMALIZATION_POINTS)} "
            f"or a numeric array of shape (N,). "
            f"Received: an object of type {type(normalization).__name__}"
        ) from exc
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


def _per_image_mean_error(errors: np.ndarray, func: str) -> np.ndarray:
    """Mean over available (non-NaN) points of an ``(N, P)`` error array; ``(N,)`` float64."""
    available = ~np.isnan(errors)
    counts = available.sum(axis=1)
    if np.any(counts == 0):
        i = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(
            f"{func} expects every image to have at least one available ground-truth point. "
            f"Received: true_xy[{i}] is NaN at all {errors.shape[1]} points"
        )
    return np.where(available, errors, 0.0).sum(axis=1) / counts


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def point_errors(pred_xy: ArrayLike, true_xy: ArrayLike) -> np.ndarray:
    """Euclidean error of every predicted point, in pixels.

    Args:
        pred_xy: predicted landmarks, array-like of shape ``(N, P, 2)`` (or ``(P, 2)`` for one
            image), ``(x, y)`` pixel coordinates in each image's own frame. Must be finite.
        true_xy: ground-truth landmarks, same shape and coordinate space. ``NaN`` (in either
            coordinate) marks an unavailable point; ``inf`` is rejected.

    Returns:
        float64 array ``(N, P)``: distance in pixels between prediction and ground truth,
        ``NaN`` where the ground truth is unavailable.

    Raises:
        ValueError: if a shape is not ``(N, P, 2)`` / ``(P, 2)``, the shapes differ, ``N`` or
            ``P`` is 0, ``pred_xy`` holds NaN or inf, or ``true_xy`` holds inf.

    Example:
        >>> point_errors([[0.0, 0.0], [1.0, 1.0]], [[3.0, 4.0], [np.nan, np.nan]])
        array([[ 5., nan]])
    """
    pred, true = _validated_pair(pred_xy, true_xy, "point_errors")
    diff = pred - true
    errors = np.hypot(diff[..., 0], diff[..., 1])
    errors[~_available(true)] = np.nan
    return errors


def per_image_nme(
    pred_xy: ArrayLike,
    true_xy: ArrayLike,
    *,
    normalization: Normalization = "inter_ocular",
) -> np.ndarray:
    """Normalised mean error of each image.

    For each image: mean Euclidean error over its available ground-truth points, divided by the
    normalising distance measured on that image's ground truth.

    Args:
        pred_xy: predicted landmarks, array-like ``(N, P, 2)`` or ``(P, 2)``, ``(x, y)`` pixels
            in each image's own frame. Must be finite.
        true_xy: ground truth, same shape and coordinate space; ``NaN`` = unavailable point.
        normalization: ``"inter_ocular"`` (distance between the outer eye corners, MUCT points
            27 and 32), ``"inter_pupil"`` (between the pupils, MUCT points 31 and 36), or an
            array-like ``(N,)`` of finite positive distances in pixels supplied by the caller.
            The named options need ``P == 76``; an array works for any ``P``.

    Returns:
        float64 array ``(N,)`` of per-image NMEs (unitless).

    Raises:
        ValueError: on any input rejected by :func:`point_errors`; an unknown normalisation
            name; a named normalisation with ``P != 76``; an image whose normalising
            ground-truth points are NaN or coincide (the message names the image index); a
            distances array of the wrong shape or with a non-finite or non-positive entry; an
            image with no available ground-truth point.
    """
    func = "per_image_nme"
    pred, true = _validated_pair(pred_xy, true_xy, func)
    dist = _normalizing_distances(true, normalization, func)
    errors = point_errors(pred, true)
    return _per_image_mean_error(errors, func) / dist


def ced_curve(
    nme: ArrayLike, *, max_threshold: float = 0.10, num_steps: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative error distribution of per-image NMEs.

    Args:
        nme: per-image NMEs, array-like ``(N,)``, finite and non-negative.
        max_threshold: largest threshold of the curve, > 0.
        num_steps: number of thresholds, evenly spaced from 0 to ``max_threshold`` inclusive
            (>= 2).

    Returns:
        ``(thresholds, fractions)``, two float64 arrays ``(num_steps,)``: ``fractions[k]`` is
        the fraction of images with ``nme <= thresholds[k]``.

    Raises:
        ValueError: if ``nme`` is empty, not 1-D, or holds a NaN, inf or negative value;
            ``max_threshold`` is not finite and > 0; ``num_steps`` is not an integer >= 2.

    Example:
        >>> t, f = ced_curve([0.01, 0.05, 0.2], max_threshold=0.1, num_steps=3)
        >>> t.tolist(), f.tolist()
        ([0.0, 0.05, 0.1], [0.0, 0.6666666666666666, 0.6666666666666666])
    """
    func = "ced_curve"
    values = np.sort(_as_nme(nme, func))
    limit = _as_threshold(max_threshold, "max_threshold", func)
    if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) or num_steps < 2:
        raise ValueError(f"{func} expects num_steps to be an integer >= 2. Received: {num_steps!r}")
    thresholds = np.linspace(0.0, limit, int(num_steps))
    fractions = np.searchsorted(values, thresholds, side="right") / values.size
    return thresholds, fractions.astype(np.float64)


def auc(nme: ArrayLike, *, max_threshold: float) -> float:
    """Area under the CED curve from 0 to ``max_threshold``, divided by ``max_threshold``.

    The CED is a step function, so the area is computed exactly: each image with error ``e``
    contributes ``max(max_threshold - e, 0) / N`` to the area, hence
    ``auc = mean(max(max_threshold - nme, 0)) / max_threshold``.

    Args:
        nme: per-image NMEs, array-like ``(N,)``, finite and non-negative.
        max_threshold: upper integration limit, > 0 (e.g. 0.08 or 0.10).

    Returns:
        The normalised area, a float in ``[0, 1]`` (1 only when every NME is 0).

    Raises:
        ValueError: if ``nme`` is empty, not 1-D, or holds a NaN, inf or negative value, or
            ``max_threshold`` is not finite and > 0.

    Example:
        >>> round(auc([0.01, 0.05, 0.2], max_threshold=0.1), 12)  # (0.09 + 0.05 + 0) / 3 / 0.1
        0.466666666667
    """
    values = _as_nme(nme, "auc")
    limit = _as_threshold(max_threshold, "max_threshold", "auc")
    return float(np.mean(np.clip(limit - values, 0.0, None)) / limit)


def failure_rate(nme: ArrayLike, *, threshold: float) -> float:
    """Fraction of images whose NME is strictly above ``threshold``.

    An NME exactly equal to the threshold is not a failure.

    Args:
        nme: per-image NMEs, array-like ``(N,)``, finite and non-negative.
        threshold: failure threshold, > 0 (e.g. 0.08 or 0.10).

    Returns:
        A float in ``[0, 1]``.

    Raises:
        ValueError: if ``nme`` is empty, not 1-D, or holds a NaN, inf or negative value, or
            ``threshold`` is not finite and > 0.

    Example:
        >>> failure_rate([0.05, 0.1, 0.2, 0.3], threshold=0.1)
        0.5
    """
    values = _as_nme(nme, "failure_rate")
    limit = _as_threshold(threshold, "threshold", "failure_rate")
    return float(np.mean(values > limit))


def evaluate_landmarks(
    pred_xy: ArrayLike,
    true_xy: ArrayLike,
    *,
    thresholds: Sequence[float] = (0.08, 0.10),
) -> dict[str, float | int]:
    """Standard metrics of 76-point MUCT predictions against ground truth.

    Args:
        pred_xy: predicted landmarks, array-like ``(N, 76, 2)`` or ``(76, 2)``, ``(x, y)``
            pixels in each image's own frame. Must be finite.
        true_xy: ground truth, same shape and coordinate space; ``NaN`` = unavailable point,
            excluded from every metric. Points 27, 32, 31 and 36 must be available.
        thresholds: NME cut-offs (each > 0) for the failure rate and the AUC. Their keys use
            two decimals, so two thresholds that round to the same key are rejected.

    Returns:
        A dict with these keys, always present (the set depends only on ``thresholds``):

        * ``"nme"`` (float): mean over images of the inter-ocular per-image NME
          (points 27-32);
        * ``"nme_pupil"`` (float): the same normalised by the inter-pupil distance
          (points 31-36);
        * ``"median_nme"`` (float): median over images of the inter-ocular per-image NME;
        * ``"mean_error_px"`` (float): mean over images of the per-image mean point error in
          pixels;
        * ``f"failure_rate@{t:.2f}"`` (float) for each ``t`` in ``thresholds``: fraction of
          images with inter-ocular NME ``> t``;
        * ``f"auc@{t:.2f}"`` (float) for each ``t``: normalised area under the inter-ocular
          CED from 0 to ``t``;
        * ``"n_images"`` (int): ``N``;
        * ``"n_points"`` (int): number of available ground-truth points scored, over all
          images.

    Raises:
        ValueError: on any input rejected by :func:`per_image_nme` with a named normalisation
            (including ``P != 76``), or if a threshold is not finite and > 0, or two
            thresholds share a key.

    Example:
        >>> true = np.zeros((76, 2))
        >>> true[27], true[32], true[31], true[36] = (100, 100), (200, 100), (110, 100), (190, 100)
        >>> metrics = evaluate_landmarks(true + [3.0, 4.0], true)
        >>> round(metrics["nme"], 6), round(metrics["nme_pupil"], 6), metrics["n_points"]
        (0.05, 0.0625, 76)
    """
    func = "evaluate_landmarks"
    pred, true = _validated_pair(pred_xy, true_xy, func)
    if isinstance(thresholds, (str, bytes)) or not isinstance(thresholds, Sequence):
        thresholds = tuple(np.atleast_1d(np.asarray(thresholds, dtype=np.float64)).tolist())
    cutoffs = [_as_threshold(t, "thresholds", func) for t in thresholds]
    keys = [f"{t:.2f}" for t in cutoffs]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"{func} expects thresholds that differ at two decimals (they name the keys). "
            f"Received: thresholds={tuple(thresholds)!r}"
        )

    ocular = _normalizing_distances(true, "inter_ocular", func)
    pupil = _normalizing_distances(true, "inter_pupil", func)
    errors = point_errors(pred, true)
    mean_px = _per_image_mean_error(errors, func)
    nme_ocular = mean_px / ocular
    nme_pupil = mean_px / pupil

    result: dict[str, float | int] = {
        "nme": float(np.mean(nme_ocular)),
        "nme_pupil": float(np.mean(nme_pupil)),
        "median_nme": float(np.median(nme_ocular)),
        "mean_error_px": float(np.mean(mean_px)),
    }
    for key, t in zip(keys, cutoffs, strict=True):
        result[f"failure_rate@{key}"] = failure_rate(nme_ocular, threshold=t)
        result[f"auc@{key}"] = auc(nme_ocular, max_threshold=t)
    result["n_images"] = int(true.shape[0])
    result["n_points"] = int(np.count_nonzero(~np.isnan(errors)))
    return result
