"""Face detection on OpenCV 4.x's bundled Haar cascades (``"opencv-haar"``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from facelandmarks.face_detection import base
from facelandmarks.face_detection.base import FaceBox

OPENCV_INSTALL_HINT = 'pip install "opencv-python-headless>=4.5.4,<5"'

_CASCADE_FILES = {
    "alt2": "haarcascade_frontalface_alt2.xml",
    "alt": "haarcascade_frontalface_alt.xml",
    "default": "haarcascade_frontalface_default.xml",
}
_PROFILE_FILE = "haarcascade_profileface.xml"
_PROFILE_MODES = ("never", "fallback", "always")


class OpenCVFaceDetector:
    """Face detector on OpenCV 4.x's bundled Haar cascades (needs ``opencv-python-headless<5``).

    The image is converted to grey and shrunk so its longest side is at most ``max_side``; the
    frontal cascade runs on it, and the profile cascade on it and on its mirror (the bundled
    profile cascade finds faces turned one way only). Results are mapped back to the pixels of
    the image as given, sorted by score and de-duplicated by non-maximum suppression.
    Deterministic: the same image gives the same boxes in the same order.

    Args:
        cascade: frontal cascade: ``"alt2"`` (default; fewest false positives on MUCT),
            ``"alt"`` or ``"default"`` (OpenCV's ``haarcascade_frontalface_<name>.xml``).
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
        base.check_sizes(min_size, max_side)
        if not base.is_int(min_neighbors) or min_neighbors < 0:
            raise ValueError(
                f"min_neighbors must be an int >= 0. Received: min_neighbors={min_neighbors!r}"
            )
        if not (base.is_number(scale_factor) and 1.0 < scale_factor <= 2.0):
            raise ValueError(
                f"scale_factor must be a number in (1, 2]. Received: scale_factor={scale_factor!r}"
            )
        base.check_fraction(nms_iou, "nms_iou")
        try:
            import cv2
        except ImportError as err:
            raise ImportError(
                "The 'opencv-haar' face detector needs OpenCV 4.x (the opencv-python-headless "
                f"package), which facelandmarks does not install. Install it with: "
                f"{OPENCV_INSTALL_HINT} (or use the default detector, 'blazeface': it is shipped)"
            ) from err
        self._cv2 = cv2
        self.cascade = cascade
        self.profile = profile
        self.min_size = min_size
        self.max_side = max_side
        self.min_neighbors = int(min_neighbors)
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
        image = base.check_image(image)
        height, width = image.shape[:2]
        window = int(min(self._frontal.getOriginalWindowSize()))
        size = base.working_size(height, width, self.max_side, self.min_size, window)
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        if size != (width, height):
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        work_h, work_w = grey.shape
        if min(work_h, work_w) < window:
            return []
        # The smallest face side to search for in the working copy.
        scale = work_w / width
        min_px = window if self.min_size is None else max(window, math.floor(self.min_size * scale))

        boxes, scores = self._run(self._frontal, grey, min_px)
        if self._profile is not None and (self.profile == "always" or len(boxes) == 0):
            p_boxes, p_scores = self._run(self._profile, grey, min_px)
            mirrored = np.ascontiguousarray(grey[:, ::-1])
            m_boxes, m_scores = self._run(self._profile, mirrored, min_px)
            x0, y0, x1, y1 = m_boxes.T  # in the mirror: x -> work_w - x, x0 and x1 swap
            m_boxes = np.stack([work_w - x1, y0, work_w - x0, y1], axis=1)
            boxes = np.concatenate([boxes, p_boxes, m_boxes])
            scores = np.concatenate([scores, p_scores, m_scores])
        boxes = boxes * np.array([width / work_w, height / work_h] * 2)
        boxes = np.clip(boxes, 0.0, np.array([width, height, width, height], dtype=np.float64))
        return base.sort_and_nms(boxes, scores, self.nms_iou)
