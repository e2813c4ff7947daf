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

   * ``"inter_ocular"``: distance between the outer eye corners of the point scheme
     (:attr:`facelandmarks.schemes.PointScheme.eye_corners`: MUCT points 27 and 32, iBUG
     points 36 and 45);
   * ``"inter_pupil"``: distance between the pupils, for schemes that have them (MUCT points
     31 and 36; the iBUG scheme has none);
   * or an array of ``N`` distances supplied by the caller (other point schemes, box sizes);

4. the dataset NME is the mean of the per-image NMEs.

The scheme is passed as ``scheme=`` (a :class:`~facelandmarks.schemes.PointScheme` or a
registered name) or, by default, inferred from ``P`` (76: MUCT, 68: iBUG). ``points=`` scores a
subset of the points (step 2 averages over those only), still normalised by the full ground
truth's eye corners: with :meth:`~facelandmarks.schemes.PointScheme.correspondence` this gives
the NME on the points two schemes share, e.g. the 8 MUCT/iBUG points.

This is the usual NME of 300-W (Sagonas et al., 2013/2016) and WFLW (Wu et al., CVPR 2018),
both normalised by the outer eye corner ("inter-ocular") distance; some 300-W results use the
inter-pupil distance. The cumulative error distribution (CED) is the fraction of images whose
NME is at or below a threshold, against the threshold; it is summarised by the area under it up
to a cut-off and the failure rate above that cut-off (0.08 is common on 300-W, 0.10 on WFLW).
:func:`evaluate_landmarks` has a worked example.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from ._metric_inputs import (
    NORMALIZATION_POINTS,
    Normalization,
    SchemeLike,
    _as_nme,
    _as_threshold,
    _normalizing_distances,
    _resolve_scheme,
    _validated_pair,
)

__all__ = [
    "NORMALIZATION_POINTS",
    "auc",
    "ced_curve",
    "evaluate_landmarks",
    "failure_rate",
    "per_image_nme",
    "point_errors",
]


def _per_image_mean_error(errors: np.ndarray, func: str) -> np.ndarray:
    """Mean over available (non-NaN) points of an ``(N, P)`` error array; ``(N,)`` float64."""
    empty = np.isnan(errors).all(axis=1)
    if np.any(empty):
        raise ValueError(
            f"{func} expects every image to have at least one available ground-truth point. "
            f"Received: true_xy[{np.flatnonzero(empty)[0]}] is NaN at all {errors.shape[1]} points"
        )
    return np.nanmean(errors, axis=1)


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
    pred, true, _ = _validated_pair(pred_xy, true_xy, "point_errors")
    return _errors(pred, true)


