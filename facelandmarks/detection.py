"""Face detection for photos: find face boxes before the landmark model runs.

The landmark model is a whole-image regressor trained on MUCT portraits (480x640, the face
filling about half the width). A user's phone photo or group shot must first be cut down to a
MUCT-like frame around each face: :func:`get_face_detector` finds the faces and
:func:`frame_from_box` turns a face box into that frame.

Two detectors, both offline (their weights ship inside the pip packages, nothing is downloaded
at run time):

* ``"mtcnn"`` (the default): :class:`MTCNNFaceDetector`, the ``mtcnn`` package (MIT; weights
  of Zhang et al. 2016, MIT) on TensorFlow, which facelandmarks already needs, so the extra
  adds only a few MB: ``pip install "facelandmarks[detect]"``. A CNN detector, expected to hold
  up better than Haar cascades on real-world photos; its boxes fit the face more consistently
  (better framing). On MUCT it found 2,988 of 3,005 faces, about 100 ms per photo on a busy
  2-core CPU.
* ``"opencv-haar"``: :class:`OpenCVFaceDetector`, the Haar cascades bundled with OpenCV 4.x
  (``opencv-python-headless``, Apache-2.0; the cascade files carry the BSD-style Intel License
  Agreement). About 3.5x faster (found 2,996 of 3,005 MUCT faces) but a 160 MB dependency that
  facelandmarks does not install; OpenCV 5 no longer bundles the cascades, so it needs
  ``pip install "opencv-python-headless>=4.5.4,<5"``.

Boxes are ``(x0, y0, x1, y1)`` in *edge* coordinates of the image as the caller passed it: the
whole image is ``(0, 0, W, H)``, and the pixel whose centre is ``(x, y)`` spans
``x - 0.5 .. x + 0.5`` (see :mod:`facelandmarks.scaling`).

Example:
    >>> from facelandmarks.detection import get_face_detector, frame_from_box
    >>> detector = get_face_detector()                      # doctest: +SKIP
    >>> faces = detector.detect(rgb)                        # doctest: +SKIP
    >>> frame = frame_from_box(faces[0].box, detector.name) # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

logger = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "facelandmarks[detect]"'
OPENCV_INSTALL_HINT = 'pip install "opencv-python-headless>=4.5.4,<5"'

FRAME_ASPECT = 3.0 / 4.0
"""Width / height of the MUCT frame (480 x 640) the landmark model was trained on."""

# Where the MUCT image frame (0, 0, 480, 640) sits around each detector's face box, in units of
# the box width w: (dx, dy, sw, sh) = ((frame centre x - box centre x) / w,
# (frame centre y - box centre y) / w, 480 / w, 640 / w). Medians over all 3,005 images of the
# MUCT development part (221 subjects, cameras a-e), using the best-scored box that matches the
# face (IoU > 0.3 with the landmark box or containing the nose tip), each detector with this
# module's defaults. Measured 2026-11-28 with `python benchmarks/detectors.py --calibrate`
# (mtcnn 1.0.0 on TensorFlow 2.21; opencv-python-headless 4.14.0.94); that script prints the
# spread and per-camera values. IQRs: mtcnn dx 0.27, dy 0.42, sw 0.25 (about 10 % of sw);
# opencv-haar dx 0.22, dy 0.33, sw 0.22 (11 %). Most of the dy spread is MUCT's own: cameras
# d and e look from below/above, so the face sits higher or lower in the frame.
FRAME_FROM_BOX: dict[str, tuple[float, float, float, float]] = {
    "mtcnn": (-0.095, -0.261, 2.534, 3.379),
    "opencv-haar": (-0.125, -0.199, 2.034, 2.712),
}

DEFAULT_DETECTOR = "mtcnn"
_ALIASES = {"default": DEFAULT_DETECTOR, "haar": "opencv-haar"}

_CASCADE_FILES = {
    "alt2": "haarcascade_frontalface_alt2.xml",
    "alt": "haarcascade_frontalface_alt.xml",
    "default": "haarcascade_frontalface_default.xml",
}
_PROFILE_FILE = "haarcascade_profileface.xml"
_PROFILE_MODES = ("never", "fallback", "always")


@dataclass(frozen=True)
class FaceBox:
    """One detected face.

    Attributes:
        box: ``(x0, y0, x1, y1)`` floats, edge coordinates in pixels of the image as passed to
            ``detect`` (origin top-left, ``y`` down; the whole image is ``(0, 0, W, H)``).
        score: detector confidence, higher is surer; only comparable between boxes of the same
            detector. :class:`MTCNNFaceDetector`: MTCNN's confidence, 0..1.
            :class:`OpenCVFaceDetector`: the number of raw cascade hits merged into the box.
    """

    box: tuple[float, float, float, float]
    score: float

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


def _import_mtcnn() -> Any:
    try:
        from mtcnn import MTCNN
    except ImportError as err:
        raise ImportError(
            "Face detection needs the optional 'mtcnn' package (MIT; its weights ship inside "
            f"the package). Install it with: {INSTALL_HINT}"
        ) from err
    return MTCNN


def _import_cv2() -> Any:
    try:
        import cv2
    except ImportError as err:
        raise ImportError(
            "The 'opencv-haar' face detector needs OpenCV 4.x (the opencv-python-headless "
            f"package), which facelandmarks does not install. Install it with: "
            f"{OPENCV_INSTALL_HINT} (or use the default detector: {INSTALL_HINT})"
        ) from err
    return cv2


def _check_image(image: Any) -> np.ndarray:
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


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_sizes(min_size: Any, max_side: Any) -> None:
    if min_size is not None and (not _is_int(min_size) or min_size < 1):
        raise ValueError(
            f"min_size must be a positive int (pixels) or None. Received: min_size={min_size!r}"
        )
    if max_side is not None and (not _is_int(max_side) or max_side < 32):
        raise ValueError(
            f"max_side must be an int >= 32 (pixels) or None. Received: max_side={max_side!r}"
        )


def _check_fraction(value: Any, argname: str) -> None:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if not (ok and 0.0 < value <= 1.0):
        raise ValueError(f"{argname} must be a number in (0, 1]. Received: {argname}={value!r}")


def _working_scale(
    height: int, width: int, max_side: int | None, min_size: int | None, window: int
) -> float:
    """Scale of the working copy: longest side <= max_side, unless min_size needs more."""
    scale = 1.0 if max_side is None else min(1.0, max_side / max(height, width))
    if min_size is not None:
        scale = max(scale, window / min_size)
    return min(scale, 1.0)


def _min_pixels(min_size: int | None, scale: float, window: int) -> int:
    """Smallest face side to search for in the working copy."""
    if min_size is None:
        return window
    return max(window, math.floor(min_size * scale))


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box ``a`` (4,) with each row of ``b`` (N, 4), edge coordinates."""
    iw = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0.0, None)
    ih = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0.0, None)
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return inter / np.maximum(union, 1e-12)


