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

from .schemes import MUCT76, MuctPoint, PointScheme, get_scheme, scheme_for_points

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
"""The pair of MUCT point indices whose ground-truth distance each named normalisation uses.

Other schemes take theirs from :class:`~facelandmarks.schemes.PointScheme` (``eye_corners``,
``pupils``).
"""

Normalization = Literal["inter_ocular", "inter_pupil"] | ArrayLike
SchemeLike = str | PointScheme | None


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
    checked = np.zeros(pred.shape[1], dtype=bool)
    checked[scored] = True
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
    pred, true, _ = _validated_pair(pred_xy, true_xy, "point_errors")
    return _errors(pred, true)


def _errors(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """``(N, P)`` distances of validated arrays, NaN where the ground truth is unavailable."""
    with np.errstate(invalid="ignore"):
        diff = pred - true
        errors = np.hypot(diff[..., 0], diff[..., 1])
    errors[~_available(true)] = np.nan
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
    thresholds: Sequence[float] = (0.08, 0.10),
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
        thresholds: NME cut-offs (each > 0) for the failure rate and the AUC. Their keys use
            two decimals, so two thresholds that round to the same key are rejected.
        scheme: the point scheme (a :class:`~facelandmarks.schemes.PointScheme` or registered
            name); default: the scheme for ``P`` points (76: MUCT, 68: iBUG).
        points: optional 1-D indices of the points to score, e.g. the 8 points shared by the
            MUCT and iBUG schemes (:meth:`~facelandmarks.schemes.PointScheme.correspondence`);
            normalising distances still come from the full ground truth, and predictions
            elsewhere may be ``NaN`` (as :meth:`~facelandmarks.schemes.PointScheme.transfer`
            leaves them).

    Returns:
        A dict with these keys (the set depends only on ``thresholds`` and on whether the
        scheme has pupils):

        * ``"nme"`` (float): mean over images of the inter-ocular per-image NME
          (MUCT points 27-32, iBUG 36-45);
        * ``"nme_pupil"`` (float), only for schemes with pupils (MUCT): the same normalised
          by the inter-pupil distance (points 31-36);
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
    if isinstance(thresholds, (str, bytes)) or not isinstance(thresholds, Sequence):
        thresholds = tuple(np.atleast_1d(np.asarray(thresholds, dtype=np.float64)).tolist())
    cutoffs = [_as_threshold(t, "thresholds", func) for t in thresholds]
    keys = [f"{t:.2f}" for t in cutoffs]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"{func} expects thresholds that differ at two decimals (they name the keys). "
            f"Received: thresholds={tuple(thresholds)!r}"
        )

    ocular = _normalizing_distances(true, "inter_ocular", func, scheme)
    found = _resolve_scheme(scheme, true.shape[1], func, "normalization='inter_ocular'")
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