def _errors(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """``(N, P)`` distances of validated arrays, NaN where the ground truth is unavailable."""
    with np.errstate(invalid="ignore"):
        diff = pred - true
        errors = np.hypot(diff[..., 0], diff[..., 1])
    errors[np.isnan(true).any(axis=-1)] = np.nan
    return errors


def per_image_nme(
    pred_xy: ArrayLike,
    true_xy: ArrayLike,
    *,
    normalization: Normalization = "inter_ocular",
    scheme: SchemeLike = None,
    points: ArrayLike | None = None,
) -> np.ndarray:
    """Normalised mean error of each image.

    For each image: mean Euclidean error over its available ground-truth points (or over
    ``points``), divided by the normalising distance measured on that image's ground truth.

    Args:
        pred_xy: predicted landmarks, array-like ``(N, P, 2)`` or ``(P, 2)``, ``(x, y)`` pixels
            in each image's own frame. Must be finite (at ``points``, when given).
        true_xy: ground truth, same shape and coordinate space; ``NaN`` = unavailable point.
        normalization: ``"inter_ocular"`` (distance between the scheme's outer eye corners:
            MUCT points 27 and 32, iBUG 36 and 45), ``"inter_pupil"`` (between the pupils,
            MUCT points 31 and 36; schemes without pupils refuse it), or an array-like
            ``(N,)`` of finite positive distances in pixels supplied by the caller (any ``P``,
            no scheme needed).
        scheme: the point scheme (a :class:`~facelandmarks.schemes.PointScheme` or registered
            name) for a named normalisation; default: the scheme for ``P`` points (76: MUCT,
            68: iBUG).
        points: optional 1-D indices of the points to score (e.g. the 8 points MUCT and iBUG
            share); the normalisation still uses the full ground truth.

    Returns:
        float64 array ``(N,)`` of per-image NMEs (unitless).

    Raises:
        ValueError: on any input rejected by :func:`point_errors`; an unknown normalisation
            name; a named normalisation without a scheme for ``P`` points, or with a scheme of
            another point count; ``"inter_pupil"`` for a scheme without pupils; an image whose
            normalising ground-truth points are NaN or coincide (the message names the image
            index); a distances array of the wrong shape or with a non-finite or non-positive
            entry; bad ``points``; an image with no available ground-truth point (to score).
    """
    func = "per_image_nme"
    pred, true, scored = _validated_pair(pred_xy, true_xy, func, points)
    dist = _normalizing_distances(true, normalization, func, scheme)
    errors = _errors(pred, true)[:, scored]
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
    thresholds: float | Iterable[float] = (0.08, 0.10),
    scheme: SchemeLike = None,
    points: ArrayLike | None = None,
) -> dict[str, float | int]:
    """Standard metrics of landmark predictions against ground truth (MUCT 76, iBUG 68, ...).

    Args:
        pred_xy: predicted landmarks, array-like ``(N, P, 2)`` or ``(P, 2)``, ``(x, y)``
            pixels in each image's own frame. Must be finite (at ``points``, when given).
        true_xy: ground truth, same shape and coordinate space; ``NaN`` = unavailable point,
            excluded from every metric. The scheme's outer eye corners (MUCT 27 and 32, iBUG
            36 and 45) and pupils (MUCT 31 and 36) must be available.
        thresholds: NME cut-offs (one number or several, each > 0) for the failure rate and the
            AUC. Their keys use two decimals, so two that round to the same key are rejected.
        scheme: as in :func:`per_image_nme`.
        points: optional 1-D indices of the points to score, e.g. the 8 points shared by the
            MUCT and iBUG schemes (:meth:`~facelandmarks.schemes.PointScheme.correspondence`);
            normalising distances still come from the full ground truth, and predictions
            elsewhere may be ``NaN`` (as :meth:`~facelandmarks.schemes.PointScheme.transfer`
            leaves them).

    Returns:
        A dict with these keys (the set depends only on ``thresholds`` and on whether the
        scheme has pupils):

        * ``"nme"`` (float): mean over images of the inter-ocular per-image NME;
        * ``"nme_pupil"`` (float), only for schemes with pupils (MUCT): the same normalised
          by the inter-pupil distance;
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
            (including a ``P`` without a known scheme), or if a threshold is not finite and
            > 0, or two thresholds share a key.

    Example:
        >>> true = np.zeros((76, 2))
        >>> true[27], true[32], true[31], true[36] = (100, 100), (200, 100), (110, 100), (190, 100)
        >>> metrics = evaluate_landmarks(true + [3.0, 4.0], true)
        >>> round(metrics["nme"], 6), round(metrics["nme_pupil"], 6), metrics["n_points"]
        (0.05, 0.0625, 76)
        >>> from facelandmarks.schemes import MUCT76
        >>> shared, _ = MUCT76.correspondence("ibug68")  # the 8 points both schemes have
        >>> evaluate_landmarks(true + [3.0, 4.0], true, points=shared)["n_points"]
        8
    """
    func = "evaluate_landmarks"
    pred, true, scored = _validated_pair(pred_xy, true_xy, func, points)
    one = isinstance(thresholds, (str, bytes)) or getattr(thresholds, "ndim", 1) == 0
    if one or not isinstance(thresholds, Iterable):
        thresholds = (thresholds,)
    cutoffs = [_as_threshold(t, "thresholds", func) for t in thresholds]
    keys = [f"{t:.2f}" for t in cutoffs]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"{func} expects thresholds that differ at two decimals (they name the keys). "
            f"Received: thresholds={tuple(cutoffs)!r}"
        )

    found = _resolve_scheme(scheme, true.shape[1], func, "normalization='inter_ocular'")
    ocular = _normalizing_distances(true, "inter_ocular", func, found)
    pupil = None
    if found.pupils is not None:
        pupil = _normalizing_distances(true, "inter_pupil", func, found)
    errors = _errors(pred, true)[:, scored]
    mean_px = _per_image_mean_error(errors, func)
    nme_ocular = mean_px / ocular

    result: dict[str, float | int] = {"nme": float(np.mean(nme_ocular))}
    if pupil is not None:
        result["nme_pupil"] = float(np.mean(mean_px / pupil))
    result["median_nme"] = float(np.median(nme_ocular))
    result["mean_error_px"] = float(np.mean(mean_px))
    for key, t in zip(keys, cutoffs, strict=True):
        result[f"failure_rate@{key}"] = failure_rate(nme_ocular, threshold=t)
        result[f"auc@{key}"] = auc(nme_ocular, max_threshold=t)
    result["n_images"] = int(true.shape[0])
    result["n_points"] = int(np.count_nonzero(~np.isnan(errors)))
    return result