def _sort_and_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[FaceBox]:
    """Sort by score (ties: by position), then drop boxes overlapping a better one."""
    if len(boxes) == 0:
        return []
    order = np.lexsort((boxes[:, 1], boxes[:, 0], -scores))
    kept: list[int] = []
    for i in order:
        if kept and np.any(_iou(boxes[i], boxes[kept]) > iou_threshold):
            continue
        kept.append(int(i))
    return [
        FaceBox(box=tuple(float(v) for v in boxes[i]), score=float(scores[i]))  # type: ignore[arg-type]
        for i in kept
    ]


class OpenCVFaceDetector:
    """Face detector on OpenCV 4.x's bundled Haar cascades (needs ``opencv-python-headless<5``).

    The image is converted to grey and shrunk so its longest side is at most ``max_side``; the
    frontal cascade runs on it, and the profile cascade on it and on its mirror (the bundled
    profile cascade finds faces turned one way only). Results are mapped back to the pixels of
    the image as given, sorted by score and de-duplicated by non-maximum suppression.
    Deterministic: the same image gives the same boxes in the same order.

    Args:
        cascade: frontal cascade: ``"alt2"`` (default; fewest false positives in
            benchmarks/detectors.py), ``"alt"`` or ``"default"`` (OpenCV's
            ``haarcascade_frontalface_<name>.xml``).
        profile: when to run the profile cascade: ``"fallback"`` (default: only when the frontal
            cascade finds nothing), ``"always"`` (adds turned faces in group shots; about three
            times slower) or ``"never"``.
        min_size: smallest face side to look for, in pixels of the image as given, or ``None``
            (default) for the smallest the cascade sees at the working size (20 px there, i.e.
            ``20 * longest_side / max_side`` in the image). When ``min_size`` is smaller than
            that, the working size grows (up to the full image) so such faces can be found.
        max_side: the longest side, in pixels, of the copy the cascades run on (default 320;
            ``None``: the full image). Larger finds smaller faces in group shots but is slower.
        min_neighbors: raw hits needed to accept a box (OpenCV's ``minNeighbors``); higher
            gives fewer false positives and more misses. Default 5.
        scale_factor: step of the search-window scales, > 1 (OpenCV's ``scaleFactor``).
            Default 1.1.
        nms_iou: boxes overlapping a better-scored box by more than this IoU are dropped.
            Default 0.3.

    Raises:
        ImportError: OpenCV 4.x is not installed (the message names the ``pip install``
            command), or the installed OpenCV does not bundle the cascades (OpenCV 5).
        ValueError: an argument is out of range (the message names it).

    Example:
        >>> import numpy as np
        >>> det = OpenCVFaceDetector()  # doctest: +SKIP
        >>> det.detect(np.zeros((480, 640, 3), np.uint8))  # doctest: +SKIP
        []
    """

    name = "opencv-haar"

    def __init__(
        self,
        *,
        cascade: str = "alt2",
        profile: str = "fallback",
        min_size: int | None = None,
        max_side: int | None = 320,
        min_neighbors: int = 5,
        scale_factor: float = 1.1,
        nms_iou: float = 0.3,
    ) -> None:
        if cascade not in _CASCADE_FILES:
            raise ValueError(
                f"cascade must be one of {sorted(_CASCADE_FILES)}. Received: cascade={cascade!r}"
            )
        if profile not in _PROFILE_MODES:
            raise ValueError(
                f"profile must be one of {list(_PROFILE_MODES)}. Received: profile={profile!r}"
            )
        _check_sizes(min_size, max_side)
        if (
            isinstance(min_neighbors, bool)
            or not isinstance(min_neighbors, int)
            or min_neighbors < 0
        ):
            raise ValueError(
                f"min_neighbors must be an int >= 0. Received: min_neighbors={min_neighbors!r}"
            )
        if not (isinstance(scale_factor, (int, float)) and 1.0 < scale_factor <= 2.0):
            raise ValueError(
                f"scale_factor must be a number in (1, 2]. Received: scale_factor={scale_factor!r}"
            )
        _check_fraction(nms_iou, "nms_iou")
        cv2 = _import_cv2()
        self._cv2 = cv2
        self.cascade = cascade
        self.profile = profile
        self.min_size = min_size
        self.max_side = max_side
        self.min_neighbors = min_neighbors
        self.scale_factor = float(scale_factor)
        self.nms_iou = float(nms_iou)
        self._frontal = self._load(_CASCADE_FILES[cascade])
        self._profile = self._load(_PROFILE_FILE) if profile != "never" else None

    def _load(self, filename: str) -> Any:
        path = self._cv2.data.haarcascades + filename
        classifier = self._cv2.CascadeClassifier(path)
        if classifier.empty():
            raise ImportError(
                f"OpenCV's bundled cascade {filename!r} could not be loaded from {path!r}; "
                "this OpenCV build does not ship the Haar cascades (OpenCV 5 dropped them). "
                f"Install a 4.x build with: {OPENCV_INSTALL_HINT}"
            )
        return classifier

    def __repr__(self) -> str:
        return (
            f"OpenCVFaceDetector(cascade={self.cascade!r}, profile={self.profile!r}, "
            f"min_size={self.min_size!r}, max_side={self.max_side!r}, "
            f"min_neighbors={self.min_neighbors!r}, scale_factor={self.scale_factor!r}, "
            f"nms_iou={self.nms_iou!r})"
        )

    def _run(self, classifier: Any, grey: np.ndarray, min_px: int) -> tuple[np.ndarray, np.ndarray]:
        rects, hits = classifier.detectMultiScale2(
            grey,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(min_px, min_px),
        )
        if len(rects) == 0:
            return np.zeros((0, 4)), np.zeros((0,))
        rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        return boxes, np.asarray(hits, dtype=np.float64).reshape(-1)

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in one image.

        Args:
            image: ``uint8`` array ``(H, W, 3)``, RGB (e.g. from
                :func:`facelandmarks.images.load_image`).

        Returns:
            :class:`FaceBox` es, best score first, overlapping duplicates removed; ``box`` in
            edge coordinates of ``image``'s pixels. ``[]`` when no face is found.

        Raises:
            TypeError: ``image`` is not a numpy array.
            ValueError: ``image`` is not ``uint8`` ``(H, W, 3)`` or is empty.
        """
        cv2 = self._cv2
        image = _check_image(image)
        height, width = image.shape[:2]
        window = int(min(self._frontal.getOriginalWindowSize()))
        scale = _working_scale(height, width, self.max_side, self.min_size, window)
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        work_h, work_w = grey.shape
        if min(work_h, work_w) < window:
            return []
        min_px = _min_pixels(self.min_size, work_w / width, window)

        boxes, scores = self._run(self._frontal, grey, min_px)
        if self._profile is not None and (self.profile == "always" or len(boxes) == 0):
            p_boxes, p_scores = self._run(self._profile, grey, min_px)
            m_boxes, m_scores = self._run(
                self._profile, np.ascontiguousarray(grey[:, ::-1]), min_px
            )
            if len(m_boxes):
                m_boxes = np.stack(
                    [work_w - m_boxes[:, 2], m_boxes[:, 1], work_w - m_boxes[:, 0], m_boxes[:, 3]],
                    axis=1,
                )
            boxes = np.concatenate([boxes, p_boxes, m_boxes])
            scores = np.concatenate([scores, p_scores, m_scores])
        if len(boxes) == 0:
            return []
        boxes = boxes * np.array([width / work_w, height / work_h] * 2)
        boxes = np.clip(boxes, 0.0, np.array([width, height, width, height], dtype=np.float64))
        return _sort_and_nms(boxes, scores, self.nms_iou)


class MTCNNFaceDetector:
    """Face detector on the ``mtcnn`` package (needs ``pip install "facelandmarks[detect]"``).

    MTCNN (Zhang et al. 2016: three small CNNs in cascade) runs in TensorFlow on a copy of the
    image shrunk so its longest side is at most ``max_side``; its boxes are mapped back to the
    pixels of the image as given, those scoring below ``min_score`` dropped, the rest sorted by
    score and de-duplicated by non-maximum suppression. Deterministic on a given machine.

    Args:
        min_score: smallest MTCNN confidence (0..1) to keep a box. Default 0.9: on 300 MUCT
            images every face scored >= 0.94, while false boxes scored 0.80-0.96, so a higher
            threshold loses faces before it removes all false boxes (benchmarks/detectors.py);
            the best-scored box was the face on every image.
        min_size: smallest face side to look for, in pixels of the image as given, or ``None``
            (default) for the smallest MTCNN sees at the working size (20 px there, i.e.
            ``20 * longest_side / max_side`` in the image). When ``min_size`` is smaller than
            that, the working size grows (up to the full image) so such faces can be found.
        max_side: the longest side, in pixels, of the copy MTCNN runs on (default 320;
            ``None``: the full image). Larger finds smaller faces in group shots but is slower.
        nms_iou: boxes overlapping a better-scored box by more than this IoU are dropped.
            Default 0.3.
        device: TensorFlow device to run on. Default ``"CPU:0"``.

    Raises:
        ImportError: ``mtcnn`` is not installed (the message names
            ``pip install "facelandmarks[detect]"``).
        ValueError: an argument is out of range (the message names it).

    Example:
        >>> import numpy as np
        >>> det = MTCNNFaceDetector()  # doctest: +SKIP
        >>> det.detect(np.zeros((480, 640, 3), np.uint8))  # doctest: +SKIP
        []
    """

    name = "mtcnn"
    _WINDOW = 20  # MTCNN's default smallest face, in pixels of the image it runs on

    def __init__(
        self,
        *,
        min_score: float = 0.9,
        min_size: int | None = None,
        max_side: int | None = 320,
        nms_iou: float = 0.3,
        device: str = "CPU:0",
    ) -> None:
        if not (
            isinstance(min_score, (int, float, np.floating))
            and not isinstance(min_score, bool)
            and 0.0 <= min_score <= 1.0
        ):
            raise ValueError(
                f"min_score must be a number in [0, 1]. Received: min_score={min_score!r}"
            )
        _check_sizes(min_size, max_side)
        _check_fraction(nms_iou, "nms_iou")
        if not isinstance(device, str) or not device:
            raise ValueError(
                f"device must be a TensorFlow device name such as 'CPU:0'. Received: "
                f"device={device!r}"
            )
        mtcnn_class = _import_mtcnn()
        self.min_score = float(min_score)
        self.min_size = min_size
        self.max_side = max_side
        self.nms_iou = float(nms_iou)
        self.device = device
        self._mtcnn = mtcnn_class(device=device)

    def __repr__(self) -> str:
        return (
            f"MTCNNFaceDetector(min_score={self.min_score!r}, min_size={self.min_size!r}, "
            f"max_side={self.max_side!r}, nms_iou={self.nms_iou!r}, device={self.device!r})"
        )

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in one image.

        Args:
            image: ``uint8`` array ``(H, W, 3)``, RGB (e.g. from
                :func:`facelandmarks.images.load_image`).

        Returns:
            :class:`FaceBox` es, best score first (``score``: MTCNN's confidence, 0..1),
            overlapping duplicates removed; ``box`` in edge coordinates of ``image``'s pixels.
            ``[]`` when no face is found.

        Raises:
            TypeError: ``image`` is not a numpy array.
            ValueError: ``image`` is not ``uint8`` ``(H, W, 3)`` or is empty.
        """
        from PIL import Image

        image = _check_image(image)
        height, width = image.shape[:2]
        scale = _working_scale(height, width, self.max_side, self.min_size, self._WINDOW)
        work = np.ascontiguousarray(image)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            work = np.asarray(Image.fromarray(work).resize(size, Image.Resampling.BILINEAR))
        work_h, work_w = work.shape[:2]
        if min(work_h, work_w) < self._WINDOW:
            return []
        # MTCNN searches from its default 20 px up; min_size is applied to the boxes afterwards
        # (mtcnn 1.0.0 builds a broken image pyramid for min_face_size > 20 and finds nothing).
        rows = self._mtcnn.detect_faces(work, box_format="xyxy", output_type="numpy")
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 16)
        boxes = rows[:, 1:5] * np.array([width / work_w, height / work_h] * 2)
        keep = rows[:, 5] >= self.min_score
        if self.min_size is not None:
            keep &= boxes[:, 2] - boxes[:, 0] >= self.min_size
        boxes, rows = boxes[keep], rows[keep]
        if len(rows) == 0:
            return []
        boxes = np.clip(boxes, 0.0, np.array([width, height, width, height], dtype=np.float64))
        return _sort_and_nms(boxes, rows[:, 5], self.nms_iou)


