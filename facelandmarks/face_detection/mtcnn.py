"""Face detection with the ``mtcnn`` package on TensorFlow (``"mtcnn"``)."""

from __future__ import annotations

import numpy as np

from facelandmarks.face_detection import base
from facelandmarks.face_detection.base import INSTALL_HINT, FaceBox


class MTCNNFaceDetector:
    """Face detector on the ``mtcnn`` package (needs ``pip install "facelandmarks[detect]"``).

    MTCNN (Zhang et al. 2016: three small CNNs in cascade) runs in TensorFlow on a copy of the
    image shrunk so its longest side is at most ``max_side``; its boxes are mapped back to the
    pixels of the image as given, those scoring below ``min_score`` dropped, the rest sorted by
    score and de-duplicated by non-maximum suppression. Deterministic on a given machine.

    Args:
        min_score: smallest MTCNN confidence (0..1) to keep a box. Default 0.9: on 300 MUCT
            images every face scored >= 0.94, while false boxes scored 0.80-0.96, so a higher
            threshold loses faces before it removes all false boxes; the best-scored box was
            the face on every image.
        min_size, max_side: smallest face side to look for, in pixels of the image as given
            (default ``None``: MTCNN's 20 px at the working size), and the longest side of the
            copy MTCNN runs on (default 320; ``None``: the full image), as for
            :class:`~facelandmarks.face_detection.OpenCVFaceDetector`.
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
        if not (base.is_number(min_score) and 0.0 <= min_score <= 1.0):
            raise ValueError(
                f"min_score must be a number in [0, 1]. Received: min_score={min_score!r}"
            )
        base.check_sizes(min_size, max_side)
        base.check_fraction(nms_iou, "nms_iou")
        if not isinstance(device, str) or not device:
            raise ValueError(
                f"device must be a TensorFlow device name such as 'CPU:0'. Received: "
                f"device={device!r}"
            )
        try:
            from mtcnn import MTCNN
        except ImportError as err:
            raise ImportError(
                "Face detection needs the optional 'mtcnn' package (MIT; its weights ship "
                f"inside the package). Install it with: {INSTALL_HINT}"
            ) from err
        self.min_score = float(min_score)
        self.min_size = min_size
        self.max_side = max_side
        self.nms_iou = float(nms_iou)
        self.device = device
        self._mtcnn = MTCNN(device=device)

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

        image = base.check_image(image)
        height, width = image.shape[:2]
        size = base.working_size(height, width, self.max_side, self.min_size, self._WINDOW)
        work = np.ascontiguousarray(image)
        if size != (width, height):
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
        boxes = np.clip(boxes[keep], 0.0, np.array([width, height, width, height], np.float64))
        return base.sort_and_nms(boxes, rows[keep, 5], self.nms_iou)
