"""Faces in photos turned by 90, 180 or 270 degrees: a face detector run on the four right-angle
turns of the image, each face kept in the turn where the detector is surest (NumPy only).

BlazeFace (like most detectors) was trained on upright faces. On a photo turned by 90 degrees
it still finds the face and its eyes in some cases, but on an upside-down face it places its
eye keypoints as if the face were upright, so the landmark crop comes out upside down and the
points are wrong with nothing to say so. :class:`AnyOrientation` runs the wrapped detector on
the image and on its turns by 90, 180 and 270 degrees and maps every box and keypoint back to
the image as given. A face found in the image as given is replaced by a turn's face at the same
place when the detector is surer of that one; its keypoints then say which way the face is up,
and the landmark crop is turned to match (:func:`facelandmarks.face_rois.roi_from_box`). Faces
that only a turn finds count only when the image as given has none (turned images bring false
detections of their own).

It costs four detections instead of one. Measured on the held-out in-the-wild faces, by
``python benchmarks/orientation.py --wild ../shared/wild``: see docs/detection.md.
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
    if turns == 0:
        out = (x, y)
    elif turns == 1:  # np.rot90 turns counter-clockwise: turned[i, j] = image[j, W - 1 - i]
        out = (last_x - y, x)
    elif turns == 2:
        out = (last_x - x, last_y - y)
    else:
        out = (y, last_y - x)
    return np.stack(out, axis=-1)


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
        out = []
        for face in upright:
            better = [
                t
                for t in turned
                if t.score > face.score
                and iou(np.array(face.box), np.array([t.box]))[0] > self.iou_threshold
            ]
            out.append(better[0] if better else face)
        return self._distinct(sorted(out, key=lambda f: -f.score))

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
