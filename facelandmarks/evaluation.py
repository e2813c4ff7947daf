"""Scoring a detector's predictions against annotated faces, with the face detector in the loop.

Pure NumPy. :func:`score_faces` is what :meth:`facelandmarks.LandmarkDetector.evaluate` and
``benchmarks/accuracy.py`` report: the standard metrics over the faces found, how many were
missed, and the share of faces missed *or* failed, so that a detector that misses hard faces
cannot look better than one that finds them. Predictions in another scheme than the annotation
(the 76-point head on iBUG-68 faces) are scored on the points the two schemes share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facelandmarks import metrics
from facelandmarks._metric_inputs import _normalizing_distances
from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.schemes import get_scheme


def score_faces(
    pred_xy: np.ndarray,
    true_xy: np.ndarray,
    *,
    pred_scheme: str,
    true_scheme: str,
    thresholds: tuple[float, ...] = (0.08, 0.10),
) -> tuple[dict[str, Any], np.ndarray]:
    """Metrics of one face per image.

    Args:
        pred_xy: float32 ``(N, K, 2)`` predictions in pixels, in ``pred_scheme``; a row of NaN
            is a face the detector did not find.
        true_xy: float32 ``(N, K', 2)`` annotations in pixels, in ``true_scheme`` (NaN =
            unavailable point).
        pred_scheme, true_scheme: registered scheme names; when they differ the predictions
            are transferred and only the shared points are scored.
        thresholds: NME cut-offs for failure rates and AUCs.

    Returns:
        ``(scores, per_face_nme)``: the dict of
        :func:`facelandmarks.metrics.evaluate_landmarks` over the faces found (absent when none
        was), plus ``"n_missed"``, ``f"missed_or_failed@{t:.2f}"`` (share of *all* faces) and
        ``"scored_points"`` (``"all"`` or the number of shared points); and float64 ``(N,)``
        per-face NMEs (NaN for misses).

    Raises:
        ValueError: shapes that do not match, schemes without shared points, or a face (found
            or not) whose ground truth lacks the normalising points (eye corners; pupils too
            for a scheme that has them).
    """
    pred = np.asarray(pred_xy, np.float32)
    points = None
    if pred_scheme != true_scheme:
        pred = get_scheme(pred_scheme).transfer(pred, true_scheme)
        points = get_scheme(true_scheme).correspondence(pred_scheme)[0]
        if not len(points):
            raise ValueError(f"schemes {pred_scheme!r} and {true_scheme!r} share no point")
    truth = np.asarray(true_xy, np.float32)
    if truth.shape != pred.shape:
        raise ValueError(
            f"landmarks must have shape {pred.shape} to match the {len(pred)} predictions. "
            f"Received: {truth.shape}"
        )
    for norm in ("inter_ocular", "inter_pupil")[: 2 if get_scheme(true_scheme).pupils else 1]:
        _normalizing_distances(truth, norm, "evaluate", true_scheme)  # all faces, missed too
    scored = pred if points is None else pred[:, points]
    found = np.isfinite(scored).all(axis=(1, 2))
    nme = np.full(len(pred), np.nan)
    scores: dict[str, Any] = {}
    if found.any():
        faces = (pred[found], truth[found])
        kw = {"scheme": true_scheme, "points": points}
        scores.update(metrics.evaluate_landmarks(*faces, thresholds=thresholds, **kw))
        nme[found] = metrics.per_image_nme(*faces, **kw)
    scores["n_missed"] = int((~found).sum())
    for t in thresholds:
        bad = (~found) | (nme > t)
        scores[f"missed_or_failed@{t:.2f}"] = float(bad.mean()) if len(bad) else 0.0
    scores["scored_points"] = "all" if points is None else len(points)
    return scores, nme


def auc_with_misses(per_face_nme: np.ndarray, max_threshold: float = 0.10) -> float:
    """Area under the CED from 0 to ``max_threshold`` over *all* faces, misses (NaN) counting as
    failures (normalised to [0, 1]): :func:`facelandmarks.metrics.auc`, exact, of the faces
    found, times the share found."""
    nme = np.where(np.isfinite(per_face_nme), per_face_nme, np.inf)
    return float(np.mean(np.clip(max_threshold - nme, 0.0, None)) / max_threshold)


def annotated_faces(faces: Any, true_xy: np.ndarray, num_points: int) -> np.ndarray:
    """Per image, the found face that the annotation is about: the one whose box centre is
    nearest the centre of the annotated points (the usual protocol when a photo has several
    faces and one is annotated).

    ``predict`` instead keeps the *most prominent* face, which is what a user gets; scoring
    both shows how much of an error is the model and how much is the choice of face.

    Args:
        faces: one list of :class:`~facelandmarks.Face` per image, as
            :meth:`~facelandmarks.LandmarkDetector.predict_faces` returns.
        true_xy: ``(N, K', 2)`` annotations in pixels (NaN = unavailable point).
        num_points: ``K``, the number of points each face's landmarks have.

    Returns:
        float32 ``(N, K, 2)``: the chosen face's landmarks, NaN rows where no face was found.

    Raises:
        ValueError: ``faces`` and ``true_xy`` have different lengths.
    """
    true_xy = np.asarray(true_xy, np.float64)
    if len(faces) != len(true_xy):
        raise ValueError(
            "faces and true_xy must have one entry per image. Received: "
            f"{len(faces)} face lists and {len(true_xy)} annotations"
        )
    out = np.full((len(true_xy), num_points, 2), np.nan, np.float32)
    for i, found in enumerate(faces):
        if not found:
            continue
        centre = np.nanmean(true_xy[i], axis=0)
        boxes = np.array([f.box for f in found], np.float64)
        mid = (boxes[:, :2] + boxes[:, 2:]) / 2
        out[i] = found[int(np.argmin(np.linalg.norm(mid - centre, axis=1)))].landmarks
    return out


def evaluate_detector(
    detector: Any,
    data: LandmarkDataset | tuple[Any, np.ndarray],
    *,
    framing: str,
    batch_size: int,
    verbose: int | str,
    return_predictions: bool,
) -> dict[str, Any]:
    """:meth:`facelandmarks.LandmarkDetector.evaluate` (see there): ``detector.predict`` on the
    images of ``data`` (a :class:`LandmarkDataset` or ``(images, landmarks)``), scored by
    :func:`score_faces` in the detector's scheme against the data's.

    Raises:
        TypeError: ``data`` is neither a dataset nor an ``(images, landmarks)`` tuple.
    """
    scheme = detector.scheme
    if isinstance(data, LandmarkDataset):
        images, truth = data.image_paths, data.landmarks
        scheme = data.scheme or scheme
    elif isinstance(data, tuple) and len(data) == 2:
        images, truth = data
    else:
        raise TypeError(
            "evaluate expects a LandmarkDataset or a tuple (images, landmarks). "
            f"Received: {type(data).__name__}"
        )
    pred = detector.predict(images, framing=framing, batch_size=batch_size, verbose=verbose)
    scores, _ = score_faces(pred, truth, pred_scheme=detector.scheme, true_scheme=scheme)
    if return_predictions:
        scores["predictions"] = pred
    return scores
