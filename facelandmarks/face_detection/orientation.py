"""Faces in photos turned by 90, 180 or 270 degrees: a face detector run on the four right-angle
turns of the image, each face kept in the turn where the detector is surest (NumPy only).

Detectors trained on upright faces place an upside-down face's eye keypoints as if it were
upright, so its landmark crop comes out upside down with nothing to say so. A face found in the
image as given is replaced by a turn's face at the same place when the detector is surer of
that one (its keypoints say which way is up, and the landmark crop is turned to match:
:func:`facelandmarks.face_rois.roi_from_box`); faces only a turn finds count only when the image
as given has none. Measurements (four detections instead of one): docs/detection.md,
``python benchmarks/orientation.py --wild ../shared/wild``.
"""

from __future__ import annotations

import numpy as np

from facelandmarks.face_detection.base import (
    FaceBox,
    FaceDetector,
    check_fraction,
    check_image,
    greedy_nms,
    iou,
)

__all__ = ["AnyOrientation"]


def _unturn(xy: np.ndarray, turns: int, width: int, height: int, edges: bool) -> np.ndarray:
    """Coordinates in ``np.rot90(image, turns)`` -> coordinates in ``image`` (``width`` x
    ``height``). Pixel centres (``edges=False``) or edge coordinates (``edges=True``)."""
    last_x, last_y = (width, height) if edges else (width - 1, height - 1)
    x, y = xy[..., 0], xy[..., 1]
    # By turns; np.rot90 turns counter-clockwise: np.rot90(image)[i, j] = image[j, W - 1 - i].
    back = ((x, y), (last_x - y, x), (last_x - x, last_y - y), (y, last_y - x))
    return np.stack(back[turns], axis=-1)


class AnyOrientation:
    """A face detector that also finds faces turned by 90, 180 or 270 degrees.

    Args:
        detector: the detector to run on each turn (any ``detect(rgb) -> list[FaceBox]``);
            its boxes and keypoints come back in the image as given.
        iou_threshold: faces from different turns that overlap more than this (intersection
            over union of their boxes, in ``(0, 1]``) are one face.

    Raises:
        TypeError: ``detector`` has no ``detect`` method.
        ValueError: ``iou_threshold`` is not a number in ``(0, 1]``.

    Attributes:
        name: the wrapped detector's ``name`` (its boxes are that detector's, so models
            trained on them frame them the same way).
    """

    def __init__(self, detector: FaceDetector, *, iou_threshold: float = 0.3) -> None:
        if not callable(getattr(detector, "detect", None)):
            raise TypeError(
                "detector must have a detect(rgb) method. Received: object of type "
                f"{type(detector).__name__}"
            )
        check_fraction(iou_threshold, "iou_threshold")
        self.detector = detector
        self.name = getattr(detector, "name", type(detector).__name__)
        self.iou_threshold = float(iou_threshold)

    def __repr__(self) -> str:
        return f"AnyOrientation({self.detector!r})"

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Faces in any of the four orientations, best score first.

        Args:
            image: uint8 ``(H, W, 3)`` RGB.

        Returns:
            :class:`FaceBox` es in ``image``'s coordinates (boxes in edge coordinates,
            keypoints pixel centres, named as the wrapped detector names them).
        """
        rgb = check_image(image)
        height, width = rgb.shape[:2]
        upright = list(self.detector.detect(rgb))
        turned: list[FaceBox] = []
        for turns in (1, 2, 3):
            for face in self.detector.detect(np.ascontiguousarray(np.rot90(rgb, turns))):
                turned.append(self._back(face, turns, width, height))
        turned.sort(key=lambda f: -f.score)
        if not upright:  # nothing upright: the best of each place among the turns
            return self._distinct(turned)
        # Faces found upright stay where they are; one is replaced by a turn's face at the same
        # place when the detector is surer of that turn. Faces that only a turn finds are
        # dropped: turned images bring false detections (a sideways helmet, a shadow).
        out = [next((t for t in turned if self._replaces(t, face)), face) for face in upright]
        return self._distinct(sorted(out, key=lambda f: -f.score))

    def _replaces(self, turned: FaceBox, face: FaceBox) -> bool:
        """Whether ``turned`` is the same face as ``face``, found with a higher score."""
        return (
            turned.score > face.score
            and iou(np.array(face.box), np.array([turned.box]))[0] > self.iou_threshold
        )

    @staticmethod
    def _back(face: FaceBox, turns: int, width: int, height: int) -> FaceBox:
        """``face`` found in ``np.rot90(image, turns)``, in ``image``'s coordinates."""
        corners = np.array(face.box, np.float64).reshape(2, 2)
        back = _unturn(corners, turns, width, height, edges=True)
        (x0, y0), (x1, y1) = back.min(axis=0), back.max(axis=0)
        keypoints = face.keypoints
        if keypoints is not None:
            pts = np.asarray(keypoints, np.float64)
            keypoints = _unturn(pts, turns, width, height, edges=False).astype(np.float32)
        box = (float(x0), float(y0), float(x1), float(y1))
        return FaceBox(box, face.score, keypoints, face.keypoint_names)

    def _distinct(self, faces: list[FaceBox]) -> list[FaceBox]:
        """``faces`` (best first) without those overlapping a better one."""
        boxes = np.array([f.box for f in faces]).reshape(-1, 4)
        return [faces[i] for i in greedy_nms(boxes, self.iou_threshold)]
