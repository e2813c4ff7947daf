"""Face frames for training: the detector's own boxes, so training sees the crops inference sees.

For ``"face"``-framed stages every training image needs a face ROI. :func:`detect_training_faces`
runs the face detector once over a dataset (cached in a ``.npz`` keyed by the files' paths, sizes
and modification times) and keeps, per image, the best-scored face whose box centre lies inside
the box of the annotated points. :func:`training_rois` turns those detections into ROIs exactly
as inference does (:func:`facelandmarks.face_rois.roi_from_box`), and places the rest (faces the
detector missed) from their annotated points with the calibration measured on the found ones
(:func:`facelandmarks.face_rois.roi_from_points`), which is also how video tracking frames a face.

Pure NumPy apart from the detector itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facelandmarks.config import StageConfig
from facelandmarks.face_rois import calibrate_roi_from_points, roi_from_box, roi_from_points
from facelandmarks.fileio import atomic_path, remove_leftovers

logger = logging.getLogger(__name__)

EYE_NAMES = ("right_eye", "left_eye")  # the subject's: on the image's left, then right


@dataclass(frozen=True)
class Detections:
    """The face detector's best matching face per image (``found`` False: none matched).

    Attributes:
        boxes: float32 ``(N, 4)`` edge coordinates (NaN where not found).
        eyes: float32 ``(N, 2, 2)``: the eye on the image's left, then right (NaN: unknown).
        scores: float32 ``(N,)``.
        found: bool ``(N,)``.
    """

    boxes: np.ndarray
    eyes: np.ndarray
    scores: np.ndarray
    found: np.ndarray


def _cache_key(paths: Sequence[str], detector_name: str) -> str:
    h = hashlib.sha256(detector_name.encode())
    for p in paths:
        st = os.stat(p)
        h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _eyes_of(face: Any) -> np.ndarray:
    names = tuple(getattr(face, "keypoint_names", ()) or ())
    kp = getattr(face, "keypoints", None)
    if kp is None or not all(n in names for n in EYE_NAMES):
        return np.full((2, 2), np.nan, np.float32)
    kp = np.asarray(kp, np.float32)
    return np.stack([kp[names.index(n)] for n in EYE_NAMES])


def detect_training_faces(
    image_paths: Sequence[str],
    landmarks: np.ndarray,
    detector: Any,
    *,
    cache_dir: str | os.PathLike | None = None,
) -> Detections:
    """Run ``detector`` on every image and keep the face that matches its annotation.

    Args:
        image_paths: ``N`` image files.
        landmarks: float32 ``(N, K, 2)`` annotated points in pixels (NaN ignored).
        detector: an object with ``name`` and ``detect(uint8 (H, W, 3) RGB) -> list[FaceBox]``.
        cache_dir: where to keep the results (``detections-<key>.npz``), or ``None``.

    Returns:
        :class:`Detections` for the ``N`` images.
    """
    from facelandmarks.images import load_image

    paths = [str(p) for p in image_paths]
    name = str(getattr(detector, "name", type(detector).__name__))
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"detections-{name}-{_cache_key(paths, name)}.npz"
        if cache.is_file():
            with np.load(cache) as z:
                logger.info("face detections for %d images read from %s", len(paths), cache)
                return Detections(z["boxes"], z["eyes"], z["scores"], z["found"])
    n = len(paths)
    boxes = np.full((n, 4), np.nan, np.float32)
    eyes = np.full((n, 2, 2), np.nan, np.float32)
    scores = np.zeros(n, np.float32)
    found = np.zeros(n, bool)
    pts = np.asarray(landmarks, np.float64)
    for i, p in enumerate(paths):
        ok = np.isfinite(pts[i]).all(axis=-1)
        lo, hi = pts[i][ok].min(axis=0) + 0.5, pts[i][ok].max(axis=0) + 0.5
        for face in detector.detect(load_image(p)):  # best first
            b = np.asarray(face.box, np.float64)
            c = (b[:2] + b[2:]) / 2
            if np.all(c >= lo) and np.all(c <= hi):
                boxes[i], eyes[i], scores[i], found[i] = b, _eyes_of(face), face.score, True
                break
    logger.info("%s found %d of %d annotated faces", name, int(found.sum()), n)
    if cache is not None:
        remove_leftovers(cache.parent)  # a killed run's half-written cache
        with atomic_path(cache, suffix=".npz") as tmp:  # np.savez would append .npz otherwise
            np.savez(tmp, boxes=boxes, eyes=eyes, scores=scores, found=found)
    return Detections(boxes, eyes, scores, found)


def training_rois(
    detections: Detections,
    landmarks: np.ndarray,
    eyes: tuple[Sequence[int], Sequence[int]],
    stage: StageConfig,
    calibration: Sequence[float] | None = None,
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Face ROIs ``(cx, cy, side, angle)`` for training images, as inference would frame them.

    Args:
        detections: from :func:`detect_training_faces`.
        landmarks: float32 ``(N, K, 2)`` annotated points (pixels).
        eyes: the scheme's eye index groups (image-left eye first).
        stage: the face stage (``face_scale``, ``face_offset``).
        calibration: ``(scale, dx, dy)`` for :func:`roi_from_points`; measured on the found
            faces when ``None``.

    Returns:
        ``(float32 (N, 4) ROIs, the calibration used)``.

    Raises:
        ValueError: no face was found and no calibration was given.
    """
    det_rois = roi_from_box(
        detections.boxes,
        detections.eyes[:, 0],
        detections.eyes[:, 1],
        scale=stage.face_scale,
        offset=stage.face_offset,
    )
    # Faces whose eyes the detector did not give are framed upright.
    det_rois[:, 3] = np.where(np.isfinite(det_rois[:, 3]), det_rois[:, 3], 0.0)
    found = detections.found
    if calibration is None:
        if not found.any():
            raise ValueError("no face was detected in the training images: cannot calibrate")
        calibration = calibrate_roi_from_points(landmarks[found], eyes, det_rois[found])
    from_points = roi_from_points(landmarks, eyes, calibration)
    rois = np.where(found[:, None], det_rois, from_points).astype(np.float32)
    if not found.all():
        logger.info(
            "%d of %d training faces not found by the detector: framed from their points",
            int((~found).sum()),
            len(found),
        )
    return rois, tuple(float(v) for v in calibration)  # type: ignore[return-value]