def _resolve_name(name: Any, argname: str) -> str:
    key = _ALIASES.get(name, name) if isinstance(name, str) else None
    if key not in FRAME_FROM_BOX:
        choices = sorted([*FRAME_FROM_BOX, *_ALIASES])
        raise ValueError(f"{argname} must be one of {choices}. Received: {argname}={name!r}")
    return key


def get_face_detector(name: str = "default") -> FaceDetector:
    """Build a face detector by name, with its default settings.

    Args:
        name: ``"default"`` (= ``"mtcnn"``) or ``"mtcnn"``: :class:`MTCNNFaceDetector`
            (``pip install "facelandmarks[detect]"``); ``"opencv-haar"`` or ``"haar"``:
            :class:`OpenCVFaceDetector` (``pip install "opencv-python-headless>=4.5.4,<5"``).
            Build the class directly to change its settings (``max_side``, ``min_size``, ...).

    Returns:
        An object with ``detect(image) -> list[FaceBox]`` and a ``name`` attribute (the key to
        use with :func:`frame_from_box`).

    Raises:
        ValueError: unknown ``name`` (the message lists the accepted names).
        ImportError: the detector's optional dependency is missing (the message names the
            ``pip install`` command, ``pip install "facelandmarks[detect]"`` for the default).

    Example:
        >>> det = get_face_detector()  # doctest: +SKIP
        >>> det.name  # doctest: +SKIP
        'mtcnn'
    """
    key = _resolve_name(name, "name")
    if key == "mtcnn":
        return MTCNNFaceDetector()
    if key == "opencv-haar":
        return OpenCVFaceDetector()
    raise AssertionError(f"no factory for detector {key!r}")  # pragma: no cover


