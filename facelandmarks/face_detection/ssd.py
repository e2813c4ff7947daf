"""Single-shot detector (SSD) geometry in NumPy: anchors, decoding, weighted NMS, letterbox.

The model-independent half of :mod:`facelandmarks.face_detection.blazeface`. Pixel coordinates
are edge coordinates (the whole input is ``(0, 0, size, size)``) unless a docstring says
otherwise.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from facelandmarks.face_detection.base import iou

__all__ = ["Letterbox", "decode", "letterbox", "ssd_anchors", "weighted_nms"]


def ssd_anchors(size: int, layers: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Anchor centres of a square SSD input, in MediaPipe's order.

    Consecutive layers with the same stride share one grid (their anchors per cell add up);
    anchors run over grids in layer order, then rows, then columns, then the anchors of a cell.
    Every BlazeFace anchor has size 1 x 1 (``fixed_anchor_size``), so only centres matter.

    Args:
        size: the input's side in pixels.
        layers: ``(stride, anchors_per_cell)`` per layer.

    Returns:
        float32 ``(N, 2)``: ``(x, y)`` anchor centres in edge coordinates of the input's pixels
        (the cell centre ``(col + 0.5, row + 0.5) * size / ceil(size / stride)``).

    Example:
        >>> ssd_anchors(128, ((8, 2), (16, 2), (16, 2), (16, 2))).shape
        (896, 2)
    """
    grids: list[np.ndarray] = []
    for stride, group in itertools.groupby(layers, key=lambda layer: layer[0]):
        per_cell = sum(n for _, n in group)
        cells = math.ceil(size / stride)
        centres = (np.arange(cells, dtype=np.float64) + 0.5) * (size / cells)
        gx, gy = np.meshgrid(centres, centres)  # row-major: y outer, x inner
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        grids.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(grids).astype(np.float32)


def decode(
    raw: np.ndarray, logits: np.ndarray, anchors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BlazeFace's raw outputs to boxes, keypoints and scores, in the input's pixels.

    Args:
        raw: float ``(N, 16)``: per anchor, box centre offset ``(dx, dy)`` from the anchor,
            box ``(w, h)``, then 6 keypoint offsets ``(dx, dy)``, all in input pixels.
        logits: float ``(N,)`` or ``(N, 1)`` score logits.
        anchors: float ``(N, 2)`` anchor centres (:func:`ssd_anchors`).

    Returns:
        ``(boxes, keypoints, scores)``: float64 ``(N, 4)`` ``(x0, y0, x1, y1)`` and float64
        ``(N, 6, 2)`` ``(x, y)``, both edge coordinates of the input's pixels; float64 ``(N,)``
        scores in [0, 1].
    """
    raw = np.asarray(raw, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.float64)
    centre = anchors + raw[:, 0:2]
    half = raw[:, 2:4] / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = anchors[:, None, :] + raw[:, 4:].reshape(len(raw), -1, 2)
    z = np.clip(np.asarray(logits, dtype=np.float64).reshape(-1), -100.0, 100.0)
    return boxes, keypoints, 1.0 / (1.0 + np.exp(-z))


def weighted_nms(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted non-maximum suppression (MediaPipe's ``WEIGHTED`` algorithm).

    Repeatedly takes the best-scored remaining box and every remaining box overlapping it by
    IoU > ``iou_threshold`` (itself included), and replaces that cluster by its score-weighted
    mean box and keypoints, keeping the best score. Loops over output faces, not anchors.

    Args:
        boxes: float ``(N, 4)`` ``(x0, y0, x1, y1)``, edge coordinates.
        keypoints: float ``(N, K, 2)``, in the same pixels.
        scores: float ``(N,)``, > 0.
        iou_threshold: in [0, 1).

    Returns:
        ``(boxes, keypoints, scores)`` of the merged faces, best score first (ties: input
        order), float64 ``(M, 4)``, ``(M, K, 2)``, ``(M,)``, ``M <= N``.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    remaining = np.argsort(-scores, kind="stable")
    out_b, out_k, out_s = [], [], []
    while remaining.size:
        best = remaining[0]
        cluster = iou(boxes[best], boxes[remaining]) > iou_threshold
        cluster[0] = True  # a degenerate best box still forms its own cluster
        members = remaining[cluster]
        w = scores[members] / scores[members].sum()
        out_b.append(w @ boxes[members])
        out_k.append(np.tensordot(w, keypoints[members], axes=1))
        out_s.append(scores[best])
        remaining = remaining[~cluster]
    k_shape = keypoints.shape[1:]
    return (
        np.array(out_b).reshape(-1, 4),
        np.array(out_k).reshape(-1, *k_shape),
        np.array(out_s, dtype=np.float64),
    )


@dataclass(frozen=True)
class Letterbox:
    """Where an image sits inside a square model input after :func:`letterbox`.

    Attributes:
        scale_x, scale_y: input pixels per image pixel (equal up to rounding of the size).
        offset_x, offset_y: the image's top-left corner in the input, pixels (the padding).
    """

    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """Edge coordinates ``(..., 2)`` in the input -> edge coordinates in the image."""
        xy = np.asarray(xy, dtype=np.float64)
        return (xy - (self.offset_x, self.offset_y)) / (self.scale_x, self.scale_y)

    def to_input(self, xy: np.ndarray) -> np.ndarray:
        """Edge coordinates ``(..., 2)`` in the image -> edge coordinates in the input."""
        xy = np.asarray(xy, dtype=np.float64)
        return xy * (self.scale_x, self.scale_y) + (self.offset_x, self.offset_y)


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """Fit an image into a ``size x size`` input, aspect kept, centred, padded with black.

    Args:
        image: ``uint8`` ``(H, W, 3)`` RGB.
        size: the input's side in pixels.

    Returns:
        ``(x, box)``: float32 ``(size, size, 3)`` RGB scaled to [-1, 1] (padding -1), and the
        :class:`Letterbox` mapping between the two pixel grids.

    Example:
        >>> x, lb = letterbox(np.zeros((480, 640, 3), np.uint8), 128)
        >>> x.shape, lb.offset_y
        ((128, 128, 3), 16.0)
    """
    from PIL import Image

    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_w = min(size, max(1, round(width * scale)))
    new_h = min(size, max(1, round(height * scale)))
    off_x, off_y = (size - new_w) // 2, (size - new_h) // 2
    if (new_w, new_h) != (width, height):
        # Box-average by the largest integer factor, then bilinear for the rest (reducing_gap
        # 1.0): 0.25 ms for 512x512 -> 128x128 against 0.95 ms for plain BILINEAR (whose support
        # also widens when shrinking), with the same recall and keypoint error on the wild
        # photos (benchmarks/face_detection.py).
        pil = Image.fromarray(np.ascontiguousarray(image))
        image = np.asarray(pil.resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=1.0))
    x = np.full((size, size, 3), -1.0, dtype=np.float32)
    np.multiply(image, np.float32(2.0 / 255.0), out=x[off_y : off_y + new_h, off_x : off_x + new_w])
    x[off_y : off_y + new_h, off_x : off_x + new_w] -= 1.0
    return x, Letterbox(new_w / width, new_h / height, float(off_x), float(off_y))
