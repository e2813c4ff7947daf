"""BlazeFace: MediaPipe's fast face detectors, shipped inside the package, decoded in NumPy.

Two TensorFlow Lite models from the ``mediapipe`` 0.10.21 wheel
(``mediapipe/modules/face_detection/``, Apache-2.0; the licence ships next to them in
``facelandmarks/models/``), short range (128x128 input, 896 anchors) and full range (sparse,
192x192, 2304 anchors), run through :mod:`facelandmarks.lite` (LiteRT when installed, else
TensorFlow); everything else is NumPy (SSD geometry: :mod:`facelandmarks.face_detection.ssd`).

How a photo becomes faces: the image is letterboxed (aspect kept, padded with black) to the
model's square input, RGB scaled to [-1, 1]; the model returns, per SSD anchor, 16 numbers (box
centre offset from the anchor, box width and height, then 6 keypoints, all in input pixels) and
a score logit; scores are ``sigmoid(clip(logit, -100, 100))``; boxes above ``min_score`` are
merged by weighted non-maximum suppression (each cluster of boxes overlapping the best by more
than ``nms_iou`` becomes their score-weighted average, with the best one's score) and mapped
back to the photo's pixels. The anchors and decoding follow MediaPipe's published graph options
(``SsdAnchorsCalculator``: short range strides 8, 16, 16, 16 with 2 anchors per cell and layer,
full range stride 4 with one; ``TensorsToDetectionsCalculator`` with scales equal to the input
size, keypoints after the box).

No batch entry point: the models have a batch of 1 baked into their reshapes, and resized to a
batch they run no faster per image (0.52-1.22 vs 0.59-0.91 ms, short range, 2 threads; see
:mod:`facelandmarks.lite`).
"""

from __future__ import annotations

import functools
import importlib.resources
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from facelandmarks.face_detection.base import FaceBox, check_image, is_int, is_number
from facelandmarks.face_detection.ssd import decode, letterbox, ssd_anchors, weighted_nms
from facelandmarks.lite import LiteModel
from facelandmarks.shipped_weights import shipped_bytes

__all__ = ["KEYPOINT_NAMES", "BlazeFaceDetector"]

KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")
"""BlazeFace's 6 keypoints in output order; "right" = the subject's right (image left)."""


@dataclass(frozen=True)
class _Variant:
    filename: str
    sha256: str
    size: int  # square input side, pixels
    layers: tuple[tuple[int, int], ...]  # (stride, anchors per cell) per SSD layer
    min_score: float  # default score threshold (see BlazeFaceDetector)


_VARIANTS = {
    "short": _Variant(
        "face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
        128,
        ((8, 2), (16, 2), (16, 2), (16, 2)),
        0.55,
    ),
    "full": _Variant(
        "face_detection_full_range_sparse.tflite",
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
        192,
        ((4, 1),),
        0.5,
    ),
}
_MODES = {"auto": ("short", "full"), "short": ("short",), "full": ("full",)}


# In "auto", full range runs only after short range found nothing, to find faces too small for
# short range: it keeps faces narrower than this fraction of the photo's longest side. Short
# range finds 99-100 % of wild faces from 0.17-0.20 of the side up, the true faces full range
# found after short range failed were at most 0.18 wide (99 % below 0.13), while 38 of its 60
# boxes on 900 MUCT photos with the face greyed out were wider (benchmarks/face_detection.py).
_AUTO_FULL_MAX_WIDTH = 0.2


class _Stage(NamedTuple):
    variant: _Variant
    lite: LiteModel | _Deferred
    anchors: np.ndarray
    min_score: float
    max_width: float  # keep faces narrower than this, in input widths (= the longest side)


@functools.cache
def _anchors(variant: str) -> np.ndarray:
    v = _VARIANTS[variant]
    anchors = ssd_anchors(v.size, v.layers)
    anchors.flags.writeable = False
    return anchors


def _load_model(variant: _Variant, num_threads: int | None) -> LiteModel:
    resource = importlib.resources.files("facelandmarks").joinpath("models", variant.filename)
    what = f"BlazeFace model file {variant.filename!r} (facelandmarks/models/)"
    content = shipped_bytes(resource, variant.sha256, what)
    return LiteModel(content, num_threads=num_threads)


