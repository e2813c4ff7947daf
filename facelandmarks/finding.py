"""Where the faces of each image are, before any landmark is placed.

:func:`finder_for` turns the ``framing``/``boxes``/``face_detector``/``max_faces`` arguments of
:meth:`facelandmarks.LandmarkDetector.iter_faces` into the per-image ``Finder`` that
:func:`facelandmarks.inference.iter_faces` calls: the whole image as the frame, the caller's
boxes (checked), or a face detector's boxes, most prominent first. NumPy only.

Boxes are ``(x0, y0, x1, y1)`` edge coordinates in pixels of the image (the whole image is
``(0, 0, W, H)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from facelandmarks import inference
from facelandmarks.face_detection.base import is_int, prominence
from facelandmarks.inference import Finder, Placement

# Logged under the facade's name, where these messages have always come from.
logger = logging.getLogger("facelandmarks.detector")

FRAMINGS = ("detect", "image")


def finder_for(
    framing: str,
    boxes: Any,
    face_detector: Any,
    max_faces: Any,
    detector_of: Callable[[Any], tuple[Any, str]],
) -> Finder:
    """The per-image face finder for these ``iter_faces`` arguments.

    Args:
        framing: ``"detect"`` or ``"image"`` (see :data:`FRAMINGS`).
        boxes: ``None``, or one entry per image of ``(x0, y0, x1, y1)`` edge-coordinate boxes
            in pixels of that image.
        face_detector: the override passed to ``iter_faces`` (``None``: the detector's own).
        max_faces: ``None`` or how many of the most prominent faces to keep.
        detector_of: ``LandmarkDetector._detector``: the face detector object and its name.

    Returns:
        A ``Finder``: ``(index, name, rgb) -> list[Placement]`` for the ``(H, W, 3)`` uint8
        image ``rgb``.

    Raises:
        ValueError: an unknown ``framing``, ``boxes`` or ``face_detector`` with the
            ``"image"`` framing, or a bad ``max_faces``; when called, ``boxes``
            without an entry for that image or a malformed box.
    """
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be one of {FRAMINGS}. Received: framing={framing!r}")
    if max_faces is not None and (not is_int(max_faces) or max_faces < 1):
        raise ValueError(f"max_faces must be None or >= 1. Received: {max_faces!r}")
    if framing == "image":
        if boxes is not None or face_detector is not None:  # they would be ignored
            raise ValueError(
                "framing='image' takes each whole image as the face: give no boxes or "
                f"face_detector. Received: boxes={boxes!r}, face_detector={face_detector!r}"
            )

        def whole(i: int, name: str, rgb: np.ndarray) -> list[Placement]:
            warn_if_tiny(rgb, name)
            return [inference.WHOLE_IMAGE]

        return whole
    if boxes is not None:
        boxes = list(boxes)
        calib = detector_of(face_detector)[1] if face_detector is not None else "blazeface"

        def given(i: int, name: str, rgb: np.ndarray) -> list[Placement]:
            if i >= len(boxes):
                raise ValueError(
                    f"boxes must have one entry per image. Received: {len(boxes)} entries "
                    "for more images"
                )
            return [Placement(b, None, None, calib) for b in _check_boxes(boxes[i], name)]

        return given
    finder, name = detector_of(face_detector)

    def detect(i: int, image_name: str, rgb: np.ndarray) -> list[Placement]:
        warn_if_tiny(rgb, image_name)
        places = detected(finder, name, rgb, max_faces)
        if not places:
            logger.warning(
                "no face found in %s (%dx%d); its landmarks are NaN (for a photo that is "
                "already a face crop, use framing='image'; command line: --framing image)",
                image_name,
                rgb.shape[1],
                rgb.shape[0],
            )
        return places

    return detect


def detected(finder: Any, name: str, rgb: np.ndarray, max_faces: int | None) -> list[Placement]:
    """The faces ``finder`` (named ``name``) detects in ``rgb``, most prominent first (see
    :func:`~facelandmarks.face_detection.prominence`), at most ``max_faces`` (``None``: all)."""
    places = [inference.placement_of(f, name) for f in finder.detect(rgb)]
    h, w = rgb.shape[:2]
    places.sort(key=lambda p: prominence(p.box, w, h, p.score), reverse=True)
    return places[:max_faces]


MIN_SIDE = 32
"""Images (or faces) smaller than this many pixels a side give unreliable landmarks."""


def warn_if_tiny(rgb: np.ndarray, name: str) -> None:
    """Log a warning naming ``name`` if ``rgb`` is under :data:`MIN_SIDE` pixels a side."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        logger.warning(
            "%s is only %dx%d pixels: too small to find a face or place landmarks reliably "
            "(the models see faces about 80 pixels wide)",
            name,
            rgb.shape[1],
            rgb.shape[0],
        )


def _check_boxes(entry: Any, name: str) -> list[tuple[float, float, float, float]]:
    try:
        arr = np.asarray(entry, dtype=np.float64) if len(entry) else np.zeros((0, 4))
    except (TypeError, ValueError) as err:
        raise ValueError(f"boxes for {name} must be numbers. Received: {entry!r}") from err
    if arr.ndim == 1 and arr.shape == (4,):
        arr = arr[None]
    if (
        arr.ndim != 2
        or arr.shape[1] != 4
        or not np.all(np.isfinite(arr))
        or np.any(arr[:, 2] <= arr[:, 0])
        or np.any(arr[:, 3] <= arr[:, 1])
    ):
        raise ValueError(
            f"boxes for {name} must be (x0, y0, x1, y1) with x1 > x0, y1 > y0. "
            f"Received: {np.asarray(entry).tolist()!r}"
        )
    return [tuple(float(v) for v in b) for b in arr]