def frame_from_box(
    box: Sequence[float] | np.ndarray | FaceBox, detector_name: str = "default"
) -> tuple[float, float, float, float]:
    """The MUCT-like frame around a detected face box, to crop for the landmark model.

    Places the frame as the whole 480x640 MUCT image sits around the detector's box on MUCT
    (medians in :data:`FRAME_FROM_BOX`): centre shifted by ``(dx, dy)`` box widths, width and
    height ``sw`` and ``sh`` box widths, made exactly 3:4 (w:h). The frame may extend past the
    image's borders; the caller pads when cropping.

    Args:
        box: ``(x0, y0, x1, y1)`` in edge coordinates of the image's pixels (``x1 > x0``,
            ``y1 > y0``, finite), or a :class:`FaceBox`.
        detector_name: the detector that produced ``box`` (its ``name`` attribute, or a name
            accepted by :func:`get_face_detector`).

    Returns:
        ``(x0, y0, x1, y1)`` floats, edge coordinates in the same image, width:height = 3:4.

    Raises:
        ValueError: ``box`` is not 4 finite numbers with positive width and height, or
            ``detector_name`` has no calibration.

    Example:
        >>> frame = frame_from_box((100.0, 100.0, 200.0, 200.0), "mtcnn")
        >>> [round(v, 1) for v in frame]
        [13.8, -45.0, 267.2, 292.8]
    """
    key = _resolve_name(detector_name, "detector_name")
    raw = box.box if isinstance(box, FaceBox) else box
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"box must be 4 numbers (x0, y0, x1, y1) or a FaceBox. Received: box={box!r}"
        ) from err
    if arr.shape != (4,) or not np.all(np.isfinite(arr)) or arr[2] <= arr[0] or arr[3] <= arr[1]:
        raise ValueError(
            "box must be 4 finite numbers (x0, y0, x1, y1) with x1 > x0 and y1 > y0. "
            f"Received: box={box!r}"
        )
    dx, dy, sw, sh = FRAME_FROM_BOX[key]
    w = float(arr[2] - arr[0])
    cx = float(arr[0] + arr[2]) / 2.0 + dx * w
    cy = float(arr[1] + arr[3]) / 2.0 + dy * w
    # sw and sh are both medians over MUCT (480 / w and 640 / w): average them into one width so
    # the frame is exactly 3:4.
    frame_w = 0.5 * (sw + sh * FRAME_ASPECT) * w
    frame_h = frame_w / FRAME_ASPECT
    return (cx - frame_w / 2.0, cy - frame_h / 2.0, cx + frame_w / 2.0, cy + frame_h / 2.0)