class _Deferred:
    """A model loaded (and verified) on its first run: ``"auto"``'s full range model, which
    most photos never need, costs nothing at start-up (reading, hashing and allocating it took
    about 10 ms of a one-photo CLI call)."""

    def __init__(self, variant: _Variant, num_threads: int | None) -> None:
        self._model = functools.cache(functools.partial(_load_model, variant, num_threads))

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        return self._model().run(batch)


class BlazeFaceDetector:
    """Face detector on MediaPipe's BlazeFace models (shipped; needs only a TFLite interpreter).

    Measured on the project's 2-core CPU (``benchmarks/face_detection.py``, default settings,
    1 thread; face found = a box centred inside the annotated points' box):

    =====  =======  ========  =========  =========  ==========  =========  ==============
    model  wild     MUCT      faces 10 % faces 5-9  ms per      eye error  faceless MUCT:
           (2,012)  (3,005)   of side    % of side  512 px      med / p90  any box
    =====  =======  ========  =========  =========  ==========  =========  ==============
    short  100 %    100 %     34 %       5 %        1.3-2.0     0.054/0.11 1-2 %
    full   99.1 %   99.97 %   94 %       82 %       2.9-4.1     0.055/0.12 5 %
    auto   100 %    100 %     93 %       82 %       1.3-2.1     0.054/0.11 4-5 %
    =====  =======  ========  =========  =========  ==========  =========  ==============

    Eye error: eye keypoints to the annotated eye centres, in inter-ocular distances (the
    found faces). Small faces: wild photos shrunk into a 1024x768 canvas; short range finds
    97 % of faces from 14 % of the longest side up. Faceless: MUCT photos with the face greyed
    out. ``"auto"`` costs short range's time whenever short range finds a face, so it does not
    look for small faces next to a large one (group shots: use ``"full"``); full range's boxes
    are about 7 % larger and 4 % of their width higher than short range's for the same face.
    Keypoints assume an upright face: on photos turned by 90 or 180 degrees faces are often
    still found but the keypoints are wrong (turn photos upright first, e.g. by their EXIF
    orientation).

    Args:
        model: ``"auto"`` (default: short range; only when it finds no face, full range,
            keeping faces narrower than a fifth of the longest side), ``"short"`` (short range,
            128x128: faces wider than about a seventh of the longest side) or ``"full"`` (full
            range, 192x192: small faces too).
        min_score: smallest score (0..1) to keep a face, or ``None`` (default) for each model's
            own: 0.55 for short range (every annotated face above scored >= 0.61 on wild
            photos; half the false boxes of 0.5), 0.5 for full range (MediaPipe's; 0.55 would
            already lose 0.9 % of the wild faces).
        nms_iou: boxes overlapping a better one by more than this IoU are merged into it
            (weighted NMS). Default 0.3 (MediaPipe's).
        max_faces: keep at most this many faces (the best-scored), or ``None`` for all.
        num_threads: interpreter threads (``None``: :func:`facelandmarks.lite.default_num_threads`).

    Attributes:
        name: ``"blazeface"`` (``"auto"``), ``"blazeface-short"`` or ``"blazeface-full"``: the
            key for :func:`facelandmarks.detection.frame_from_box`.

    Raises:
        ValueError: an argument is out of range (the message names it).
        WeightsIntegrityError: a shipped model file is missing or fails its SHA-256 check
            (``"auto"`` loads its full range model only when a photo first needs it: a fault
            in that file is raised by that :meth:`detect`).
        ImportError: no TensorFlow Lite interpreter is installed.

    Example:
        >>> from facelandmarks.images import load_image
        >>> det = BlazeFaceDetector()
        >>> faces = det.detect(load_image("examples/astronaut.png"))
        >>> len(faces), faces[0].keypoint_names[0]
        (1, 'right_eye')
    """

    def __init__(
        self,
        model: str = "auto",
        *,
        min_score: float | None = None,
        nms_iou: float = 0.3,
        max_faces: int | None = None,
        num_threads: int | None = None,
    ) -> None:
        if not isinstance(model, str) or model not in _MODES:
            raise ValueError(f"model must be one of {list(_MODES)}. Received: model={model!r}")
        if min_score is not None and not (is_number(min_score) and 0.0 <= min_score < 1.0):
            raise ValueError(
                f"min_score must be a number in [0, 1) or None. Received: min_score={min_score!r}"
            )
        if not (is_number(nms_iou) and 0.0 <= nms_iou < 1.0):
            raise ValueError(f"nms_iou must be a number in [0, 1). Received: nms_iou={nms_iou!r}")
        if max_faces is not None and (not is_int(max_faces) or max_faces < 1):
            raise ValueError(
                f"max_faces must be a positive int or None. Received: max_faces={max_faces!r}"
            )
        self.model = model
        self.name = "blazeface" if model == "auto" else f"blazeface-{model}"
        self.min_score = None if min_score is None else float(min_score)
        self.nms_iou = float(nms_iou)
        self.max_faces = None if max_faces is None else int(max_faces)
        first = _load_model(_VARIANTS[_MODES[model][0]], num_threads)
        self.num_threads = first.num_threads
        self._stages = [
            _Stage(
                _VARIANTS[v],
                first if i == 0 else _Deferred(_VARIANTS[v], first.num_threads),
                _anchors(v),
                _VARIANTS[v].min_score if min_score is None else float(min_score),
                _AUTO_FULL_MAX_WIDTH if (model, v) == ("auto", "full") else math.inf,
            )
            for i, v in enumerate(_MODES[model])
        ]

    def __repr__(self) -> str:
        return (
            f"BlazeFaceDetector({self.model!r}, min_score={self.min_score!r}, "
            f"nms_iou={self.nms_iou!r}, max_faces={self.max_faces!r}, "
            f"num_threads={self.num_threads!r})"
        )

    def _run(self, stage: _Stage, image: np.ndarray) -> list[FaceBox]:
        x, lb = letterbox(image, stage.variant.size)
        outputs = stage.lite.run(x[None])
        # Name-free: the regressors have 16 numbers per anchor, the classificators one.
        raw = next(o for o in outputs if o.shape[-1] == 16)[0]
        logits = next(o for o in outputs if o.shape[-1] == 1)[0, :, 0]
        # Threshold on the logit (monotonic): only candidates are decoded.
        p = stage.min_score
        cut = math.log(p / (1.0 - p)) if p > 0 else -np.inf
        keep = np.flatnonzero(logits >= cut)
        if keep.size == 0:
            return []
        boxes, keypoints, scores = decode(raw[keep], logits[keep], stage.anchors[keep])
        ok = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        ok &= np.isfinite(boxes).all(axis=1) & np.isfinite(keypoints).all(axis=(1, 2))
        boxes, keypoints, scores = weighted_nms(boxes[ok], keypoints[ok], scores[ok], self.nms_iou)
        narrow = boxes[:, 2] - boxes[:, 0] < stage.max_width * stage.variant.size
        boxes, keypoints, scores = (a[narrow][: self.max_faces] for a in (boxes, keypoints, scores))
        boxes = lb.to_image(boxes.reshape(-1, 2, 2)).reshape(-1, 4)
        keypoints = (lb.to_image(keypoints) - 0.5).astype(np.float32)  # -> pixel centres
        keypoints.flags.writeable = False  # each face's (6, 2) row is a read-only view
        return [
            FaceBox(
                (float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(s), k, KEYPOINT_NAMES
            )
            for b, k, s in zip(boxes, keypoints, scores, strict=True)
        ]

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in one image.

        Args:
            image: ``uint8`` array ``(H, W, 3)``, RGB (e.g. from
                :func:`facelandmarks.images.load_image`), any size.

        Returns:
            :class:`~facelandmarks.detection.FaceBox` es, best score first (``score``: 0..1),
            overlapping boxes merged. ``box``: ``(x0, y0, x1, y1)`` edge coordinates of
            ``image``'s pixels, not clipped (a face cut by the border has a box reaching past
            it). ``keypoints``: read-only float32 ``(6, 2)`` ``(x, y)`` pixel-centre coordinates
            of ``image`` (may lie outside it), named by ``keypoint_names``
            (:data:`KEYPOINT_NAMES`). ``[]`` when no face is found.

        Raises:
            TypeError: ``image`` is not a numpy array.
            ValueError: ``image`` is not ``uint8`` ``(H, W, 3)`` or is empty.
            WeightsIntegrityError: ``"auto"``'s full range model file, loaded on first need,
                is missing or fails its SHA-256 check.
        """
        image = check_image(image)
        faces: list[FaceBox] = []
        for stage in self._stages:
            faces = self._run(stage, image)
            if faces:
                break
        return faces
