"""What every face detector shares: the :class:`FaceBox` result, the :class:`FaceDetector`
protocol, argument checks, non-maximum suppression and :func:`prominence` (NumPy only).

Boxes are in edge coordinates (:class:`FaceBox`; :mod:`facelandmarks.scaling`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

INSTALL_HINT = 'pip install "facelandmarks[detect]"'
"""How to install the optional MTCNN face detector (BlazeFace, the default, is shipped)."""


@dataclass(frozen=True)
class FaceBox:
    """One detected face.

    Attributes:
        box: ``(x0, y0, x1, y1)`` floats, edge coordinates in pixels of the image as passed to
            ``detect`` (origin top-left, ``y`` down; the whole image is ``(0, 0, W, H)``).
        score: detector confidence, higher is surer; only comparable between boxes of the same
            detector. :class:`MTCNNFaceDetector`: MTCNN's confidence, 0..1.
            :class:`OpenCVFaceDetector`: the number of raw cascade hits merged into the box.
            :class:`BlazeFaceDetector`: the sigmoid of its logit, 0..1.
        keypoints: float32 ``(K, 2)`` ``(x, y)`` pixel-centre coordinates of the same image
            (the first pixel's centre is ``(0, 0)``), or ``None`` when the detector gives none.
            Not part of ``==`` and ``hash``.
        keypoint_names: the ``K`` keypoints' names, e.g. BlazeFace's ``("right_eye",
            "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")`` ("right": the
            subject's right, on the image's left for a frontal face); ``()`` without keypoints.
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray | None = field(default=None, compare=False)
    keypoint_names: tuple[str, ...] = ()

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.box[3] - self.box[1]


@runtime_checkable
class FaceDetector(Protocol):
    """Anything that finds faces in an RGB image.

    ``detect`` takes a ``uint8`` ``(H, W, 3)`` RGB array and returns :class:`FaceBox` es sorted
    by score, best first, with overlapping duplicates removed; ``[]`` when there is no face.
    """

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in ``image`` (``uint8`` ``(H, W, 3)`` RGB)."""
        ...


def check_image(image: Any) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(
            "detect expects `image` as a numpy uint8 array of shape (H, W, 3), RGB. "
            f"Received: {type(image).__name__}"
        )
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            "detect expects `image` as a uint8 array of shape (H, W, 3), RGB (use "
            "facelandmarks.images.load_image to read a file or convert other arrays). "
            f"Received: dtype {image.dtype}, shape {image.shape}"
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"detect expects a non-empty `image`. Received: shape {image.shape}")
    return image


def is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_sizes(min_size: Any, max_side: Any) -> None:
    if min_size is not None and (not is_int(min_size) or min_size < 1):
        raise ValueError(
            f"min_size must be a positive int (pixels) or None. Received: min_size={min_size!r}"
        )
    if max_side is not None and (not is_int(max_side) or max_side < 32):
        raise ValueError(
            f"max_side must be an int >= 32 (pixels) or None. Received: max_side={max_side!r}"
        )


def check_fraction(value: Any, argname: str) -> None:
    if not (is_number(value) and 0.0 < value <= 1.0):
        raise ValueError(f"{argname} must be a number in (0, 1]. Received: {argname}={value!r}")


def working_size(
    height: int, width: int, max_side: int | None, min_size: int | None, window: int
) -> tuple[int, int]:
    """``(width, height)`` of the working copy: longest side <= max_side, unless min_size needs
    more (a face of min_size pixels must still span the detector's window)."""
    scale = 1.0 if max_side is None else min(1.0, max_side / max(height, width))
    if min_size is not None:
        scale = max(scale, window / min_size)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box ``a`` (4,) with each row of ``b`` (N, 4), edge coordinates."""
    iw = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0.0, None)
    ih = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0.0, None)
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return inter / np.maximum(union, 1e-12)


CORNER_WEIGHT = 0.25
""":func:`prominence`'s weight for a face centred on an image corner (1 at the centre)."""

SCORE_POWER = 2.0
"""The power of the detector's score in :func:`prominence`."""


def prominence(box: Sequence[float], width: int, height: int, score: float | None = None) -> float:
    """How much a face box looks like the photo's subject: its area inside the image, weighted
    from 1 at the image's centre down to :data:`CORNER_WEIGHT` at a corner (linearly in the
    distance of the box's centre from the image's centre), times the detector's score squared
    (:data:`SCORE_POWER`; only the ratio between a photo's faces matters, so any detector's
    positive scores work).

    ``predict`` keeps the most prominent face, and faces are listed most prominent first. Plain
    area is a worse rule for photos framed around someone: a half-visible face at the edge, or
    a bystander's, is often bigger, and a blurred or half-hidden one scores lower. How often
    each rule picks the annotated face: docs/detection.md (``benchmarks/main_face.py``).

    Args:
        box: ``(x0, y0, x1, y1)``, edge coordinates in pixels.
        width, height: the image's size in pixels.
        score: the detector's score for the box (higher is surer; below 0 counts as 0), or
            ``None`` (a box given by the caller): the same for every box.

    Returns:
        The weighted visible area in square pixels (0 for a box entirely outside the image).
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    visible = max(0.0, min(x1, width) - max(x0, 0.0)) * max(0.0, min(y1, height) - max(y0, 0.0))
    dx = ((x0 + x1) / 2 - width / 2) / max(width / 2, 1e-9)
    dy = ((y0 + y1) / 2 - height / 2) / max(height / 2, 1e-9)
    off_centre = min(math.hypot(dx, dy) / math.sqrt(2.0), 1.0)
    sure = 1.0 if score is None else max(float(score), 0.0) ** SCORE_POWER
    return visible * (1.0 - (1.0 - CORNER_WEIGHT) * off_centre) * sure


def greedy_nms(boxes: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices of the boxes ``(N, 4)``, best first, that overlap no earlier kept box."""
    kept: list[int] = []
    for i in range(len(boxes)):
        if not kept or not np.any(iou(boxes[i], boxes[kept]) > iou_threshold):
            kept.append(i)
    return kept


def sort_and_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[FaceBox]:
    """Sort by score (ties: by position), then drop boxes overlapping a better one."""
    if len(boxes) == 0:
        return []
    order = np.lexsort((boxes[:, 1], boxes[:, 0], -scores))
    kept = order[greedy_nms(boxes[order], iou_threshold)]
    return [
        FaceBox(box=tuple(float(v) for v in boxes[i]), score=float(scores[i]))  # type: ignore[arg-type]
        for i in kept
    ]
