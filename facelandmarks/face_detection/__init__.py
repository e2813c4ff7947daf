"""Face detection: find faces (boxes and eye keypoints) before the landmark model runs.

Detectors, all offline (their weights ship inside packages; nothing is downloaded at run time):

* ``"blazeface"`` (the default): :class:`BlazeFaceDetector`, MediaPipe's BlazeFace models shipped
  inside facelandmarks (Apache-2.0, ``facelandmarks/models/``), decoded in NumPy: short range
  first, full range only when short range finds nothing. About 1.3-2 ms per photo on a 2-core
  CPU, 100 % of the 2,012 in-the-wild training faces and of the MUCT faces found; boxes with the
  eyes, nose tip, mouth centre and ears. ``"blazeface-short"`` / ``"blazeface-full"`` pick one
  model (full range also finds faces down to about 5 % of the photo's side).
* ``"mtcnn"``: :class:`MTCNNFaceDetector`, the ``mtcnn`` package on TensorFlow
  (``pip install "facelandmarks[detect]"``): 68-104 ms per photo.
* ``"opencv-haar"``: :class:`OpenCVFaceDetector`, OpenCV 4.x's Haar cascades
  (``pip install "opencv-python-headless>=4.5.4,<5"``; OpenCV 5 dropped them): 27-56 ms, lower
  recall on in-the-wild photos (88 %).
* any of them followed by ``"-any-orientation"``: :class:`AnyOrientation`, the detector run on
  the image turned by 0, 90, 180 and 270 degrees (upside-down and sideways photos).

Numbers: ``benchmarks/face_detection.py`` (benchmarks/README.md).

Layout: :class:`FaceBox` and the :class:`FaceDetector` protocol live in ``base.py``, one module per
detector (``blazeface.py`` with the SSD maths in ``ssd.py``, ``mtcnn.py``, ``haar.py``); this
module names them and holds :func:`frame_from_box`, the calibration that places the *whole-image*
frame of the MUCT-trained models around a box. A new detector implements
``detect(rgb) -> list[FaceBox]`` and a ``name``, and is added to :func:`get_face_detector` (and to
:data:`FRAME_FROM_BOX` if whole-image models should use it, measured with
``benchmarks/detectors.py``).

Boxes are ``(x0, y0, x1, y1)`` in *edge* coordinates of the image as the caller passed it: the
whole image is ``(0, 0, W, H)``, and the pixel whose centre is ``(x, y)`` spans
``x - 0.5 .. x + 0.5`` (see docs/coordinates.md).

Example:
    >>> from facelandmarks.face_detection import get_face_detector
    >>> detector = get_face_detector()                      # doctest: +SKIP
    >>> faces = detector.detect(rgb)                        # doctest: +SKIP
    >>> faces[0].box, faces[0].keypoint_names[:2]           # doctest: +SKIP
    ((182.3, 96.0, 301.7, 215.4), ('right_eye', 'left_eye'))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from facelandmarks.face_detection.base import INSTALL_HINT, FaceBox, FaceDetector, prominence
from facelandmarks.face_detection.blazeface import BlazeFaceDetector
from facelandmarks.face_detection.haar import OPENCV_INSTALL_HINT, OpenCVFaceDetector
from facelandmarks.face_detection.mtcnn import MTCNNFaceDetector
from facelandmarks.face_detection.orientation import AnyOrientation

__all__ = [
    "ANY_ORIENTATION",
    "DEFAULT_DETECTOR",
    "FRAME_ASPECT",
    "FRAME_FROM_BOX",
    "INSTALL_HINT",
    "OPENCV_INSTALL_HINT",
    "AnyOrientation",
    "BlazeFaceDetector",
    "FaceBox",
    "FaceDetector",
    "MTCNNFaceDetector",
    "OpenCVFaceDetector",
    "frame_from_box",
    "get_face_detector",
    "prominence",
]

FRAME_ASPECT = 3.0 / 4.0
"""Width / height of the MUCT frame (480 x 640) the landmark model was trained on."""

# Where the MUCT image frame (0, 0, 480, 640) sits around each detector's face box, in units of
# the box width w: (dx, dy, sw, sh) = ((frame centre x - box centre x) / w,
# (frame centre y - box centre y) / w, 480 / w, 640 / w). Medians over all 3,005 images of the
# MUCT development part, using the best-scored box that matches the face (IoU > 0.3 with the
# landmark box or containing the nose tip), each detector with this module's defaults (mtcnn
# 1.0.0, opencv-python-headless 4.14): `python benchmarks/detectors.py`, which also prints the
# spread (IQR of sw: about 8 % for BlazeFace, 10-11 % for mtcnn and opencv-haar; most of the dy
# spread is MUCT's cameras d and e looking from below and above). "blazeface" runs short range
# first, so it takes short range's values.
FRAME_FROM_BOX: dict[str, tuple[float, float, float, float]] = {
    "blazeface": (-0.080, -0.360, 2.303, 3.071),
    "blazeface-short": (-0.080, -0.360, 2.303, 3.071),
    "blazeface-full": (-0.127, -0.290, 2.133, 2.844),
    "mtcnn": (-0.095, -0.261, 2.534, 3.379),
    "opencv-haar": (-0.125, -0.199, 2.034, 2.712),
}

DEFAULT_DETECTOR = "blazeface"
_ALIASES = {"default": DEFAULT_DETECTOR, "haar": "opencv-haar", "blazeface-auto": "blazeface"}
_FACTORIES: dict[str, Callable[[], FaceDetector]] = {
    "blazeface": lambda: BlazeFaceDetector("auto"),
    "blazeface-short": lambda: BlazeFaceDetector("short"),
    "blazeface-full": lambda: BlazeFaceDetector("full"),
    "mtcnn": lambda: MTCNNFaceDetector(),
    "opencv-haar": lambda: OpenCVFaceDetector(),
}


ANY_ORIENTATION = "-any-orientation"
"""Suffix of a detector name that also finds faces turned by 90, 180 or 270 degrees
(:class:`AnyOrientation`), e.g. ``"blazeface-any-orientation"``."""


def _resolve_name(name: Any, argname: str) -> tuple[str, bool]:
    """The canonical key of a detector name (aliases resolved, the orientation suffix removed)
    and whether the name asked for :class:`AnyOrientation`."""
    turned = isinstance(name, str) and name.endswith(ANY_ORIENTATION)
    base = name[: -len(ANY_ORIENTATION)] if turned else name
    key = _ALIASES.get(base, base) if isinstance(base, str) else None
    if key not in FRAME_FROM_BOX:
        choices = sorted([*FRAME_FROM_BOX, *_ALIASES])
        raise ValueError(
            f"{argname} must be one of {choices}, optionally followed by {ANY_ORIENTATION!r}. "
            f"Received: {argname}={name!r}"
        )
    return key, turned


def get_face_detector(name: str = "default") -> FaceDetector:
    """Build a face detector by name, with its default settings.

    Args:
        name: ``"default"`` (= ``"blazeface"``: short range, then full range when short range
            finds nothing), ``"blazeface-short"``, ``"blazeface-full"``:
            :class:`BlazeFaceDetector` (shipped, nothing to install); ``"mtcnn"``:
            :class:`MTCNNFaceDetector` (``pip install "facelandmarks[detect]"``);
            ``"opencv-haar"`` or ``"haar"``: :class:`OpenCVFaceDetector`
            (``pip install "opencv-python-headless>=4.5.4,<5"``). Any of them followed by
            ``"-any-orientation"`` (e.g. ``"blazeface-any-orientation"``) also finds faces
            turned by 90, 180 or 270 degrees, for four times the time
            (:class:`AnyOrientation`). Build the class directly to change its settings
            (``min_score``, ``max_side``, ``min_size``, ...).

    Returns:
        An object with ``detect(image) -> list[FaceBox]`` and a ``name`` attribute (the key to
        use with :func:`frame_from_box`).

    Raises:
        ValueError: unknown ``name`` (the message lists the accepted names).
        ImportError: the detector's optional dependency is missing (the message names the
            ``pip install`` command).

    Example:
        >>> get_face_detector().name
        'blazeface'
    """
    key, turned = _resolve_name(name, "name")
    detector = _FACTORIES[key]()
    return AnyOrientation(detector) if turned else detector


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
    key, _ = _resolve_name(detector_name, "detector_name")
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
